"""Checks over a built HTML book: it must open, maths included, with no network.

Each check is a helper that takes the folder of a built HTML tree, so it can be run on any
build.  The tests apply them to the full edition (``_build/html``) and the student edition
(``_build/student/html``).  A folder that has not been built is skipped, unless
``MMCOURSE_REQUIRE_BUILDS=1`` is set (CI, after building), in which case it fails.

MathJax is served from ``_static/mathjax/`` by the local extension ``_ext/mathjax_offline.py``.
The browser check runs headless Chromium (when it is on PATH) with every host name
unresolvable, so a page that still needed the CDN would show raw ``\\(...\\)``.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EDITIONS = {
    "full": ROOT / "_build" / "html",
    "student": ROOT / "_build" / "student" / "html",
}
MATHJAX = Path("_static") / "mathjax" / "tex-mml-chtml.js"
PREFERRED_MATH_PAGE = Path("book") / "02_monte_carlo_evaluation.html"
EXTERNAL = re.compile(r"^\s*(https?:)?//", re.IGNORECASE)   # also protocol-relative //host
# Sphinx wraps every formula (role, dollar maths, {math}, executed Math()) in this class.
MATH_MARK = re.compile(r'class="math notranslate nohighlight"')
RAW_TEX = re.compile(r"\\\(|\\\[")                        # \( or \[ left unrendered


# ---------------------------------------------------------------- helpers over a folder

def pages(site: Path) -> list[Path]:
    """Every HTML page of a build (``_static/`` holds theme templates and MathJax, not pages)."""
    return sorted(p for p in site.rglob("*.html")
                  if "_static" not in p.relative_to(site).parts)


class _ScriptSources(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.sources: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag == "script":
            src = dict(attrs).get("src")
            if src:
                self.sources.append(src)


def script_sources(page: Path) -> list[str]:
    parser = _ScriptSources()
    parser.feed(page.read_text(encoding="utf-8"))
    parser.close()
    return parser.sources


def external_scripts(site: Path) -> dict[str, list[str]]:
    """``{page: [external script URLs]}`` for every page that loads a script from the web."""
    found = {}
    for page in pages(site):
        urls = [s for s in script_sources(page) if EXTERNAL.match(s)]
        if urls:
            found[str(page.relative_to(site))] = urls
    return found


def math_pages(site: Path) -> list[Path]:
    """Pages containing at least one formula, the preferred chapter first."""
    found = [p for p in pages(site) if MATH_MARK.search(p.read_text(encoding="utf-8"))]
    found.sort(key=lambda p: p.relative_to(site) != PREFERRED_MATH_PAGE)
    return found


def mathjax_problems(site: Path) -> list[str]:
    """What is wrong with the local MathJax of a build (empty list: nothing)."""
    problems = []
    for needed in (site / MATHJAX, site / MATHJAX.parent / "LICENSE"):
        if not needed.is_file():
            problems.append(f"missing {needed.relative_to(site)}")
    with_maths = math_pages(site)
    if not with_maths:
        problems.append("no page contains maths: nothing to check MathJax against")
    local = (site / MATHJAX).resolve()
    for page in with_maths:
        srcs = [s.split("?")[0] for s in script_sources(page) if "tex-mml-chtml" in s]
        if not any((page.parent / s).resolve() == local for s in srcs if not EXTERNAL.match(s)):
            problems.append(f"{page.relative_to(site)} loads MathJax from {srcs or 'nowhere'}, "
                            f"not {MATHJAX.as_posix()}")
    return problems


def browser() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


def render_offline(page: Path, profile: Path, chromium: str) -> str:
    """The DOM of ``page`` after its scripts ran in headless Chromium with no network."""
    cmd = [
        chromium, "--headless", "--no-sandbox", "--disable-gpu",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--no-first-run", f"--user-data-dir={profile}",
        "--host-resolver-rules=MAP * ~NOTFOUND",        # every host name fails to resolve
        "--virtual-time-budget=10000", "--dump-dom", page.as_uri(),
    ]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, f"chromium exited {done.returncode}:\n{done.stderr[-2000:]}"
    return done.stdout


class _ArticleText(HTMLParser):
    """Text inside ``<article>``, without code, scripts and rendered maths' MathML."""

    SKIP = {"script", "style", "pre", "code", "textarea", "mjx-container"}
    VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta",
            "source", "track", "wbr"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag):
        if tag in self.stack:
            while self.stack.pop() != tag:
                pass

    def handle_data(self, data):
        if "article" in self.stack and not self.SKIP.intersection(self.stack):
            self.text.append(data)


def article_text(dom: str) -> str:
    parser = _ArticleText()
    parser.feed(dom)
    parser.close()
    return "".join(parser.text)


# ---------------------------------------------------------------- the tests

@pytest.fixture(params=sorted(EDITIONS), ids=str)
def site(request) -> Path:
    folder = EDITIONS[request.param]
    if not (folder.is_dir() and any(folder.glob("*.html"))):
        message = f"{request.param} edition not built: no HTML in {folder.relative_to(ROOT)}"
        if os.environ.get("MMCOURSE_REQUIRE_BUILDS") == "1":
            pytest.fail(message + " (MMCOURSE_REQUIRE_BUILDS=1)")
        pytest.skip(message)
    return folder


def test_no_page_loads_a_script_from_the_web(site):
    assert pages(site), f"no pages in {site}"
    assert external_scripts(site) == {}


def test_mathjax_is_served_locally(site):
    assert mathjax_problems(site) == []


def test_maths_renders_with_the_network_blocked(site, tmp_path):
    chromium = browser()
    if chromium is None:
        pytest.skip("chromium is not on PATH (apt-get install -y chromium)")
    with_maths = math_pages(site)
    assert with_maths, f"no page with maths in {site}"
    page = with_maths[0]
    dom = render_offline(page, tmp_path / "profile", chromium)
    assert "<article" in dom, f"Chromium returned no article for {page}"
    formulas = len(MATH_MARK.findall(page.read_text(encoding="utf-8")))
    rendered = dom.count("<mjx-container")
    assert rendered >= formulas, (f"MathJax rendered {rendered} of {formulas} formulas "
                                  f"in {page.relative_to(site)}")
    raw = RAW_TEX.findall(article_text(dom))
    assert not raw, f"{len(raw)} formulas left as raw TeX in {page.relative_to(site)}"
