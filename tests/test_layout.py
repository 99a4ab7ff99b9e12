"""The package's shape: both models laid out alike, no import cycles, every module importable
on its own."""

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "mmcourse"
MODELS = ("chan_shelton", "lob")
CONCEPTS = ("params", "policies", "simulation", "evaluation", "learning", "experiment",
            "reference", "_kernels")


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> set[str]:
    """The mmcourse modules that ``path`` imports at module level (not inside functions)."""
    tree = ast.parse(path.read_text())
    found = set()
    for node in tree.body:
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("mmcourse")}
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("mmcourse"):
            for a in node.names:          # "from mmcourse.core import _pcg64" imports a module
                if (PACKAGE.parent / node.module.replace(".", "/") / f"{a.name}.py").exists():
                    found.add(f"{node.module}.{a.name}")
                else:                     # ... and "from mmcourse.lob import Book" the package
                    found.add(node.module)
    return found


def _graph() -> dict[str, set[str]]:
    modules = {_module_name(p): p for p in PACKAGE.rglob("*.py")}
    # An edge a → b when a uses module b at import time. A package's __init__ that imports
    # its own submodules, each of which imports its siblings by their full names, is not a
    # cycle: Python runs the submodules while the package is being initialised, and none of
    # them reads a name from the package itself (that would be an edge back to it).
    return {name: {d for d in _imports(path) if d in modules and d != name}
            for name, path in modules.items()}


def _find_cycle(graph):
    state, stack = {}, []

    def visit(node):
        state[node] = "open"
        stack.append(node)
        for dep in sorted(graph[node]):
            if state.get(dep) == "open":
                return stack[stack.index(dep):] + [dep]
            if dep not in state:
                cycle = visit(dep)
                if cycle:
                    return cycle
        stack.pop()
        state[node] = "done"
        return None

    for node in sorted(graph):
        if node not in state:
            cycle = visit(node)
            if cycle:
                return cycle
    return None


def test_no_import_cycle():
    graph = _graph()
    assert "mmcourse.lob.experiment" in graph and graph["mmcourse.lob"], "the import graph is empty"
    assert _find_cycle(graph) is None, " → ".join(_find_cycle(graph))


def test_the_cycle_finder_finds_a_cycle():
    assert _find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _find_cycle({"a": {"b"}, "b": set()}) is None


@pytest.mark.parametrize("model", MODELS)
def test_both_models_have_the_same_layout(model):
    files = {p.stem for p in (PACKAGE / model).glob("*.py")}
    assert set(CONCEPTS) <= files, f"mmcourse/{model} lacks {sorted(set(CONCEPTS) - files)}"


def test_kernels_import_nothing_from_their_model():
    # numba caches a kernel keyed on its own file: constants or functions a kernel took from
    # another file of the model would not trigger a recompile when that file changes
    for model in MODELS:
        deps = _imports(PACKAGE / model / "_kernels.py")
        assert deps <= {"mmcourse.core", "mmcourse.core._pcg64"}, (model, deps)


def test_every_module_imports_on_its_own():
    names = sorted(_graph())
    code = ("import importlib, sys\n"
            f"for name in {names!r}:\n"
            "    for m in [m for m in sys.modules if m.startswith('mmcourse')]:\n"
            "        del sys.modules[m]\n"
            "    importlib.import_module(name)\n")
    subprocess.run([sys.executable, "-c", code], check=True)


def _readme_layout() -> dict[str, str]:
    """The README's layout table: path → what it holds."""
    text = (PACKAGE.parent / "README.md").read_text(encoding="utf-8")
    section = text.split("## Layout", 1)[1].split("\n## ", 1)[0]
    rows = {}
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 2 and cells[0].startswith("`"):
            for path in re.findall(r"`([^`]+)`", cells[0]):
                rows[path] = cells[1]
    return rows


def test_the_readme_layout_table_matches_the_tree():
    root = PACKAGE.parent
    rows = _readme_layout()
    assert rows, "no layout table in README.md"
    for path in rows:
        assert (root / path).exists(), f"README's layout names {path}, which does not exist"
    tracked = subprocess.run(["git", "ls-files"], cwd=root, capture_output=True, text=True,
                             check=True).stdout.split()
    top = {p.split("/")[0] + ("/" if "/" in p else "") for p in tracked}
    listed = {p.split("/")[0] + ("/" if "/" in p else "") for p in rows}
    ignored = {".gitignore", "README.md", "LICENSE", ".github/"}
    assert not top - listed - ignored, f"not in README's layout: {sorted(top - listed - ignored)}"
    # every module of the package is named in its folder's row
    for module in sorted(PACKAGE.rglob("*.py")):
        if module.name == "__init__.py":
            continue
        folder = module.parent.relative_to(root).as_posix() + "/"
        text = rows.get(folder) or rows.get(module.relative_to(root).as_posix(), "")
        assert f"`{module.name}`" in text or module.relative_to(root).as_posix() in rows, \
            f"README's layout does not mention {module.relative_to(root)}"
