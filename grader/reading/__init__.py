"""Reading answers: text (or JSON) → a value of the part's kind, or the reason it could not be
read, with the form that is expected. Pure and bounded: no ``eval``, limits on size, depth,
exponents and formula degree; nothing raises out of ``read_answer``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np

from grader.reading.arrays import as_matrix, as_tensor, read_array, show_array
from grader.reading.forms import expected_form
from grader.reading.lists import read_integer_list
from grader.reading.numbers import read_number, read_side
from grader.reading.printouts import printed_value
from grader.reading.shapes import read_formula_shape, read_shape, read_shape_list
from grader.reading.text import check_size, plain, result_part
from grader.reading.values import Number, Read, ReadError, Unreadable
from problems.kinds import JSON, AnswerKind, Dimension, Layout

if TYPE_CHECKING:
    import sympy

__all__ = ["Number", "Read", "Unreadable", "read_answer", "read_shown"]


@dataclass(frozen=True, slots=True)
class Asked:
    """What the part tells a reader: the symbols a formula may use, whether a number is the
    side of a square (so ``9 × 9`` is 9), the layout sizes named by their axes are put in, and
    what a number measures (a unit stated must fit it: ``61.0 MB`` on a part in bytes) and in
    what unit (``unit_size`` base units: 2**20 bytes on a part in MiB)."""

    symbols: tuple[str, ...] = ()
    square: bool = False
    layout: Layout | None = None
    dimension: Dimension | None = None
    unit_size: int = 1


#: Raw answer → (value in the kind's form, the value as shown back to the student).
Reader = Callable[[JSON, Asked], tuple[object, str]]


def _number(raw: JSON, asked: Asked) -> tuple[Number, str]:
    read = read_side if asked.square else read_number
    number = read(raw, asked.dimension, asked.unit_size)
    return number, number.shown


def _matrix(raw: JSON, asked: Asked) -> tuple[np.ndarray, str]:
    array = as_matrix(read_array(raw))
    array.setflags(write=False)
    return array, show_array(array)


def _tensor(raw: JSON, asked: Asked) -> tuple[np.ndarray, str]:
    array = as_tensor(read_array(raw))
    array.setflags(write=False)
    return array, show_array(array)


def _shape(raw: JSON, asked: Asked) -> tuple[tuple[int, ...], str]:
    shape = read_shape(raw, asked.layout)
    return shape, " × ".join(map(str, shape))


def _shape_list(raw: JSON, asked: Asked) -> tuple[list[tuple[int, ...]], str]:
    shapes = read_shape_list(raw)
    return shapes, "; ".join(" × ".join(map(str, shape)) for shape in shapes)


def _integer_list(raw: JSON, asked: Asked) -> tuple[tuple[int, ...], str]:
    numbers = read_integer_list(raw)
    return numbers, ", ".join(map(str, numbers))


def _formula(raw: JSON, asked: Asked) -> tuple[sympy.Expr, str]:
    if isinstance(raw, bool) or not isinstance(raw, str | int | float):
        raise ReadError("A formula is expected, as text.")
    from grader.reading.formulas import formula  # (sympy: imported where a formula is read)

    text = result_part(plain(check_size(str(raw), 1_000)))
    expression = formula(text, asked.symbols)
    return expression, show_formula(expression)


def _formula_shape(raw: JSON, asked: Asked) -> tuple[tuple[sympy.Expr, ...], str]:
    sides = read_formula_shape(raw, asked.symbols)
    return sides, " × ".join(show_formula(side) for side in sides)


def show_formula(expression: sympy.Expr) -> str:
    """``H*K**2*M`` written as ``H·K^2·M``."""
    from sympy import sstr

    text: str = sstr(expression)  # sympy's printers are untyped
    return text.replace("**", "^").replace("*", "·")


READERS: dict[AnswerKind, Reader] = {
    AnswerKind.INTEGER: _number,
    AnswerKind.REAL: _number,
    AnswerKind.PERCENT: _number,
    AnswerKind.MATRIX: _matrix,
    AnswerKind.TENSOR: _tensor,
    AnswerKind.SHAPE: _shape,
    AnswerKind.SHAPE_LIST: _shape_list,
    AnswerKind.FORMULA: _formula,
    AnswerKind.FORMULA_SHAPE: _formula_shape,
    AnswerKind.INTEGER_LIST: _integer_list,
}
assert set(READERS) == set(AnswerKind), "every answer kind needs a reader"


#: Longest text whose reading is cached (an 8×8 matrix of decimals, the largest a course asks for):
#: an entry keeps the text and what was read, so the cache's memory is bounded by this times its
#: size, and the same long text sent again is read again, at its own cost.
CACHED_TEXT = 1_000


def read_answer(
    raw: JSON,
    kind: AnswerKind,
    symbols: tuple[str, ...] = (),
    layout: Layout | None = None,
    *,
    square: bool = False,
    dimension: Dimension | None = None,
    unit_size: int = 1,
) -> Read | Unreadable:
    """Read one answer as ``kind``; never raises. ``square``: the answer is a square's side, so
    ``9 × 9`` is 9; ``dimension``: what a number measures, which a unit must fit, counted in units of
    ``unit_size`` (a unit stated is converted to them: ``4.82 MB`` on a part in MiB). Short text
    answers are cached: a class types the same right answer many times over."""
    asked = Asked(symbols, square, layout, dimension, unit_size)
    if isinstance(raw, str) and len(raw) <= CACHED_TEXT:
        return _read_text(raw, kind, asked, layout)
    return _read(raw, kind, asked, layout)


#: Where what was said beside a number starts in its shown text (see ``Number.shown``).
_SHOWN_ASIDE = re.compile(r" \(|; ")


def read_shown(
    shown: str, kind: AnswerKind, symbols: tuple[str, ...] = (), layout: Layout | None = None
) -> Read | Unreadable:
    """An answer's ``shown`` text (its "read as", as stored) read back to its value: a number as
    shown (grouped by commas, a decimal point, a percent sign) without what was said beside it;
    any other kind is read as an answer."""
    if kind not in (AnswerKind.INTEGER, AnswerKind.REAL, AnswerKind.PERCENT):
        return read_answer(shown, kind, symbols, layout)
    text = _SHOWN_ASIDE.split(shown, maxsplit=1)[0].strip()
    try:
        value = Fraction(text.removesuffix("%").replace(",", ""))
    except (ValueError, ZeroDivisionError):
        return read_answer(shown, kind, symbols, layout)
    return Read(Number(value, percent=text.endswith("%")), shown)


@lru_cache(maxsize=16_384)
def _read_text(raw: str, kind: AnswerKind, asked: Asked, layout: Layout | None) -> Read | Unreadable:
    return _read(raw, kind, asked, layout)


def _read(raw: JSON, kind: AnswerKind, asked: Asked, layout: Layout | None) -> Read | Unreadable:
    try:
        value, shown = READERS[kind](printed_value(raw) if isinstance(raw, str) else raw, asked)
    except ReadError as error:
        return Unreadable(f"{error} {expected_form(kind, asked.symbols, layout)}")
    except Exception:  # the boundary: an answer is read or reported, never raised
        return Unreadable(f"This answer could not be read. {expected_form(kind, asked.symbols, layout)}")
    return Read(value, shown)
