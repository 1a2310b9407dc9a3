"""Reading never guesses: where an answer can be read two ways it is refused with a sentence saying
what to write, and where it can be read one way it is read that way. Forms students wrote on a
sheet of 2026 (decimal commas after a zero, the exact side of ``≈``, a chain ending on a rounded
conversion, a layout labelled by the student, scale words of other languages, ``%`` after three
decimals, number words with commas, Markdown emphasis, a negative count)."""

from __future__ import annotations

import pytest

from grader.reading import Read, Unreadable, read_answer
from problems.kinds import AnswerKind, Dimension

K = AnswerKind


# -- a comma after a leading zero is a decimal comma, never a thousands group ------------------------

LEADING_ZERO = [
    ("0,714 G", K.REAL, None, "0.714"),
    ("0,959", K.REAL, None, "0.959"),
    ("0,390 M", K.INTEGER, None, "0.390"),
    ("0,001 GB", K.INTEGER, Dimension.BYTES, "0.001"),
    ("Accuracy: 0,959", K.REAL, None, "0.959"),
    ("about 0,714 GMACs", K.INTEGER, Dimension.MACS, "0.714"),
]


@pytest.mark.parametrize(("raw", "kind", "dimension", "decimal"), LEADING_ZERO, ids=[c[0] for c in LEADING_ZERO])
def test_a_comma_after_a_leading_zero_is_refused_as_a_decimal_comma(
    raw: str, kind: AnswerKind, dimension: Dimension | None, decimal: str
) -> None:
    result = read_answer(raw, kind, dimension=dimension)
    assert isinstance(result, Unreadable), result
    assert "decimal comma" in result.reason and f"write the decimal with a point, {decimal}." in result.reason, result


@pytest.mark.parametrize(("raw", "value"), [("10,714", 10_714), ("1,234,567", 1_234_567), ("max(0,5)", 5)])
def test_groups_that_do_not_start_with_zero_still_read(raw: str, value: int) -> None:
    result = read_answer(raw, K.INTEGER)
    assert isinstance(result, Read) and result.value.value == value, result
