"""Serve MathJax from the built book itself, so its maths renders with no network.

Why: Jupyter Book 1 (through ``sphinx.ext.mathjax``) loads MathJax 3 from a CDN
(``cdn.jsdelivr.net``).  Opened offline -- a classroom without internet, a laptop on a
train, an archived copy -- every formula stays as raw ``\\(...\\)`` text.  That script is
the only external URL a default page loads.

What it does:

* on ``config-inited`` it points ``mathjax_path`` at ``mathjax/tex-mml-chtml.js``, which
  Sphinx resolves relative to ``_static/`` of the output;
* on ``builder-inited`` of an HTML builder that renders maths with MathJax it checks
  that the MathJax files can be found, so a missing package fails the build at once
  (not after every chapter has executed);
* on ``build-finished`` (same builders, and only when the build raised no exception) it
  copies MathJax's ``es5/`` build and its ``LICENSE`` (Apache-2.0) into
  ``<outdir>/_static/mathjax/``.

The MathJax files come from the PyPI package ``django-static-mathjax`` (MathJax 3.2.2),
which installs them under ``static/mathjax/`` of its module ``mathjax``; Django is not
needed or imported.  They are found through ``importlib.resources``, not a fixed path.

The files are deliberately *not* put in the book's own ``_static/`` folder: Jupyter Book 1
adds every ``.js``/``.css`` found there to every page (some 70 MathJax script tags per
page).  ``mathjax3_config`` keeps working as before.  The HTML output grows by ~24 MB.

Registered in ``_config.yml`` with ``sphinx: local_extensions: {mathjax_offline: _ext/}``.
"""

from __future__ import annotations

import shutil
from importlib import resources
from pathlib import Path

from sphinx.application import Sphinx
from sphinx.config import Config
from sphinx.errors import ExtensionError
from sphinx.util import logging

__version__ = "1.0"

logger = logging.getLogger(__name__)

#: Where the page loads MathJax from, relative to ``_static/`` of the HTML output.
MATHJAX_PATH = "mathjax/tex-mml-chtml.js"
#: The folder below ``_static/`` that receives MathJax's ``es5/`` tree and its LICENSE.
TARGET_DIR = "mathjax"

_PACKAGE = "mathjax"                 # the module installed by django-static-mathjax
_DISTRIBUTION = "django-static-mathjax"
_ENTRY = "tex-mml-chtml.js"


def mathjax_source() -> tuple[Path, Path]:
    """Return ``(es5_dir, license_file)`` of the installed MathJax package.

    Raises :class:`sphinx.errors.ExtensionError` with an install hint when the package
    (or the files it should carry) cannot be found.
    """
    hint = (
        f"mathjax_offline: MathJax's files were not found; install the PyPI package "
        f"'{_DISTRIBUTION}' (pip install -r requirements.txt), which provides the "
        f"module '{_PACKAGE}' with MathJax's es5/ build under static/mathjax/."
    )
    try:
        base = resources.files(_PACKAGE)
    except ModuleNotFoundError as err:
        raise ExtensionError(hint) from err
    root = base / "static" / "mathjax"
    if not isinstance(root, Path):  # e.g. a zipped install: no folder to copy from
        raise ExtensionError(f"{hint} (found {base!r}, which is not a folder on disk)")
    es5, licence = root / "es5", root / "LICENSE"
    missing = [p for p in (es5 / _ENTRY, licence) if not p.is_file()]
    if missing:
        raise ExtensionError(f"{hint} (missing: {', '.join(map(str, missing))})")
    return es5, licence


def _renders_with_mathjax(app: Sphinx) -> bool:
    """True for HTML builders (html, dirhtml, singlehtml) whose maths goes to MathJax."""
    builder = app.builder
    return (
        builder is not None
        and builder.format == "html"
        and not builder.name.startswith("epub")
        and getattr(builder, "math_renderer_name", None) == "mathjax"
    )


def set_mathjax_path(app: Sphinx, config: Config) -> None:
    """Point ``mathjax_path`` at the local copy (relative to ``_static/``)."""
    config.mathjax_path = MATHJAX_PATH


def check_source(app: Sphinx) -> None:
    """Fail early, before any chapter executes, if MathJax cannot be found."""
    if _renders_with_mathjax(app):
        mathjax_source()


def copy_mathjax(app: Sphinx, exception: Exception | None) -> None:
    """Copy ``es5/`` and ``LICENSE`` into ``<outdir>/_static/mathjax/``."""
    if exception is not None or not _renders_with_mathjax(app):
        return
    es5, licence = mathjax_source()
    target = Path(app.outdir) / "_static" / TARGET_DIR
    if target.exists():        # start clean: no files left from another MathJax version
        shutil.rmtree(target)
    shutil.copytree(es5, target)
    shutil.copy2(licence, target / "LICENSE")
    logger.info("mathjax_offline: copied MathJax into %s", target)


def setup(app: Sphinx) -> dict:
    app.setup_extension("sphinx.ext.mathjax")   # defines mathjax_path
    app.connect("config-inited", set_mathjax_path)
    app.connect("builder-inited", check_source)
    app.connect("build-finished", copy_mathjax)
    return {"version": __version__, "parallel_read_safe": True, "parallel_write_safe": True}
