"""The API reference (book/api.md) is generated from the docstrings: every public name has one,
and every public function and class of the package is on the page.

The page is read as autodoc would read it: each ``automodule`` with ``:members:`` covers the
names in the module's ``__all__`` that the module defines (or, without ``__all__``, its public
names defined there), minus ``:exclude-members:``; ``autoclass``, ``autofunction`` and friends
cover the object they name.  A new public function that is left out of ``__all__`` or has no
docstring therefore fails here, as does one that a built page (``_build/html/book/api.html``,
checked when it is newer than the sources) does not show.
"""

from __future__ import annotations

import importlib
import inspect
import os
import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
API_PAGE = ROOT / "book" / "api.md"
BUILT_PAGE = ROOT / "_build" / "html" / "book" / "api.html"
# Every public module that defines names (the subpackages' __init__ only re-export them; the
# plain-Python reference twins are for the tests and benchmarks and are not part of the API)
MODULES = sorted(
    ".".join(p.relative_to(ROOT).with_suffix("").parts)
    for p in (ROOT / "mmcourse").rglob("*.py")
    if p.name != "__init__.py" and p.stem != "reference"
    and not any(part.startswith("_") for part in p.relative_to(ROOT).parts))
SUBPACKAGES = ["mmcourse.chan_shelton", "mmcourse.lob", "mmcourse.core"]
AUTO_DIRECTIVE = re.compile(r"^\s*(?:\.\.\s+|```\{)(auto\w+|currentmodule|module)(?:::|\})\s*(\S*)")
OPTION = re.compile(r"^\s*:([\w-]+):\s*(.*?)\s*$")


def _is_compiled(obj) -> bool:
    """A numba dispatcher (an ``@njit`` function): autodoc documents it like a function."""
    return inspect.isfunction(getattr(obj, "py_func", None))


def _is_api_object(obj) -> bool:
    return inspect.isclass(obj) or inspect.isfunction(obj) or _is_compiled(obj)


def docstring(obj) -> str:
    """The docstring a reader sees, "" if there is none.  A class's own ``__doc__`` only: a
    dataclass or named tuple without one gets a generated ``Name(field, …)``, which says nothing."""
    if inspect.isclass(obj):
        doc = inspect.cleandoc(vars(obj).get("__doc__") or "")
        return "" if re.fullmatch(rf"{re.escape(obj.__name__)}\(.*\)", doc, re.DOTALL) else doc
    return (inspect.getdoc(getattr(obj, "py_func", obj)) or "").strip()


def public_objects(module) -> dict[str, object]:
    """Public (no leading underscore) functions, classes and compiled functions that ``module``
    itself defines (not the ones it imports)."""
    return {name: obj for name, obj in vars(module).items()
            if not name.startswith("_") and _is_api_object(obj)
            and getattr(obj, "__module__", None) == module.__name__}


def public_methods(cls) -> dict[str, object]:
    """The public methods, class/static methods and properties a class defines itself, each
    as the object whose docstring is shown (dataclass fields are data, not methods)."""
    out = {}
    for name, attr in vars(cls).items():
        if name.startswith("_"):
            continue
        if isinstance(attr, (classmethod, staticmethod)):
            out[name] = attr.__func__
        elif isinstance(attr, property):
            out[name] = attr.fget
        elif inspect.isfunction(attr) or _is_compiled(attr):
            out[name] = attr
    return out


def directives(text: str) -> list[tuple[str, str, dict[str, str]]]:
    """(directive, argument, options) of every autodoc / module directive on the page, in MyST
    fences or in ``{eval-rst}`` blocks."""
    found = []
    lines = text.splitlines()
    for i, line in enumerate(lines):
        m = AUTO_DIRECTIVE.match(line)
        if not m:
            continue
        options = {}
        for follow in lines[i + 1:]:
            o = OPTION.match(follow)
            if not o:
                break
            options[o.group(1)] = o.group(2)
        found.append((m.group(1), m.group(2), options))
    return found


def _names(option: str) -> list[str]:
    return [n.strip() for n in option.split(",") if n.strip()]


def _resolve(name: str, current: str | None):
    """The object a directive's argument names, tried as written and inside ``current``."""
    candidates = [name] + ([f"{current}.{name}"] if current else [])
    for candidate in candidates:
        parts = candidate.split(".")
        for k in range(len(parts), 0, -1):
            try:
                obj = importlib.import_module(".".join(parts[:k]))
            except ImportError:
                continue
            try:
                for attr in parts[k:]:
                    obj = getattr(obj, attr)
            except AttributeError:
                break
            return obj
    raise AssertionError(f"book/api.md names {name!r}, which does not exist")


def covered_by_automodule(module, options: dict[str, str]) -> dict[str, object]:
    """What ``automodule`` with these options documents at module level, as autodoc does it."""
    if "members" not in options:
        return {}
    excluded = set(_names(options.get("exclude-members", "")))
    defined = vars(module)
    if options["members"]:
        names = _names(options["members"])
    elif getattr(module, "__all__", None) is not None and "ignore-module-all" not in options:
        names = [n for n in module.__all__ if n in defined]   # lazy names are not documented
    else:
        names = [n for n, obj in defined.items() if not n.startswith("_")
                 and getattr(obj, "__module__", None) == module.__name__]
    if "undoc-members" not in options:
        names = [n for n in names if docstring(defined[n])]
    return {f"{module.__name__}.{n}": defined[n] for n in names if n not in excluded}


