"""Every mistake every built-in set models, applied: each wrong answer a mistake gives is graded,
and must be named by a mistake that gives it, explained, and pointed at the step where that
mistake's worked solution first departs from the reference's (or at no step).

The step is checked against the worked solutions themselves (``problems.solutions.solutions``
under the mistake), not against the grader's own search: before the named step, some mistake
that gives the answer has the reference's steps, and its step there is the one quoted."""

from __future__ import annotations

import math
import re
from functools import cache
from typing import Any

import pytest

from grader.comparison.mistakes import EXPLANATIONS
from grader.comparison.reference import reference_for
from grader.engine import grade_submission
from grader.results import Status
from problems.loader import load_bank
from problems.render import to_json
from problems.solutions import solutions
from problems.solvers.steps import Steps

BANK = load_bank()
PARTING = re.compile(r" Your working parts from the worked solution at step (\d+): (.*)\.$", re.S)


def student_of(set_id: str) -> str | None:
    return "alice" if BANK[set_id].randomized else None


@cache
def worked(set_id: str, mistake: str | None) -> dict[str, Steps]:
    return solutions(BANK[set_id], student_of(set_id), mistake)


def departs_at(set_id: str, key: str, source: str, number: int, text: str) -> bool:
    """Whether ``source``'s steps for ``key`` agree with the reference's before step ``number``
    and read ``text`` there."""
    right, wrong = worked(set_id, None).get(key), worked(set_id, source).get(key)
    if right is None or wrong is None or len(wrong) < number:
        return False
    same = all(a.text == b.text and a.value == b.value for a, b in zip(right[: number - 1], wrong, strict=False))
    return same and wrong[number - 1].text == text


def gives(value: Any, answer: Any) -> bool:
    """The same answer: equal, or for numbers within 0.5 % (a part's tolerance may take either)."""
    if isinstance(value, int | float) and isinstance(answer, int | float) and not isinstance(answer, bool):
        return math.isclose(value, answer, rel_tol=5e-3)
    return bool(value == answer)


@pytest.mark.parametrize("set_id", sorted(BANK))
def test_every_mistake_is_named_explained_and_placed(set_id: str) -> None:
    student = student_of(set_id)
    reference = reference_for(BANK[set_id], student)
    walked = 0
    for key, part in reference.parts.items():
        seen: set[str] = set()
        for source, wrong in part.mistakes:
            answer: Any = to_json(part.answer.kind, wrong)
            if repr(answer) in seen:
                continue
            seen.add(repr(answer))
            graded = grade_submission(BANK[set_id], {key: answer}, student=student).parts[key]
            giving = [code for code, value in part.mistakes if gives(to_json(part.answer.kind, value), answer)]
            where = f"{key} = {answer!r} ({source})"
            if graded.status is Status.CORRECT:  # within the part's tolerance: no mistake to tell
                assert graded.tolerance is not None, where
                continue
            assert graded.misconception in {code.partition("@")[0] for code in giving} | {"channel-order"}, where
            assert EXPLANATIONS[graded.misconception] in graded.feedback, where
            placed = PARTING.search(graded.feedback)
            if placed is not None:
                number, text = int(placed.group(1)), placed.group(2)
                named = [c for c in giving if c.partition("@")[0] == graded.misconception]
                assert any(departs_at(set_id, key, code, number, text) for code in named), where
            walked += 1
    assert walked > 0 or not any(reference.parts[k].mistakes for k in reference.parts)
