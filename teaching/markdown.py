"""Turn the book's MyST markdown into plain Jupyter markdown, for the student notebooks.

Plain JupyterLab shows MyST directives and roles as raw text, so the notebooks a student gets
carry ordinary markdown instead: admonitions become block quotes, cross-references become the
title or number they stand for, citations become "(Author year)", label targets disappear.
"""

from __future__ import annotations

import re
from pathlib import Path

_BIB_ENTRY = re.compile(r"@\w+\{(?P<key>[^,\s]+),(?P<body>.*?)\n\}", re.DOTALL)


def citations(bib_path) -> dict[str, str]:
    """``key -> "Author year"`` (or "Author and Other year", "Author et al. year")."""
    out = {}
    for m in _BIB_ENTRY.finditer(Path(bib_path).read_text(encoding="utf-8")):
        body = m.group("body")
        authors = re.search(r"author\s*=\s*[{\"](.*?)[}\"]\s*,?\s*\n", body, re.DOTALL)
        year = re.search(r"year\s*=\s*[{\"]?(\d{4})", body)
        names = [a.strip() for a in authors.group(1).split(" and ")] if authors else ["?"]
        last = [n.split(",")[0].strip("{} ") if "," in n else n.split()[-1].strip("{}") for n in names]
        who = last[0] if len(last) == 1 else (f"{last[0]} and {last[1]}" if len(last) == 2
                                              else f"{last[0]} et al.")
        out[m.group("key")] = f"{who} {year.group(1) if year else ''}".strip()
    return out


class References:
    """What each label in the book stands for: chapter titles, figure and exercise numbers."""

    def __init__(self, titles: dict[str, str], numbers: dict[str, str], cites: dict[str, str]):
        self.titles, self.numbers, self.cites = titles, numbers, cites

    def ref(self, label: str) -> str:
        title = self.titles.get(label)
        chapter = re.match(r"(\d+)\. ", title or "")
        if chapter:                       # "2. Monte-Carlo policy evaluation" -> "chapter 2"
            return f"chapter {chapter.group(1)}"
        return title or self.numbers.get(label) or label

    def numref(self, label: str) -> str:
        return self.numbers.get(label) or self.titles.get(label) or label


def _role(name):
    return re.compile(r"\{" + name + r"\}`(?P<text>[^`<]*?)(?:\s*<(?P<target>[^>]+)>)?`")


_REF, _NUMREF, _CITE = _role("ref"), _role("numref"), _role(r"cite(?::[pt])?")
_TARGET = re.compile(r"^\([\w-]+\)=[ \t]*\n", re.MULTILINE)
_DIRECTIVE = re.compile(
    r"^(?P<fence>```+|:::+)\{(?P<name>[\w-]+)\}[ \t]*(?P<arg>[^\n]*)\n(?P<options>(?::[\w-]+:[^\n]*\n)*)"
    r"(?P<body>.*?)^(?P=fence)[ \t]*$\n?",
    re.MULTILINE | re.DOTALL,
)


def to_plain(text: str, refs: References) -> str:
    """The MyST markdown ``text`` as plain Jupyter markdown."""
    text = _TARGET.sub("", text)

    def directive(m):
        name, arg, body = m.group("name"), m.group("arg").strip(), to_plain(m.group("body"), refs)
        if name == "math":
            return f"$$\n{body.strip()}\n$$\n"
        title = arg or name.capitalize()
        quoted = "\n".join("> " + line if line.strip() else ">" for line in body.strip().splitlines())
        return f"> **{title}**\n>\n{quoted}\n"

    text = _DIRECTIVE.sub(directive, text)
    text = _REF.sub(lambda m: m.group("text").strip() if m.group("target")
                    else refs.ref(m.group("text").strip()), text)
    # "chapter 2" starting a sentence (not after "e.g." or "i.e.") is "Chapter 2"
    text = re.sub(r"(\A|\n\n|(?<!e\.g)(?<!i\.e)[.!?]\s+)chapter (\d)", r"\1Chapter \2", text)
    text = _NUMREF.sub(lambda m: (m.group("text").replace("%s", refs.numref(m.group("target")))
                                  if m.group("target") else refs.numref(m.group("text").strip())), text)
    text = _CITE.sub(lambda m: "(" + "; ".join(refs.cites.get(k.strip(), k.strip())
                                               for k in (m.group("target") or m.group("text")).split(","))
                     + ")", text)
    return text
