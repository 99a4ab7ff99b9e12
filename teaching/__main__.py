"""The teaching edition's commands (the Makefile's ``assignments``, ``student-book`` and ``grade``).

    python -m teaching assign [CHAPTER ...] [--out _build/assignments]
    python -m teaching student-book [--assignments _build/assignments] [--out _build/student] [--strict]
    python -m teaching grade CHAPTER SUBMISSIONS [--out DIR] [--timeout S] [--jobs N] [--overwrite]
    python -m teaching verify CHAPTER.md      # solutions pass, a blank notebook scores 0

CHAPTER is a chapter's file name without ``.md`` (``02_monte_carlo_evaluation``) or its path.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from .assign import ROOT, assign_chapter
from .grade import DEFAULT_TIMEOUT
from .source import ExerciseFormatError, chapters

BOOK = ROOT / "book"


def _chapter_path(name: str) -> Path:
    p = Path(name)
    if p.suffix == ".md" and p.exists():
        return p
    p = BOOK / f"{Path(name).stem}.md"
    if not p.exists():
        known = ", ".join(c.stem for c in chapters(BOOK))
        raise SystemExit(f"error: CHAPTER must be one of {known}; got {name!r}")
    return p


def cmd_assign(args) -> None:
    paths = [_chapter_path(c) for c in args.chapters] or chapters(BOOK)
    jobs = min(args.jobs or os.cpu_count() or 1, len(paths))

    def one(p):
        out = assign_chapter(p, args.out)
        print(f"{p.stem}: solutions pass their tests; student notebook and autograder in {out}", flush=True)

    pool = ThreadPoolExecutor(max_workers=jobs)
    try:
        list(pool.map(one, paths))
    finally:                       # on Ctrl-C, start no further chapter (otter assign gets the signal too)
        pool.shutdown(wait=True, cancel_futures=True)


def cmd_student_book(args) -> None:
    from .student_book import build
    html = build(args.assignments, args.out, strict=args.strict)
    print(f"Student edition: open {html / 'index.html'} in a browser.")


def cmd_grade(args) -> None:
    from .grade import grade_folder
    chapter = _chapter_path(args.chapter).stem
    out = Path(args.out) if args.out else ROOT / "_build" / "grades" / chapter
    try:
        results = grade_folder(chapter, args.submissions, out, assignments_dir=args.assignments,
                               timeout=args.timeout, jobs=args.jobs, overwrite=args.overwrite)
    except (FileExistsError, FileNotFoundError, ValueError) as err:
        raise SystemExit(f"error: {err}")
    print(f"{len(results)} submissions graded: {out / 'grades.csv'}, reports in {out / 'reports'}")


def cmd_verify(args) -> None:
    """Assign one chapter into a scratch folder, then grade its solution and blank notebooks."""
    from .grade import grade_solution_and_blank
    path = _chapter_path(args.chapter)
    with tempfile.TemporaryDirectory() as tmp:
        assign_chapter(path, Path(tmp) / "assignments")
        solution, blank = grade_solution_and_blank(path.stem, Path(tmp) / "assignments", Path(tmp) / "work")
    bad = []
    for q, top in solution.max_scores.items():
        print(f"{q}: solution {solution.scores[q]:g} / {top:g}, blank {blank.scores[q]:g}")
        if solution.scores[q] != top or blank.scores[q] != 0:
            bad.append(q)
    if bad:
        raise SystemExit(f"error: {', '.join(bad)}: the solution must get full marks and a blank answer 0")


def _interrupt_on_sigterm() -> None:
    """Make SIGTERM (a scheduler's or `kill`'s stop) clean up as Ctrl-C does."""
    import signal

    def handler(signum, frame):
        raise KeyboardInterrupt(f"signal {signum}")
    signal.signal(signal.SIGTERM, handler)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(prog="python -m teaching", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    a = sub.add_parser("assign", help="generate student notebooks and autograders")
    a.add_argument("chapters", nargs="*")
    a.add_argument("--out", default=str(ROOT / "_build" / "assignments"))
    a.add_argument("--jobs", type=int, default=None)
    a.set_defaults(func=cmd_assign)
    s = sub.add_parser("student-book", help="build the student edition of the book")
    s.add_argument("--assignments", default=str(ROOT / "_build" / "assignments"))
    s.add_argument("--out", default=str(ROOT / "_build" / "student"))
    s.add_argument("--strict", action="store_true", help="warnings are errors (as in CI)")
    s.set_defaults(func=cmd_student_book)
    g = sub.add_parser("grade", help="grade a folder of submitted notebooks")
    g.add_argument("chapter")
    g.add_argument("submissions")
    g.add_argument("--out", default=None, help="default: _build/grades/<chapter>")
    g.add_argument("--assignments", default=str(ROOT / "_build" / "assignments"))
    g.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT, help="seconds per submission")
    g.add_argument("--jobs", type=int, default=None, help="submissions graded at once (default: the cores)")
    g.add_argument("--overwrite", action="store_true", help="replace an existing grades.csv")
    g.set_defaults(func=cmd_grade)
    v = sub.add_parser("verify", help="check one chapter's exercises end to end")
    v.add_argument("chapter")
    v.set_defaults(func=cmd_verify)
    args = parser.parse_args(argv)
    _interrupt_on_sigterm()
    try:
        args.func(args)
    except ExerciseFormatError as err:
        raise SystemExit(f"error: {err}")
    except KeyboardInterrupt:
        raise SystemExit("interrupted: the running work was stopped and nothing was written")


if __name__ == "__main__":
    main()
