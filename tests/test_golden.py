"""tools/golden.py: its normalising rules, its cell matching and exit status, and one capture
of a tiny chapter in a fresh kernel (the captured tree's package must win over .venv's)."""

from __future__ import annotations

import importlib.util
import io
import json
import textwrap
from pathlib import Path


ROOT = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("golden", ROOT / "tools" / "golden.py")
golden = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(golden)


def test_normalise_rules():
    n = golden.normalise
    assert n("FileExistsError: /tmp/tmpsw37cwhi/seed-experiment already exists") == \
        "FileExistsError: <tmpdir>/seed-experiment already exists"
    assert n("<mmcourse.lob.Book object at 0x7f3a12bc0d90>") == "<mmcourse.lob.Book object at 0x<addr>>"
    assert n("/some/tree/mmcourse/lob.py", root="/some/tree") == "<root>/mmcourse/lob.py"
    assert n("Wall time: 1.21 s") == "Wall time: <timing>"
    warning = "/x/mmcourse/lob.py:12: RuntimeWarning: divide by zero\n  y = 1 / x\n0.50\n"
    assert n(warning, stderr=True) == "RuntimeWarning: divide by zero\n0.50\n"
    assert n(warning) == warning                     # warning rules touch stderr only
    assert n("0.00s - Debugger warning: frozen modules\n", stderr=True) == ""
    # numbers are never normalised
    assert n("mean -0.5332 ± 0.0060, 0x10, took 2.5 s") == "mean -0.5332 ± 0.0060, 0x10, took 2.5 s"


def test_record_outputs_merges_streams_and_drops_image_bytes():
    outs = [{"output_type": "stream", "name": "stdout", "text": "a "},
            {"output_type": "stream", "name": "stdout", "text": ["b\n"]},
            {"output_type": "display_data", "data": {"image/png": "iVBOR...",
                                                     "text/plain": "<Figure size 10x3 with 1 Axes>"}},
            {"output_type": "error", "ename": "ValueError", "evalue": "bad at 0xdeadbeef",
             "traceback": ["\x1b[31m/path/file.py line 3"]}]
    rec = golden.record_outputs(outs)
    assert rec[0] == {"type": "stream", "name": "stdout", "text": "a b\n"}
    assert rec[1]["data"] == {"image/png": None, "text/plain": "<Figure size 10x3 with 1 Axes>"}
    assert rec[2] == {"type": "error", "text": "ValueError: bad at 0x<addr>",
                      "raw": "ValueError: bad at 0xdeadbeef"}


def _cell(i, src, text, executed=True):
    return {"index": i, "hash": golden.source_hash(src), "first_line": src, "tags": [],
            "executed": executed, "source": src,
            "outputs": [{"type": "execute_result", "data": {"text/plain": text}}]}


def _capture(tmp_path, name, cells):
    path = tmp_path / name
    path.write_text(json.dumps({"meta": {"format": golden.FORMAT, "commit": "0" * 40},
                                "chapters": {"01_x": {"status": "ok", "kernel": {},
                                                      "cells": cells}}}))
    return path


def _compare(a, b):
    out = io.StringIO()
    return golden.compare(a, b, stream=out), out.getvalue()


def test_compare_identical_changed_and_unmatched(tmp_path):
    base = [_cell(0, "x = 1", "1"), _cell(1, "x", "1"), _cell(2, "x", "1"), _cell(3, "y", "2")]
    a = _capture(tmp_path, "a.json", base)
    status, out = _compare(a, a)
    assert status == 0 and "cells compared 4, identical 4, differing 0" in out

    # an exercise rewritten (source changed, other output) and a cell inserted: reported, exit 0
    edited = [_cell(0, "x = 1", "1"), _cell(1, "x", "1"), _cell(2, "z = 5", "5"),
              _cell(3, "w = 0", "0"), _cell(4, "y", "2")]
    status, out = _compare(a, _capture(tmp_path, "b.json", edited))
    assert status == 0
    assert "source changed, outputs differ" in out and "only in B: cell 3" in out
    assert "unmatched 1 (0 only in A, 1 only in B), source changed in 1" in out

    # same source, different number: exit 1 and a diff naming both values
    drifted = [_cell(0, "x = 1", "1"), _cell(1, "x", "1"), _cell(2, "x", "1"),
               _cell(3, "y", "2.0000001")]
    status, out = _compare(a, _capture(tmp_path, "c.json", drifted))
    assert status == 1 and "OUTPUT DIFFERS (source unchanged)" in out
    assert "-2" in out and "+2.0000001" in out

    # a cell that did not run (its chapter failed earlier) differs too
    unrun = base[:3] + [_cell(3, "y", "2", executed=False)]
    assert _compare(a, _capture(tmp_path, "d.json", unrun))[0] == 1


