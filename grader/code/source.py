"""A code answer's text → the module to run, or why it cannot be run (before anything runs).

The answer is a JSON string: a Python module, or a Jupyter notebook (its code cells joined in
order). A notebook's shell (``!ls``) and magic (``%timeit``) lines are not Python. Two kinds are set
aside, with a note for the student (:func:`read_module`): ``%matplotlib`` (plots are never shown
here) and ``!pip``/``!pip3``/``%pip`` (the packages are fixed); each becomes a blank line (``pass``
when indented, so that its block still compiles), keeping every line where it was. Any other is
refused with the cell and line, not stripped, since the code after it may rely on what it did. A
module that does not compile is refused here with its line; compiling runs nothing, and happens in
a process of its own (:mod:`sandbox.syntax`), never in the caller's.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from problems.kinds import JSON
from sandbox import syntax

#: The longest module taken, in bytes: the sandbox's limit (``sandbox.Limits.source_bytes``).
MAX_SOURCE_BYTES = 1 << 20
#: The longest notebook taken, in bytes: outputs (images) make notebooks much larger than their code.
MAX_NOTEBOOK_BYTES = 8 << 20
NOT_TEXT = "This part takes a Python module: send its text (or a notebook's) as a string."
#: A notebook's lines set aside (not refused), each with why, as the note says it.
_SET_ASIDE = (
    (re.compile(r"%matplotlib(\s|$)"), "plots are never shown here"),
    (re.compile(r"(!pip3?|%pip)(\s|$)"), "the grader's packages are fixed, so nothing is installed"),
)
#: The most set-aside lines a note names; the rest are counted.
_NOTE_NAMES = 5


@dataclass(frozen=True)
class Refused:
    """Why an answer cannot be run, as the student reads it."""

    reason: str


@dataclass(frozen=True)
class _Line:
    """Where a line of the joined module came from: a notebook's cell (1-based) and its line."""

    cell: int
    line: int


@dataclass(frozen=True)
class _SetAside:
    """A notebook's line left out of the module: where, its text, and why (as the note says it)."""

    cell: int
    line: int
    text: str
    why: str


def read_source(raw: JSON) -> str | Refused | None:
    """The module to run; None when the answer is blank (unanswered); :class:`Refused` when it is not
    text, too large, a notebook that cannot be read or holds shell or magic lines other than those
    set aside, or does not compile."""
    return read_module(raw)[0]


def read_module(raw: JSON) -> tuple[str | Refused | None, str]:
    """:func:`read_source`'s answer, with the note a student reads about the notebook's lines set
    aside (``%matplotlib``, ``!pip``): one sentence naming each, or "" when none was (or when the
    answer is not run)."""
    source, set_aside = _read(raw)
    return source, (_note(set_aside) if isinstance(source, str) else "")


def _read(raw: JSON) -> tuple[str | Refused | None, tuple[_SetAside, ...]]:
    """The module to run (or why not), with a notebook's lines set aside."""
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None, ()
    if not isinstance(raw, str):
        return Refused(NOT_TEXT), ()
    size = len(raw.encode(errors="surrogatepass"))
    limit = MAX_NOTEBOOK_BYTES if _looks_like_notebook(raw) else MAX_SOURCE_BYTES
    if size > limit:
        return Refused(f"This answer is {size:,} bytes; a code answer may have at most {limit:,}."), ()
    places: list[_Line] | None = None
    set_aside: tuple[_SetAside, ...] = ()
    text = raw
    if _looks_like_notebook(raw):
        notebook = _notebook(raw)
        if isinstance(notebook, Refused):
            return notebook, ()
        text, places, set_aside = notebook
        if not text.strip():
            return Refused("This notebook has no code cells."), ()
        if len(text.encode(errors="surrogatepass")) > MAX_SOURCE_BYTES:
            return Refused(f"This notebook's code is over {MAX_SOURCE_BYTES:,} bytes, the most a module may have."), ()
    problem = _syntax_error(text, places)
    return (Refused(problem), ()) if problem else (text, set_aside)


