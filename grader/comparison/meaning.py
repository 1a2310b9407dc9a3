"""What a wrong answer means, relative to the reference it was graded against: the named mistake
when it has one, else how its value relates to the reference (one more, twice, transposed, ...),
else ``other``. On a randomized set every student has other numbers, so wrong answers are counted
by meaning, not by text: "reference + 1" is one group whatever the numbers.

Pure: the graded part as stored (``GradedPart.to_json``) and the reference answer in, a
:class:`Meaning` out. The relations are those the seed coursework shows and its questions invite:
a count a few short (seed 000 gives 99 and 21 layers for 104 and 26: five left out both times) or
one off (maps counted for the steps between them), the sign flipped (seed 004's Sobel kernel not
flipped negates the answer), doubled or halved (a pooling left out, FLOPs for MACs), squared (a
kernel's area for its side), a fraction for a percentage and the reverse, a power of ten (MACs
"in G" without the unit), a shape with its channels first or its sizes in another order, a matrix
transposed, too small (the padding left out) or rounded down, a factor missing from a formula
(``K`` for ``K²``).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from functools import cached_property
from typing import TYPE_CHECKING, Any

import numpy as np

from grader.comparison.compare import tolerance_of, within
from grader.comparison.identity import OutOfWork, budget, equivalent
from grader.reading import Number, Read, read_shown
from problems.kinds import AnswerKind
from problems.sets import Answer, ProblemSet

if TYPE_CHECKING:
    import sympy

#: Offsets from the reference named as such ("reference − 5"); larger ones are ``other``.
SMALL_OFFSET = 10
#: Powers of ten named as such (a unit slip: thousands, millions, giga).
POWERS = range(-12, 13)


@dataclass(frozen=True, slots=True)
class Meaning:
    """``code`` is stable across variants (a mistake code as ``mistake:CODE``, a relation as
    ``relation:NAME``, or ``other``); ``label`` is the same for people."""

    code: str
    label: str


OTHER = Meaning("other", "other")


def meaning(part: Mapping[str, Any], reference: Answer | None, symbols: tuple[str, ...] = ()) -> Meaning:
    """The meaning of a wrong answer: the part as stored (its ``misconception`` and ``read_as``)
    and the reference it was graded against; ``symbols`` are the ones a formula may use."""
    code = part.get("misconception")
    if code:
        return Meaning(f"mistake:{code}", f"mistake: {code}")
    shown = part.get("read_as")
    if reference is None or not isinstance(shown, str):
        return OTHER
    read = read_shown(shown, reference.kind, symbols, reference.part.layout)
    if not isinstance(read, Read):
        return OTHER
    try:
        with budget():  # the same budget as grading the answer: a formula is related by evaluation
            found = RELATIONS[reference.kind](reference.value, read.value, reference)
    except (ArithmeticError, TypeError, ValueError, OutOfWork):
        return OTHER
    return found or OTHER


@dataclass
class WrongAnswers:
    """The meanings of wrong answers to one problem set, each student's against that student's
    variant (``variant``: what the variant was drawn from, as stored with the submission; None for
    the declared numbers). A variant is solved once, on its first answer."""

    problem_set: ProblemSet
    _solved: dict[str | None, dict[str, Answer]] = field(default_factory=dict)

    def meaning(self, key: str, part: Mapping[str, Any], variant: str | None) -> Meaning:
        if part.get("misconception"):  # named already: no need to solve the variant
            return meaning(part, None)
        if variant not in self._solved:
            try:
                self._solved[variant] = self.problem_set.solve(variant)
            except ValueError:  # a variant that no longer solves: nothing to relate to
                self._solved[variant] = {}
        # None: a key the set no longer has
        return meaning(part, self._solved[variant].get(key), self._symbols.get(key, ()))

    @cached_property
    def _symbols(self) -> dict[str, tuple[str, ...]]:
        """The symbols a formula may use, per key (as the engine reads them)."""
        found = {}
        for problem in self.problem_set.problems:
            for part in problem.parts:
                found[problem.key(part)] = tuple(part.symbols or getattr(problem.spec, "symbols", None) or ())
        return found


def _relation(name: str, label: str) -> Meaning:
    return Meaning(f"relation:{name}", label)


PLUS_ONE = _relation("plus-one", "off by one (reference + 1)")
MINUS_ONE = _relation("minus-one", "off by one (reference − 1)")
DOUBLED = _relation("doubled", "×2 (twice the reference)")
HALVED = _relation("halved", "÷2 (half the reference)")
SQUARED = _relation("squared", "reference squared")
ROOT = _relation("root", "square root of the reference")
NEGATED = _relation("negated", "sign flipped")
FRACTION = _relation("fraction-for-percent", "fraction instead of percent (reference ÷ 100)")
PERCENT = _relation("percent-for-fraction", "percent instead of fraction (reference × 100)")
FLOOR = _relation("floor", "rounded down (floor instead of the exact value)")
CEIL = _relation("ceil", "rounded up (ceil instead of the exact value)")
ROUNDED = _relation("rounded-early", "rounded too coarsely")
TRANSPOSED = _relation("transposed", "transposed matrix")
SMALLER = _relation("smaller-matrix", "matrix too small (fewer rows or columns)")
LARGER = _relation("larger-matrix", "matrix too large (more rows or columns)")
CHANNELS_FIRST = _relation("channels-first", "shape with channels first")
CHANNELS_LAST = _relation("channels-last", "shape with channels last")
REORDERED = _relation("reordered", "the right sizes in another order")
SPATIAL_ONLY = _relation("spatial-only", "the spatial size only (channels missing)")
CHANNELS_WRONG = _relation("channels-wrong", "right spatial size, wrong channels")
SPATIAL_WRONG = _relation("spatial-wrong", "right channels, wrong spatial size")
COUNT_WRONG = _relation("count-wrong", "a different number of shapes")


def _offset(difference: int) -> Meaning:
    sign = "+" if difference > 0 else "−"
    name = f"plus-{difference}" if difference > 0 else f"minus-{-difference}"
    return _relation(name, f"reference {sign} {abs(difference)}")


def _power(exponent: int) -> Meaning:
    return _relation(f"power-of-ten-{exponent}", f"×10^{exponent} (a unit or power of ten off)")


def _scalar(expected: Any, got: Number, reference: Answer) -> Meaning | None:
    """Relations between two numbers, the likeliest first; reals within the part's tolerance."""
    r, kind = Fraction(expected), reference.kind
    x = got.value / 100 if got.percent and kind is AnswerKind.REAL else got.value

    def near(value: Fraction) -> bool:
        if kind is AnswerKind.INTEGER:
            return x == value
        return within(float(value), float(x), tolerance_of(reference.part))

    if kind is AnswerKind.PERCENT and not got.percent and near(r / 100):
        return FRACTION
    if kind is AnswerKind.REAL and r and near(100 * r):
        return PERCENT
    for relation, value in _ordered(r):
        if near(value):
            return relation
    if kind is not AnswerKind.INTEGER and r.denominator != 1:
        if x == math.floor(r):
            return FLOOR
        if x == math.ceil(r):
            return CEIL
        if x and _rounded(x, r):
            return ROUNDED
    if r and x and x.denominator == 1 and r.denominator == 1 and abs(x - r) <= SMALL_OFFSET:
        return _offset(int(x - r))
    if x and r and (x < 0) == (r < 0):
        return next((_power(n) for n in POWERS if n and near(r * Fraction(10) ** n)), None)
    return None


