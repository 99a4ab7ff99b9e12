"""Read a chapter's exercises: the one source every teaching artefact is generated from.

A chapter is a jupytext MyST-markdown file. Its exercises are written as ``teaching/EXERCISES.md``
describes: a gated ``{exercise-start}`` … ``{exercise-end}`` question whose last block is the
``Your answer`` admonition (the answer contract), a gated ``{solution-start}`` …
``{solution-end}`` solution, then code cells tagged ``test`` (public) or ``test`` + ``hidden``.

:func:`read_chapter` splits the chapter into a flat list of parts, in order: plain
:class:`Segment` s (markdown text or a code cell of the chapter's body) and :class:`Exercise` s.
Writing the parts back (:func:`to_myst`) gives the chapter again; dropping the solutions and
tests first gives the student edition's chapter.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field
from pathlib import Path

import jupytext
import nbformat

# The gated directives sphinx-exercise uses, as they stand in a markdown cell: a fence, the
# directive with an optional argument, option lines, and the closing fence.
_GATE = re.compile(
    r"^```\{(?P<kind>exercise-start|exercise-end|solution-start|solution-end)\}[ \t]*(?P<arg>[^\n]*)\n"
    r"(?P<options>(?::[^\n]*\n)*)```[ \t]*(?:\n|\Z)",
    re.MULTILINE,
)
_ANSWER = re.compile(r"```\{admonition\} Your answer\n(?P<options>(?::[^\n]*\n)*)(?P<body>.*?)^```[ \t]*\n?",
                     re.MULTILINE | re.DOTALL)
_BULLET_NAMES = re.compile(r"^- (?P<head>`[A-Za-z_]\w*`(?:\s*(?:,|and)\s*`[A-Za-z_]\w*`)*)", re.MULTILINE)
_WRITTEN = re.compile(r"^- \*Written answer:?\*:?\s*(?P<text>.*?)(?=^- |\Z)", re.MULTILINE | re.DOTALL)


class ExerciseFormatError(ValueError):
    """A chapter's exercise does not follow the shape ``teaching/EXERCISES.md`` describes."""


@dataclass
class Segment:
    """A piece of the chapter outside the exercises: markdown text or one code cell."""

    cell_type: str               # "markdown" or "code"
    source: str
    metadata: dict = field(default_factory=dict)

    @property
    def tags(self) -> list[str]:
        return list(self.metadata.get("tags", []))


@dataclass
class Exercise:
    """One exercise: its question, answer contract, solution and tests."""

    label: str
    number: int                  # 1, 2, … within the chapter, as sphinx-exercise numbers them
    question: str                # the markdown between the gates, with the contract admonition
    start_gate: str              # the exercise's gate lines, kept to write the chapter back
    end_gate: str
    solution: list[Segment]      # the solution's markdown and code, in order
    solution_gates: tuple[str, str]
    public_tests: list[str]
    hidden_tests: list[str]
    test_segments: list[Segment]

    @property
    def contract(self) -> str:
        """The body of the ``Your answer`` admonition."""
        return _ANSWER.search(self.question).group("body")

    @property
    def names(self) -> list[str]:
        """The names the student's code must define, in the order the contract lists them."""
        return [name for m in _BULLET_NAMES.finditer(self.contract)
                for name in re.findall(r"`(\w+)`", m.group("head"))]

    @property
    def written(self) -> list[str]:
        """The parts graded by hand (prose or a figure), as the contract states them."""
        return [" ".join(m.group("text").split()) for m in _WRITTEN.finditer(self.contract)]

    @property
    def solution_code(self) -> list[str]:
        return [s.source for s in self.solution if s.cell_type == "code"]

    @property
    def solution_prose(self) -> list[str]:
        return [s.source for s in self.solution if s.cell_type == "markdown" and s.source.strip()]


@dataclass
class Chapter:
    path: Path
    notebook: nbformat.NotebookNode       # as jupytext read it (metadata, kernelspec)
    parts: list                           # Segment and Exercise, in order

    @property
    def name(self) -> str:
        return self.path.stem

    @property
    def exercises(self) -> list[Exercise]:
        return [p for p in self.parts if isinstance(p, Exercise)]

    @property
    def body(self) -> list[Segment]:
        """The chapter without its exercises."""
        return [p for p in self.parts if isinstance(p, Segment)]


def _tokens(nb):
    """The chapter as a flat list: markdown split at the gates, gates, and code cells."""
    for cell in nb.cells:
        if cell.cell_type == "code":
            yield ("code", cell)
            continue
        text, pos = cell.source, 0
        for m in _GATE.finditer(text):
            if text[pos:m.start()].strip():
                yield ("markdown", text[pos:m.start()])
            yield (m.group("kind"), m)
            pos = m.end()
        if text[pos:].strip() or pos == 0:
            yield ("markdown", text[pos:])


def _is_test(kind, item) -> bool:
    return kind == "code" and "test" in item.metadata.get("tags", [])


def _segment(kind, item) -> Segment:
    if kind == "code":
        return Segment("code", item.source, dict(item.metadata))
    return Segment("markdown", item)


