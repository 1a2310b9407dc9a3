"""Reference values as text: what an instructor reads, and what a student may copy and be right."""

from __future__ import annotations

from fractions import Fraction

import pytest

from problems.kinds import AnswerKind
from problems.render import to_text


@pytest.mark.parametrize(
    ("value", "text"),
    [
        # four significant figures where they are the value
        (Fraction(9561, 100), "95.61%"),
        (Fraction(50), "50%"),
        # else every digit a double holds: a part graded exactly takes it, 90.67% it would not
        (100 * (1 - Fraction(308, 3300)), "90.66666666666667%"),
    ],
)
def test_a_percentage_is_shown_rounded_only_where_rounding_changes_nothing(value: Fraction, text: str) -> None:
    assert to_text(AnswerKind.PERCENT, value) == text
