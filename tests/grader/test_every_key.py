"""Every answer key of every set, in its own kind: the reference answer is graded correct, a
nudged one is not, and one that cannot be read is invalid (with the kind's expected form)."""

from __future__ import annotations

from typing import Any

import pytest

from grader.engine import grade_submission
from grader.examples import UNREADABLE, examples
from grader.reading.forms import expected_form
from grader.results import Status
from problems.kinds import AnswerKind
from problems.loader import load_bank
from problems.render import to_json

BANK = load_bank()
CASES = [
    (set_id, "walker" if BANK[set_id].randomized else None, key)
    for set_id in sorted(BANK)
    for key in BANK[set_id].parts()  # the computed ones: a written part has no reference
]


@pytest.mark.parametrize(("set_id", "student", "key"), CASES, ids=[f"{s}/{k}" for s, _, k in CASES])
def test_right_nudged_and_unreadable_answers(set_id: str, student: str | None, key: str) -> None:
    answer = BANK[set_id].solve(student)[key]
    own = examples(answer)
    problem_set = BANK[set_id]

    def grade(raw: Any) -> Any:
        return grade_submission(problem_set, {key: raw}, student=student).parts[key]

    assert own.correct == to_json(answer.kind, answer.value)
    assert grade(own.correct).status is Status.CORRECT
    assert grade(own.incorrect).status in (Status.INCORRECT, Status.PARTIAL)
    assert own.unreadable == UNREADABLE
    unreadable = grade(own.unreadable)
    assert unreadable.status is Status.INVALID
    assert unreadable.feedback.endswith(expected_form(answer.kind, answer.part.symbols or (), answer.part.layout)) or (
        answer.kind in (AnswerKind.FORMULA, AnswerKind.FORMULA_SHAPE)
    )
