"""Golden comparison of the book's outputs: capture every chapter's outputs, compare two captures.

What it does
------------
``capture`` executes every chapter of the book (``book/[0-9][0-9]_*.md``, read with jupytext)
with nbclient, each in a fresh ``python3`` kernel whose working directory is the chapter's
folder, as the book build does. Every code cell runs, hidden ones (tagged ``remove-cell``)
included; cells tagged ``raises-exception`` may raise. For every code cell, identified by its
index among the chapter's code cells and a short hash of its source, it records every output:
stream text, ``text/plain``, ``text/html`` (pandas tables) and any other text MIME type, and
errors as ``ename: evalue``. Images are recorded as present but their bytes are not kept (a
figure's PNG differs across runs and platforms). The result is one JSON file.

``compare`` matches the cells of two captures, chapter by chapter: by source hash first
(in order, so repeated sources pair up in sequence), then by position for the cells whose
source changed, which it reports as such; cells left over are reported as unmatched. It
prints every output that differs with a short diff, then one summary line. Its exit status is
1 if any output of a cell whose source is unchanged differs, 0 otherwise.

Usage in a refactor
-------------------
Run it with the project's virtualenv, from anywhere::

    .venv/bin/python tools/golden.py capture /tmp/golden-main.json --rev main   # before
    # ... refactor: split modules, rename, update the chapters' imports ...
    .venv/bin/python tools/golden.py capture /tmp/golden-new.json               # working tree
    .venv/bin/python tools/golden.py compare /tmp/golden-main.json /tmp/golden-new.json

Without ``--rev`` the working tree is executed as it is, uncommitted edits included. With
``--rev REV`` the tool first makes a temporary ``git worktree`` of REV (in a temporary folder,
removed afterwards, also on Ctrl-C or SIGTERM) and executes that revision's chapters with that
revision's package. Either way the captured tree's root is put first on the kernel's
``PYTHONPATH``, ahead of the editable install in ``.venv`` (setuptools' editable finder is
appended to ``sys.meta_path``, so ``PYTHONPATH`` wins). A probe run in each chapter's kernel
after the chapter records ``mmcourse.__file__``, the interpreter, the library versions and
where numba caches its compiled code; if ``mmcourse`` was not imported from the captured
tree the chapter is marked as failed. A cell whose source a refactor had to change (a renamed
import, say) is reported as "source changed" with its outputs compared, but it does not make
the exit status 1: check those by eye. Capture files belong outside the repository (/tmp).
``--chapters 02 05`` limits a capture to chapters whose name starts with those prefixes.

Numba's cache: ``@njit(cache=True)`` keeps compiled code in ``__pycache__`` next to the
source file, and its index is keyed by the source file's path (and its time stamp and size);
with ``NUMBA_CACHE_DIR`` set, the cache goes below that folder in a sub-folder named after the
source's full path. A worktree lives at another path, so its cache never mixes with the main
checkout's. It starts empty, so a ``--rev`` capture compiles everything (about a minute
more) and its cache is removed with the worktree.

What is normalised (and why)
----------------------------
Only normalised text is compared; where normalising changed a text the raw text is kept in
the capture under ``raw`` for inspection. The rules are the regexes in ``NORMALISERS`` and a
few structural rules:

- the captured tree's root path -> ``<root>`` (a ``--rev`` worktree lives elsewhere);
- temporary folders made by ``tempfile.mkdtemp()`` (``/tmp/tmpab12cd_x``) -> ``<tmpdir>``
  (chapter 7 prints one in the ``FileExistsError`` of its "Saving results" section);
- memory addresses, ``at 0x7f3a...`` -> ``at 0x<addr>`` (default object reprs);
- wall-clock timings printed by IPython's ``%time`` (``CPU times: ...``, ``Wall time: ...``)
  and ``%timeit`` lines -> ``<timing>``. No chapter prints a timing at present: chapter 8 and
  others only *state* running times in their prose ("takes about 30 s"), which is not output;
- Python warnings on stderr (``/path/mod.py:12: SomeWarning: message`` and the echoed source
  line) -> ``SomeWarning: message`` (the path and line number move in a refactor), and
  debugpy's "frozen modules" start-up warning (``0.00s - Debugger warning: ...``) is dropped;
- consecutive stream outputs of the same name are merged (how a kernel splits its stdout
  into messages depends on timing);
- error outputs keep ``ename: evalue`` only: the traceback holds file paths, line numbers and
  terminal colour codes;
- images (``image/*``) are recorded as present, not compared; execution counts and cell
  metadata (timings) are not recorded.

Not normalised: numbers. A number that differs in its last printed digit is a difference.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import difflib
import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FORMAT = "mmcourse-golden/1"
CHAPTER_GLOB = "[0-9][0-9]_*.md"
HASH_LENGTH = 12
PROBE_MARK = "GOLDEN-PROBE "

# (name, scope, pattern, replacement), applied in order to every recorded text after the
# root path has been replaced by <root>; scope "stderr" rules touch only stderr streams.
# Keep each one small and explicit.
_TMP_PARENT = "|".join(sorted({re.escape(tempfile.gettempdir()), re.escape("/tmp")}, key=len,
                              reverse=True))
NORMALISERS: list[tuple[str, str, re.Pattern[str], str]] = [
    ("temporary folder from tempfile.mkdtemp()", "all",
     re.compile(rf"(?:{_TMP_PARENT})[/\\]tmp[a-z0-9_]{{8}}(?![a-z0-9_])"), "<tmpdir>"),
    ("memory address in a default repr", "all",
     re.compile(r"\bat 0x[0-9a-fA-F]+\b"), "at 0x<addr>"),
    ("%time output", "all",
     re.compile(r"^(CPU times|Wall time):.*$", re.MULTILINE), r"\1: <timing>"),
    ("%timeit output", "all",
     re.compile(r"^.* ± .* per loop \(mean ± std\. dev\. of .*\)$", re.MULTILINE), "<timing>"),
    ("Python warning: path, line number and echoed source", "stderr",
     re.compile(r"^\S[^\n]*?:\d+: (\w*Warning): ([^\n]*)\n(?:[ \t]+[^\n]*\n)?", re.MULTILINE),
     r"\1: \2\n"),
    ("debugpy's frozen-modules start-up warning", "stderr",
     re.compile(r"^\d+\.\d+s - [^\n]*(?:\n|$)", re.MULTILINE), ""),
]


def normalise(text: str, root: Path | str | None = None, stderr: bool = False) -> str:
    """The text as compared: the root path replaced, then the rules of NORMALISERS."""
    if root is not None:
        for r in sorted({str(root), str(Path(root).resolve())}, key=len, reverse=True):
            text = text.replace(r, "<root>")
    for _, scope, pattern, replacement in NORMALISERS:
        if scope == "all" or stderr:
            text = pattern.sub(replacement, text)
    return text


def source_hash(source: str) -> str:
    return hashlib.sha256(source.encode("utf-8")).hexdigest()[:HASH_LENGTH]


def _text(value) -> str:
    return "".join(value) if isinstance(value, list) else str(value)


def record_outputs(outputs, root=None) -> list[dict]:
    """A cell's nbformat outputs as recorded: normalised text, no images' bytes."""
    merged: list[dict] = []
    for out in outputs:                       # merge consecutive streams of one name first
        kind = out["output_type"]
        if kind == "stream" and merged and merged[-1]["type"] == "stream" \
                and merged[-1]["name"] == out["name"]:
            merged[-1]["raw"] += _text(out["text"])
        elif kind == "stream":
            merged.append({"type": "stream", "name": out["name"], "raw": _text(out["text"])})
        elif kind == "error":
            merged.append({"type": "error", "raw": f"{out['ename']}: {out['evalue']}"})
        else:                                 # execute_result, display_data, update_display_data
            data = {}
            for mime, value in sorted(out.get("data", {}).items()):
                if mime.startswith("image/"):
                    data[mime] = None         # present, not compared
                elif mime.startswith("text/") or mime.endswith("json"):
                    data[mime] = value if isinstance(value, (dict, list)) and mime.endswith(
                        "json") else _text(value)
            merged.append({"type": kind, "data": data})
    recorded = []
    for out in merged:
        if "raw" in out:
            raw = out.pop("raw")
            out["text"] = normalise(raw, root, stderr=out.get("name") == "stderr")
            if out["text"] != raw:
                out["raw"] = raw
        else:
            raws = {}
            for mime, value in out["data"].items():
                if isinstance(value, str):
                    norm = normalise(value, root)
                    if norm != value:
                        raws[mime] = value
                    out["data"][mime] = norm
            if raws:
                out["raw"] = raws
        if out["type"] == "stream" and not out["text"]:
            continue                          # a stream that held only a dropped warning
        recorded.append(out)
    return recorded


# ------------------------------------------------------------------------------ capture

PROBE = f"""
def _golden_probe():
    import importlib, json, os, sys
    out = {{"cwd": os.getcwd(), "executable": sys.executable, "sys_path": sys.path[:4]}}
    try:
        module = importlib.import_module("mmcourse")
        out["mmcourse_file"] = module.__file__
    except Exception as error:
        out["mmcourse_error"] = repr(error)
    for name in ("numpy", "numba", "pandas", "matplotlib"):
        try:
            out[name] = importlib.import_module(name).__version__
        except Exception:
            pass
    try:
        from numba.core import config
        out["numba_cache_dir"] = config.CACHE_DIR or os.path.join(
            os.path.dirname(out.get("mmcourse_file", "")), "__pycache__")
    except Exception:
        pass
    print({PROBE_MARK!r} + json.dumps(out))