def _ordered(r: Fraction) -> list[tuple[Meaning, Fraction]]:
    """The values each simple relation gives, in the order they are tried (an equal value is
    named by the first: for 2 the double is also the square, and the double is likelier)."""
    candidates = [(PLUS_ONE, r + 1), (MINUS_ONE, r - 1)]
    if r == 0:
        return candidates
    candidates += [(NEGATED, -r), (DOUBLED, 2 * r), (HALVED, r / 2)]
    if r != 1:
        candidates.append((SQUARED, r * r))
        root = math.isqrt(r.numerator) if r.denominator == 1 and r > 0 else 0
        if root * root == r:
            candidates.append((ROOT, Fraction(root)))
    return candidates


def _rounded(x: Fraction, r: Fraction) -> bool:
    """``x`` is ``r`` rounded to the decimals (or significant digits) ``x`` is written with."""
    decimals = 0
    while (x * 10**decimals).denominator != 1 and decimals < 12:
        decimals += 1
    return abs(x - r) <= Fraction(1, 2 * 10**decimals)


def _array(expected: Any, got: Any, reference: Answer) -> Meaning | None:
    r, x = np.asarray(expected, dtype=float), np.asarray(got, dtype=float)
    if x.shape != r.shape:
        if x.ndim == 2 and r.ndim == 2 and x.shape == r.shape[::-1] and np.allclose(x, r.T):
            return TRANSPOSED
        if x.size < r.size:
            return SMALLER
        return LARGER if x.size > r.size else None
    if x.ndim == 2 and x.shape[0] == x.shape[1] and not np.allclose(r, r.T) and np.allclose(x, r.T):
        return TRANSPOSED
    if r.any():
        for relation, factor in ((NEGATED, -1.0), (DOUBLED, 2.0), (HALVED, 0.5)):
            if np.allclose(x, factor * r):
                return relation
    for relation, offset in ((PLUS_ONE, 1.0), (MINUS_ONE, -1.0)):
        if np.allclose(x, r + offset):
            return relation
    if not np.allclose(r, np.round(r)):  # fractions (average pooling) rounded
        for relation, rounded in ((FLOOR, np.floor(r)), (CEIL, np.ceil(r)), (ROUNDED, np.round(r))):
            if np.array_equal(x, rounded):
                return relation
    return None


