"""The teaching edition: every exercise in the shape the generators need, and every chapter's
assignment generated, checked by otter, and graded (solution: full marks; blank: zero)."""

import ast
import copy
import json
import builtins
import re
from pathlib import Path

import jupytext
import nbformat
import pytest

from teaching.assign import assign_chapter, autograder_zip, references
from teaching.grade import grade_solution_and_blank
from teaching.markdown import References, to_plain
from teaching.source import chapters, read_chapter, to_myst

ROOT = Path(__file__).resolve().parent.parent
CHAPTERS = chapters(ROOT / "book")
IDS = [p.stem for p in CHAPTERS]


def _defined(sources):
    """Names a sequence of code cells binds (assignments, imports, defs, loop targets)."""
    names = set()
    for src in sources:
        src = "\n".join(line for line in src.splitlines() if not line.lstrip().startswith(("%", "!")))
        for node in ast.walk(ast.parse(src)):
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                names.add(node.id)
            elif isinstance(node, (ast.FunctionDef, ast.ClassDef)):
                names.add(node.name)
            elif isinstance(node, (ast.Import, ast.ImportFrom)):
                names.update((a.asname or a.name).split(".")[0] for a in node.names)
            elif isinstance(node, ast.arg):
                names.add(node.arg)
    return names


def _loaded(src):
    return {n.id for n in ast.walk(ast.parse(src)) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}


@pytest.mark.parametrize("path", CHAPTERS, ids=IDS)
def test_every_exercise_has_a_contract_and_tests(path):
    chapter = read_chapter(path)          # raises, naming the exercise, if one is malformed
    assert chapter.exercises, "every chapter has exercises"
    for ex in chapter.exercises:
        assert ex.names and ex.public_tests and ex.hidden_tests, ex.label
        for test in ex.public_tests + ex.hidden_tests:
            assert "assert" in test, f"{ex.label}: a test cell must assert something"


@pytest.mark.parametrize("path", CHAPTERS, ids=IDS)
def test_tests_and_solutions_use_only_the_contract_and_the_chapter(path):
    """A student may skip any exercise and compute an answer their own way, so a test may use
    only the exercise's contract and the chapter's body, and a solution nothing from another
    exercise's solution."""
    chapter = read_chapter(path)
    # the student notebook leaves out the chapter's hidden checks: they define nothing a test may use
    body = _defined(s.source for s in chapter.body if s.cell_type == "code" and "remove-cell" not in s.tags)
    known = body | set(dir(builtins))
    for ex in chapter.exercises:
        for test in ex.public_tests + ex.hidden_tests:
            stray = _loaded(test) - known - set(ex.names) - _defined([test])
            assert not stray, f"{ex.label}: a test uses {sorted(stray)}, neither contract nor chapter"
        others = set().union(*[_defined(o.solution_code) for o in chapter.exercises if o is not ex]) - body
        own = _defined(ex.solution_code)
        stray = set().union(*[_loaded(c) for c in ex.solution_code] or [set()]) & (others - own - known)
        assert not stray, f"{ex.label}: its solution uses {sorted(stray)} from another exercise"
        missing = set(ex.names) - own
        assert not missing, f"{ex.label}: the solution does not define {sorted(missing)}"


@pytest.mark.parametrize("path", CHAPTERS, ids=IDS)
def test_chapter_round_trips_and_student_copy_drops_solutions(path):
    chapter = read_chapter(path)
    original = jupytext.read(path)
    again = jupytext.reads(to_myst(chapter), fmt="md:myst")
    code = lambda nb: [(c.source.strip(), c.metadata.get("tags")) for c in nb.cells if c.cell_type == "code"]
    assert code(again) == code(original)
    student = to_myst(chapter, solutions=False, tests=False)
    assert "{solution-start}" not in student and "{solution-end}" not in student
    assert ":tags: [remove-cell, test" not in student
    assert re.findall(r":label: (\S+)", student) == [e.label for e in chapter.exercises]
    for ex in chapter.exercises:
        for src in ex.solution_code:
            assert src.strip() not in student


def test_myst_becomes_plain_markdown():
    refs = References({"ch-x": "3. A chapter"}, {"fig-a": "Fig. 7", "ex-b": "Exercise 4"},
                      {"key": "Sutton and Barto 2018"})
    text = ("(ch-x)=\n# Title\nSee {ref}`ch-x`, {ref}`the start <ch-x>`, {numref}`fig-a`, "
            "{numref}`ex-b` and {cite}`key`.\n\n```{admonition} Careful\n:class: warning\nBody $x$.\n```\n")
    plain = to_plain(text, refs)
    assert "(ch-x)=" not in plain and "{" not in plain
    assert "See chapter 3, the start, Fig. 7, Exercise 4 and (Sutton and Barto 2018)." in plain
    assert "> **Careful**" in plain and "> Body $x$." in plain


def test_figure_and_exercise_numbers_run_through_the_book():
    refs = references(ROOT / "book")
    labels = [e.label for p in CHAPTERS for e in read_chapter(p).exercises]
    assert [refs.numbers[label] for label in labels] == [f"Exercise {k}" for k in range(1, len(labels) + 1)]