_golden_probe(); del _golden_probe
"""


def _git(root: Path, *args: str, check: bool = True) -> str:
    done = subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True)
    if check and done.returncode:
        raise SystemExit(f"git {' '.join(args)} failed: {done.stderr.strip()}")
    return done.stdout.strip()


def _kernel_env(root: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(root)] + [p for p in env.get("PYTHONPATH", "")
                                                      .split(os.pathsep) if p])
    env.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")   # quiets debugpy at kernel start
    return env


def chapters_of(root: Path, prefixes=()) -> list[Path]:
    paths = sorted((root / "book").glob(CHAPTER_GLOB))
    if prefixes:
        paths = [p for p in paths if any(p.stem.startswith(x) for x in prefixes)]
    return paths


def capture_chapter(path: Path, root: Path, timeout: int = 900,
                    kernel_name: str = "python3") -> dict:
    """Execute one chapter in a fresh kernel and return its record."""
    import jupytext
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

    nb = jupytext.read(path)
    client = NotebookClient(nb, kernel_name=kernel_name, timeout=timeout, allow_errors=False,
                            record_timing=False,
                            resources={"metadata": {"path": str(path.parent)}})
    client.reset_execution_trackers()
    executed: set[int] = set()
    status, probe = "ok", {}
    start = time.perf_counter()
    with client.setup_kernel(env=_kernel_env(root)):
        try:
            for index, cell in enumerate(nb.cells):
                if cell.cell_type != "code":
                    continue
                executed.add(index)
                client.execute_cell(cell, index, execution_count=client.code_cells_executed + 1)
        except (CellExecutionError, CellTimeoutError, DeadKernelError) as error:
            first = str(error).strip().splitlines()
            status = f"failed at notebook cell {index}: {first[-1] if first else error}"
        probe_cell = nbformat.v4.new_code_cell(PROBE)
        try:
            client.execute_cell(probe_cell, len(nb.cells), store_history=False)
        except Exception as error:            # a dead kernel: the chapter already failed
            probe = {"probe_error": repr(error)}
        for out in probe_cell.get("outputs", []):
            if out.get("output_type") == "stream" and PROBE_MARK in _text(out["text"]):
                line = _text(out["text"]).split(PROBE_MARK, 1)[1].splitlines()[0]
                probe = json.loads(line)
    seconds = time.perf_counter() - start
    where = probe.get("mmcourse_file")
    if where is None or not Path(where).resolve().is_relative_to(root.resolve()):
        status = (f"failed: mmcourse imported from {where!r}, not from {root}"
                  + ("" if status == "ok" else f"; {status}"))
    cells = []
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        first_line = next((ln for ln in cell.source.splitlines() if ln.strip()), "")
        cells.append({
            "index": len(cells), "hash": source_hash(cell.source),
            "first_line": first_line[:100], "tags": list(cell.metadata.get("tags", [])),
            "executed": index in executed and cell.get("execution_count") is not None,
            "source": cell.source,
            "outputs": record_outputs(cell.get("outputs", []), root),
        })
    return {"file": str(path.relative_to(root)), "status": status,
            "seconds": round(seconds, 1), "kernel": probe, "cells": cells}


def _worktree(rev: str) -> tuple[Path, Path]:
    commit = _git(ROOT, "rev-parse", "--verify", f"{rev}^{{commit}}")
    holder = Path(tempfile.mkdtemp(prefix="golden-worktree-"))
    tree = holder / "tree"
    _git(ROOT, "worktree", "add", "--detach", str(tree), commit)
    return holder, tree


def _remove_worktree(holder: Path, tree: Path) -> None:
    _git(ROOT, "worktree", "remove", "--force", str(tree), check=False)
    shutil.rmtree(holder, ignore_errors=True)
    _git(ROOT, "worktree", "prune", check=False)


def _raise_on_sigterm(signum, frame):
    raise KeyboardInterrupt(f"signal {signum}")


def capture(out: Path, rev: str | None = None, prefixes=(), timeout: int = 900) -> int:
    previous = signal.signal(signal.SIGTERM, _raise_on_sigterm)
    holder = tree = None
    try:
        if rev is not None:
            holder, tree = _worktree(rev)
            root = tree
            print(f"worktree of {rev} in {tree}", flush=True)
        else:
            root = ROOT
        meta = {
            "format": FORMAT, "rev": rev, "commit": _git(root, "rev-parse", "HEAD"),
            "dirty": sorted(_git(root, "status", "--porcelain", "--untracked-files=no")
                            .splitlines()) if rev is None else [],
            "root": str(root), "created": _dt.datetime.now(_dt.timezone.utc).isoformat(
                timespec="seconds"),
            "tool_python": sys.executable,
            "normalisers": [name for name, _, _, _ in NORMALISERS],
        }
        chapters, failed = {}, 0
        paths = chapters_of(root, prefixes)
        if not paths:
            raise SystemExit(f"no chapter matches {CHAPTER_GLOB} {list(prefixes)} in {root}/book")
        for path in paths:
            record = capture_chapter(path, root, timeout=timeout)
            chapters[path.stem] = record
            failed += record["status"] != "ok"
            print(f"{path.stem}: {len(record['cells'])} code cells, {record['seconds']} s, "
                  f"{record['status']}; mmcourse from "
                  f"{record['kernel'].get('mmcourse_file')}", flush=True)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps({"meta": meta, "chapters": chapters}, indent=1,
                                  ensure_ascii=False) + "\n", encoding="utf-8")
        print(f"wrote {out}: {len(chapters)} chapters, "
              f"{sum(len(c['cells']) for c in chapters.values())} code cells, {failed} failed")
        return 1 if failed else 0
    finally:
        if holder is not None:
            _remove_worktree(holder, tree)
        signal.signal(signal.SIGTERM, previous)


# ------------------------------------------------------------------------------ compare

def render(cell: dict) -> list[str]:
    """A cell's outputs as lines, for comparing and diffing."""
    lines = [] if cell["executed"] else ["[not executed]"]
    for out in cell["outputs"]:
        if out["type"] == "stream":
            lines.append(f"[{out['name']}]")
            lines.extend(out["text"].splitlines())
        elif out["type"] == "error":
            lines.append(f"[error] {out['text']}")
        else:
            for mime, value in out["data"].items():
                if value is None:
                    lines.append(f"[{out['type']} {mime}: present, not compared]")
                else:
                    lines.append(f"[{out['type']} {mime}]")
                    lines.extend(value.splitlines() if isinstance(value, str)
                                 else json.dumps(value, sort_keys=True, indent=1).splitlines())
    return lines


