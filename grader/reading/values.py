"""What reading produces: a value in the part's kind with the way it was read, or the reason
it could not be read. Grading only ever sees these, never text."""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

#: The limits every reader enforces, so no answer can cost unbounded time or memory.
MAX_TEXT = 20_000
MAX_ELEMENTS = 10_000
MAX_DEPTH = 40


class ReadError(ValueError):
    """Why a piece of text is not a value of the kind asked for (a sentence for the student)."""


@dataclass(frozen=True, slots=True)
class Number:
    """An exact number; ``percent`` when it was written with a percent sign (95.2% → 95.2);
    ``hedged`` when it was given as an approximation (``~11.3 billion``, ``≈ 2432``). The hedge
    does not change the value (so it takes no part in equality): grading reads and grades it the
    same, and only notes that an exact count was asked when the part wants one."""

    value: Fraction
    percent: bool = False
    hedged: bool = field(default=False, compare=False)

    def __str__(self) -> str:
        return show_number(self.value) + ("%" if self.percent else "")


@dataclass(frozen=True, slots=True)
class Read:
    """A readable answer: ``value`` in the kind's form (see ``problems.kinds``; integers, reals
    and percentages as ``Number``) and ``shown``, the value as we understood it."""

    value: Any
    shown: str


@dataclass(frozen=True, slots=True)
class Unreadable:
    """An answer that could not be read: what went wrong and the form that is expected."""

    reason: str


def show_number(value: Fraction | int | float) -> str:
    """A number as a student would write it: thousands grouped, decimals when they end.

    >>> show_number(Fraction(11336941156)), show_number(Fraction(17, 4)), show_number(Fraction(1, 3))
    ('11,336,941,156', '4.25', '0.333333')
    """
    if isinstance(value, float):
        return f"{value:,.6g}" if not value.is_integer() else f"{int(value):,}"
    value = Fraction(value)
    if value.denominator == 1:
        return f"{value.numerator:,}"
    denominator = value.denominator
    for prime in (2, 5):
        while denominator % prime == 0:
            denominator //= prime
    if denominator == 1 and len(str(value.denominator)) <= 8:
        text = f"{float(value):.10f}".rstrip("0")
        return text
    return f"{float(value):.6g}"
