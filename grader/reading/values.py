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
    ``hedged`` when it was given as an approximation (``~11.3 billion``, ``maybe 90``, ``36?``),
    with the words of the hedge in ``hedge``. What was said beside the value takes no part in
    equality, because it never changes the value:

    - the hedge: grading reads and grades the value, and only notes that an exact count was
      asked when the part wants one;
    - ``aside``: what was set aside beside the value, as a phrase (``the note “(since no
      padding)” was not read``);
    - ``unit``: the unit as stated (``MB``), the value being already converted to the part's own;
    - ``precision``: one unit of the last digit typed when the value was stated with a scale, a
      prefix or an exponent (0.1 MB in ``61.0 MB``: the value is a figure rounded to it), else 0;
    - ``confusion``: the code of a known mistake the stated unit makes (FLOPs given where MACs
      are asked), which grading names;
    - ``alternatives``: the value under each confusion the unit invites (``(mistake code,
      value)``: MB for MiB, bits for bytes), named when the value read is wrong and one of
      these is right.
    """

    value: Fraction
    percent: bool = False
    hedged: bool = field(default=False, compare=False)
    hedge: str = field(default="", compare=False)
    aside: str = field(default="", compare=False)
    unit: str = field(default="", compare=False)
    precision: Fraction = field(default=Fraction(0), compare=False)
    confusion: str | None = field(default=None, compare=False)
    alternatives: tuple[tuple[str, Fraction], ...] = field(default=(), compare=False)

    def __str__(self) -> str:
        return show_number(self.value) + ("%" if self.percent else "")

    @property
    def shown(self) -> str:
        """The value as read, with what was said beside it: the student sees what was not read.

        >>> Number(Fraction(90), hedged=True, hedge="maybe").shown
        '90 (given as an approximation: “maybe”)'
        >>> Number(Fraction(10), aside="the note “(since no padding)” was not read").shown
        '10; the note “(since no padding)” was not read'
        """
        text = str(self)
        if self.unit:
            text += f" (stated in {self.unit})"
        if self.hedged:
            text += f" (given as an approximation: “{self.hedge}”)" if self.hedge else " (given as an approximation)"
        if self.aside:
            text += f"; {self.aside}"
        return text


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


def show_element(value: float) -> str:
    """A matrix element as :func:`show_number` writes it, without thousands separators (a comma
    separates the elements): made for each element of every matrix read, so without its checks."""
    return str(int(value)) if value.is_integer() else f"{value:.6g}"


def show_number(value: Fraction | int | float) -> str:
    """A number as a student would write it: thousands grouped, decimals when they end (written
    exactly, to at most ten places: never a float's display fault, ``14449377.2799999993``).

    >>> show_number(Fraction(11336941156)), show_number(Fraction(17, 4)), show_number(Fraction(1, 3))
    ('11,336,941,156', '4.25', '0.333333')
    >>> show_number(Fraction(361234432, 25)), show_number(Fraction(-1, 8))
    ('14449377.28', '-0.125')
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
        return _decimal(value, 10)
    return f"{float(value):.6g}"


def _decimal(value: Fraction, places: int) -> str:
    """``value`` in decimals, rounded exactly to at most ``places`` of them (half to even)."""
    scaled = round(value * 10**places)
    digits = f"{abs(scaled):0{places + 1}d}"
    whole, decimals = digits[:-places], digits[-places:].rstrip("0")
    sign = "-" if scaled < 0 else ""
    return f"{sign}{whole}.{decimals}" if decimals else f"{sign}{whole}"
