"""Numbers and matrices laid out the ways typing and other tools lay them out: sizes joined by
``-by-`` (``63-by-63-by-16``), thousands grouped by spaces inside a sum or before a unit or a note
(``61 706 + 1 000``), a MATLAB matrix with its rows on lines (``[1 2 3⏎ 4 5 6]``), and scientific
notation written with ``× 10^k`` rounded as ``e`` notation is. Each form is checked over many values,
and against the forms it must not be taken for (numpy's wrapped row, a list with a trailing comma)."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

from grader.engine import grade_submission
from grader.reading import Read, Unreadable, read_answer
from grader.results import Status
from problems.kinds import AnswerKind, Dimension
from problems.loader import load_bank

K = AnswerKind
BANK = load_bank()
SHAPES = [(63, 63, 16), (7, 7, 512), (1, 224, 224, 3), (13, 13)]


@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("joiner", ["-by-", "-BY-", " by ", "-By-"])
def test_sizes_joined_by_hyphenated_by_are_a_shape(shape: tuple[int, ...], joiner: str) -> None:
    text = joiner.join(str(size) for size in shape)
    assert read_answer(text, K.SHAPE) == Read(shape, " × ".join(str(size) for size in shape)), text


def test_a_hyphenated_by_is_a_times_sign_only_between_numbers() -> None:
    assert read_answer("3-by-3 kernel", K.INTEGER, square=True) == read_answer("3 by 3 kernel", K.INTEGER, square=True)
    result = read_answer("stand-by-3", K.INTEGER)
    assert isinstance(result, Unreadable), result


def spaced(value: int) -> str:
    return f"{value:,}".replace(",", " ")


VALUES = [1_000, 61_706, 4_816_896, 13_107_400, 1_161_600_000]


@pytest.mark.parametrize("value", VALUES)
def test_space_grouped_numbers_inside_a_sum_are_joined(value: int) -> None:
    text = f"{spaced(value)} + {spaced(1_000)}"
    result = read_answer(text, K.INTEGER)
    assert isinstance(result, Read) and result.value.value == value + 1_000, (text, result)


@pytest.mark.parametrize("value", VALUES)
def test_a_space_grouped_number_before_a_unit_or_a_note_is_one_number(value: int) -> None:
    with_unit = read_answer(f"{spaced(value)} bytes", K.INTEGER, dimension=Dimension.BYTES)
    assert isinstance(with_unit, Read) and with_unit.value.value == value, with_unit
    noted = read_answer(f"{spaced(value)} (bytes)", K.INTEGER)
    assert isinstance(noted, Read) and noted.value.value == value and "was not read" in noted.value.aside, noted


@pytest.mark.parametrize(
    "text",
    [
        "61 70 + 1 000",  # a group of two digits after a space: not thousands
        "3 3 256",  # sizes, not one number
        "61 7060 + 1",  # a group of four
    ],
)
def test_spaces_that_are_not_thousands_groups_are_not_joined(text: str) -> None:
    result = read_answer(text, K.INTEGER)
    assert isinstance(result, Unreadable), (text, result)


def matlab(rows: np.ndarray, separator: str, indent: str) -> str:
    lines = [separator.join(str(int(v)) for v in row) for row in rows]
    return "[" + ("\n" + indent).join(lines) + "]"


@pytest.mark.parametrize("shape", [(2, 3), (3, 3), (4, 2), (5, 5)], ids=str)
@pytest.mark.parametrize(("separator", "indent"), [(" ", " "), (" ", ""), (", ", " "), ("  ", "     ")])
def test_a_matlab_matrix_with_its_rows_on_lines_keeps_its_rows(
    shape: tuple[int, int], separator: str, indent: str
) -> None:
    rows = np.arange(1, shape[0] * shape[1] + 1).reshape(shape) * 3 - 7
    text = matlab(rows, separator, indent)
    result = read_answer(text, K.MATRIX)
    assert isinstance(result, Read) and result.value.tolist() == rows.tolist(), (text, result)
    assigned = read_answer("A = " + text, K.MATRIX)
    assert isinstance(assigned, Read) and assigned.value.tolist() == rows.tolist(), assigned


@pytest.mark.parametrize("length", [30, 40, 64])
def test_numpys_wrapped_row_stays_one_row(length: int) -> None:
    """numpy wraps a long row at 75 characters: its lines are one row, not several."""
    row = np.arange(length, dtype=float) - 5
    text = np.array2string(row, max_line_width=75)
    assert "\n" in text
    result = read_answer(text, K.MATRIX)
    assert isinstance(result, Read) and result.value.tolist() == [row.tolist()], (text, result)


def test_a_list_whose_lines_end_in_commas_goes_on() -> None:
    result = read_answer("[1, 2, 3,\n 4, 5, 6]", K.MATRIX)
    assert isinstance(result, Read) and result.value.tolist() == [[1, 2, 3, 4, 5, 6]], result


@pytest.mark.parametrize(
    ("mantissa", "exponent"), [("1.1616", 6), ("1.13", 10), ("4.59", 3), ("2.5", 7), ("9.2928", 6)]
)
@pytest.mark.parametrize("times", [" × 10^{}", " x 10^{}", "*10^{}", " \\times 10^{{{}}}", " · 10^{}"])
def test_times_ten_to_a_power_is_rounded_as_e_notation_is(mantissa: str, exponent: int, times: str) -> None:
    text = mantissa + times.format(exponent)
    written = read_answer(text, K.INTEGER)
    e_notation = read_answer(f"{mantissa}e{exponent}", K.INTEGER)
    assert isinstance(written, Read) and isinstance(e_notation, Read), (written, e_notation)
    assert written.value.value == e_notation.value.value == Fraction(mantissa) * 10**exponent
    decimals = len(mantissa.partition(".")[2])
    assert written.value.precision == e_notation.value.precision == Fraction(10) ** (exponent - decimals)


def test_an_exact_power_of_ten_product_is_no_rounded_figure() -> None:
    """``2 × 10^3`` is arithmetic on whole numbers: exact, as ``2000`` is."""
    result = read_answer("2 × 10^3", K.INTEGER)
    assert isinstance(result, Read) and result.value.value == 2000 and result.value.precision == 0, result


@pytest.mark.parametrize("text", ["1.16 × 10^6 B", "1.16 × 10⁶ bytes", "1.16e6 B"])
def test_a_rounded_memory_figure_in_scientific_notation_says_rounded(text: str) -> None:
    """alexnet.memory is 1,161,600 bytes: 1.16 × 10⁶ is that count rounded, told as such."""
    part = grade_submission(BANK["classic-exam"], {"alexnet.memory": text}).parts["alexnet.memory"]
    assert part.status is Status.INCORRECT and part.feedback.startswith("Close, but rounded"), (text, part.feedback)


@pytest.mark.parametrize("text", ["1.1616 × 10^6 B", "1.1616 × 10⁶ bytes", "1 161 600 bytes", "1 161 600 B"])
def test_the_exact_memory_figure_in_these_layouts_is_correct(text: str) -> None:
    part = grade_submission(BANK["classic-exam"], {"alexnet.memory": text}).parts["alexnet.memory"]
    assert part.status is Status.CORRECT, (text, part.feedback)
