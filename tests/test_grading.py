"""Grading a class's submissions: bad ones get a row, a score and a reason, and never stop the batch."""

import copy
import csv
import hashlib
from pathlib import Path

import nbformat
import pytest

from teaching.assign import assign_chapter
from teaching.grade import grade_folder
from teaching.source import read_chapter

ROOT = Path(__file__).resolve().parent.parent
CHAPTER = ROOT / "book" / "01_market_model.md"          # the quickest chapter to execute
NAME = CHAPTER.stem


@pytest.fixture(scope="module")
def assignment(tmp_path_factory):
    out = tmp_path_factory.mktemp("assignments")
    assign_chapter(CHAPTER, out)
    return out


@pytest.fixture(scope="module")
def submissions(assignment, tmp_path_factory):
    """A folder with one submission of every kind an instructor meets."""
    chapter = read_chapter(CHAPTER)
    first, second = chapter.exercises[0], chapter.exercises[1]
    student = nbformat.read(assignment / NAME / "student" / f"{NAME}.ipynb", as_version=4)
    solution = nbformat.read(assignment / NAME / "autograder" / f"{NAME}.ipynb", as_version=4)
    subs = tmp_path_factory.mktemp("submissions")

    def variant(file, edit, base=solution):
        nb = copy.deepcopy(base)
        edit(nb)
        nbformat.write(nb, subs / file)

    def replace_first_solution(source):
        def edit(nb):
            i = next(i for i, c in enumerate(nb.cells) if "BEGIN SOLUTION" in c.source)
            nb.cells[i].source = source
        return edit

    nbformat.write(solution, subs / "full_marks.ipynb")
    nbformat.write(student, subs / "blank.ipynb")
    variant("syntax_error.ipynb", replace_first_solution("share_lost = (1 +"))
    variant("exception.ipynb", replace_first_solution('raise RuntimeError("my own bug")'))
    variant("endless_loop.ipynb", replace_first_solution("while True:\n    pass"))

    def drop_second_answers(nb):
        nb.cells = [c for c in nb.cells
                    if not any(f"{n} =" in c.source for n in second.names) or "grader.check" in c.source]
    variant("missing_answers.ipynb", drop_second_answers)
    (subs / "no_outputs.ipynb").write_text(nbformat.writes(solution))      # never run: no outputs
    (subs / "empty.ipynb").write_bytes(b"")
    (subs / "corrupt.ipynb").write_text('{"cells": [{"cell_type": "code", "sou')
    (subs / "notes.txt").write_text("I could not do exercise 2.\n")
    (subs / "json_not_notebook.ipynb").write_text('{"hello": "world"}')

    def other_chapter(nb):
        nb.metadata["otter"]["assignment_name"] = "02_monte_carlo_evaluation"
    variant("other_chapter.ipynb", other_chapter)

    def odd_metadata(nb):
        nb.metadata["otter"] = None
    variant("odd_metadata.ipynb", odd_metadata, base=student)
    (subs / "deeply_nested.ipynb").write_text("[" * 100_000 + "]" * 100_000)
    (subs / "group_b").mkdir()
    nbformat.write(solution, subs / "group_b" / "bob.ipynb")
    return subs


def _digest(folder):
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def grades(assignment, submissions, tmp_path_factory):
    before = _digest(submissions)
    out = tmp_path_factory.mktemp("grades")
    results = grade_folder(NAME, submissions, out, assignments_dir=assignment, timeout=90,
                           progress=lambda *_: None)
    assert _digest(submissions) == before, "grading must not modify the submissions"
    rows = {r["file"]: r for r in csv.DictReader((out / "grades.csv").open())}
    return out, {r.file: r for r in results}, rows


def test_every_submission_gets_a_row(grades, submissions):
    out, results, rows = grades
    assert set(rows) == {str(p.relative_to(submissions)) for p in submissions.rglob("*") if p.is_file()}
    labels = [e.label for e in read_chapter(CHAPTER).exercises]
    assert list(next(iter(rows.values())))[:len(labels) + 1] == ["file", *labels]
    for name in rows:
        assert (out / "reports" / f"{name}.txt").exists()


