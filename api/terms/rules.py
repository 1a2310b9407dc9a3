"""The rules that read one student's terms (:func:`api.terms.rows.with_extension`): whether work
is late, whether the reference answers and worked solutions are shown, whether practice is open."""

from __future__ import annotations

from datetime import UTC, datetime

from api.models import Practice, Release
from api.terms.rows import Terms


def is_late(assignment: Terms, at: datetime) -> bool:
    return assignment.due_at is not None and at > assignment.due_at


def references_shown(terms: Terms, *, staff: bool, now: datetime | None = None) -> bool:
    """The one rule for showing reference answers, in the REST API, the pages and every export:
    staff always see them; a student under their own ``terms`` (the assignment with their
    extension: a student who may still submit must not see them because the general due date has
    passed) once :func:`answers_released` says so."""
    return staff or answers_released(terms, now)


def answers_released(assignment: Terms, now: datetime | None = None) -> bool:
    """``immediately``: always; ``after_due``: once the due date has passed (never without one); ``never``: never.
    For a student, ``assignment`` is their own terms (see :func:`references_shown`)."""
    now = now or datetime.now(UTC)
    if assignment.release_answers == Release.IMMEDIATELY:
        return True
    if assignment.release_answers == Release.AFTER_DUE:
        return assignment.due_at is not None and now >= assignment.due_at
    return False


def practice_open(terms: Terms, *, randomized: bool, now: datetime | None = None) -> bool:
    """Whether a student may practise under their own ``terms`` (extension included): ``always``;
    ``after_due`` once their due date has passed (never without one); ``never``: never. A set that
    is not ``randomized`` has one variant, the graded one, and practice shows its worked
    solutions: there it opens only with the answers (:func:`answers_released`), whatever
    ``practice`` says, or it would hand them to students who can still submit."""
    now = now or datetime.now(UTC)
    if not randomized and not answers_released(terms, now):
        return False
    if terms.practice == Practice.ALWAYS:
        return True
    if terms.practice == Practice.AFTER_DUE:
        return terms.due_at is not None and now >= terms.due_at
    return False
