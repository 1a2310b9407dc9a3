"""A student's close as it is when their submission is written, not as the request read it before
grading: grading holds no connection, and a change of the close may land meanwhile.

:func:`open_when_written` is the close as a condition of the statement that writes the
submission, so the check and the write are one statement: on PostgreSQL it locks the assignment's
row ``FOR SHARE`` (submissions share it; a change of the assignment's terms waits for them to
commit, and one waiting on a change in progress checks the close that change wrote); on SQLite the
writing statement holds the write lock, which orders every write already. So a submission is
stored before the close, as it then is, or refused: never after it. Both read the close as
:func:`api.terms.rows.own_close` computes it, or the attempt's own where a proctor's added time
took it later (``clocks.closes_at``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, case, exists, or_, select
from sqlalchemy.orm import Session

from api.models import Assignment, Clock, Extension
from api.terms.rows import ExtensionRow, own_close


@dataclass(frozen=True, slots=True)
class _Close:
    """The assignment's own close, as :func:`api.terms.rows.own_close` reads it."""

    closes_at: datetime | None


def _of_student(student_id: Any) -> ColumnElement[bool]:
    return (
        (Extension.course_id == Assignment.course_id)
        & (Extension.assignment_id == Assignment.id)
        & (Extension.student_id == student_id)
    )


def open_when_written(
    *, course_id: ColumnElement[Any], assignment_id: ColumnElement[Any], student_id: ColumnElement[Any], at: Any
) -> ColumnElement[bool]:
    """True while a submission made ``at`` comes before the student's close as committed when the
    statement runs (the SQL of :func:`api.terms.rows.own_close`); the assignment's row locked."""
    close = case(
        (Extension.closes_at.is_not(None), Extension.closes_at),
        (
            and_(Assignment.closes_at.is_not(None), Extension.due_at > Assignment.closes_at),
            Extension.due_at,
        ),
        else_=Assignment.closes_at,
    )
    # (an attempt a proctor gave time past the close has its own close: api.terms.clock.with_added_time)
    attempt_close = (
        select(Clock.closes_at)
        .where(Clock.course_id == course_id, Clock.assignment_id == assignment_id, Clock.student_id == student_id)
        .scalar_subquery()
    )
    return exists(
        select(Assignment.id)
        .select_from(Assignment)
        .outerjoin(Extension, _of_student(student_id))
        .where(
            Assignment.course_id == course_id,
            Assignment.id == assignment_id,
            or_(close.is_(None), at <= close, at <= attempt_close),
        )
        .with_for_update(read=True, of=Assignment)
    )


def close_now(session: Session, *, course_id: str, assignment_id: str, student_id: str) -> datetime | None:
    """The student's close (their extension applied) as committed now; None: it never closes. For
    saying why a submission was refused."""
    closes_at, due_at, max_attempts, own = session.execute(
        select(Assignment.closes_at, Extension.due_at, Extension.max_attempts, Extension.closes_at)
        .select_from(Assignment)
        .outerjoin(Extension, _of_student(student_id))
        .where(Assignment.course_id == course_id, Assignment.id == assignment_id)
    ).one()
    close = own_close(_Close(closes_at), ExtensionRow(due_at=due_at, max_attempts=max_attempts, closes_at=own))
    attempt_close = session.scalar(
        select(Clock.closes_at).where(
            Clock.course_id == course_id, Clock.assignment_id == assignment_id, Clock.student_id == student_id
        )
    )
    return attempt_close if close is not None and attempt_close is not None and attempt_close > close else close