def test_good_and_blank(grades):
    _, results, rows = grades
    full = results["full_marks.ipynb"]
    assert full.total == sum(full.max_scores.values()) > 0 and full.status == "graded"
    assert float(rows["blank.ipynb"]["total"]) == 0 and rows["blank.ipynb"]["status"] == "graded"
    assert results["no_outputs.ipynb"].total == full.total
    assert "no outputs" in rows["no_outputs.ipynb"]["reason"]
    assert results["group_b/bob.ipynb"].total == full.total              # submissions in subfolders
    # a blank notebook without otter's metadata is still graded, as this chapter
    assert rows["odd_metadata.ipynb"]["status"] == "graded" and float(rows["odd_metadata.ipynb"]["total"]) == 0
    assert "graded as 01_market_model" in rows["odd_metadata.ipynb"]["reason"]


def test_broken_code_scores_zero_where_it_broke(grades):
    _, results, rows = grades
    first = read_chapter(CHAPTER).exercises[0].label
    full = results["full_marks.ipynb"]
    for name, why in [("syntax_error.ipynb", "SyntaxError"), ("exception.ipynb", "RuntimeError")]:
        r = results[name]
        assert r.scores[first] == 0 and why in rows[name]["reason"], rows[name]
        # the rest of the notebook still ran and still scores
        assert all(r.scores[q] == full.scores[q] for q in r.scores if q != first), r.scores
    second = read_chapter(CHAPTER).exercises[1]
    r = results["missing_answers.ipynb"]
    assert r.scores[second.label] == 0 and r.total == full.total - full.max_scores[second.label]
    assert "answer not defined" in rows["missing_answers.ipynb"]["reason"]
    report = (grades[0] / "reports" / "missing_answers.ipynb.txt").read_text()
    assert f"{second.label}: 0 / {full.max_scores[second.label]:g}" in report
    assert "NameError" in report                 # each failed test case with the error it raised


def test_endless_loop_hits_the_time_limit(grades):
    _, results, rows = grades
    assert results["endless_loop.ipynb"].total == 0 and rows["endless_loop.ipynb"]["status"] == "error"
    assert "time limit of 90 s" in rows["endless_loop.ipynb"]["reason"]


@pytest.mark.parametrize("name, why", [
    ("empty.ipynb", "empty file"),
    ("corrupt.ipynb", "corrupt notebook"),
    ("notes.txt", "not a notebook"),
    ("json_not_notebook.ipynb", "not a Jupyter notebook"),
    ("other_chapter.ipynb", "notebook for another chapter: 02_monte_carlo_evaluation"),
    ("deeply_nested.ipynb", "corrupt notebook"),
])
def test_unreadable_or_wrong_files(grades, name, why):
    _, results, rows = grades
    assert rows[name]["status"] == "error" and float(rows[name]["total"]) == 0
    assert why in rows[name]["reason"], rows[name]["reason"]


def test_existing_grades_are_not_overwritten_unless_asked(grades, assignment, tmp_path):
    out, _, _ = grades
    before = (out / "grades.csv").read_bytes()
    subs = tmp_path / "subs"
    subs.mkdir()
    (subs / "empty.ipynb").write_bytes(b"")
    with pytest.raises(FileExistsError, match="overwrite"):
        grade_folder(NAME, subs, out, assignments_dir=assignment, progress=lambda *_: None)
    assert (out / "grades.csv").read_bytes() == before
    grade_folder(NAME, subs, out, assignments_dir=assignment, overwrite=True, progress=lambda *_: None)
    rows = list(csv.DictReader((out / "grades.csv").open()))
    assert [r["file"] for r in rows] == ["empty.ipynb"]
    assert not list(out.glob(".grading-*")), "no scratch folder is left behind"


def test_bad_arguments(assignment, tmp_path):
    with pytest.raises(ValueError, match="timeout"):
        grade_folder(NAME, tmp_path, tmp_path / "o", assignments_dir=assignment, timeout=0)
    with pytest.raises(ValueError, match="SUBMISSIONS"):
        grade_folder(NAME, tmp_path / "missing", tmp_path / "o", assignments_dir=assignment)
    with pytest.raises(ValueError, match="must not be inside SUBMISSIONS"):
        grade_folder(NAME, tmp_path, tmp_path / "grades", assignments_dir=assignment)
