"""Matrices and stacks of matrices as students write them: JSON lists, Python and numpy
printouts (with or without commas, spacing lost as in ``[1.-1.-1. 4.]``), ``np.array(...)``,
MATLAB's ``[18 7; 21 8]`` (rows split by ``;`` or by lines; several for a stack), rows on lines, and LaTeX
``bmatrix``/``pmatrix``/``array`` environments (several for a stack).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any, TypeAlias

import numpy as np

from grader.reading.expression import NUMBER, evaluate
from grader.reading.grammar import hyphen_range
from grader.reading.text import LABEL, check_size, plain
from grader.reading.values import MAX_ELEMENTS, ReadError, show_element
from problems.kinds import JSON

MAX_ARRAY_DEPTH = 4
#: Rows of numbers, nested as a matrix or a stack of matrices is.
Nested: TypeAlias = list["float | Nested"]
MAX_ENVIRONMENTS = 64

_ENVIRONMENT = re.compile(
    r"\\begin\{(?P<env>[a-zA-Z]*matrix\*?|array)\}(?:\{[^{}]*\})?(?P<body>.*?)\\end\{(?P=env)\}", re.DOTALL
)
_WRAPPER = re.compile(r"^\s*(?:np\.|numpy\.|torch\.)?(?:array|tensor|matrix|Matrix|asarray)\s*\(", re.IGNORECASE)
#: ``A =`` in front of a matrix (MATLAB, Python): a name, never a number or a bracket before it.
_ASSIGNMENT = re.compile(r"(?:^|(?<=[\s;,\]]))[A-Za-z_]\w{0,20}\s*=\s*(?=\[|(?:np\.|numpy\.)?array\s*\()")
_DTYPE = re.compile(r",\s*(?:dtype|device|requires_grad)\s*=[^\])]*\)\s*$")
_PLAIN_NUMBER = re.compile(rf"[-+]?{NUMBER}")
#: Numbers packed together by a lost printout spacing: 1.-1.-1. reads as 1, −1, −1.
_PACKED = re.compile(rf"\s*([-+]?{NUMBER}(?:/\d+)?)")
_DOTTED = re.compile(r"(?:[-+]?\d+\.)+")
_DOTTED_NUMBER = re.compile(r"[-+]?\d+\.")
_ROW_BREAK = re.compile(r"\n|;|\\\\")
_MATLAB_ROW_BREAK = re.compile(r"[;\n]")
#: The shortest line numpy wraps a printout's row at (its width is 75; an element takes up to 15).
_WRAPPED = 60
#: A comma that separates entries: beside anything but a digit, or more than one in a number.
_SEPARATING_COMMA = re.compile(r"(?<!\d),|,(?!\d)|,\d*,")
_THOUSANDS = re.compile(r"[-+]?\d{1,3},\d{3}")
_CELL_BREAK = re.compile(r"[,&|\s]+")


def read_array(raw: JSON) -> np.ndarray:
    """Any supported form as a float array (1 to 4 dimensions)."""
    if isinstance(raw, list):
        return _to_array(_checked(raw, 1, [0]))
    if not isinstance(raw, str):
        raise ReadError("A matrix is expected: a list of rows.")
    text = LABEL.sub("", check_size(raw), count=1)  # "Output Matrix:" above the matrix
    if "\\begin" in text:
        return _latex(text)
    if "..." in text or "…" in text:
        raise ReadError("The printout is abbreviated (…): give every element.")
    text = _unwrap(_assigned(text))
    if "[" in text:
        return _to_array(_brackets(text))
    if text.lstrip().startswith("("):
        return _to_array(_brackets(text.replace("(", "[").replace(")", "]")))
    return _to_array(_rows(text))


def as_matrix(array: np.ndarray) -> np.ndarray:
    """A 2-D matrix: a single row stays a row; leading axes of size one are dropped."""
    while array.ndim > 2 and array.shape[0] == 1:
        array = array[0]
    return array.reshape(1, -1) if array.ndim == 1 else array


def as_tensor(array: np.ndarray) -> np.ndarray:
    """Channels first; a batch axis of size one is dropped."""
    while array.ndim > 3 and array.shape[0] == 1:
        array = array[0]
    return array


def show_array(array: np.ndarray) -> str:
    """Nested rows as they were read."""
    return _shown(array.tolist())


def _shown(rows: list[Any]) -> str:
    if rows and isinstance(rows[0], list):
        return "[" + ", ".join(map(_shown, rows)) + "]"
    return "[" + ", ".join(map(show_element, rows)) + "]"


def _checked(items: list[JSON], depth: int, count: list[int]) -> Nested:
    """A JSON list with numbers (or numbers as strings) as leaves, within the size limits."""
    if depth > MAX_ARRAY_DEPTH:
        raise ReadError(f"Lists nested deeper than {MAX_ARRAY_DEPTH} levels are not a matrix.")
    out: Nested = []
    for item in items:
        if isinstance(item, list):
            out.append(_checked(item, depth + 1, count))
            continue
        count[0] += 1
        if count[0] > MAX_ELEMENTS:
            raise ReadError(f"More than {MAX_ELEMENTS:,} elements: this is not a matrix of the question.")
        if isinstance(item, bool) or not isinstance(item, int | float | str):
            raise ReadError("Every element of a matrix must be a number.")
        out.append(_cell(item) if isinstance(item, str) else float(item))
    return out


def _to_array(nested: Sequence[object]) -> np.ndarray:
    if not nested:
        raise ReadError("The matrix is empty.")
    try:
        array = np.asarray(nested, dtype=np.float64)
    except ValueError:
        raise ReadError("The rows (or matrices) have different lengths.") from None
    if array.size == 0:
        raise ReadError("The matrix is empty.")
    if not np.isfinite(array).all():
        raise ReadError("Every element must be a finite number.")
    return array


def _cell(text: str) -> float:
    text = text.strip()
    if _PLAIN_NUMBER.fullmatch(text):
        return float(text)
    if not text:
        raise ReadError("A matrix element is empty.")
    ranged = hyphen_range(text)
    if ranged:
        raise ReadError(ranged)
    return float(evaluate(plain(text)))


def _latex(text: str) -> np.ndarray:
    """The environments after the last ``=`` (the result of a working); several are a stack."""
    tail = text[text.rfind("=") + 1 :] if "=" in text else text
    if tail.count("\\begin") > MAX_ENVIRONMENTS:
        raise ReadError(f"More than {MAX_ENVIRONMENTS} matrices in one answer.")
    matrices = [_latex_body(m.group("body")) for m in _ENVIRONMENT.finditer(tail)]
    if not matrices:
        raise ReadError(r"A \begin{bmatrix} has no matching \end{bmatrix}.")
    arrays = [_to_array(rows) for rows in matrices]
    if len(arrays) == 1:
        return arrays[0]
    if len({a.shape for a in arrays}) != 1:
        raise ReadError("The matrices of the stack have different sizes.")
    return np.stack(arrays)


def _latex_body(body: str) -> list[list[float]]:
    rows = [row for row in re.split(r"\\\\", body) if row.strip() and not row.strip().startswith("\\hline")]
    if sum(row.count("&") + 1 for row in rows) > MAX_ELEMENTS:
        raise ReadError(f"More than {MAX_ELEMENTS:,} elements: this is not a matrix of the question.")
    return [[_cell(cell) for cell in row.replace("\\hline", "").split("&")] for row in rows]


def _assigned(text: str) -> str:
    """Matrices without the names they are assigned to: the result of a working
    (``X * K = [18 7; 21 8]``), and ``A = [...]`` or ``R = [...]; G = [...]`` (a stack)."""
    if "=" not in text:
        return text
    head, value = text.rsplit("=", 1)
    value = value.strip()
    if "[" not in head and (value.startswith("[") or _WRAPPER.match(value)):
        return value
    return _ASSIGNMENT.sub("", text)


def _unwrap(text: str) -> str:
    """``np.array([[1, 2]], dtype=float)`` → ``[[1, 2]]``."""
    match = _WRAPPER.match(text)
    if not match:
        return text
    text = _DTYPE.sub(")", text[match.end() :].rstrip())
    return text[:-1] if text.endswith(")") else text


def _brackets(text: str) -> Nested:
    """Nested brackets; the text between them is a row of numbers (commas optional)."""
    root: Nested = []
    stack: list[Nested] = [root]
    leaf: list[str] = []
    count = [0]
    for char in text:
        if char == "[":
            _flush(leaf, stack[-1], count, inner=False)
            if len(stack) > MAX_ARRAY_DEPTH:
                raise ReadError(f"Brackets nested deeper than {MAX_ARRAY_DEPTH} levels are not a matrix.")
            child: Nested = []
            stack[-1].append(child)
            stack.append(child)
        elif char == "]":
            if len(stack) == 1:
                raise ReadError("A bracket ] closes nothing.")
            _flush(leaf, stack[-1], count, inner=True, outermost=len(stack) == 2)
            stack.pop()
        else:
            leaf.append(char)
    if len(stack) != 1:
        raise ReadError("A bracket [ is never closed.")
    _flush(leaf, root, count, inner=False)
    only = root[0] if len(root) == 1 else None  # the root holds bracketed groups only
    return only if isinstance(only, list) else root


def _flush(leaf: list[str], target: Nested, count: list[int], inner: bool, outermost: bool = False) -> None:
    """Numbers typed between brackets; outside the innermost brackets only separators may appear.
    Inside, ``;`` ends a row, as in MATLAB: ``[18 7; 21 8]`` is a 2×2 matrix; so does a line break
    in one pair of brackets when the lines are rows (see ``_lines_are_rows``)."""
    text = "".join(leaf).strip()
    leaf.clear()
    if not text or not text.strip(",; \n"):
        return
    if not inner or any(isinstance(item, list) for item in target):
        raise ReadError(f"“{text[:20]}” stands between the rows of the matrix.")
    if ";" in text or (outermost and _lines_are_rows(text)):
        for row in _MATLAB_ROW_BREAK.split(text):
            if row.strip(", \n"):
                target.append(_counted(_split_cells(row), count))
        return
    target.extend(_counted(_split_cells(text), count))


def _lines_are_rows(text: str) -> bool:
    """Whether the lines in one pair of brackets are a matrix's rows, as MATLAB reads
    ``[1 2 3\n 4 5 6]``, rather than one row wrapped: numpy wraps a printout's row only where it
    would pass its 75 characters, and a line ending in a comma goes on."""
    lines = [line.rstrip() for line in text.split("\n") if line.strip()]
    return len(lines) > 1 and all(len(line) < _WRAPPED and not line.endswith(",") for line in lines[:-1])


def _counted(cells: list[float], count: list[int]) -> Nested:
    """The cells of a row, counted against the limit on elements."""
    count[0] += len(cells)
    if count[0] > MAX_ELEMENTS:
        raise ReadError(f"More than {MAX_ELEMENTS:,} elements: this is not a matrix of the question.")
    row: Nested = []
    row.extend(cells)
    return row


def _split_cells(text: str) -> list[float]:
    if _decimal_commas(text):
        return [_cell(_decimal(cell)) for cell in text.split()]
    if "," in text:
        return [_cell(piece) for piece in text.split(",") if piece.strip()]
    cells: list[float] = []
    for chunk in text.split():
        cells.extend(_packed(chunk))
    return cells


def _packed(chunk: str) -> list[float]:
    """Numbers written together as numpy prints them: ``1.-1.-1.`` (after a number printed ``N.``,
    a sign marks the next one's start); when every number is printed as ``N.`` and all spacing is
    lost (``1.0.``), each ``N.`` is one number. ``30-40`` is refused (a range or a subtraction)."""
    numbers: list[float] = []
    position = 0
    while position < len(chunk):
        match = _PACKED.match(chunk, position)
        if not match:
            if _DOTTED.fullmatch(chunk):
                return [float(number) for number in _DOTTED_NUMBER.findall(chunk)]
            raise ReadError(f"“{chunk[position:][:20]}” is not a number.")
        number = match.group(1)
        if numbers and not chunk[position - 1 : position] == "." and number[:1] in "+-":
            # numpy runs ``1.-1.`` together; ``30-40`` is a range or a subtraction: never a guess
            raise ReadError(
                f"“{chunk[:20]}” is two numbers run together, a range or a subtraction: "
                "separate the elements with spaces or commas."
            )
        numbers.append(float(evaluate(number)) if "/" in number else float(number))
        position = match.end()
    return numbers


def _rows(text: str) -> list[list[float]]:
    """One row per line (or per ``;``), elements separated by spaces, commas or ``&``."""
    rows = [row.strip() for row in _ROW_BREAK.split(text) if row.strip()]
    if not rows:
        raise ReadError("There is no matrix in the answer.")
    if sum(len(row) for row in rows) > 8 * MAX_ELEMENTS:
        raise ReadError(f"More than {MAX_ELEMENTS:,} elements: this is not a matrix of the question.")
    return [
        [_cell(_decimal(cell)) for cell in row.split()]
        if _decimal_commas(row)
        else [_cell(cell) for cell in _CELL_BREAK.split(row) if cell]
        for row in rows
    ]


def _decimal_commas(row: str) -> bool:
    """Whether a row's commas are decimal commas: entries separated by spaces (``4,25 3,5``), and
    every comma between two digits with no space beside it. A comma beside a space, or in a row
    of one entry (``4,25``: one decimal or two entries?), separates entries, as in English."""
    return "," in row and len(row.split()) > 1 and _SEPARATING_COMMA.search(row) is None


def _decimal(cell: str) -> str:
    """A cell with a decimal comma written with a point; ``1,234`` (a thousand and more, or a
    decimal?) is refused."""
    if _THOUSANDS.fullmatch(cell):
        raise ReadError(f"“{cell}” could be a decimal or {cell.replace(',', '')}: write it with a decimal point.")
    return cell.replace(",", ".")