# ---- generated assignments (otter assign runs every solution against its tests) ----------

@pytest.fixture(scope="module")
def assignments(tmp_path_factory):
    out = tmp_path_factory.mktemp("assignments")
    from concurrent.futures import ThreadPoolExecutor
    with ThreadPoolExecutor(max_workers=2) as pool:       # raises if a solution fails its tests
        list(pool.map(lambda p: assign_chapter(p, out), CHAPTERS))
    return out


@pytest.mark.parametrize("path", CHAPTERS, ids=IDS)
def test_assignment_is_generated(assignments, path):
    chapter = read_chapter(path)
    folder = assignments / chapter.name
    student = nbformat.read(folder / "student" / f"{chapter.name}.ipynb", as_version=4)
    assert autograder_zip(folder).exists()
    assert (folder / "autograder" / f"{chapter.name}.ipynb").exists()
    sources = [c.source for c in student.cells]
    text = "\n".join(sources)
    elsewhere = "\n".join([s.source for s in chapter.body] + [e.question for e in chapter.exercises]
                          + [t for e in chapter.exercises for t in e.public_tests])
    tests = student.metadata["otter"]["tests"]
    for ex in chapter.exercises:
        check = sources.index(f'grader.check("{ex.label}")')
        starter = sources[check - 1]
        assert all(f"{name} = ..." in starter for name in ex.names), ex.label
        for src in ex.solution_code + ex.hidden_tests:
            lines = [l.strip() for l in src.splitlines() if len(l.strip()) > 30 and l.strip() not in elsewhere]
            leaked = [l for l in lines if l in text]
            assert not leaked, f"{ex.label}: solution or hidden test in the notebook: {leaked}"
        cases = [c for suite in tests[ex.label]["suites"] for c in suite["cases"]]
        assert len(cases) == len(ex.public_tests) and not any(c["hidden"] for c in cases), ex.label
    hidden_checks = [s.source for s in chapter.body if s.cell_type == "code" and "remove-cell" in s.tags]
    assert not any(h.strip() in text for h in hidden_checks if h.strip())
    assert not any("{code-cell}" in s or "{exercise-start}" in s for s in sources)


@pytest.fixture(scope="module")
def graded(assignments, tmp_path_factory):
    """Each chapter's solution notebook and blank student notebook, graded."""
    return {p.stem: grade_solution_and_blank(p.stem, assignments, tmp_path_factory.mktemp(p.stem),
                                             timeout=900, progress=lambda *_: None)
            for p in CHAPTERS}


@pytest.mark.parametrize("path", CHAPTERS, ids=IDS)
def test_solution_gets_full_marks_and_blank_gets_zero(graded, path):
    chapter = read_chapter(path)
    solution, blank = graded[chapter.name]
    assert list(solution.scores) == [e.label for e in chapter.exercises]
    for label, top in solution.max_scores.items():
        assert top > 0
        assert solution.scores[label] == top, (label, solution.details)
        assert blank.scores[label] == 0, (label, blank.details)


def test_grader_check_works_in_the_students_kernel(assignments, tmp_path):
    """A student runs the notebook in the course's kernel: each grader.check cell reports the
    public tests, failing on the starter cells and passing once the answers are in."""
    from nbclient import NotebookClient
    name = CHAPTERS[0].stem
    chapter = read_chapter(CHAPTERS[0])
    student = nbformat.read(assignments / name / "student" / f"{name}.ipynb", as_version=4)
    answered = copy.deepcopy(student)
    for ex in chapter.exercises:                     # the student's answer: the solution's code
        i = next(i for i, c in enumerate(answered.cells) if c.source == f'grader.check("{ex.label}")')
        answered.cells[i - 1].source = "\n\n".join(ex.solution_code)
    for nb, verdict in ((student, "failed"), (answered, "passed")):
        path = tmp_path / f"{name}.ipynb"           # the name the notebook's checks open
        nbformat.write(nb, path)
        NotebookClient(nb, timeout=600, kernel_name="python3", allow_errors=True,
                       resources={"metadata": {"path": str(tmp_path)}}).execute()
        for ex in chapter.exercises:
            cell = next(c for c in nb.cells if c.source == f'grader.check("{ex.label}")')
            shown = json.dumps(cell.outputs)
            assert not any(o.output_type == "error" for o in cell.outputs), shown[:500]
            assert verdict in shown.lower(), (ex.label, verdict, shown[:500])
            if verdict == "passed":
                assert "failed" not in shown.lower(), (ex.label, shown[:500])


def test_chapters_open_as_notebooks_in_the_course_environment():
    """`make` installs JupyterLab settings that open Markdown (a chapter) as a Jupytext notebook."""
    import sys
    if not (Path(sys.prefix) / ".installed").exists():
        pytest.skip("this environment was not made by `make`")
    overrides = Path(sys.prefix) / "share" / "jupyter" / "lab" / "settings" / "overrides.json"
    assert overrides.exists(), "make copies teaching/lab-overrides.json there"
    viewers = json.loads(overrides.read_text())["@jupyterlab/docmanager-extension:plugin"]["defaultViewers"]
    assert viewers == {"markdown": "Jupytext Notebook", "myst": "Jupytext Notebook"}