def _looks_like_notebook(raw: str) -> bool:
    """A JSON object with cells (a module never starts with ``{``)."""
    return raw.lstrip().startswith("{")


def _notebook(raw: str) -> tuple[str, list[_Line], tuple[_SetAside, ...]] | Refused:
    """A notebook's code cells joined in order, with where each line came from and the lines set
    aside (each left as a blank line, or ``pass`` at its indentation, so that every line keeps its
    place and a block holding only such a line still compiles). nbformat (and the JSON Schema
    validation it brings) is imported here, on the first notebook, not with the engine."""
    import nbformat

    try:
        json.loads(raw)
        notebook = nbformat.reads(raw, as_version=4)  # type: ignore[no-untyped-call]  # nbformat's reads is untyped
    except Exception as error:  # nbformat raises several kinds for a malformed notebook
        reason = str(error).splitlines()[0] if str(error) else type(error).__name__
        return Refused(f"This looks like a notebook, but it could not be read: {reason[:200]}")
    lines: list[str] = []
    places: list[_Line] = []
    set_aside: list[_SetAside] = []
    code_cells = [cell for cell in notebook.cells if cell.get("cell_type") == "code"]
    for number, cell in enumerate(code_cells, 1):
        source = cell.get("source", "")
        source = "".join(source) if isinstance(source, list) else str(source)
        for line_number, line in enumerate(source.splitlines(), 1):
            stripped = line.lstrip()
            why = _set_aside_why(stripped)
            if why is not None:
                set_aside.append(_SetAside(number, line_number, _shown(stripped.rstrip()), why))
                indent = line[: len(line) - len(stripped)]
                line = f"{indent}pass" if indent else ""
            elif stripped.startswith(("!", "%")):
                what = "a shell command" if stripped.startswith("!") else "an IPython magic"
                shown = _shown(stripped)
                return Refused(
                    f"Code cell {number}, line {line_number} is {what} (`{shown}`), which is not Python: remove it "
                    "(the sandbox has no shell, and runs the notebook's code as one module)."
                )
            lines.append(line)
            places.append(_Line(number, line_number))
        lines.append("")  # a blank line between cells
        places.append(_Line(number, len(source.splitlines()) + 1))
    return "\n".join(lines), places, tuple(set_aside)


def _set_aside_why(stripped: str) -> str | None:
    """Why a notebook's line (its indentation stripped) is set aside, or None when it is not."""
    for pattern, why in _SET_ASIDE:
        if pattern.match(stripped):
            return why
    return None


def _shown(line: str) -> str:
    """A line as a sentence quotes it: at most 40 characters."""
    return line if len(line) <= 40 else line[:37] + "..."


def _note(set_aside: tuple[_SetAside, ...]) -> str:
    """One sentence naming the lines set aside (the first few, then how many more) and why."""
    if not set_aside:
        return ""
    named = [f"code cell {line.cell}, line {line.line} `{line.text}`" for line in set_aside[:_NOTE_NAMES]]
    if len(set_aside) > _NOTE_NAMES:
        named.append(f"{len(set_aside) - _NOTE_NAMES} more")
    listed = named[0] if len(named) == 1 else f"{', '.join(named[:-1])} and {named[-1]}"
    whys = "; ".join(why for _, why in _SET_ASIDE if any(line.why == why for line in set_aside))
    return f"Set aside from your notebook, as not Python: {listed} ({whys})."


def _syntax_error(text: str, places: list[_Line] | None) -> str | None:
    """Why the module does not compile (Python's words, with its line), or None. Runs nothing, and
    compiles nothing in this process (:mod:`sandbox.syntax` bounds the text, then compiles it apart)."""
    problem = syntax.check(text)
    if problem is None:
        return None
    where = ""
    if problem.line:
        where = f" (line {problem.line})"
        if places is not None and 0 < problem.line <= len(places):
            place = places[problem.line - 1]
            where = f" (code cell {place.cell}, line {place.line})"
    return f"Your code does not compile, so nothing was run: {problem.message}{where}."
