"""The one rule for feedback held back (``api.terms.feedback``), pure: what each level of an
assignment's ``feedback`` leaves of a graded part, a code part's tests and a part not scored yet."""

from __future__ import annotations

import json
from types import SimpleNamespace
from typing import Any, cast

import pytest

from api.models import Feedback
from api.terms.feedback import CORRECT, NOT_CORRECT, held_back, level_for, shows_score
from api.terms.rows import Terms

WRONG = {
    "score": 0.0,
    "max_score": 1.0,
    "status": "incorrect",
    "feedback": "The biases are missing: add one bias per output channel. Step 1: 3,600.",
    "misconception": "bias-omitted",
    "read_as": "3,600",
    "tolerance": "±0.5%",
    "follow_through": False,
}
RIGHT = {**WRONG, "score": 1.0, "status": "correct", "feedback": "Right: 3,640.", "misconception": None}
CODE = {
    **WRONG,
    "status": "partial",
    "score": 0.5,
    "feedback": "1 of 2 tests passed.",
    "misconception": "kernel-flipped",
    "tests": [
        {
            "name": "small",
            "status": "correct",
            "score": 1.0,
            "max_score": 1.0,
            "feedback": "",
            "misconception": None,
            "visibility": "visible",
        },
        {
            "name": "padded",
            "status": "incorrect",
            "score": 0.0,
            "max_score": 1.0,
            "feedback": "At [0, 0, 1, 2] expected 4.25, got 3.75.",
            "misconception": "kernel-flipped",
            "visibility": "visible",
        },
        {
            "name": "Hidden tests",
            "status": "incorrect",
            "score": 0.0,
            "max_score": 1.0,
            "feedback": "0 of 1 tests passed (not shown).",
            "misconception": None,
            "visibility": "hidden",
            "count": 1,
            "passed": 0,
        },
    ],
}
QUEUED = {
    **WRONG,
    "score": None,
    "status": "queued",
    "feedback": "Waiting to be run.",
    "misconception": None,
    "tolerance": None,
}
PARTS: dict[str, Any] = {"q.wrong": WRONG, "q.right": RIGHT, "q.code": CODE, "q.queued": QUEUED}
SECRETS = ("bias", "3,600", "3,640", "kernel-flipped", "expected", "4.25", "3.75", "±0.5%", "1 of 2")


def _text(parts: dict[str, Any]) -> str:
    return json.dumps(parts, ensure_ascii=False)


def test_full_leaves_every_part_as_it_is() -> None:
    assert held_back(PARTS, Feedback.FULL) == PARTS


def test_correctness_keeps_status_and_score_and_says_only_correct_or_not() -> None:
    shown = held_back(PARTS, Feedback.CORRECTNESS)
    assert [shown[k]["status"] for k in ("q.wrong", "q.right", "q.code")] == ["incorrect", "correct", "partial"]
    assert [shown[k]["score"] for k in ("q.wrong", "q.right", "q.code")] == [0.0, 1.0, 0.5]
    assert [shown[k]["feedback"] for k in ("q.wrong", "q.right", "q.code")] == [NOT_CORRECT, CORRECT, NOT_CORRECT]
    assert all(shown[k]["misconception"] is None and shown[k]["tolerance"] is None for k in shown)
    tests = shown["q.code"]["tests"]
    assert [(t["name"], t["status"], t["score"]) for t in tests] == [
        ("small", "correct", 1.0),
        ("padded", "incorrect", 0.0),
        ("Hidden tests", "incorrect", 0.0),
    ]
    assert [t["feedback"] for t in tests] == [CORRECT, NOT_CORRECT, NOT_CORRECT]
    assert tests[2]["count"] == 1 and tests[2]["passed"] == 0
    text = _text(shown)
    assert not [secret for secret in SECRETS if secret in text.replace(shown["q.wrong"]["read_as"], "")]


@pytest.mark.parametrize("level", [Feedback.SCORE, Feedback.NONE])
def test_score_and_none_list_the_parts_with_nothing_graded(level: Feedback) -> None:
    shown = held_back(PARTS, level)
    assert set(shown) == set(PARTS)
    for key in ("q.wrong", "q.right", "q.code"):
        part = shown[key]
        assert (part["status"], part["score"], part["feedback"], part["misconception"]) == (None, None, "", None)
        assert part["max_score"] == 1.0 and "tests" not in part
    text = _text({k: {**v, "read_as": None} for k, v in shown.items()})
    assert not [secret for secret in SECRETS if secret in text]


@pytest.mark.parametrize("level", list(Feedback))
def test_a_part_not_scored_yet_says_so_at_every_level(level: Feedback) -> None:
    """(So the page and ``?wait`` follow code as it runs: waiting grades nothing.)"""
    assert held_back(PARTS, level)["q.queued"]["status"] == "queued"


def test_staff_and_released_answers_see_everything_and_only_none_hides_the_total() -> None:
    terms = cast(Terms, SimpleNamespace(feedback="none"))
    assert level_for(terms, staff=True, released=False) == Feedback.FULL
    assert level_for(terms, staff=False, released=True) == Feedback.FULL
    assert level_for(terms, staff=False, released=False) == Feedback.NONE
    assert [shows_score(level) for level in Feedback] == [True, True, True, False]
