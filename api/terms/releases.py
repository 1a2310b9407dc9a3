"""Scores held back until the close, sent when it comes: an assignment that holds its feedback back
(``feedback`` other than ``full``) and releases its answers at the close (``after_close``,
``after_due``) shows its students their scores only once it has closed for everyone, extensions
included (:func:`api.terms.rules.answers_released`). Until then the LMS was sent no score either
(:mod:`api.lti.outbox`); at that moment every student's counted score is said to have changed
(:mod:`api.kit.score_changes`), so what became visible leaves.

No request marks that moment: time does. :func:`release_due` runs in the service's time-keeper
(:mod:`api.timed.keeper`), on SQLite and PostgreSQL alike, and marks each assignment it sends
(``scores_released_at``) with a conditional UPDATE in the transaction that writes the scores, so
that several processes sweeping at once send them once. A change of the terms that decide the
release (the close, the release, the level, an extension) moves the mark with it
(:func:`release_moved`): a release that has not come any more is awaited, and sent, again.

The other releases need no sweep: ``immediately`` shows every score as it comes, and
``after_attempts`` releases a student's answers with the submission that finishes them, which
sends its own score.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from api.kit import score_changes
from api.models import Assignment, Feedback, Release, Submission
from api.terms.rows import AssignmentRow
from api.terms.standing import closes_for_everyone

#: The releases that come with the close.
AT_CLOSE = (Release.AFTER_CLOSE.value, Release.AFTER_DUE.value)
#: The assignment's fields whose change may move the release of its held-back scores.
MOVES_RELEASE = frozenset({"closes_at", "release_answers", "feedback"})


def awaiting(session: Session, *, now: datetime) -> list[tuple[str, str]]:
    """The assignments whose held-back scores wait for a close that has passed (its own; an
    extension's may still be to come): (course, assignment), few at any time."""
    rows = session.execute(
        select(Assignment.course_id, Assignment.id).where(
            Assignment.feedback != Feedback.FULL.value,
            Assignment.release_answers.in_(AT_CLOSE),
            Assignment.closes_at.is_not(None),
            Assignment.closes_at < now,
            Assignment.scores_released_at.is_(None),
        )
    )
    return [(course_id, assignment_id) for course_id, assignment_id in rows]


def release_due(
    sessions: Callable[[], Session], *, reads: Callable[[], Session], now: datetime | None = None
) -> set[str]:
    """Sends the held-back scores of every assignment that has closed for everyone by ``now`` and was
    not sent yet, one transaction each; the keys the committed transactions set in their ``info``,
    for the hooks that run after a commit (the LMS's sender is woken by its key)."""
    now = now or datetime.now(UTC)
    with reads() as session:
        candidates = awaiting(session, now=now)
    marks: set[str] = set()
    for course_id, assignment_id in candidates:
        with sessions() as session:
            if _release(session, course_id=course_id, assignment_id=assignment_id, now=now):
                session.commit()
                marks.update(key for key, value in session.info.items() if value is True)
    return marks


def _release(session: Session, *, course_id: str, assignment_id: str, now: datetime) -> bool:
    """The assignment marked released and its students' scores written, if it is closed for
    everyone at ``now`` and nobody marked it first; False (nothing to commit) otherwise."""
    assignment = session.get(Assignment, (course_id, assignment_id))
    if assignment is None or assignment.scores_released_at is not None:
        return False
    last = closes_for_everyone(session, assignment=AssignmentRow.of(assignment))
    if last is None or now <= last:
        return False  # (an extension's close is still to come: a later sweep sends them)
    marked = session.execute(
        update(Assignment)
        .where(
            Assignment.course_id == course_id,
            Assignment.id == assignment_id,
            Assignment.scores_released_at.is_(None),
        )
        .values(scores_released_at=now)
        .execution_options(synchronize_session=False)
    )
    if getattr(marked, "rowcount", 0) != 1:
        return False
    everyones_changed(session, course_id=course_id, assignment_id=assignment_id)
    return True


def everyones_changed(session: Session, *, course_id: str, assignment_id: str) -> int:
    """Every student who submitted to the assignment: their counted scores may have changed, or
    become visible (:func:`api.kit.score_changes.changed_for`)."""
    students = session.scalars(
        select(Submission.student_id)
        .where(Submission.course_id == course_id, Submission.assignment_id == assignment_id)
        .distinct()
    ).all()
    return score_changes.changed_for(session, course_id=course_id, assignment_id=assignment_id, student_ids=students)


def release_moved(session: Session, assignment: Assignment, *, sent: bool, now: datetime | None = None) -> None:
    """The terms that decide the release changed (``sent``: and every student's score is being
    written in this transaction, as an assignment's new terms do; an extension writes one
    student's). Not closed for everyone any more: the release is awaited again. Closed, and sent
    here: marked, so the sweep does not send it twice. Closed and not sent: left to the sweep."""
    now = now or datetime.now(UTC)
    last = closes_for_everyone(session, assignment=AssignmentRow.of(assignment))
    if last is None or now <= last:
        assignment.scores_released_at = None
    elif sent and assignment.scores_released_at is None:
        assignment.scores_released_at = now
