"""The built-in sets read well: every problem has a title, every placeholder is filled in every
variant, a single-channel input is not said to have channels, and every set says where it comes from."""

from __future__ import annotations

import re

import pytest

from problems.loader import PROBE_STUDENTS, load_bank
from problems.sets import SPEC

BANK = load_bank()


@pytest.mark.parametrize("set_id", sorted(BANK))
def test_every_statement_is_filled_and_titled_in_every_variant(set_id: str) -> None:
    problem_set = BANK[set_id]
    students = (None, *PROBE_STUDENTS) if problem_set.randomized else (None,)
    for student in students:
        for problem in problem_set.variant(student).problems:
            assert problem.title.strip(), problem.id
            statement = problem.statement()
            assert statement and not re.search(r"\{[A-Za-z0-9_.]+\}", statement), (problem.id, statement)


@pytest.mark.parametrize("set_id", sorted(BANK))
def test_every_set_says_where_it_comes_from_in_words(set_id: str) -> None:
    source = BANK[set_id].source
    assert len(source.split()) >= 4, source
    assert not re.search(r"\d{3}_[0-9a-f]{16}\.txt", source), "a file name means nothing to a reader"


def test_a_placeholder_follows_the_variant() -> None:
    costs = BANK["network-costs"]
    for student in PROBE_STUDENTS:
        (problem,) = costs.variant(student).problems
        side, _, channels = problem.params["input"]  # type: ignore[misc]
        assert problem.statement().startswith(f"Input {side}×{side}×{channels}.")


@pytest.mark.parametrize(
    ("image", "every"),
    [
        # one matrix, a stack of one: one channel; three named channels, a stack of two: several
        ([[1, 2], [3, 4]], False),
        ([[[1, 2], [3, 4]]], False),
        ({"R": [[1, 2], [3, 4]], "G": [[0, 1], [1, 0]], "B": [[2, 2], [2, 2]]}, True),
        ([[[1, 2], [3, 4]], [[0, 1], [1, 0]]], True),
    ],
)
def test_a_kernel_is_on_every_channel_only_when_there_are_several(image: object, every: bool) -> None:
    spec = SPEC.validate_python({"type": "conv2d", "input": image, "kernel": [[1]]})
    assert ("on every channel" in spec.describe()) is every
