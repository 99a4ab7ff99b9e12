"""Grading overhead: grading a submission against executing the chapter itself.

Runs, in one process:
  (a) chapter 2's solution notebook executed once, from top to bottom, in a fresh kernel
      (nbclient, as Jupyter runs it): the chapter's own execution time;
  (b) ``make grade``'s machinery (``teaching.grade.grade_folder``) on 20 copies of that same
      notebook, one submission per core at a time, each in its own process and kernel;
and prints seconds per submission (the batch's wall time divided by the number of
submissions, and the mean time one submission takes from start to finish) and their ratio to
(a). The first ratio is what grading a class costs per student relative to running the
chapter once (target: under 1.5x); the second is the latency of one submission, which includes
otter's start-up and the tests and, with several submissions at once, their share of the cores.
Wall-clock times: grading is processes and kernels, not this process's CPU.

    python benchmarks/bench_grading.py [--copies 20] [--chapter 02_monte_carlo_evaluation] [--jobs N]
"""

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from teaching.assign import assign_chapter  # noqa: E402
from teaching.grade import grade_folder  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--copies", type=int, default=20)
    ap.add_argument("--chapter", default="02_monte_carlo_evaluation")
    ap.add_argument("--jobs", type=int, default=os.cpu_count())
    args = ap.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        t0 = time.perf_counter()
        folder = assign_chapter(ROOT / "book" / f"{args.chapter}.md", tmp / "assignments")
        print(f"otter assign (generation and its check of the solutions): {time.perf_counter() - t0:.1f} s")
        solution = folder / "autograder" / f"{args.chapter}.ipynb"

        nb = nbformat.read(solution, as_version=4)
        t0 = time.perf_counter()
        NotebookClient(nb, timeout=900, kernel_name="python3", resources={"metadata": {"path": str(solution.parent)}},
                       allow_errors=True).execute()
        t_chapter = time.perf_counter() - t0
        print(f"(a) the chapter executed once in a fresh kernel: {t_chapter:.1f} s")

        subs = tmp / "submissions"
        subs.mkdir()
        for k in range(args.copies):
            (subs / f"student{k:03d}.ipynb").write_bytes(solution.read_bytes())
        t0 = time.perf_counter()
        results = grade_folder(args.chapter, subs, tmp / "grades", assignments_dir=tmp / "assignments",
                               jobs=args.jobs, progress=lambda *_: None)
        t_batch = time.perf_counter() - t0
        full = sum(r.total == sum(r.max_scores.values()) for r in results)
        assert full == args.copies, f"only {full} of {args.copies} copies got full marks"
        per_sub = t_batch / args.copies
        latency = sum(r.seconds for r in results) / len(results)
        print(f"(b) {args.copies} submissions graded on {args.jobs} cores in {t_batch:.1f} s, all full marks")
        print(f"    per submission (batch wall time / submissions): {per_sub:.1f} s "
              f"= {per_sub / t_chapter:.2f}x the chapter's execution (target < 1.5x)")
        print(f"    one submission, start to finish (mean):         {latency:.1f} s "
              f"= {latency / t_chapter:.2f}x")


if __name__ == "__main__":
    main()
