"""Generate a chapter's assignment: otter's master notebook, then ``otter assign`` on it.

The master notebook is the whole chapter as a plain Jupyter notebook in otter's format: the
chapter's body (hidden checks dropped), and for each exercise a question whose starter cell is
generated from the answer contract, the solution, and the public and hidden tests. ``otter
assign`` then writes the student notebook (solutions replaced by the starter cells, hidden tests
stripped, a ``grader.check`` cell after each exercise), the instructor's solution notebook and
the autograder zip, and checks that the solutions pass the tests.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import nbformat
import yaml

from .markdown import References, citations, to_plain
from .source import Chapter, Exercise, chapters, read_chapter

ROOT = Path(__file__).resolve().parent.parent
ANSWER_TAG = "otter_answer_cell"


def references(book_dir) -> References:
    """Chapter titles, figure and exercise numbers of every chapter, and the citations.

    The book numbers figures and exercises through the whole book, in chapter order.
    """
    titles, numbers = {}, {}
    fig = ex = 0
    for path in chapters(book_dir):
        text = path.read_text(encoding="utf-8")
        for m in re.finditer(r"^\(([\w-]+)\)=[ \t]*\n#+ (.+)$", text, re.M):
            titles[m.group(1)] = m.group(2).strip()
        for m in re.finditer(r"^\s+name: (fig-[\w-]+)", text, re.M):
            fig += 1
            numbers[m.group(1)] = f"Fig. {fig}"
        for m in re.finditer(r"^:label: (ex-[\w-]+)", text, re.M):
            ex += 1
            numbers[m.group(1)] = f"Exercise {ex}"
    return References(titles, numbers, citations(ROOT / "references.bib"))


def _raw(text: str):
    return nbformat.v4.new_raw_cell(text.strip() + "\n")


def _figure_caption(cell_metadata) -> str | None:
    fig = cell_metadata.get("mystnb", {}).get("figure", {})
    return fig.get("caption")


def _question_cells(ex: Exercise, refs: References) -> list:
    """Otter's cells for one exercise: the question, its starter cell, solution and tests, and a
    question graded by hand for its written parts."""
    cells = []
    starter = "\n".join(f"{name} = ..." for name in ex.names)
    title = refs.numbers.get(ex.label, f"Exercise {ex.number}")
    header = f"### {title} (`{ex.label}`)\n\n"
    cells.append(_raw(f"# BEGIN QUESTION\nname: {ex.label}\npoints:\n  each: 1"))
    cells.append(nbformat.v4.new_markdown_cell(header + to_plain(ex.question, refs).strip()))
    cells.append(_raw("# BEGIN PROMPT"))
    cells.append(nbformat.v4.new_code_cell("# Your answer: define the names below (see the exercise).\n"
                                           + starter))
    cells.append(_raw("# END PROMPT"))
    cells.append(_raw("# BEGIN SOLUTION"))
    for seg in ex.solution:
        if seg.cell_type == "code":
            cells.append(nbformat.v4.new_code_cell(
                "# BEGIN SOLUTION NO PROMPT\n" + seg.source.rstrip() + "\n# END SOLUTION"))
    cells.append(_raw("# END SOLUTION"))
    cells.append(_raw("# BEGIN TESTS"))
    cells.extend(nbformat.v4.new_code_cell(src.strip()) for src in ex.public_tests)
    cells.extend(nbformat.v4.new_code_cell("# HIDDEN\n" + src.strip()) for src in ex.hidden_tests)
    cells.append(_raw("# END TESTS"))
    cells.append(_raw("# END QUESTION"))
    if ex.written:
        cells.append(_raw(f"# BEGIN QUESTION\nname: {ex.label}-written\nmanual: true\n"
                          f"points: {len(ex.written)}"))
        parts = "\n".join(f"- {w}" for w in ex.written)
        cells.append(nbformat.v4.new_markdown_cell(
            f"**{title}, written answer** (graded by hand):\n\n{to_plain(parts, refs)}"))
        cells.append(_raw("# BEGIN SOLUTION"))
        prose = "\n\n".join(to_plain(p, refs).strip() for p in ex.solution_prose)
        cells.append(nbformat.v4.new_markdown_cell(prose or "(see the solution's code)"))
        cells.append(_raw("# END SOLUTION"))
        cells.append(_raw("# END QUESTION"))
    return cells


def master_notebook(chapter: Chapter, refs: References) -> nbformat.NotebookNode:
    """The chapter as otter's master notebook (see the module's docstring)."""
    config = {
        "name": chapter.name,
        "init_cell": True,
        "check_all_cell": False,
        "export_cell": False,
        "show_question_points": True,
        "tests": {"files": False},
        "generate": {"pdf": False},
    }
    cells = [_raw("# ASSIGNMENT CONFIG\n" + yaml.safe_dump(config, sort_keys=False))]
    cells.append(nbformat.v4.new_markdown_cell(
        "**Exercise notebook.** This is the whole chapter; its exercises are at the end. Run the cells "
        "from the top (*Run → Run All Cells*): the exercises use what the chapter computes. Each "
        "exercise's **Your answer** box lists the names your code must define; replace each `...` in "
        "its starter cell, then run the `grader.check(...)` cell below it to run the public tests. "
        "Keep this file's name: the checks open the notebook by it."))
    for part in chapter.parts:
        if isinstance(part, Exercise):
            cells.extend(_question_cells(part, refs))
        elif part.cell_type == "markdown":
            text = to_plain(part.source, refs).strip()
            if text:
                cells.append(nbformat.v4.new_markdown_cell(text))
        elif "remove-cell" not in part.tags:       # hidden checks stay in the book
            meta = {"tags": [t for t in part.tags]} if part.tags else {}
            cells.append(nbformat.v4.new_code_cell(part.source, metadata=meta))
            caption = _figure_caption(part.metadata)
            if caption:
                name = part.metadata["mystnb"]["figure"].get("name", "")
                number = refs.numbers.get(name, "Figure")
                cells.append(nbformat.v4.new_markdown_cell(
                    f"*{number}: {to_plain(' '.join(caption.split()), refs)}*"))
    nb = nbformat.v4.new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"display_name": "Python 3", "language": "python", "name": "python3"}
    nb.metadata["language_info"] = {"name": "python"}
    return nb


def _tidy_student_notebook(path: Path, chapter: Chapter) -> None:
    """Drop the empty cells left where solution code was, and say what the notebook is."""
    nb = nbformat.read(path, as_version=4)
    nb.cells = [c for c in nb.cells
                if not (c.cell_type == "code" and not c.source.strip()
                        and ANSWER_TAG in c.metadata.get("tags", []))]
    nb.metadata.setdefault("mmcourse", {})["chapter"] = chapter.name
    nbformat.write(nb, path)               # inside the scratch folder: published with it


def assign_chapter(chapter_path, out_dir, *, run_tests: bool = True) -> Path:
    """Generate ``out_dir/<chapter>/``: ``student/``, ``autograder/`` (solutions and zip).

    Runs ``otter assign`` (which, with ``run_tests``, executes the solution notebook and fails
    if a solution does not pass its tests). The finished folder replaces an earlier one only
    when everything succeeded.
    """
    chapter = read_chapter(chapter_path)
    refs = references(Path(chapter_path).parent)
    out_dir = Path(out_dir).resolve()
    out_dir.mkdir(parents=True, exist_ok=True)
    final = out_dir / chapter.name
    with tempfile.TemporaryDirectory(dir=out_dir, prefix=f".{chapter.name}-") as tmp:
        tmp = Path(tmp)
        master = tmp / "master" / f"{chapter.name}.ipynb"
        master.parent.mkdir()
        nbformat.write(master_notebook(chapter, refs), master)
        dist = tmp / "dist"
        cmd = [sys.executable, "-m", "otter", "assign", str(master), str(dist)]
        if not run_tests:
            cmd.append("--no-run-tests")
        done = subprocess.run(cmd, cwd=master.parent, capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError(f"otter assign failed for {chapter.name}:\n{done.stdout}\n{done.stderr}")
        (dist / "master.ipynb").write_bytes(master.read_bytes())
        contract = {ex.label: ex.names for ex in chapter.exercises}    # the grader's reasons name these
        (dist / "contract.json").write_text(json.dumps(contract, indent=1), encoding="utf-8")
        _tidy_student_notebook(dist / "student" / f"{chapter.name}.ipynb", chapter)
        (dist / "otter-assign.log").write_text(done.stdout + done.stderr, encoding="utf-8")
        if final.exists():
            old = tmp / "old"
            final.rename(old)
        dist.rename(final)
    return final


def autograder_zip(assignment_dir) -> Path:
    zips = sorted((Path(assignment_dir) / "autograder").glob("*-autograder_*.zip"))
    if not zips:
        raise FileNotFoundError(f"no autograder zip in {assignment_dir}/autograder (run make assignments)")
    return zips[-1]
