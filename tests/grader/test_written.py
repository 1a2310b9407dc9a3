"""The engine and written parts: an answer waits for a grader (``pending``, null score, 0 in the
total), a blank one is unanswered, anything but text or a too-long text is refused with a
sentence; a grader's rubric items make a clamped score."""

from __future__ import annotations

import pytest

from grader.engine import grade_submission, preview_submission
from grader.results import Status
from grader.written import graded
from problems.loader import parse_set
from tests.problems.test_written_parts import SET

WORDS = parse_set(SET, "words.yaml")


def test_a_written_answer_waits_for_a_grader_and_counts_nothing_yet() -> None:
    result = grade_submission(WORDS, {"q1.why": "The kernel covers 3 pixels.", "q1.shape": "30x30x16"})
    assert list(result.parts) == ["q1.why", "q1.shape", "q2.compare"]  # the file's order
    why, compare = result.parts["q1.why"], result.parts["q2.compare"]
    assert (why.status, why.max_score) == (Status.PENDING, 2.0)
    assert result.to_json()["parts"]["q1.why"]["score"] is None
    assert compare.status is Status.UNANSWERED
    assert (result.score, result.max_score) == (1.0, 6.0)
    assert result.unknown_keys == ()


@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        ([1, 2], "written answer: send it as text"),
        (True, "written answer: send it as text"),
        ("x" * 801, "801 characters long; the part takes at most 800"),
    ],
)
def test_a_written_answer_that_is_not_text_or_too_long_is_invalid(answer: object, reason: str) -> None:
    part = grade_submission(WORDS, {"q2.compare": answer}).parts["q2.compare"]  # type: ignore[dict-item]
    assert part.status is Status.INVALID and reason in part.feedback
    previewed, _ = preview_submission(WORDS, {"q2.compare": answer})  # type: ignore[dict-item]
    assert not previewed["q2.compare"].readable and reason in (previewed["q2.compare"].reason or "")


def test_a_number_sent_to_a_written_part_is_the_text_it_was() -> None:
    assert grade_submission(WORDS, {"q2.compare": 42}).parts["q2.compare"].status is Status.PENDING
    previewed, unknown = preview_submission(WORDS, {"q2.compare": "Skip: concatenation vs addition", "q9.x": 1})
    assert previewed["q2.compare"].readable and unknown == ("q9.x",)


@pytest.mark.parametrize(
    ("points", "adjustment", "score", "status"),
    [
        ([1.0, 1.0], 0.0, 2.0, Status.CORRECT),
        ([1.0], 0.0, 1.0, Status.PARTIAL),
        ([1.0, 1.0, 1.0], 0.0, 2.0, Status.CORRECT),  # never above the part's points
        ([-0.5], 0.0, 0.0, Status.INCORRECT),  # nor below zero
        ([1.0], -0.25, 0.75, Status.PARTIAL),
        ([], 0.0, 0.0, Status.INCORRECT),
    ],
)
def test_a_grade_is_the_clamped_sum_of_its_items_and_adjustment(
    points: list[float], adjustment: float, score: float, status: Status
) -> None:
    items = [{"id": i, "points": p, "text": f"item {i}"} for i, p in enumerate(points)]
    part = graded("q1.why", 2.0, items, adjustment, "See the formula.")  # type: ignore[arg-type]
    assert (part.score, part.status) == (score, status)
    shown = part.to_json()
    assert shown["score"] == score and shown["comment"] == "See the formula." and len(shown["rubric"]) == len(points)
