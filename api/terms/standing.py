"""A student's :class:`~api.terms.rules.Standing`, read from the database only when a release rule
asks: the assignment's close for everyone (its own and every extension's) once its own close has
passed, and the student's attempts and best score for ``after_attempts``."""

from __future__ import annotations

from datetime import datetime
from functools import cache

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from api.models import Clock, Extension, Feedback, Submission
from api.terms.accommodations import read_allowances, with_allowances
from api.terms.feedback import level_for
from api.terms.rows import ExtensionRow, Terms, own_close
from api.terms.rules import Standing, answers_released, practice_open


def standing(session: Session, *, terms: Terms, student_id: str | None) -> Standing:
    """``terms``: the student's own (their extension applied); no ``student_id``: for staff, where
    only what applies to every student is released."""

    @cache
    def last_close() -> datetime | None:
        return closes_for_everyone(session, assignment=terms)

    def closed_for_everyone(now: datetime) -> bool:
        last = last_close()
        return last is not None and now > last

    @cache
    def finished() -> bool:
        if student_id is None:
            return False
        used, full = session.execute(
            select(func.count(), func.max(case((Submission.score >= Submission.max_score, 1), else_=0))).where(
                Submission.course_id == terms.course_id,
                Submission.assignment_id == terms.id,
                Submission.student_id == student_id,
            )
        ).one()
        return bool(full) or (terms.max_attempts is not None and used >= terms.max_attempts)

    return Standing(closed_for_everyone=closed_for_everyone, finished=finished)


def closes_for_everyone(session: Session, *, assignment: Terms) -> datetime | None:
    """The last moment anyone may submit: the assignment's close, or a later one an extension, an
    accommodation or a proctor's added time gives (None: it never closes)."""
    if assignment.closes_at is None:
        return None
    rows = session.execute(
        select(Extension.student_id, Extension.due_at, Extension.max_attempts, Extension.closes_at).where(
            Extension.course_id == assignment.course_id, Extension.assignment_id == assignment.id
        )
    )
    own = {student: ExtensionRow(due_at, limit, close) for student, due_at, limit, close in rows}
    extended = with_allowances(own, read_allowances(session, course_id=assignment.course_id))
    closes = [own_close(assignment, row) for row in extended.values()]
    attempts = session.scalar(
        select(func.max(Clock.closes_at)).where(
            Clock.course_id == assignment.course_id, Clock.assignment_id == assignment.id
        )
    )
    return max([assignment.closes_at, *[c for c in [*closes, attempts] if c is not None]])


def released_to(session: Session, *, terms: Terms, student_id: str | None) -> bool:
    """Whether the reference answers and worked solutions are released to the student under their
    own ``terms`` (None: to every student), read now."""
    return answers_released(terms, standing(session, terms=terms, student_id=student_id))


def practice_open_to(session: Session, *, terms: Terms, student_id: str, randomized: bool) -> bool:
    """Whether the student may practise under their own ``terms``, read now."""
    return practice_open(terms, randomized=randomized, standing=standing(session, terms=terms, student_id=student_id))


def feedback_to(session: Session, *, terms: Terms, student_id: str) -> Feedback:
    """What the student sees of their attempts under their own ``terms`` now
    (:func:`api.terms.feedback.level_for`); the release is read only where feedback is held back."""
    if terms.feedback == Feedback.FULL:
        return Feedback.FULL
    return level_for(terms, staff=False, released=released_to(session, terms=terms, student_id=student_id))
