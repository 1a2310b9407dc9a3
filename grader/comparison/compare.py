"""Comparing a read answer with a reference value, one small function per answer kind.

Comparison never sees text: it gets values from ``grader.reading``. It returns the share of
the part earned and a sentence a student can act on, without giving the answer away.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from typing import TYPE_CHECKING, Any

import numpy as np

from grader.comparison.identity import equivalent
from grader.reading import Number
from problems.kinds import AnswerKind
from problems.parts import DEFAULT_REAL_TOLERANCE, EXACT, Operation, Part, Scalar, Tolerance

if TYPE_CHECKING:
    import sympy

#: Matrix elements are compared with this tolerance unless the part sets one (average pooling
#: gives fractions a student rounds).
MATRIX_TOLERANCE = Tolerance(rel=5e-3, abs=5e-3)
#: How many wrong positions feedback lists before it summarises.
LISTED = 4


@dataclass(frozen=True, slots=True)
class Comparison:
    share: float
    feedback: str
    tolerance: str | None = None
    misconception: str | None = None

    @property
    def right(self) -> bool:
        return self.share >= 1.0


RIGHT = Comparison(1.0, "Correct.")
#: Feedback with nothing more specific to say; a named mistake's explanation replaces it.
NOT_RIGHT = "Not right."
#: Feedback for a rounded answer where the part asks for the exact value.
EXACT_CLOSE = (
    "Close, but this answer is exact: give it as a fraction (like 75/7) or as the arithmetic that "
    "computes it, not rounded."
)
WHOLE_CLOSE = "Close, but not exact: this answer is computed exactly. Recheck the arithmetic."
#: Feedback for a negative count: impossible, so said as such rather than a bare "Not right.".
NEGATIVE_COUNT = "Not right: this count cannot be negative. Check the signs in your working."


#: Feedback for a figure stated with a scale or a unit (``61.0 MB``) that is the exact count rounded.
ROUNDED_CLOSE = "Close, but rounded: this count is exact, so give every digit, not a figure in {unit}."


def compare(kind: AnswerKind, expected: Any, got: Any, part: Part) -> Comparison:
    """Dispatch on the kind; every kind has exactly one comparer. A number stated in a unit is
    graded as converted; a unit that is a known confusion is named as that mistake, and so is a
    wrong value that the unit's other reading (MiB for MB, bytes for bits) makes right."""
    verdict = COMPARERS[kind](expected, got, part)
    if not isinstance(got, Number) or kind not in (AnswerKind.INTEGER, AnswerKind.REAL):
        return verdict
    if got.confusion is not None:
        return Comparison(0.0, "", verdict.tolerance, got.confusion)
    if verdict.right:
        return verdict
    for code, value in got.alternatives:
        if _rounds_to(value, expected, got.precision * value / got.value if got.value else Fraction(0)):
            return Comparison(0.0, "", verdict.tolerance, code)
    if kind is AnswerKind.INTEGER and got.precision and _rounds_to(got.value, expected, got.precision):
        return Comparison(0.0, ROUNDED_CLOSE.format(unit=got.unit or "a scale"), verdict.tolerance)
    return verdict


def agrees(kind: AnswerKind, expected: Any, got: Any, part: Part) -> bool:
    """Whether ``got`` is right: :func:`compare`'s verdict without its sentence, which for a
    matrix lists the wrong elements. Matching an answer against each known mistake asks only
    this, for every wrong matrix a class sends."""
    if kind in (AnswerKind.MATRIX, AnswerKind.TENSOR):
        wrong = _wrong_cells(expected, got, part)
        return wrong is not None and not wrong.any()
    return compare(kind, expected, got, part).right


def _rounds_to(value: Fraction, expected: Any, precision: Fraction) -> bool:
    """Whether ``value`` is ``expected`` rounded to the precision it was typed with."""
    return abs(value - Fraction(expected)) * 2 <= precision


def _integer(expected: Any, got: Number, part: Part) -> Comparison:
    if got.value.denominator != 1:
        return Comparison(0.0, "Not right: this count is a whole number.")
    value = got.value.numerator  # plain integers from here: this runs a million times in a batch
    if value == expected:
        return RIGHT
    if value < 0 <= expected:
        return Comparison(0.0, NEGATIVE_COUNT)
    if expected and abs(value - expected) * 100 <= abs(expected):
        return Comparison(0.0, "Close, but not exact: a count must be exact. Recheck the arithmetic.")
    return Comparison(0.0, NOT_RIGHT)


def tolerance_of(part: Part, default: Tolerance = DEFAULT_REAL_TOLERANCE) -> Tolerance:
    """The part's own tolerance; else exact for a part computed by an operation (its value is an
    exact fraction of counts: 364 is not 363, however close), else the kind's default."""
    if part.tolerance is not None:
        return part.tolerance
    return EXACT if isinstance(part.quantity, Operation) else default


def within(expected: float, got: float, tolerance: Tolerance) -> bool:
    return abs(got - expected) <= max(tolerance.abs, tolerance.rel * abs(expected))


