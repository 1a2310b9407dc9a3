"""Squares and shapes by the quantity's own rule: ``a × a`` is the side of every side-like
quantity (a receptive field, a kernel, a map's side, a grid's side), ``a × b`` is refused there;
a power among sizes separated by × is refused (one size or several?), while sizes separated by
commas may be powers; sizes named by a time or length axis are read in the layout's order."""

from __future__ import annotations

import pytest

from grader.engine import grade_submission
from grader.reading import Read, Unreadable, read_answer
from grader.results import Status
from problems.kinds import AnswerKind, Dimension, Layout
from problems.loader import load_bank
from problems.parts import Part

K = AnswerKind
BANK = load_bank()


@pytest.mark.parametrize("quantity", ["rf.conv2", "rf_h.conv2", "kernel", "side.conv1", "grid.1"])
def test_every_side_like_quantity_is_a_squares_side(quantity: str) -> None:
    part = Part.model_validate({"key": "a", "quantity": quantity})
    assert part.square
    assert not Part.model_validate({"key": "a", "quantity": quantity, "square": False}).square


@pytest.mark.parametrize("quantity", ["params.conv1", "macs.total", "values.conv1", "depth"])
def test_other_quantities_are_not(quantity: str) -> None:
    assert not Part.model_validate({"key": "a", "quantity": quantity}).square


@pytest.mark.parametrize(
    ("set_name", "key", "side"),
    [("classic-exam", "alexnet.side", 55), ("classic-exam", "vgg.side", 112), ("detection-heads", None, None)],
)
def test_a_side_written_as_a_square_is_graded_as_its_side(set_name: str, key: str | None, side: int | None) -> None:
    problem_set = BANK[set_name]
    if key is None:  # a grid's side: the first grid part of the set
        key, answer = next((k, a) for k, a in problem_set.solve().items() if a.part.quantity == "grid.1")
        side = int(answer.value)
    assert side is not None
    for text in (f"{side}x{side}", f"{side} × {side}", f"${side} \\times {side}$", str(side)):
        part = grade_submission(problem_set, {key: text}).parts[key]
        assert part.status is Status.CORRECT, (text, part.feedback)
    wrong = grade_submission(problem_set, {key: f"{side}x{side + 2}"}).parts[key]
    assert wrong.status is Status.INVALID and "is not a square" in wrong.feedback, wrong


POWERS = [
    ("16²×256", "“16^2” could be one size or several equal sizes"),
    ("16^2 x 256", "“16^2” could be one size or several equal sizes"),
    ("2^4 × 2^4 × 256", "“2^4” could be one size"),
    ("64^3", "64^3 is a number, not a shape"),
    ("64³", "64^3 is a number, not a shape"),
]


@pytest.mark.parametrize(("raw", "reason"), POWERS, ids=[raw for raw, _ in POWERS])
def test_a_power_among_sizes_separated_by_times_is_refused(raw: str, reason: str) -> None:
    result = read_answer(raw, K.SHAPE)
    assert isinstance(result, Unreadable) and reason in result.reason, result


@pytest.mark.parametrize(("raw", "shape"), [("(2^4, 2^4, 256)", (16, 16, 256)), ("[8^2, 8^2, 3]", (64, 64, 3))])
def test_powers_separated_by_commas_are_one_size_each(raw: str, shape: tuple[int, ...]) -> None:
    assert read_answer(raw, K.SHAPE) == Read(shape, " × ".join(map(str, shape)))


@pytest.mark.parametrize(
    ("raw", "layout", "shape"),
    [
        ("T=8, H=28, W=28, C=128", Layout.HWC, (8, 28, 28, 128)),
        ("C=128, T=8, H=28, W=28", Layout.CHW, (128, 8, 28, 28)),
        ("L=100, C=64", Layout.HWC, (100, 64)),
    ],
)
def test_a_clip_or_a_sequence_named_by_its_axes(raw: str, layout: Layout, shape: tuple[int, ...]) -> None:
    """Named sizes of a clip (T) or a sequence (L) in the order ``Layout.arrange`` writes them."""
    result = read_answer(raw, K.SHAPE, layout=layout)
    assert isinstance(result, Read) and result.value == shape, result


def test_an_unknown_axis_is_named_as_the_cause() -> None:
    result = read_answer("X=3, H=28, W=28", K.SHAPE)
    assert isinstance(result, Unreadable) and "“X” is not an axis of this shape" in result.reason, result
    mixed = read_answer("H=63, W=63, 16", K.SHAPE)
    assert isinstance(mixed, Unreadable) and "some are not" in mixed.reason, mixed


# -- a square with a word after it: what it is a square of, or its unit --------------------------------

SIDES_WITH_WORDS = [
    ("22 × 22 pixels", 22),
    ("31 × 31 pixels", 31),
    ("9 × 9 kernel", 9),
    ("13 × 13 cells", 13),
    ("13×13 grid cells.", 13),
    ("7x7 px", 7),
    ("3 by 3 filter", 3),
    ("55 × 55 feature map", 55),
    ("RF = 11 × 11 pixels", 11),
    ("$27 \\times 27$ receptive field", 27),
    ("9 × 9 pixels (3 layers of 3 × 3)", 9),
]


@pytest.mark.parametrize(("raw", "side"), SIDES_WITH_WORDS, ids=[raw for raw, _ in SIDES_WITH_WORDS])
def test_a_square_with_a_word_after_it_is_its_side(raw: str, side: int) -> None:
    result = read_answer(raw, K.INTEGER, square=True, dimension=Dimension.LENGTH)
    assert isinstance(result, Read) and result.value.value == side, result


@pytest.mark.parametrize("raw", ["29 × 31 pixels", "9x11 kernel", "13 × 12 cells"])
def test_unequal_sides_with_a_word_are_refused_not_multiplied(raw: str) -> None:
    result = read_answer(raw, K.INTEGER, square=True, dimension=Dimension.LENGTH)
    assert isinstance(result, Unreadable) and "is not a square" in result.reason, result


@pytest.mark.parametrize(("raw", "area"), [("22 × 22 pixels", 484), ("13 × 13 cells", 169), ("9 x 9 kernel", 81)])
def test_where_the_part_is_not_a_side_the_square_is_its_area(raw: str, area: int) -> None:
    """Where the part is not a side (the tokens of a map, the cells of a grid), ``a × a`` is what it
    multiplies to."""
    result = read_answer(raw, K.INTEGER)
    assert isinstance(result, Read) and result.value.value == area, result


def test_a_unit_of_another_dimension_after_a_square_is_refused_on_a_side() -> None:
    result = read_answer("3x3 params", K.INTEGER, square=True, dimension=Dimension.LENGTH)
    assert isinstance(result, Unreadable) and "is a number of parameters" in result.reason, result


@pytest.mark.parametrize(
    ("set_name", "key", "side"), [("classic-exam", "alexnet.side", 55), ("classic-exam", "vgg.side", 112)]
)
def test_a_side_with_a_word_is_graded_as_its_side(set_name: str, key: str, side: int) -> None:
    for text in (f"{side} × {side} pixels", f"{side}x{side} feature map", f"{side} × {side} px"):
        part = grade_submission(BANK[set_name], {key: text}).parts[key]
        assert part.status is Status.CORRECT, (text, part.feedback)
    for text in (f"{side + 2} × {side + 2} pixels", f"{side * side} pixels"):
        assert grade_submission(BANK[set_name], {key: text}).parts[key].status is Status.INCORRECT, text