def match_cells(a: list[dict], b: list[dict]):
    """Pairs (cell_a, cell_b, same_source) and the unmatched cells of each side.

    Equal hashes are matched in order (difflib's longest matching blocks). Cells left over
    whose source reappears elsewhere on the other side (a moved exercise, say) are matched
    next, by hash in order. Inside each stretch where the sources differ, the cells still
    left are paired by position and the rest left over.
    """
    pairs, only_a, only_b = [], [], []
    matcher = difflib.SequenceMatcher(None, [c["hash"] for c in a], [c["hash"] for c in b],
                                      autojunk=False)
    blocks = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            pairs.extend((a[i], b[j], True) for i, j in zip(range(i1, i2), range(j1, j2)))
        else:
            blocks.append((list(range(i1, i2)), list(range(j1, j2))))
    waiting = {}                                     # hash -> b indices not yet matched
    for _, js in blocks:
        for j in js:
            waiting.setdefault(b[j]["hash"], []).append(j)
    moved_a, moved_b = set(), set()
    for is_, _ in blocks:
        for i in is_:
            js = waiting.get(a[i]["hash"])
            if js:
                j = js.pop(0)
                pairs.append((a[i], b[j], True))
                moved_a.add(i)
                moved_b.add(j)
    for is_, js in blocks:
        is_ = [i for i in is_ if i not in moved_a]
        js = [j for j in js if j not in moved_b]
        n = min(len(is_), len(js))
        pairs.extend((a[is_[k]], b[js[k]], False) for k in range(n))
        only_a.extend(a[i] for i in is_[n:])
        only_b.extend(b[j] for j in js[n:])
    pairs.sort(key=lambda p: p[0]["index"])
    return pairs, only_a, only_b


