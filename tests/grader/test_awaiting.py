"""The points a score leaves out: a part without a score awaits, whatever it waits for."""

from __future__ import annotations

from grader.awaiting import BEING_RUN, WAITING_FOR_GRADER, awaiting


def _part(score: float | None, max_score: float, status: str) -> dict[str, object]:
    return {"score": score, "max_score": max_score, "status": status}


def test_parts_without_a_score_await_by_what_they_wait_for() -> None:
    parts = {
        "a": _part(2.0, 3.0, "partial"),
        "b": _part(None, 4.0, "pending"),
        "c": _part(None, 1.5, "queued"),
        "d": _part(None, 0.5, "running"),
        "e": _part(0.0, 2.0, "unanswered"),
    }
    found = awaiting(parts)
    assert (found.graded_max_score, found.points) == (5.0, 6.0)
    assert found.reasons == ((WAITING_FOR_GRADER, 4.0), (BEING_RUN, 2.0))
    assert found.keys == ("b", "c", "d") and found.any


def test_every_part_scored_awaits_nothing() -> None:
    found = awaiting({"a": _part(1.0, 1.0, "correct"), "b": _part(0.0, 2.0, "incorrect")})
    assert (found.graded_max_score, found.points, found.reasons, found.keys) == (3.0, 0.0, (), ())
    assert not found.any


def test_a_part_whose_grade_is_held_back_is_graded_not_awaited() -> None:
    """(No status and no score: the assignment's feedback holds the grade back from its reader; its
    points are in the total all the same.)"""
    parts = {"a": {"score": None, "max_score": 2.0, "status": None}, "b": _part(None, 1.0, "queued")}
    found = awaiting(parts)
    assert (found.graded_max_score, found.points, found.keys) == (2.0, 1.0, ("b",))
