"""A code part's test inputs are each student's own, drawn from the assignment's secret: a set with
code parts is randomized whatever its header says, so the service draws a variant per student."""

from __future__ import annotations

import numpy as np

from grader.code.plan import calls_for
from problems.loader import BUILT_IN, load_bank, parse_set
from problems.variants import variant_key

BANK = load_bank()


def _arrays(set_id: str, key: str, student: str | None) -> list[np.ndarray]:
    calls = calls_for(BANK[set_id], key, student)
    return [value for call in calls for value in call.args if isinstance(value, np.ndarray)]


def test_the_built_in_code_sets_are_randomized() -> None:
    assert BANK["numpy-convolution"].randomized and BANK["torch-model"].randomized


def test_each_student_and_each_assignment_draws_its_own_inputs() -> None:
    ada, alan = (variant_key(student=name, secret="course-secret") for name in ("ada", "alan"))
    elsewhere = variant_key(student="ada", secret="another-assignment")
    mine = _arrays("numpy-convolution", "conv.forward", ada)
    assert mine and all(
        np.array_equal(a, b) for a, b in zip(mine, _arrays("numpy-convolution", "conv.forward", ada), strict=True)
    )
    for other in (alan, elsewhere, None):
        theirs = _arrays("numpy-convolution", "conv.forward", other)
        assert [a.shape for a in theirs] == [a.shape for a in mine]  # the same tests...
        assert not any(np.array_equal(a, b) for a, b in zip(mine, theirs, strict=True))  # ...on other numbers


def test_a_set_file_with_code_is_randomized_without_saying_so() -> None:
    text = (BUILT_IN / "numpy-convolution.yaml").read_text()
    assert "randomized" not in text
    assert parse_set(text).randomized
