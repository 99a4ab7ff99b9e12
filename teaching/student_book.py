"""The student edition of the book: the same chapters without solutions or tests.

:func:`write_sources` writes a buildable copy of the book under ``<out>/src``: every chapter with
its solution blocks and test cells removed (exercise labels, order and numbers unchanged), a
link to the chapter's student notebook after each ``## Exercises`` heading, the notebooks
themselves (Sphinx copies them into the site, so they download from the built pages), the
configuration with the instructors' page left out of the table of contents. :func:`build` runs
Jupyter Book on it and leaves the HTML in ``<out>/html``.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

from .assign import ROOT
from .source import chapters, read_chapter, to_myst

INSTRUCTOR_PAGES = {"book/instructors"}

NOTEBOOK_NOTE = """\
```{{admonition}} Work on these exercises in a notebook
:class: tip
Download {{download}}`this chapter's exercise notebook <notebooks/{name}.ipynb>` and open it in
JupyterLab (see {{doc}}`students`). Each exercise says which names your answer must define; after
it, run the `grader.check(...)` cell to test your answer.
```
"""


def _toc_without(toc: dict, drop: set[str]) -> dict:
    def keep(entries):
        return [e for e in entries if e.get("file") not in drop]
    toc = dict(toc)
    parts = []
    for part in toc.get("parts", []):
        part = dict(part, chapters=keep(part.get("chapters", [])))
        if part["chapters"]:
            parts.append(part)
    toc["parts"] = parts
    return toc


def write_sources(assignments_dir, out_dir, root: Path = ROOT) -> Path:
    """Write the student edition's sources into ``out_dir/src`` (replacing an older copy)."""
    assignments_dir, out_dir = Path(assignments_dir), Path(out_dir)
    src = out_dir / "src"
    if src.exists():
        shutil.rmtree(src)
    (src / "book" / "notebooks").mkdir(parents=True)
    for page in (root / "book").iterdir():
        if page.is_file() and page.suffix == ".md" and f"book/{page.stem}" not in INSTRUCTOR_PAGES:
            shutil.copy2(page, src / "book" / page.name)
    for path in chapters(root / "book"):
        chapter = read_chapter(path)
        notebook = assignments_dir / chapter.name / "student" / f"{chapter.name}.ipynb"
        if not notebook.exists():
            raise FileNotFoundError(f"{notebook} is missing: run `make assignments` first")
        shutil.copy2(notebook, src / "book" / "notebooks" / notebook.name)
        note = NOTEBOOK_NOTE.format(name=chapter.name) if chapter.exercises else None
        (src / "book" / path.name).write_text(
            to_myst(chapter, solutions=False, tests=False, after_exercises_heading=note), encoding="utf-8")
    for name in ("references.bib",):
        shutil.copy2(root / name, src / name)
    if (root / "_ext").is_dir():
        shutil.copytree(root / "_ext", src / "_ext", ignore=shutil.ignore_patterns("__pycache__"))
    config = yaml.safe_load((root / "_config.yml").read_text())
    config["title"] = config.get("title", "") + " (student edition)"
    (src / "_config.yml").write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    toc = _toc_without(yaml.safe_load((root / "_toc.yml").read_text()), INSTRUCTOR_PAGES)
    (src / "_toc.yml").write_text(yaml.safe_dump(toc, sort_keys=False), encoding="utf-8")
    return src


def build(assignments_dir, out_dir, *, strict: bool = False) -> Path:
    """Build the student edition's HTML into ``out_dir/html`` and return that folder."""
    out_dir = Path(out_dir)
    src = write_sources(assignments_dir, out_dir)
    jb = Path(sys.executable).with_name("jupyter-book")
    with tempfile.TemporaryDirectory(dir=out_dir, prefix=".build-") as tmp:
        cmd = [str(jb), "build", "--all", "--path-output", tmp, str(src)]
        if strict:
            cmd[2:2] = ["-W", "--keep-going"]
        subprocess.run(cmd, check=True)
        html = out_dir / "html"
        if html.exists():
            shutil.rmtree(html)
        (Path(tmp) / "_build" / "html").rename(html)
    return html