def matches(expected: Scalar, got: Fraction, tolerance: Tolerance) -> bool:
    """Within the tolerance; with none, equal: as fractions, or as the same double (the reference
    as JSON prints it, ``10.714285714285714`` for 75/7, is that value)."""
    if tolerance.rel or tolerance.abs:
        return within(float(expected), float(got), tolerance)
    return bool(got == expected) or float(got) == float(expected)


def describe_tolerance(tolerance: Tolerance) -> str:
    parts = []
    if tolerance.rel:
        parts.append(f"±{tolerance.rel * 100:g}% relative")
    if tolerance.abs:
        parts.append(f"±{tolerance.abs:g} absolute")
    return " or ".join(parts) or "exact"


def _real(expected: Scalar, got: Number, part: Part) -> Comparison:
    tolerance = tolerance_of(part)
    value = Fraction(got.value / 100 if got.percent else got.value)
    note = describe_tolerance(tolerance)
    if matches(expected, value, tolerance):
        return Comparison(1.0, "Correct.", note)
    return Comparison(0.0, _not_right(expected, value, tolerance), note)


def _percent(expected: Scalar, got: Number, part: Part) -> Comparison:
    tolerance = tolerance_of(part)
    value, note = Fraction(got.value), describe_tolerance(tolerance)
    if matches(expected, value, tolerance):
        return Comparison(1.0, "Correct.", note)
    if not got.percent and matches(Fraction(expected) / 100, value, tolerance):
        return Comparison(0.0, "", note, "percent-vs-fraction")
    return Comparison(0.0, _not_right(expected, value, tolerance), note)


def _not_right(expected: Scalar, got: Fraction, tolerance: Tolerance) -> str:
    """An exact answer rounded (within the default tolerance) is told why it is not right."""
    if tolerance == EXACT and within(float(expected), float(got), DEFAULT_REAL_TOLERANCE):
        return EXACT_CLOSE if Fraction(expected).denominator != 1 else WHOLE_CLOSE
    return NOT_RIGHT


def _positions(wrong: np.ndarray) -> str:
    cells = [", ".join([str(i + 1) for i in index]) for index in np.argwhere(wrong)[:LISTED].tolist()]
    more = int(np.count_nonzero(wrong)) - len(cells)
    text = "; ".join([f"({c})" for c in cells])
    return text + (f" and {more} more" if more > 0 else "")


def _wrong_cells(expected: np.ndarray, got: np.ndarray, part: Part) -> np.ndarray | None:
    """Which elements of ``got`` are out of the part's tolerance; None if its shape is not the
    reference's."""
    expected = np.asarray(expected, dtype=np.float64)
    got = np.asarray(got, dtype=np.float64)
    if got.shape != expected.shape:
        return None
    tolerance = tolerance_of(part, MATRIX_TOLERANCE)
    wrong: np.ndarray = np.abs(got - expected) > np.maximum(tolerance.abs, tolerance.rel * np.abs(expected))
    return wrong


def _array(expected: np.ndarray, got: np.ndarray, part: Part) -> Comparison:
    wrong = _wrong_cells(expected, got, part)
    if wrong is None:
        return Comparison(
            0.0,
            f"Your answer is {_dims(np.shape(got))}, which is not the size of the output: "
            "work out the output size before the values.",
        )
    count = int(np.count_nonzero(wrong))
    if count == 0:
        return RIGHT
    total = wrong.size
    axes = "row, column" if wrong.ndim == 2 else "channel, row, column"
    feedback = f"{total - count} of {total} elements are right; check ({axes}) {_positions(wrong)}."
    share = (total - count) / total if part.partial else 0.0
    return Comparison(share, feedback)


def _dims(shape: tuple[int, ...]) -> str:
    return "×".join(map(str, shape))


def _batched(expected: tuple[int, ...], got: tuple[int, ...], axes: str | None) -> Comparison:
    """A shape with a batch of one in front (``torch.Size([1, 96, 55, 55])``, as a forward pass
    prints it): the batch named, and where the channels come first, the order explained."""
    sizes = " × ".join(map(str, got))
    wanted = " × ".join(map(str, expected))
    if got[1:] == expected:
        return Comparison(0.0, f"{sizes} has a batch size of 1 in front: the answer is one image's, {wanted}.")
    layout = f" ({' × '.join(axes)})" if axes else ""
    return Comparison(
        0.0,
        f"{sizes} is N × C × H × W, PyTorch's order: a batch of 1, then the channels first. Without the batch, "
        f"in this question's order{layout}: {wanted}.",
        None,
        "channel-order",
    )