def read_chapter(path) -> Chapter:
    """Read a chapter and split it into its body and its exercises.

    Raises :class:`ExerciseFormatError`, naming the chapter and the exercise, where an
    exercise is not in the shape the generators need.
    """
    path = Path(path)
    nb = jupytext.read(path)
    parts: list = []
    toks = list(_tokens(nb))
    i = 0

    def fail(msg):
        raise ExerciseFormatError(f"{path.name}: {msg}")

    while i < len(toks):
        kind, item = toks[i]
        if kind in ("markdown", "code"):
            if _is_test(kind, item):
                fail(f"a test cell outside an exercise (cell {item.source[:60]!r})")
            parts.append(_segment(kind, item))
            i += 1
            continue
        if kind != "exercise-start":
            fail(f"{{{kind}}} without an open exercise")
        label = re.search(r":label:\s*(\S+)", item.group("options"))
        if not label:
            fail("an exercise without :label:")
        label = label.group(1)
        start_gate = item.group(0)
        question, i = [], i + 1
        while i < len(toks) and toks[i][0] == "markdown":
            question.append(toks[i][1])
            i += 1
        if i >= len(toks) or toks[i][0] != "exercise-end":
            fail(f"exercise {label}: the question must be markdown only, closed by {{exercise-end}}")
        end_gate = toks[i][1].group(0)
        question = "".join(question)
        i += 1
        while i < len(toks) and toks[i][0] == "markdown" and not toks[i][1].strip():
            i += 1
        if i >= len(toks) or toks[i][0] != "solution-start" or toks[i][1].group("arg").strip() != label:
            fail(f"exercise {label}: its {{solution-start}} {label} must follow the question")
        sol_start = toks[i][1].group(0)
        solution, i = [], i + 1
        while i < len(toks) and toks[i][0] in ("markdown", "code"):
            if _is_test(*toks[i]):
                fail(f"exercise {label}: test cells go after {{solution-end}}, not inside")
            solution.append(_segment(*toks[i]))
            i += 1
        if i >= len(toks) or toks[i][0] != "solution-end":
            fail(f"exercise {label}: no {{solution-end}}")
        sol_end = toks[i][1].group(0)
        i += 1
        public, hidden, test_segments = [], [], []
        while i < len(toks):
            kind, item = toks[i]
            if kind == "markdown" and not item.strip():
                i += 1
                continue
            if not _is_test(kind, item):
                break
            (hidden if "hidden" in item.metadata["tags"] else public).append(item.source)
            test_segments.append(Segment("code", item.source, dict(item.metadata)))
            i += 1
        ex = Exercise(label, len([p for p in parts if isinstance(p, Exercise)]) + 1, question,
                      start_gate, end_gate, solution, (sol_start, sol_end), public, hidden,
                      test_segments)
        _check(ex, fail)
        parts.append(ex)
    return Chapter(path, nb, parts)


def _check(ex: Exercise, fail):
    if not _ANSWER.search(ex.question):
        fail(f"exercise {ex.label}: no `Your answer` admonition stating the answer contract")
    if not ex.names:
        fail(f"exercise {ex.label}: its contract names nothing for the tests to check")
    if not ex.public_tests or not ex.hidden_tests:
        fail(f"exercise {ex.label}: needs at least one public and one hidden test cell")
    if any("remove-cell" not in s.tags for s in ex.test_segments):
        fail(f"exercise {ex.label}: a test cell without the remove-cell tag would show in the book")
    if any(s.cell_type == "code" and "remove-cell" in s.tags for s in ex.solution):
        fail(f"exercise {ex.label}: a hidden check inside the solution; make it a test cell")


def _cell(seg: Segment):
    if seg.cell_type == "code":
        return nbformat.v4.new_code_cell(seg.source, metadata=copy.deepcopy(seg.metadata))
    return nbformat.v4.new_markdown_cell(seg.source)


def to_myst(chapter: Chapter, *, solutions: bool = True, tests: bool = True,
            after_exercises_heading: str | None = None) -> str:
    """Write the chapter back as MyST markdown, optionally without solutions and tests.

    ``after_exercises_heading`` is markdown inserted right after the ``## Exercises`` heading
    (the student edition puts the link to the chapter's notebook there).
    """
    nb = copy.deepcopy(chapter.notebook)
    cells = []
    md: list[str] = []                  # markdown pieces waiting to become one cell

    def flush():
        text = "".join(md)
        if text.strip():
            cells.append(nbformat.v4.new_markdown_cell(text.strip("\n")))
        md.clear()

    for part in chapter.parts:
        if isinstance(part, Segment):
            if part.cell_type == "markdown":
                text = part.source
                if after_exercises_heading and re.search(r"^## Exercises\s*$", text, re.M):
                    text = re.sub(r"^(## Exercises)\s*$", r"\1\n\n" + after_exercises_heading.strip() + "\n",
                                  text, count=1, flags=re.M)
                md.append(text if text.endswith("\n") else text + "\n")
            else:
                flush()
                cells.append(_cell(part))
            continue
        md.append(part.start_gate + part.question + part.end_gate + "\n")
        if solutions:
            md.append(part.solution_gates[0])
            for seg in part.solution:
                if seg.cell_type == "markdown":
                    md.append(seg.source)
                else:
                    flush()
                    cells.append(_cell(seg))
            md.append(part.solution_gates[1] + "\n")
        if tests:
            flush()
            cells.extend(_cell(s) for s in part.test_segments)
    flush()
    nb.cells = cells
    return jupytext.writes(nb, fmt="md:myst")


def chapters(book_dir) -> list[Path]:
    """The numbered chapters of the book (``01_…`` to ``NN_…``), in order."""
    return sorted(p for p in Path(book_dir).glob("[0-9][0-9]_*.md"))
