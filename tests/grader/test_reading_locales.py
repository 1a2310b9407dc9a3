"""Locales by rule: digit groups that can only be thousands are read, a single ambiguous group is
refused asking for the form meant, decimal commas are read where they cannot be anything else
(a matrix's entries separated by spaces) and refused in a single number, Indian grouping is read."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

from grader.reading import Number, Read, Unreadable, read_answer
from problems.kinds import AnswerKind

K = AnswerKind

THOUSANDS = [
    ("1.234.567", 1_234_567),
    ("13.107.400", 13_107_400),
    ("11.336.941.156 parameters", 11_336_941_156),
    ("1,23,45,678", 12_345_678),
    ("12,34,567", 1_234_567),
    ("1,00,000", 100_000),
    ("13,107,400", 13_107_400),
    ("2,432", 2_432),
    ("13'107'400", 13_107_400),
    ("0.714", Fraction(714, 1000)),  # a leading zero is never a thousands group
    ("1.2345", Fraction(12345, 10000)),
    ("1.234e9", 1_234_000_000),  # a mantissa
    ("1.234 × 10^9", 1_234_000_000),
]


@pytest.mark.parametrize(("raw", "expected"), THOUSANDS, ids=[raw for raw, _ in THOUSANDS])
def test_groups_that_can_only_be_thousands_are_read(raw: str, expected: int | Fraction) -> None:
    result = read_answer(raw, K.REAL)
    assert isinstance(result, Read) and result.value == Number(Fraction(expected)), result


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("1.234", "“1.234” could be 1234 (a dot between thousands) or a decimal"),
        ("10.714", "“10.714” could be 10714"),
        ("about 123.456 MACs", "“123.456” could be 123456"),
        ("1.234.567,5", "decimal comma"),
        ("4,25", "A comma can only group thousands"),
    ],
)
def test_an_ambiguous_group_or_a_decimal_comma_is_refused_asking_for_the_form(raw: str, reason: str) -> None:
    result = read_answer(raw, K.REAL)
    assert isinstance(result, Unreadable) and reason in result.reason, result


@pytest.mark.parametrize(
    "raw",
    [
        "4,25 3,5\n1,0 2,75",
        "4,25 3,5; 1,0 2,75",
        "[4,25 3,5; 1,0 2,75]",
        "4.25 3.5\n1 2.75",
        "[[4.25, 3.5], [1, 2.75]]",
    ],
)
def test_decimal_commas_in_a_matrix_with_spaced_entries_are_read(raw: str) -> None:
    result = read_answer(raw, K.MATRIX)
    assert isinstance(result, Read), result
    assert np.array_equal(result.value, np.array([[4.25, 3.5], [1.0, 2.75]])), result


@pytest.mark.parametrize(("raw", "expected"), [("1,2\n3,4", [[1, 2], [3, 4]]), ("1, 2; 3, 4", [[1, 2], [3, 4]])])
def test_commas_without_spaced_entries_still_separate_entries(raw: str, expected: list[list[int]]) -> None:
    result = read_answer(raw, K.MATRIX)
    assert isinstance(result, Read) and np.array_equal(result.value, np.array(expected)), result


def test_a_thousands_group_among_decimal_commas_is_refused() -> None:
    result = read_answer("1,234 2,5\n1 2", K.MATRIX)
    assert isinstance(result, Unreadable) and "“1,234” could be a decimal or 1234" in result.reason, result
