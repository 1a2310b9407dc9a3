"""What a student sees of an attempt while the assignment holds its feedback back (``feedback``,
until the answers are released to them): one pure rule over the graded parts as the reader would
otherwise see them, which every door applies (the REST replies and the pages through
:func:`api.submissions.views.to_out`, the course page, practice), so that none shows more than
another. Staff, and a student once the answers are released, see everything (``full``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from api.models import Feedback
from api.terms.rows import Terms
from grader.results import UNSCORED

#: All a part's feedback says under ``correctness``.
CORRECT, NOT_CORRECT = "Correct.", "Not correct."
#: What a code test keeps under ``correctness``: its status and points, never its values.
_TEST_KEPT = ("name", "status", "score", "max_score", "visibility", "count", "passed")
#: A part's fields a held-back part keeps: nothing graded, only what it is out of and how it was read.
_BLANK = {"score": None, "status": None, "feedback": "", "misconception": None, "tolerance": None}


def level_for(terms: Terms, *, staff: bool, released: bool) -> Feedback:
    """What a reader sees of an attempt: everything for staff and once the answers are released to
    the student (``released``: :func:`api.terms.standing.released_to`); else the assignment's level."""
    if staff or released:
        return Feedback.FULL
    return Feedback(terms.feedback)


def shows_score(level: Feedback) -> bool:
    """Whether the attempt's total is shown (under ``none`` only that it was submitted, and when)."""
    return level != Feedback.NONE


def held_back(parts: Mapping[str, Any], level: Feedback) -> dict[str, Any]:
    """The graded ``parts`` (as :class:`api.submissions.schemas.GradedPartOut`, code tests already
    as the reader may see them) with what ``level`` holds back taken out. A part not scored yet
    (``pending``, ``queued``, ``running``) says only that, whatever the level: it grades nothing,
    and the page follows code as it runs."""
    if level == Feedback.FULL:
        return dict(parts)
    return {key: _part(part, level) for key, part in parts.items()}


def _part(part: Any, level: Feedback) -> Any:
    if not isinstance(part, Mapping):
        return part
    if part.get("status") in UNSCORED:
        return {name: value for name, value in part.items() if name not in ("tests", "solution")}
    if level == Feedback.CORRECTNESS:
        kept = {name: value for name, value in part.items() if name not in ("rubric", "comment", "solution")}
        kept |= {"feedback": _verdict(part), "misconception": None, "tolerance": None, "follow_through": False}
        if isinstance(part.get("tests"), list):
            kept["tests"] = [_test(test) for test in part["tests"]]
        return kept
    return {"max_score": part.get("max_score"), "read_as": part.get("read_as"), "follow_through": False, **_BLANK}


def _verdict(part: Mapping[str, Any]) -> str:
    return CORRECT if part.get("status") == "correct" else NOT_CORRECT


def _test(test: Mapping[str, Any]) -> dict[str, Any]:
    """A code test's status and points, its feedback only correct or not: no expected or actual
    values, no error text, no mistake named."""
    kept = {name: test[name] for name in _TEST_KEPT if name in test}
    return kept | {"feedback": _verdict(test), "misconception": None}
