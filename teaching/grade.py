"""Grade a folder of submitted notebooks with otter-grader, without Docker.

Each submission is graded by otter (``otter run``'s grading, in ``_grade_worker.py``) in a
process of its own, which starts its own kernel, on a scratch copy, with a time limit; several
run at once, one per core. Whatever a submission is — an empty file, a corrupt notebook, a
notebook for another chapter, code that raises or never ends — it gets a row with a score (0
where it broke) and the reason, and the batch goes on. The submissions folder is only read.

The autograder is copied into a scratch folder before grading starts, so regenerating the
assignments meanwhile cannot change it half-way. ``grades.csv`` and the reports are written
to that scratch folder and moved into place at the end; an existing ``grades.csv`` is replaced
only when ``overwrite=True``. Interrupting the batch (Ctrl-C) stops every running submission
and its kernel and writes nothing.

Grading runs the students' code with your rights, like running their notebooks yourself: see
the instructors' page.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import zipfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from .assign import autograder_zip

DEFAULT_TIMEOUT = 600.0          # seconds per submission; a chapter runs in well under a minute
WORKER = Path(__file__).with_name("_grade_worker.py")


@dataclass
class Result:
    """The grade of one submission."""

    file: str                                  # path relative to the submissions folder
    scores: dict[str, float] = field(default_factory=dict)    # exercise -> points
    max_scores: dict[str, float] = field(default_factory=dict)
    status: str = "graded"                     # graded | error
    reasons: list[str] = field(default_factory=list)
    details: str = ""                          # what failed and why, for the report
    seconds: float = 0.0

    @property
    def total(self) -> float:
        return sum(self.scores.values())


def _natural(s: str):
    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", s)]


def _questions(ag_zip: Path) -> dict[str, float]:
    """The auto-graded exercises of an autograder zip and their points, in order."""
    with zipfile.ZipFile(ag_zip) as z:
        names = sorted((n for n in z.namelist() if n.startswith("tests/") and n.endswith(".py")),
                       key=_natural)
        out = {}
        for n in names:
            points = re.search(r"'points':\s*([\d.]+)", z.read(n).decode())
            out[Path(n).stem] = float(points.group(1)) if points else 1.0
        return out


def _assignment_name(ag_zip: Path) -> str | None:
    with zipfile.ZipFile(ag_zip) as z:
        try:
            return json.loads(z.read("otter_config.json")).get("assignment_name")
        except KeyError:
            return None


def _printable(path: Path) -> str:
    """A file name as text, whatever bytes it was given in (zip downloads mangle names)."""
    return os.fsencode(str(path)).decode("utf-8", "backslashreplace")


def _precheck(path: Path, expected: str | None) -> tuple[nbformat.NotebookNode | None, list[str]]:
    """Read a submission; return the notebook (None if it cannot be graded) and remarks."""
    if path.suffix != ".ipynb":
        return None, [f"not a notebook: a {path.suffix or 'extensionless'} file, expected .ipynb"]
    raw = path.read_bytes()
    if not raw.strip():
        return None, ["empty file"]
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError, RecursionError) as err:
        return None, [f"corrupt notebook: not valid JSON ({err.__class__.__name__}: {str(err)[:100]})"]
    try:
        nb = nbformat.reads(json.dumps(data), as_version=4)
        nbformat.validate(nb)
    except Exception as err:                                 # noqa: BLE001 - any invalid notebook
        first = str(err).strip().splitlines()[0] if str(err).strip() else err.__class__.__name__
        return None, [f"not a Jupyter notebook ({first[:120]})"]
    remarks = []
    otter = nb.metadata.get("otter")
    name = otter.get("assignment_name") if isinstance(otter, dict) else None
    if expected and name and name != expected:
        return None, [f"notebook for another chapter: {name}, expected {expected}"]
    if expected and not name:
        remarks.append(f"no assignment name in the notebook; graded as {expected}")
        nb.metadata["otter"] = dict(otter) if isinstance(otter, dict) else {}
        nb.metadata["otter"]["assignment_name"] = expected
    code = [c for c in nb.cells if c.cell_type == "code"]
    if code and not any(c.get("outputs") for c in code):
        remarks.append("the notebook had no outputs (not run); it was executed for grading")
    return nb, remarks


def _kill_tree(pid: int) -> None:
    """Kill a process and everything it started (the kernel runs in a session of its own)."""
    import psutil
    try:
        parent = psutil.Process(pid)
        procs = parent.children(recursive=True) + [parent]
    except psutil.NoSuchProcess:
        return
    for p in procs:
        try:
            p.kill()
        except psutil.NoSuchProcess:
            pass
    psutil.wait_procs(procs, timeout=10)


_FAILED = re.compile(r"^\s*(?P<case>[\w.-]+ - \d+) result:\n\s*❌ Test case failed(?P<body>.*?)(?=^\s*[\w.-]+ - \d+ result:|\Z)",
                     re.MULTILINE | re.DOTALL)


def _why(test_output: str) -> list[str]:
    """One line per failed test case: which case, and the exception it raised."""
    lines = []
    for m in _FAILED.finditer(test_output):
        errors = re.findall(r"^\s*(\w+(?:Error|Exception|Exit)\b.*)$", m.group("body"), re.M)
        lines.append(f"{m.group('case')}: {errors[-1].strip() if errors else 'failed'}")
    return lines


class _Running:
    """The worker processes running now, so that an interrupted batch can stop them all."""

    def __init__(self):
        self.lock = threading.Lock()
        self.procs: set[subprocess.Popen] = set()
        self.stopping = False

    def start(self, cmd, **kwargs) -> subprocess.Popen:
        with self.lock:
            if self.stopping:
                raise KeyboardInterrupt
            proc = subprocess.Popen(cmd, **kwargs)
            self.procs.add(proc)
            return proc

    def done(self, proc) -> None:
        with self.lock:
            self.procs.discard(proc)

    def stop_all(self) -> None:
        with self.lock:
            self.stopping = True
            procs = list(self.procs)
        for proc in procs:
            _kill_tree(proc.pid)


def _run_otter(res: Result, nb, expected, ag_zip, questions, timeout, contract, running) -> None:
    """Execute and test one notebook in its own worker process; fill ``res`` in."""
    with tempfile.TemporaryDirectory(prefix="mmcourse-grade-") as work:
        work = Path(work)
        sub = work / f"{expected or 'submission'}.ipynb"    # the name otter's init cell opens
        nbformat.write(nb, sub)
        out, scratch = work / "out", work / "tmp"
        out.mkdir()
        scratch.mkdir()
        # Everything the worker, otter and the kernel write goes under `work`, removed below
        # even when the worker had to be killed.
        env = {**os.environ, "TMPDIR": str(scratch), "JUPYTER_RUNTIME_DIR": str(scratch / "runtime")}
        cmd = [sys.executable, "-P", str(WORKER), str(ag_zip), str(sub), str(out)]
        with open(work / "log.txt", "w+") as log:
            proc = running.start(cmd, cwd=work, stdin=subprocess.DEVNULL, stdout=log,
                                 stderr=subprocess.STDOUT, env=env, start_new_session=True)
            try:
                proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                _kill_tree(proc.pid)
                proc.wait(timeout=30)
                res.status = "error"
                res.reasons.append(f"time limit of {timeout:g} s exceeded (an endless loop?); scored 0")
                return
            finally:
                running.done(proc)
            log.seek(0)
            log_text = log.read()
        if running.stopping:
            raise KeyboardInterrupt
        results = out / "results.json"
        data = json.loads(results.read_text()) if results.exists() else {}
        graded = {t.get("name"): t for t in data.get("tests", []) if t.get("name") in questions}
        if set(graded) != set(questions):
            res.status = "error"
            tail = " | ".join(log_text.strip().splitlines()[-3:])[-300:]
            res.reasons.append(f"the autograder could not grade it: {tail}")
            res.details = log_text
            return
        errors = json.loads((out / "errors.json").read_text()) if (out / "errors.json").exists() else []
    for err in errors:
        src = err["source"].strip()
        if src.startswith("# Initialize Otter") or src.startswith("grader.check"):
            continue                                  # otter's own cells
        first = next((line for line in src.splitlines() if line.strip()), "")
        res.reasons.append(f"{err['ename']} in the cell starting {first[:60]!r}: {str(err['evalue'])[:120]}")
    details, missing = [], set()
    for name, test in graded.items():
        res.scores[name] = float(test.get("score") or 0.0)
        details.append(f"{name}: {res.scores[name]:g} / {questions[name]:g}")
        details.extend("    " + f for f in _why(test.get("output", "")))
        undefined = re.findall(r"NameError: name '(\w+)' is not defined", test.get("output", ""))
        answers = (contract or {}).get(name)
        missing.update(n for n in undefined if answers is None or n in answers)
    if missing:
        res.reasons.append("answer not defined: " + ", ".join(sorted(missing)))
    res.details = "\n".join(details)


def grade_one(path: Path, root: Path, ag_zip: Path, questions: dict[str, float], expected: str | None,
              timeout: float, contract: dict[str, list[str]] | None = None,
              running: _Running | None = None) -> Result:
    """Grade one submission (see the module's docstring). Never raises for a bad submission."""
    res = Result(file=_printable(path.relative_to(root)), max_scores=dict(questions),
                 scores={q: 0.0 for q in questions})
    start = time.monotonic()
    try:
        nb, remarks = _precheck(path, expected)
        res.reasons.extend(remarks)
        if nb is None:
            res.status = "error"
        else:
            _run_otter(res, nb, expected, ag_zip, questions, timeout, contract, running or _Running())
    except OSError as err:
        res.status, res.scores = "error", {q: 0.0 for q in questions}
        res.reasons.append(f"cannot read or grade the file ({err})")
    except Exception as err:                                  # noqa: BLE001 - one file, not the batch
        res.status, res.scores = "error", {q: 0.0 for q in questions}
        res.reasons.append(f"internal error while grading ({err.__class__.__name__}: {str(err)[:200]})")
    res.seconds = time.monotonic() - start
    return res


def _report(res: Result) -> str:
    lines = [f"submission: {res.file}", f"status: {res.status}",
             f"total: {res.total:g} / {sum(res.max_scores.values()):g}"]
    lines += [f"note: {r}" for r in res.reasons]
    lines += ["", "exercise scores:"]
    lines += [f"  {q}: {res.scores[q]:g} / {res.max_scores[q]:g}" for q in res.scores]
    lines += ["", "tests (each failed test case with the error it raised):", res.details or "(none ran)", ""]
    return "\n".join(lines)


def default_jobs() -> int:
    """The cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:                                    # not on Linux
        return os.cpu_count() or 1


def grade_folder(chapter: str, submissions, out_dir, *, assignments_dir="_build/assignments",
                 timeout: float = DEFAULT_TIMEOUT, jobs: int | None = None,
                 overwrite: bool = False, progress=print) -> list[Result]:
    """Grade every file under ``submissions`` against ``chapter``'s autograder.

    Writes ``out_dir/grades.csv`` (file, one column per exercise, total, max, status, reason)
    and ``out_dir/reports/<file>.txt``. Raises ``FileExistsError`` before grading anything if
    ``grades.csv`` exists and ``overwrite`` is false, and ``ValueError`` for bad arguments.
    """
    submissions, out_dir = Path(submissions), Path(out_dir)
    if not submissions.is_dir():
        raise ValueError(f"SUBMISSIONS must be a folder of notebooks; {submissions} is not a folder")
    if timeout <= 0:
        raise ValueError(f"timeout must be > 0 seconds, got {timeout}")
    if jobs is not None and jobs < 1:
        raise ValueError(f"jobs must be >= 1, got {jobs}")
    if out_dir.resolve() == submissions.resolve() or submissions.resolve() in out_dir.resolve().parents:
        raise ValueError(f"OUT ({out_dir}) must not be inside SUBMISSIONS ({submissions}): "
                         "the grades would be graded next time")
    csv_path = out_dir / "grades.csv"
    if csv_path.exists() and not overwrite:
        raise FileExistsError(f"{csv_path} exists; pass overwrite (make grade ... OVERWRITE=1) to replace it")
    source_zip = autograder_zip(Path(assignments_dir) / chapter)
    out_dir.mkdir(parents=True, exist_ok=True)
    files = sorted((p for p in submissions.rglob("*") if p.is_file()
                    and not any(part.startswith(".") for part in p.relative_to(submissions).parts)),
                   key=lambda p: _natural(_printable(p)))
    jobs = jobs or default_jobs()
    running, lock, done = _Running(), threading.Lock(), [0]

    with tempfile.TemporaryDirectory(dir=out_dir, prefix=".grading-") as tmp:
        tmp = Path(tmp)
        ag_zip = tmp / source_zip.name                          # this batch's own copy
        shutil.copy2(source_zip, ag_zip)
        contract_file = Path(assignments_dir) / chapter / "contract.json"
        contract = json.loads(contract_file.read_text()) if contract_file.exists() else None
        questions, expected = _questions(ag_zip), _assignment_name(ag_zip)

        def work(p):
            r = grade_one(p, submissions, ag_zip, questions, expected, timeout, contract, running)
            with lock:
                done[0] += 1
                progress(f"[{done[0]}/{len(files)}] {r.file}: {r.total:g} / {sum(r.max_scores.values()):g}"
                         + (f"  ({'; '.join(r.reasons)})" if r.reasons else ""))
            return r

        pool = ThreadPoolExecutor(max_workers=jobs)
        try:
            results = list(pool.map(work, files))
        except BaseException:                                   # Ctrl-C: stop everything, write nothing
            running.stop_all()
            pool.shutdown(wait=True, cancel_futures=True)
            raise
        pool.shutdown()

        reports = tmp / "reports"
        for r in results:
            target = reports / (r.file + ".txt")
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(_report(r), encoding="utf-8")
        buf = io.StringIO()
        w = csv.writer(buf)
        w.writerow(["file", *questions, "total", "max", "status", "reason"])
        for r in results:
            w.writerow([r.file, *(f"{r.scores[q]:g}" for q in questions), f"{r.total:g}",
                        f"{sum(questions.values()):g}", r.status, "; ".join(r.reasons)])
        (tmp / "grades.csv").write_text(buf.getvalue(), encoding="utf-8")
        # Publish: the CSV first (without overwrite, os.link refuses a grades.csv that appeared
        # meanwhile, leaving everything as it was), then the reports that go with it.
        if overwrite:
            (tmp / "grades.csv").replace(csv_path)
        else:
            os.link(tmp / "grades.csv", csv_path)
        old = out_dir / "reports"
        if old.exists():
            old.rename(tmp / "old-reports")
        reports.rename(old)
    return results


def grade_solution_and_blank(chapter: str, assignments_dir, work_dir, **kwargs) -> tuple[Result, Result]:
    """Grade a chapter's own solution notebook and its blank student notebook.

    The check behind ``python -m teaching verify`` and the tests: the solution must get full
    marks on every exercise, the blank notebook 0. Returns (solution, blank) results.
    """
    folder, work_dir = Path(assignments_dir) / chapter, Path(work_dir)
    subs = work_dir / "submissions"
    subs.mkdir(parents=True)
    shutil.copy2(folder / "autograder" / f"{chapter}.ipynb", subs / "solution.ipynb")
    shutil.copy2(folder / "student" / f"{chapter}.ipynb", subs / "blank.ipynb")
    results = {r.file: r for r in grade_folder(chapter, subs, work_dir / "grades",
                                               assignments_dir=assignments_dir, **kwargs)}
    return results["solution.ipynb"], results["blank.ipynb"]
