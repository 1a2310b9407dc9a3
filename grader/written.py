"""Written (free-response) parts: what the engine says of an answer before a grader has seen it,
and the grade a grader's rubric items make. Pure, like the rest of the engine."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import Any

from grader.results import AppliedItemJSON, GradedPart, Status
from problems.kinds import JSON
from problems.parts import WrittenPart

AWAITING = "Awaiting a grader."
NOT_TEXT = "This part takes a written answer: send it as text."


def received(key: str, part: WrittenPart, raw: JSON) -> GradedPart:
    """A written answer as submitted: ``unanswered`` when blank, ``invalid`` (with what is expected)
    when it is not text or too long, else ``pending`` until a grader grades it. A number is text as
    it was sent (``42`` is the answer "42"); nothing else is turned into text."""
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return GradedPart(key, 0.0, part.points, Status.UNANSWERED, "No answer given.")
    if isinstance(raw, bool) or not isinstance(raw, str | int | float):
        return GradedPart(key, 0.0, part.points, Status.INVALID, NOT_TEXT)
    text = raw if isinstance(raw, str) else str(raw)
    if len(text) > part.max_length:
        reason = f"This answer is {len(text):,} characters long; the part takes at most {part.max_length:,}."
        return GradedPart(key, 0.0, part.points, Status.INVALID, reason)
    return GradedPart(key, 0.0, part.points, Status.PENDING, AWAITING)


def graded(
    key: str, max_score: float, applied: Sequence[AppliedItemJSON], adjustment: float = 0.0, comment: str = ""
) -> GradedPart:
    """The grade of applied rubric items and an adjustment: their sum kept between 0 and the
    part's points; ``correct`` at full points, ``partial`` above 0, ``incorrect`` at 0."""
    total = sum(item["points"] for item in applied) + adjustment
    score = round(min(max(total, 0.0), max_score), 6)
    status = Status.CORRECT if score >= max_score else Status.PARTIAL if score > 0 else Status.INCORRECT
    feedback = comment or "; ".join(item["text"] for item in applied)
    return GradedPart(key, score, max_score, status, feedback, rubric=tuple(applied), comment=comment)


def is_manual(part: Mapping[str, Any]) -> bool:
    """Whether a stored part (``GradedPart.to_json``) is a written part graded by hand."""
    return "rubric" in part


def withheld(parts: Mapping[str, Any], score: float, released: Collection[str] = ()) -> tuple[dict[str, Any], float]:
    """The parts and total as a student sees them before manual grades are released: every part
    graded by hand, but those ``released`` on their own, is ``pending`` again (no score, rubric nor
    comment) and its points are out of the total."""
    shown: dict[str, Any] = {}
    for key, part in parts.items():
        if isinstance(part, dict) and is_manual(part) and key not in released:
            score -= part.get("score") or 0.0
            part = received_again(key, part)
        shown[key] = part
    return shown, round(max(score, 0.0), 6)


def received_again(key: str, part: Mapping[str, Any]) -> dict[str, Any]:
    """A stored manual grade as it was before anyone graded it: ``pending``."""
    return {
        **GradedPart(key, 0.0, part["max_score"], Status.PENDING, AWAITING).to_json(),
        **({"solution": part["solution"]} if "solution" in part else {}),
    }


def awaits_grader(parts: Mapping[str, Any]) -> bool:
    """Whether some part is still ``pending`` (the LMS is told ``PendingManual``)."""
    return any(isinstance(part, dict) and part.get("status") == Status.PENDING.value for part in parts.values())


def total(parts: Mapping[str, Any]) -> float:
    """The score of stored parts: their scores summed (a pending part's null counts 0)."""
    return round(sum(part.get("score") or 0.0 for part in parts.values() if isinstance(part, dict)), 6)