def _shape(expected: tuple[int, ...], got: tuple[int, ...], part: Part) -> Comparison:
    expected, got = tuple(expected), tuple(got)
    if got == expected:
        return RIGHT
    if len(expected) == 2 and expected[0] == expected[1] and got == expected[:1]:
        return Comparison(1.0, f"Correct: read as a square {got[0]} × {got[0]} map.")
    axes = part.layout.value if len(expected) == len(part.layout.value) else None
    if len(got) == len(expected) + 1 and got[0] == 1 and sorted(got[1:]) == sorted(expected):
        return _batched(expected, got, axes)
    if len(got) != len(expected):
        form = "×".join(axes) if axes else f"{len(expected)} sizes"
        return Comparison(0.0, f"The answer has {len(expected)} sizes ({form}); yours has {len(got)}.")
    if sorted(got) == sorted(expected):
        if axes and "C" in axes:
            return Comparison(0.0, f"Write them as {' × '.join(axes)}.", None, "channel-order")
        return Comparison(0.0, "The sizes are right but in the wrong order.")
    if axes:
        wrong = [name for name, a, b in zip(axes, got, expected, strict=True) if a != b]
        names = {"C": "channel count", "H": "height", "W": "width"}
        right = [names[a] for a in axes if a not in wrong]
        if right:
            return Comparison(
                0.0,
                f"The {' and '.join(right)} {'is' if len(right) == 1 else 'are'} right, "
                f"but not the {' and '.join(names[w] for w in wrong)}.",
            )
    return Comparison(0.0, NOT_RIGHT)


def _shape_list(expected: list[tuple[int, ...]], got: list[tuple[int, ...]], part: Part) -> Comparison:
    if len(got) != len(expected):
        return Comparison(0.0, f"The answer lists {len(expected)} shapes; yours lists {len(got)}.")
    verdicts = [_shape(e, g, part) for e, g in zip(expected, got, strict=True)]
    wrong = [i + 1 for i, v in enumerate(verdicts) if not v.right]
    if not wrong:
        return RIGHT
    share = (len(expected) - len(wrong)) / len(expected) if part.partial else 0.0
    codes = {v.misconception for v in verdicts if v.misconception}
    feedback = f"{len(expected) - len(wrong)} of {len(expected)} shapes are right; check number {_listing(wrong)}."
    return Comparison(share, feedback, None, codes.pop() if len(codes) == 1 else None)


def _integer_list(expected: tuple[int, ...], got: tuple[int, ...], part: Part) -> Comparison:
    expected, got = tuple(expected), tuple(got)
    if got == expected:
        return RIGHT
    if len(got) != len(expected):
        return Comparison(0.0, f"The answer lists {len(expected)} numbers; yours lists {len(got)}.")
    if sorted(got) == sorted(expected):
        return Comparison(0.0, "The numbers are right but in the wrong order.")
    wrong = [i + 1 for i, (e, g) in enumerate(zip(expected, got, strict=True)) if e != g]
    share = (len(expected) - len(wrong)) / len(expected) if part.partial else 0.0
    return Comparison(
        share, f"{len(expected) - len(wrong)} of {len(expected)} are right; check number {_listing(wrong)}."
    )


def _listing(numbers: list[int]) -> str:
    return ", ".join(map(str, numbers[:LISTED])) + (" and more" if len(numbers) > LISTED else "")


def _formula(expected: sympy.Expr, got: sympy.Expr, part: Part) -> Comparison:
    if equivalent(expected, got):
        return RIGHT
    missing = sorted(str(s) for s in expected.free_symbols - got.free_symbols)
    extra = sorted(str(s) for s in got.free_symbols - expected.free_symbols)
    if missing:
        return Comparison(0.0, f"Not equivalent: the answer depends on {', '.join(missing)}, yours does not.")
    if extra:
        return Comparison(0.0, f"Not equivalent: the answer does not depend on {', '.join(extra)}.")
    return Comparison(0.0, "Not equivalent to the answer.")


def _formula_shape(expected: tuple[sympy.Expr, ...], got: tuple[sympy.Expr, ...], part: Part) -> Comparison:
    if len(got) != len(expected):
        return Comparison(0.0, f"The answer has {len(expected)} sizes; yours has {len(got)}.")
    wrong = [i + 1 for i, (e, g) in enumerate(zip(expected, got, strict=True)) if not equivalent(e, g)]
    if not wrong:
        return RIGHT
    if sorted(map(str, got)) == sorted(map(str, expected)):
        return Comparison(0.0, "Write them as H × W × C.", None, "channel-order")
    return Comparison(0.0, f"Size number {_listing(wrong)} is not right.")


#: (expected, got, part) → comparison; both values are in the form of the kind it is registered for.
Comparer = Callable[[Any, Any, Part], Comparison]

COMPARERS: dict[AnswerKind, Comparer] = {
    AnswerKind.INTEGER: _integer,
    AnswerKind.REAL: _real,
    AnswerKind.PERCENT: _percent,
    AnswerKind.MATRIX: _array,
    AnswerKind.TENSOR: _array,
    AnswerKind.SHAPE: _shape,
    AnswerKind.SHAPE_LIST: _shape_list,
    AnswerKind.FORMULA: _formula,
    AnswerKind.FORMULA_SHAPE: _formula_shape,
    AnswerKind.INTEGER_LIST: _integer_list,
}
assert set(COMPARERS) == set(AnswerKind), "every answer kind needs a comparer"
