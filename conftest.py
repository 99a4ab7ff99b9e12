"""Run every MyST-markdown chapter in book/ under nbval.

nbval collects only .ipynb files; this hook collects the jupytext ``myst`` chapters directly,
reading them with ``jupytext.read`` instead of ``nbformat.read`` (no generated notebooks are
kept).  It lives at the root because hooks in tests/conftest.py apply only below tests/.
"""

from pathlib import Path
from unittest import mock

import jupytext
from nbval.plugin import IPyNbFile

BOOK = Path(__file__).parent / "book"


class MystChapter(IPyNbFile):
    """An nbval notebook collector for a jupytext MyST-markdown chapter."""

    def collect(self):
        with mock.patch("nbval.plugin.nbformat.read", lambda path, as_version=4: jupytext.read(path)):
            cells = super().collect()
            first = next(cells, None)       # the notebook is read here, while patched
        if first is not None:
            yield first
            yield from cells


def _is_chapter(path: Path) -> bool:
    if path.suffix != ".md" or BOOK not in path.resolve().parents:
        return False
    head = path.read_text(encoding="utf-8")[:500]
    return head.startswith("---") and "format_name: myst" in head


def pytest_collect_file(file_path, parent):
    opt = parent.config.option
    if (opt.nbval or opt.nbval_lax) and _is_chapter(Path(file_path)):
        return MystChapter.from_parent(parent, path=file_path)