def _shape(expected: Any, got: Any, reference: Answer) -> Meaning | None:
    """Relations between two shapes written in the part's layout."""
    r, x = tuple(expected), tuple(got)
    layout = reference.part.layout.value
    if len(r) != 3 or "C" not in layout:
        return _sides(x, r)
    c = layout.index("C")
    channels, spatial = r[c], tuple(side for i, side in enumerate(r) if i != c)
    if x == spatial:
        return SPATIAL_ONLY
    if len(x) != 3:
        return None
    if x == (channels, *spatial):
        return CHANNELS_FIRST
    if x == (*spatial, channels):
        return CHANNELS_LAST
    if sorted(x) == sorted(r):
        return REORDERED
    sides = tuple(side for i, side in enumerate(x) if i != c)
    if x[c] == channels:
        return _sides(sides, spatial) or SPATIAL_WRONG
    return CHANNELS_WRONG if sides == spatial else None


def _sides(x: tuple[int, ...], r: tuple[int, ...]) -> Meaning | None:
    """Every spatial side changed the same way: one more or one less, doubled or halved."""
    if len(x) != len(r):
        return None
    changes: list[tuple[Meaning, Callable[[int], Fraction]]] = [
        (PLUS_ONE, lambda n: Fraction(n + 1)),
        (MINUS_ONE, lambda n: Fraction(n - 1)),
        (DOUBLED, lambda n: Fraction(2 * n)),
        (HALVED, lambda n: Fraction(n, 2)),
    ]
    for relation, change in changes:
        if all(a == change(b) for a, b in zip(x, r, strict=True)):
            return relation
    return None


def _shape_list(expected: Any, got: Any, reference: Answer) -> Meaning | None:
    """One meaning for every wrong shape of the list, or none when they differ."""
    if len(got) != len(expected):
        return COUNT_WRONG
    found = {_shape(r, x, reference) or OTHER for r, x in zip(expected, got, strict=True) if tuple(r) != tuple(x)}
    return found.pop() if len(found) == 1 else None


def _expression(value: Any) -> sympy.Expr:
    """A formula already read (the solver's, or the bounded reader's): never text to ``sympify``,
    which would evaluate it."""
    from sympy import Expr

    if not isinstance(value, Expr):
        raise TypeError(f"not a formula: {type(value).__name__}")
    return value


def _formula(expected: Any, got: Any, reference: Answer) -> Meaning | None:
    """A constant factor or offset, the square, or one symbol too few or too many (``K`` for
    ``K²``): each an identity tested by evaluation (``identity.equivalent``), nothing simplified."""
    r, x = _expression(expected), _expression(got)
    if r == 0:
        return None
    related = [(NEGATED, -r), (DOUBLED, 2 * r), (HALVED, r / 2), (PLUS_ONE, r + 1), (MINUS_ONE, r - 1), (SQUARED, r**2)]
    for relation, value in related:
        if equivalent(x, value):
            return relation
    for symbol in sorted(x.free_symbols | r.free_symbols, key=str):
        if equivalent(x, symbol * r):
            return _relation(f"extra-factor-{symbol}", f"an extra factor {symbol}")
        if equivalent(x * symbol, r):
            return _relation(f"missing-factor-{symbol}", f"a factor {symbol} missing")
    return None


def _formula_shape(expected: Any, got: Any, reference: Answer) -> Meaning | None:
    """The right sides in another order (channels first, say)."""
    r, x = [_expression(side) for side in expected], [_expression(side) for side in got]
    if len(r) == len(x) and sorted(map(str, r)) == sorted(map(str, x)):
        return REORDERED
    return None


def _integer_list(expected: Any, got: Any, reference: Answer) -> Meaning | None:
    """The right numbers in another order."""
    r, x = tuple(expected), tuple(got)
    return REORDERED if r != x and sorted(r) == sorted(x) else None


Relation = Callable[[Any, Any, Answer], Meaning | None]
RELATIONS: dict[AnswerKind, Relation] = {
    AnswerKind.INTEGER: _scalar,
    AnswerKind.REAL: _scalar,
    AnswerKind.PERCENT: _scalar,
    AnswerKind.MATRIX: _array,
    AnswerKind.TENSOR: _array,
    AnswerKind.SHAPE: _shape,
    AnswerKind.SHAPE_LIST: _shape_list,
    AnswerKind.FORMULA: _formula,
    AnswerKind.FORMULA_SHAPE: _formula_shape,
    AnswerKind.INTEGER_LIST: _integer_list,
}
assert set(RELATIONS) == set(AnswerKind), "every answer kind needs its relations"