def _describe(cell: dict) -> str:
    where = f"{cell['chapter']} " if 'chapter' in cell else ''
    return f"{where}cell {cell['index']} [{cell['hash']}] `{cell['first_line'][:60]}`"


def _short_diff(old: list[str], new: list[str], limit: int, context: int = 1) -> list[str]:
    diff = list(difflib.unified_diff(old, new, "A", "B", n=context, lineterm=""))[2:]
    if len(diff) > limit:
        diff = diff[:limit] + [f"... ({len(diff) - limit} more diff lines)"]
    return ["      " + line for line in diff]


def merge_chapters(cap: dict) -> dict:
    """The capture with its chapters joined, in file-name order, into one ("whole book"), so
    that cells can be matched across a chapter that was split or renamed. Cells keep their
    chapter's name in ``chapter`` and are numbered through the book."""
    cells, statuses, kernel = [], [], {}
    for name in sorted(cap["chapters"]):
        chapter = cap["chapters"][name]
        statuses.append(chapter["status"])
        kernel = kernel or chapter.get("kernel", {})
        for cell in chapter["cells"]:
            cells.append({**cell, "index": len(cells), "chapter": name})
    status = "ok" if all(s == "ok" for s in statuses) else "failed"
    return {**cap, "chapters": {"whole book": {"status": status, "cells": cells, "kernel": kernel}}}