def test_whole_book_matches_cells_across_a_split_chapter(tmp_path):
    one = [_cell(0, "x = 1", "1"), _cell(1, "x", "1"), _cell(2, "y = 2", "2"), _cell(3, "y", "2")]
    before = tmp_path / "before.json"
    before.write_text(json.dumps({"meta": {"format": golden.FORMAT, "commit": "0" * 40},
                                  "chapters": {"05_x": {"status": "ok", "kernel": {}, "cells": one}}}))
    # the chapter split in two: the second half recomputes y in a setup cell of its own
    halves = {"05_x": [_cell(0, "x = 1", "1"), _cell(1, "x", "1")],
              "06_y": [_cell(0, "y = 2", "2"), _cell(1, "y", "2")]}
    after = tmp_path / "after.json"
    after.write_text(json.dumps({"meta": {"format": golden.FORMAT, "commit": "0" * 40},
                                 "chapters": {k: {"status": "ok", "kernel": {}, "cells": v}
                                              for k, v in halves.items()}}))
    out = io.StringIO()
    assert golden.compare(before, after, stream=out, merge=True) == 0
    assert "cells compared 4, identical 4, differing 0" in out.getvalue()
    # per chapter, the moved cells are unmatched; a changed number still fails the merged run
    halves["06_y"][1] = _cell(1, "y", "3")
    after.write_text(json.dumps({"meta": {"format": golden.FORMAT, "commit": "0" * 40},
                                 "chapters": {k: {"status": "ok", "kernel": {}, "cells": v}
                                              for k, v in halves.items()}}))
    out = io.StringIO()
    assert golden.compare(before, after, stream=out, merge=True) == 1
    assert "OUTPUT DIFFERS (source unchanged): A 05_x cell 3" in out.getvalue()


def test_a_moved_cell_is_matched_by_its_source():
    a = [_cell(0, "x = 1", "1"), _cell(1, "ex_a", "A"), _cell(2, "ex_b", "B"), _cell(3, "y", "2")]
    b = [_cell(0, "x = 1", "1"), _cell(1, "ex_b", "B"), _cell(2, "ex_a", "A"), _cell(3, "y", "2")]
    pairs, only_a, only_b = golden.match_cells(a, b)
    assert not only_a and not only_b
    assert all(same and ca["source"] == cb["source"] for ca, cb, same in pairs) and len(pairs) == 4
    b[2] = _cell(2, "ex_a", "A changed")
    pairs, _, _ = golden.match_cells(a, b)
    assert [(ca["source"], cb["outputs"][0]["data"]["text/plain"]) for ca, cb, _ in pairs][1] == \
        ("ex_a", "A changed")


CHAPTER = '''\
---
jupytext:
  formats: md:myst
  text_representation:
    extension: .md
    format_name: myst
    format_version: 0.13
kernelspec:
  display_name: Python 3
  language: python
  name: python3
---

```{code-cell} ipython3
import os, tempfile, mmcourse
print(os.path.basename(os.getcwd()))
```

```{code-cell} ipython3
:tags: [remove-cell]
with tempfile.TemporaryDirectory() as folder:
    print(folder, object.__repr__(mmcourse))
```

```{code-cell} ipython3
:tags: [raises-exception]
raise ValueError("expected")
```

```{code-cell} ipython3
mmcourse.MARK
```
'''


def test_capture_tiny_chapter_uses_the_captured_tree(tmp_path):
    (tmp_path / "mmcourse").mkdir()
    (tmp_path / "mmcourse" / "__init__.py").write_text("MARK = 'the tree under test'\n")
    (tmp_path / "book").mkdir()
    chapter = tmp_path / "book" / "01_tiny.md"
    chapter.write_text(textwrap.dedent(CHAPTER))
    record = golden.capture_chapter(chapter, tmp_path, timeout=60)
    assert record["status"] == "ok", record["status"]
    assert Path(record["kernel"]["mmcourse_file"]).resolve() == \
        (tmp_path / "mmcourse" / "__init__.py").resolve()
    cells = record["cells"]
    assert [c["executed"] for c in cells] == [True] * 4
    assert cells[0]["outputs"][0]["text"] == "book\n"             # cwd: the chapter's folder
    assert cells[1]["tags"] == ["remove-cell"]
    assert cells[1]["outputs"][0]["text"].startswith("<tmpdir> <module object at 0x<addr>>")
    assert cells[2]["outputs"] == [{"type": "error", "text": "ValueError: expected"}]
    assert cells[3]["outputs"][0]["data"]["text/plain"] == "'the tree under test'"
