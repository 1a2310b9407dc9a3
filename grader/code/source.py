"""A code answer's text → the module to run, or why it cannot be run (before anything runs).

The answer is a JSON string: a Python module, or a Jupyter notebook (its code cells joined in
order). A notebook's shell (``!ls``) and magic (``%timeit``) lines are not Python: they are refused
with the cell and line, not stripped, since the code after them may rely on what they did. A module
that does not compile is refused here with its line; compiling runs nothing, and happens in a
short-lived process of its own (:mod:`sandbox.syntax`), never in the caller's.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from problems.kinds import JSON
from sandbox import syntax

#: The longest module taken, in bytes: the sandbox's limit (``sandbox.Limits.source_bytes``).
MAX_SOURCE_BYTES = 1 << 20
#: The longest notebook taken, in bytes: outputs (images) make notebooks much larger than their code.
MAX_NOTEBOOK_BYTES = 8 << 20
NOT_TEXT = "This part takes a Python module: send its text (or a notebook's) as a string."


@dataclass(frozen=True)
class Refused:
    """Why an answer cannot be run, as the student reads it."""

    reason: str


@dataclass(frozen=True)
class _Line:
    """Where a line of the joined module came from: a notebook's cell (1-based) and its line."""

    cell: int
    line: int


def read_source(raw: JSON) -> str | Refused | None:
    """The module to run; None when the answer is blank (unanswered); :class:`Refused` when it is not
    text, too large, a notebook that cannot be read or holds shell or magic lines, or does not compile."""
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    if not isinstance(raw, str):
        return Refused(NOT_TEXT)
    size = len(raw.encode(errors="surrogatepass"))
    limit = MAX_NOTEBOOK_BYTES if _looks_like_notebook(raw) else MAX_SOURCE_BYTES
    if size > limit:
        return Refused(f"This answer is {size:,} bytes; a code answer may have at most {limit:,}.")
    places: list[_Line] | None = None
    text = raw
    if _looks_like_notebook(raw):
        notebook = _notebook(raw)
        if isinstance(notebook, Refused):
            return notebook
        text, places = notebook
        if not text.strip():
            return Refused("This notebook has no code cells.")
        if len(text.encode(errors="surrogatepass")) > MAX_SOURCE_BYTES:
            return Refused(f"This notebook's code is over {MAX_SOURCE_BYTES:,} bytes, the most a module may have.")
    problem = _syntax_error(text, places)
    return Refused(problem) if problem else text


def _looks_like_notebook(raw: str) -> bool:
    """A JSON object with cells (a module never starts with ``{``)."""
    return raw.lstrip().startswith("{")


def _notebook(raw: str) -> tuple[str, list[_Line]] | Refused:
    """A notebook's code cells joined in order, with where each line came from. nbformat (and the
    JSON Schema validation it brings) is imported here, on the first notebook, not with the engine."""
    import nbformat

    try:
        json.loads(raw)
        notebook = nbformat.reads(raw, as_version=4)  # type: ignore[no-untyped-call]  # nbformat's reads is untyped
    except Exception as error:  # nbformat raises several kinds for a malformed notebook
        reason = str(error).splitlines()[0] if str(error) else type(error).__name__
        return Refused(f"This looks like a notebook, but it could not be read: {reason[:200]}")
    lines: list[str] = []
    places: list[_Line] = []
    code_cells = [cell for cell in notebook.cells if cell.get("cell_type") == "code"]
    for number, cell in enumerate(code_cells, 1):
        source = cell.get("source", "")
        source = "".join(source) if isinstance(source, list) else str(source)
        for line_number, line in enumerate(source.splitlines(), 1):
            stripped = line.lstrip()
            if stripped.startswith(("!", "%")):
                what = "a shell command" if stripped.startswith("!") else "an IPython magic"
                shown = stripped if len(stripped) <= 40 else stripped[:37] + "..."
                return Refused(
                    f"Code cell {number}, line {line_number} is {what} (`{shown}`), which is not Python: remove it "
                    "(the sandbox has no shell, and runs the notebook's code as one module)."
                )
            lines.append(line)
            places.append(_Line(number, line_number))
        lines.append("")  # a blank line between cells
        places.append(_Line(number, len(source.splitlines()) + 1))
    return "\n".join(lines), places


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
