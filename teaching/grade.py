"""Grade a folder of submitted notebooks with otter-grader, without Docker.

Each submission is graded by ``otter run`` in its own process (which starts its own kernel),
in a scratch copy, with a time limit; several run at once, one per core. Whatever a submission
is — an empty file, a corrupt notebook, a notebook for another chapter, code that raises or
never ends — it gets a row with a score (0 where it broke) and the reason, and the batch goes
on. The submissions folder is only read. ``grades.csv`` and the reports are written to a
scratch folder first and moved into place at the end; an existing ``grades.csv`` is replaced
only when ``overwrite=True``.
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
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from .assign import autograder_zip

DEFAULT_TIMEOUT = 600.0          # seconds per submission; a chapter runs in well under a minute


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


def _questions(ag_zip: Path) -> dict[str, float]:
    """The auto-graded exercises of an autograder zip and their points, in order."""
    import zipfile
    with zipfile.ZipFile(ag_zip) as z:
        names = sorted((n for n in z.namelist() if n.startswith("tests/") and n.endswith(".py")),
                       key=_natural)
        out = {}
        for n in names:
            points = re.search(r"'points':\s*([\d.]+)", z.read(n).decode())
            out[Path(n).stem] = float(points.group(1)) if points else 1.0
        return out


def _natural(s: str):
    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", s)]


def _assignment_name(ag_zip: Path) -> str | None:
    import zipfile
    with zipfile.ZipFile(ag_zip) as z:
        try:
            return json.loads(z.read("otter_config.json")).get("assignment_name")
        except KeyError:
            return None


def _precheck(path: Path, expected: str | None) -> tuple[nbformat.NotebookNode | None, list[str]]:
    """Read a submission; return the notebook (None if it cannot be graded) and remarks."""
    if path.suffix != ".ipynb":
        return None, [f"not a notebook: a {path.suffix or 'extensionless'} file, expected .ipynb"]
    raw = path.read_bytes()
    if not raw.strip():
        return None, ["empty file"]
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as err:
        return None, [f"corrupt notebook: not valid JSON ({err.__class__.__name__}: {err})"]
    try:
        nb = nbformat.reads(json.dumps(data), as_version=4)
        nbformat.validate(nb)
    except Exception as err:                                 # noqa: BLE001 - any invalid notebook
        first = str(err).strip().splitlines()[0] if str(err).strip() else err.__class__.__name__
        return None, [f"not a Jupyter notebook ({first})"]
    remarks = []
    name = nb.metadata.get("otter", {}).get("assignment_name")
    if expected and name and name != expected:
        return None, [f"notebook for another chapter: {name}, expected {expected}"]
    if expected and not name:
        remarks.append(f"no assignment name in the notebook; graded as {expected}")
        nb.metadata.setdefault("otter", {})["assignment_name"] = expected
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


def grade_one(path: Path, root: Path, ag_zip: Path, questions: dict[str, float], expected: str | None,
              timeout: float, contract: dict[str, list[str]] | None = None) -> Result:
    """Grade one submission (see the module's docstring)."""
    res = Result(file=str(path.relative_to(root)), max_scores=dict(questions),
                 scores={q: 0.0 for q in questions})
    start = time.monotonic()
    try:
        nb, remarks = _precheck(path, expected)
    except OSError as err:
        nb, remarks = None, [f"cannot read the file ({err})"]
    res.reasons.extend(remarks)
    if nb is None:
        res.status = "error"
        res.seconds = time.monotonic() - start
        return res
    with tempfile.TemporaryDirectory(prefix="mmcourse-grade-") as work:
        work = Path(work)
        sub = work / f"{expected or 'submission'}.ipynb"    # the name otter's init cell opens
        nbformat.write(nb, sub)
        out = work / "out"
        out.mkdir()
        cmd = [sys.executable, str(Path(__file__).with_name("_grade_worker.py")), str(ag_zip), str(sub), str(out)]
        proc = subprocess.Popen(cmd, cwd=work, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                text=True, start_new_session=True)
        try:
            log, _ = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            _kill_tree(proc.pid)
            proc.communicate()
            res.status = "error"
            res.reasons.append(f"time limit of {timeout:g} s exceeded (an endless loop?); scored 0")
            res.seconds = time.monotonic() - start
            return res
        results = out / "results.json"
        if not results.exists():
            res.status = "error"
            tail = "\n".join(log.strip().splitlines()[-3:])
            res.reasons.append(f"the autograder could not grade it: {tail}")
            res.details = log
            res.seconds = time.monotonic() - start
            return res
        data = json.loads(results.read_text())
        errors = json.loads((out / "errors.json").read_text()) if (out / "errors.json").exists() else []
    for err in errors:
        src = err["source"].strip()
        if src.startswith("# Initialize Otter") or src.startswith("grader.check"):
            continue                                  # otter's own cells
        first = next((line for line in src.splitlines() if line.strip()), "")
        res.reasons.append(f"{err['ename']} in the cell starting {first[:60]!r}: {str(err['evalue'])[:120]}")
    details, missing = [], set()
    for test in data.get("tests", []):
        name = test.get("name")
        if name in res.scores:
            res.scores[name] = float(test.get("score") or 0.0)
            failed = _why(test.get("output", ""))
            if failed:
                details.append(f"{name}: {res.scores[name]:g} / {questions[name]:g}")
                details.extend("    " + f for f in failed)
                undefined = re.findall(r"NameError: name '(\w+)' is not defined", test.get("output", ""))
                answers = (contract or {}).get(name)
                missing.update(n for n in undefined if answers is None or n in answers)
    if missing:
        res.reasons.append("answer not defined: " + ", ".join(sorted(missing)))
    if not details:
        details.append("every test passed")
    res.details = "\n".join(details)
    res.seconds = time.monotonic() - start
    return res


def _report(res: Result) -> str:
    lines = [f"submission: {res.file}", f"status: {res.status}",
             f"total: {res.total:g} / {sum(res.max_scores.values()):g}"]
    lines += [f"note: {r}" for r in res.reasons]
    lines += ["", "exercise scores:"]
    lines += [f"  {q}: {res.scores[q]:g} / {res.max_scores[q]:g}" for q in res.scores]
    lines += ["", "tests:", res.details, ""]
    return "\n".join(lines)


def grade_folder(chapter: str, submissions, out_dir, *, assignments_dir="_build/assignments",
                 timeout: float = DEFAULT_TIMEOUT, jobs: int | None = None,
                 overwrite: bool = False, progress=print) -> list[Result]:
    """Grade every file under ``submissions`` against ``chapter``'s autograder.

    Writes ``out_dir/grades.csv`` (file, one column per exercise, total, max, status, reason) and
    ``out_dir/reports/<file>.txt``. Raises ``FileExistsError`` before grading anything if
    ``grades.csv`` exists and ``overwrite`` is false.
    """
    submissions, out_dir = Path(submissions), Path(out_dir)
    if not submissions.is_dir():
        raise ValueError(f"SUBMISSIONS must be a folder of notebooks; {submissions} is not a folder")
    if timeout <= 0:
        raise ValueError(f"timeout must be > 0 seconds, got {timeout}")
    csv_path = out_dir / "grades.csv"
    if csv_path.exists() and not overwrite:
        raise FileExistsError(f"{csv_path} exists; pass overwrite (make grade ... OVERWRITE=1) to replace it")
    ag_zip = autograder_zip(Path(assignments_dir) / chapter)
    questions = _questions(ag_zip)
    expected = _assignment_name(ag_zip)
    contract_file = Path(assignments_dir) / chapter / "contract.json"
    contract = json.loads(contract_file.read_text()) if contract_file.exists() else None
    files = sorted((p for p in submissions.rglob("*") if p.is_file()
                    and not any(part.startswith(".") for part in p.relative_to(submissions).parts)),
                   key=lambda p: _natural(str(p)))
    jobs = jobs or os.cpu_count() or 1
    done = 0

    def work(p):
        nonlocal done
        r = grade_one(p, submissions, ag_zip, questions, expected, timeout, contract)
        done += 1
        progress(f"[{done}/{len(files)}] {r.file}: {r.total:g} / {sum(r.max_scores.values()):g}"
                 + (f"  ({'; '.join(r.reasons)})" if r.reasons else ""))
        return r

    with ThreadPoolExecutor(max_workers=jobs) as pool:
        results = list(pool.map(work, files))

    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out_dir, prefix=".grading-") as tmp:
        tmp = Path(tmp)
        reports = tmp / "reports"
        reports.mkdir()
        for r in results:
            target = reports / (r.file.replace(os.sep, "__") + ".txt")
            target.write_text(_report(r), encoding="utf-8")
        buf = io.StringIO()
        w = csv.writer(buf)
        w.writerow(["file", *questions, "total", "max", "status", "reason"])
        for r in results:
            w.writerow([r.file, *(f"{r.scores[q]:g}" for q in questions), f"{r.total:g}",
                        f"{sum(questions.values()):g}", r.status, "; ".join(r.reasons)])
        (tmp / "grades.csv").write_text(buf.getvalue(), encoding="utf-8")
        old_reports = out_dir / "reports"
        if old_reports.exists():
            shutil.rmtree(old_reports)
        (tmp / "reports").rename(old_reports)
        (tmp / "grades.csv").replace(csv_path)
    return results