def documented_objects(text: str) -> dict[str, object]:
    """Full name → object of everything the page documents at module level."""
    out, current = {}, None
    for directive, argument, options in directives(text):
        if directive in ("currentmodule", "module"):
            current = argument or None
        elif directive == "automodule":
            current = argument
            out.update(covered_by_automodule(importlib.import_module(argument), options))
        else:
            out[argument if "." in argument else f"{current}.{argument}"] = _resolve(argument, current)
    return out


PAGE = API_PAGE.read_text(encoding="utf-8")


@pytest.mark.parametrize("module_name", MODULES)
def test_every_public_name_has_a_docstring(module_name):
    module = importlib.import_module(module_name)
    missing = []
    assert (module.__doc__ or "").strip(), f"{module_name} has no module docstring"
    for name, obj in public_objects(module).items():
        if not docstring(obj):
            missing.append(name)
        if inspect.isclass(obj):
            missing += [f"{name}.{m}" for m, f in public_methods(obj).items() if not docstring(f)]
    assert not missing, f"{module_name}: public names without a docstring: {missing}"


@pytest.mark.parametrize("module_name", MODULES)
def test_every_public_function_and_class_is_on_the_api_page(module_name):
    module = importlib.import_module(module_name)
    assert public_objects(module), f"{module_name} defines no public functions or classes?"
    on_page = {id(obj) for obj in documented_objects(PAGE).values()}
    missing = [name for name, obj in public_objects(module).items() if id(obj) not in on_page]
    assert not missing, (f"{module_name}: {missing} are not on book/api.md (add them to the "
                         f"module's __all__, which the page's automodule :members: follows)")


@pytest.mark.parametrize("package_name", SUBPACKAGES)
def test_the_flat_reexports_are_documented_where_they_are_defined(package_name):
    package = importlib.import_module(package_name)
    documented = documented_objects(PAGE)
    assert package.__all__, package_name
    for name in package.__all__:
        obj = getattr(package, name)
        if not _is_api_object(obj):
            continue                                   # constants such as ACTIONS
        home = obj.__module__
        assert home.startswith(package_name) or home.startswith("mmcourse.core"), (name, home)
        assert f"{home}.{name}" in documented, f"{home}.{name} is not on book/api.md"
        assert f"{package_name}.{name}" not in documented   # one entry each, no duplicates


def test_the_modules_list_covers_both_models():
    for model in ("chan_shelton", "lob"):
        for concept in ("params", "policies", "simulation", "evaluation", "learning", "experiment"):
            assert f"mmcourse.{model}.{concept}" in MODULES


def test_the_page_documents_the_package_and_no_private_names():
    found = directives(PAGE)
    assert ("automodule", "mmcourse", {}) in [(d, a, o) for d, a, o in found if a == "mmcourse"]
    assert "Estimate" in importlib.import_module("mmcourse").__all__
    for directive, argument, options in found:
        assert not {"private-members", "special-members", "undoc-members"} & set(options), \
            f"{directive} {argument}: only public, documented names belong on the page"
        assert not any(part.startswith("_") for part in argument.split(".")), argument
    assert all(not name.split(".")[-1].startswith("_") for name in documented_objects(PAGE))


def test_the_page_is_in_the_table_of_contents_before_the_bibliography():
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    for part in toc["parts"]:
        files = [c.get("file") for c in part.get("chapters", [])]
        if "book/api" in files:
            assert part["caption"] == "Reference"
            assert files.index("book/api") < files.index("book/bibliography")
            break
    else:
        pytest.fail("book/api is not in _toc.yml")


def test_the_built_page_shows_every_public_name():
    sources = [API_PAGE, *(ROOT / "mmcourse").rglob("*.py")]
    if not BUILT_PAGE.exists() or BUILT_PAGE.stat().st_mtime < max(p.stat().st_mtime for p in sources):
        message = f"{BUILT_PAGE.relative_to(ROOT)} is missing or older than its sources"
        if os.environ.get("MMCOURSE_REQUIRE_BUILDS") == "1":
            pytest.fail(message + " (MMCOURSE_REQUIRE_BUILDS=1)")
        pytest.skip(message)
    html = BUILT_PAGE.read_text(encoding="utf-8")
    ids = set(re.findall(r'<dt class="sig sig-object py" id="([^"]+)"', html))
    expected = set()
    for module_name in MODULES:
        module = importlib.import_module(module_name)
        for name, obj in public_objects(module).items():
            expected.add(f"{module_name}.{name}")
            if inspect.isclass(obj):
                expected |= {f"{module_name}.{name}.{m}" for m in public_methods(obj)}
    assert not expected - ids, f"not on the built page: {sorted(expected - ids)}"
    assert not [i for i in ids if any(p.startswith("_") for p in i.split("."))]
    assert "system-message" not in html and 'class="problematic"' not in html
