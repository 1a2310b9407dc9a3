"""Squares and shapes by the quantity's own rule: ``a × a`` is the side of every side-like
quantity (a receptive field, a kernel, a map's side, a grid's side), ``a × b`` is refused there;
a power among sizes separated by × is refused (one size or several?), while sizes separated by
commas may be powers; sizes named by a time or length axis are read in the layout's order."""

from __future__ import annotations

import pytest

from grader.engine import grade_submission
from grader.reading import Read, Unreadable, read_answer
from grader.results import Status
from problems.kinds import AnswerKind, Layout
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
