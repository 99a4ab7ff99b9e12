"""The student edition's HTML: every exercise is there, no solution is, and each chapter's
exercises link to its notebook, which the site serves.

Runs on the built editions (``make book`` and ``make student-book``); skipped when they are not
built or older than the book's sources, unless ``MMCOURSE_REQUIRE_BUILDS=1`` (CI, after
building), which makes a missing or stale build fail.
"""

import html
import os
import re
from pathlib import Path

import pytest

from teaching.source import chapters, read_chapter

ROOT = Path(__file__).resolve().parent.parent
FULL, STUDENT = ROOT / "_build" / "html", ROOT / "_build" / "student" / "html"
CHAPTERS = chapters(ROOT / "book")


def _built(folder):
    index = folder / "index.html"
    sources = [ROOT / "_toc.yml", *(ROOT / "book").glob("*.md")]
    if not index.exists():
        message = f"not built: {folder.relative_to(ROOT)} (make book / make student-book)"
    elif index.stat().st_mtime < max(p.stat().st_mtime for p in sources):
        message = f"{folder.relative_to(ROOT)} is older than the book's sources (rebuild it)"
    else:
        return folder
    if os.environ.get("MMCOURSE_REQUIRE_BUILDS") == "1":
        pytest.fail(message)
    pytest.skip(message)


def _text(page: Path) -> str:
    """A page's visible text: tags dropped, entities decoded, whitespace collapsed."""
    raw = page.read_text(encoding="utf-8")
    raw = re.sub(r"<(script|style)\b.*?</\1>", " ", raw, flags=re.S)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", "", raw)).split())


def _distinctive(ex):
    """Lines of a solution that appear nowhere else in the chapter: its code and its prose."""
    code = [l.strip() for src in ex.solution_code for l in src.splitlines() if len(l.strip()) >= 25]
    prose = []
    for md in ex.solution_prose:
        # runs of plain words (no maths, code or markup), which survive rendering unchanged
        prose += [r.strip() for r in re.split(r"[$`*\[\]{}()\\|_]", md) if len(r.strip()) >= 30]
    return code, [" ".join(p.split()) for p in prose]


@pytest.mark.parametrize("path", CHAPTERS, ids=[p.stem for p in CHAPTERS])
def test_student_edition_has_every_exercise_and_no_solution(path):
    student_page = _built(STUDENT) / "book" / f"{path.stem}.html"
    full_page = _built(FULL) / "book" / f"{path.stem}.html"
    student, full = _text(student_page), _text(full_page)
    student_html = student_page.read_text(encoding="utf-8")
    chapter = read_chapter(path)
    body_text = "\n".join(s.source for s in chapter.body) + "\n".join(e.question for e in chapter.exercises)
    for ex in chapter.exercises:
        assert f'id="{ex.label}"' in student_html, f"exercise {ex.label} is missing"
        code, prose = _distinctive(ex)
        flat_body = " ".join(body_text.replace("`", "").split())    # as the page's text shows it
        code = [c for c in code if " ".join(c.split()) not in flat_body]
        prose = [p for p in prose if p not in flat_body]
        assert code or prose, f"{ex.label}: nothing distinctive to look for"
        for line in code + prose:
            assert " ".join(line.split()) not in student, f"{ex.label}: solution text in the student edition: {line!r}"
        found = [line for line in code + prose if " ".join(line.split()) in full]
        assert found, f"{ex.label}: the search finds none of the solution even in the full edition"
    assert 'class="solution' not in student_html
    assert full_page.read_text(encoding="utf-8").count('class="solution') == len(chapter.exercises)


def test_exercise_numbers_are_the_same_in_both_editions():
    numbers = {}
    for folder in (_built(FULL), _built(STUDENT)):
        found = []
        for path in CHAPTERS:
            page = (folder / "book" / f"{path.stem}.html").read_text(encoding="utf-8")
            for ex in read_chapter(path).exercises:
                m = re.search(rf'id="{re.escape(ex.label)}".*?Exercise\s*(\d+)', page, re.S)
                found.append((ex.label, m and m.group(1)))
        numbers[folder] = found
    assert numbers[FULL] == numbers[STUDENT]
    assert all(n for _, n in numbers[FULL])


@pytest.mark.parametrize("path", CHAPTERS, ids=[p.stem for p in CHAPTERS])
def test_exercises_link_to_a_downloadable_notebook(path):
    site = _built(STUDENT)
    page = site / "book" / f"{path.stem}.html"
    links = re.findall(rf'href="([^"]*{re.escape(path.stem)}\.ipynb)"', page.read_text(encoding="utf-8"))
    assert links, f"{page.name} does not link to its notebook"
    target = (page.parent / links[0]).resolve()
    assert target.is_file() and target.stat().st_size > 1000
    assert b'grader.check(' in target.read_bytes()


def test_instructors_page_only_in_the_full_edition():
    assert (_built(FULL) / "book" / "instructors.html").exists()
    assert not (_built(STUDENT) / "book" / "instructors.html").exists()
    assert (STUDENT / "book" / "students.html").exists()