def compare(path_a: Path, path_b: Path, max_lines: int = 30, stream=sys.stdout,
            merge: bool = False) -> int:
    caps = [json.loads(Path(p).read_text(encoding="utf-8")) for p in (path_a, path_b)]
    for label, cap, path in zip("AB", caps, (path_a, path_b)):
        meta = cap["meta"]
        if meta.get("format") != FORMAT:
            print(f"warning: {path} has format {meta.get('format')!r}, expected {FORMAT!r}",
                  file=stream)
        where = sorted({c["kernel"].get("mmcourse_file", "?") for c in cap["chapters"].values()})
        print(f"{label}: {path}  rev {meta.get('rev') or 'working tree'} = "
              f"{meta.get('commit', '?')[:12]}{' (dirty)' if meta.get('dirty') else ''}, "
              f"mmcourse from {', '.join(where)}", file=stream)
        for name, chapter in cap["chapters"].items():
            if chapter["status"] != "ok":
                print(f"{label}: {name} {chapter['status']}", file=stream)
    if merge:
        caps = [merge_chapters(cap) for cap in caps]
    a_ch, b_ch = caps[0]["chapters"], caps[1]["chapters"]
    names = sorted(set(a_ch) | set(b_ch))
    n = dict(compared=0, identical=0, differing=0, differing_same=0, changed=0,
             only_a=0, only_b=0)
    for name in names:
        if name not in a_ch or name not in b_ch:
            side, cells = ("A", a_ch[name]["cells"]) if name in a_ch else ("B", b_ch[name]["cells"])
            n["only_a" if side == "A" else "only_b"] += len(cells)
            print(f"== {name}: only in {side} ({len(cells)} cells unmatched)", file=stream)
            continue
        pairs, only_a, only_b = match_cells(a_ch[name]["cells"], b_ch[name]["cells"])
        report = []
        for ca, cb, same in pairs:
            n["compared"] += 1
            n["changed"] += not same
            ra, rb = render(ca), render(cb)
            if ra == rb:
                n["identical"] += 1
                if not same:
                    report.append(f"  source changed, outputs identical: A {_describe(ca)} "
                                  f"-> B {_describe(cb)}")
                continue
            n["differing"] += 1
            n["differing_same"] += same
            if same:
                report.append(f"  OUTPUT DIFFERS (source unchanged): A {_describe(ca)}"
                              + ("" if ca["index"] == cb["index"] else f" = B cell {cb['index']}"))
            else:
                report.append(f"  source changed, outputs differ: A {_describe(ca)} "
                              f"-> B {_describe(cb)}")
                report.append("    source diff:")
                report.extend(_short_diff(ca["source"].splitlines(), cb["source"].splitlines(),
                                          max(6, max_lines // 3)))
                report.append("    output diff:")
            report.extend(_short_diff(ra, rb, max_lines))
        for cell in only_a:
            report.append(f"  only in A: {_describe(cell)}")
        for cell in only_b:
            report.append(f"  only in B: {_describe(cell)}")
        n["only_a"] += len(only_a)
        n["only_b"] += len(only_b)
        n_cells = (len(a_ch[name]["cells"]), len(b_ch[name]["cells"]))
        print(f"== {name}: {n_cells[0]} / {n_cells[1]} code cells"
              + ("" if report else ", all identical"), file=stream)
        for line in report:
            print(line, file=stream)
    if merge:
        # Cells that moved and changed source (a renamed call, say) are paired by position
        # above, sometimes with the wrong partner; this count does not depend on pairing.
        def has_text(cell):
            return any(line.strip() and not line.startswith("[") for line in render(cell))
        b_outputs = {tuple(render(c)) for c in b_ch["whole book"]["cells"]}
        lost = [c for c in a_ch["whole book"]["cells"] if has_text(c) and tuple(render(c)) not in b_outputs]
        n_text = sum(has_text(c) for c in a_ch["whole book"]["cells"])
        print(f"text outputs of A found verbatim somewhere in B: {n_text - len(lost)} of {n_text}",
              file=stream)
        for cell in lost:
            print(f"  not in B: A {_describe(cell)}", file=stream)
    print(f"chapters {len(names)}, cells compared {n['compared']}, identical {n['identical']}, "
          f"differing {n['differing']} ({n['differing_same']} with unchanged source), "
          f"unmatched {n['only_a'] + n['only_b']} ({n['only_a']} only in A, {n['only_b']} "
          f"only in B), source changed in {n['changed']} matched cells", file=stream)
    return 1 if n["differing_same"] else 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    cap = sub.add_parser("capture", help="execute every chapter and record its outputs")
    cap.add_argument("out", type=Path, help="the capture file to write (JSON, keep it in /tmp)")
    cap.add_argument("--rev", help="a git revision to capture, from a temporary worktree")
    cap.add_argument("--chapters", nargs="+", default=(), metavar="PREFIX",
                     help="only chapters whose file name starts with one of these (01 05 ...)")
    cap.add_argument("--timeout", type=int, default=900, help="seconds per cell (900)")
    cmp_ = sub.add_parser("compare", help="compare two captures; exit 1 if an output of an "
                                          "unchanged cell differs")
    cmp_.add_argument("a", type=Path)
    cmp_.add_argument("b", type=Path)
    cmp_.add_argument("--max-lines", type=int, default=30, help="diff lines shown per cell (30)")
    cmp_.add_argument("--whole-book", action="store_true",
                      help="join each capture's chapters in file-name order before matching, "
                           "for a refactor that splits or renames chapters")
    args = parser.parse_args(argv)
    if args.command == "capture":
        try:
            import jupytext, nbclient  # noqa: F401
        except ImportError as error:
            raise SystemExit(f"{error}: run this with the project's .venv/bin/python")
        return capture(args.out, args.rev, tuple(args.chapters), args.timeout)
    return compare(args.a, args.b, args.max_lines, merge=args.whole_book)


if __name__ == "__main__":
    sys.exit(main())
