"""Reference values as JSON and as text, for the command line and the service."""

from __future__ import annotations

from fractions import Fraction
from typing import TYPE_CHECKING, Any

import numpy as np

from problems.kinds import JSON, AnswerKind

if TYPE_CHECKING:
    import sympy


def to_json(kind: AnswerKind, value: Any) -> JSON:
    """A JSON-ready value: integers stay integers, fractions become floats, formulas strings."""
    if kind in (AnswerKind.MATRIX, AnswerKind.TENSOR):
        return _numbers(np.asarray(value).tolist())
    if kind in (AnswerKind.SHAPE, AnswerKind.INTEGER_LIST):
        return list(value)
    if kind is AnswerKind.SHAPE_LIST:
        return [list(shape) for shape in value]
    if kind is AnswerKind.FORMULA:
        return _formula(value)
    if kind is AnswerKind.FORMULA_SHAPE:
        return [_formula(side) for side in value]
    return _number(value)


def to_text(kind: AnswerKind, value: Any) -> str:
    """The value as a student would write it."""
    if kind is AnswerKind.SHAPE:
        return " × ".join(map(str, value))
    if kind is AnswerKind.FORMULA_SHAPE:
        return " × ".join(_formula(side) for side in value)
    if kind is AnswerKind.SHAPE_LIST:
        return "; ".join(" × ".join(map(str, shape)) for shape in value)
    if kind is AnswerKind.INTEGER_LIST:
        return ", ".join(map(str, value))
    if kind is AnswerKind.PERCENT:
        return _percent(value)
    return str(to_json(kind, value))


def _percent(value: int | float | Fraction) -> str:
    """Four significant figures where they are the value; else every digit a double holds, so
    that a student who copies a released reference is right where the part is graded exactly."""
    short = f"{float(value):.4g}"
    if "e" not in short and Fraction(short) == value:
        return f"{short}%"
    return f"{_number(Fraction(value))}%"


def _formula(expression: sympy.Expr) -> str:
    import sympy  # (imported as a formula is met: see grader.reading.formulas)

    text: str = sympy.sstr(expression)  # sympy's printers are untyped
    return text


def _number(value: int | float | Fraction) -> int | float:
    if isinstance(value, Fraction):
        return value.numerator if value.denominator == 1 else float(value)
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _numbers(nested: Any) -> JSON:
    """``ndarray.tolist()`` (nested lists of Python numbers) with whole floats as integers."""
    if isinstance(nested, list):
        return [_numbers(item) for item in nested]
    return _number(nested)
