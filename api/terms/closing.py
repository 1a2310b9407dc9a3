"""A student's close as it is when their submission is written, not as the request read it before
grading: grading holds no connection, and a change of the close may land meanwhile.

:func:`open_when_written` is the close as a condition of the statement that writes the
submission, so the check and the write are one statement: on PostgreSQL it locks the assignment's
row ``FOR SHARE`` (submissions share it; a change of the assignment's terms waits for them to
commit, and one waiting on a change in progress checks the close that change wrote); on SQLite the
writing statement holds the write lock, which orders every write already. So a submission is
stored before the close, as it then is, or refused: never after it. Both read the close as
:func:`api.terms.rows.own_close` computes it, the student's accommodations' extra days included
(read with their terms: an accommodation changed while a submission is graded applies to the next),
or the attempt's own where a proctor's added time took it later (``clocks.closes_at``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, exists, or_, select
from sqlalchemy.orm import Session

from api.models import Assignment, Clock, Extension
from api.terms.allowance import Allowance
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
    *,
    course_id: ColumnElement[Any],
    assignment_id: ColumnElement[Any],
    student_id: ColumnElement[Any],
    at: Any,
    at_less_days: Any,
) -> ColumnElement[bool]:
    """True while a submission made ``at`` comes before the student's close as committed when the
    statement runs (the SQL of :func:`api.terms.rows.own_close`); the assignment's row locked.
    ``at_less_days``: ``at`` less the student's accommodations' extra days, compared with the
    assignment's own close (the close moved by them, without date arithmetic in SQL)."""
    # own_close: the extension's close; else the later of the assignment's (moved) and the
    # extension's due date, so "at or before it" is "at or before either"
    own = Extension.closes_at.is_not(None) & (at <= Extension.closes_at)
    moved = Extension.closes_at.is_(None) & or_(
        Assignment.closes_at.is_(None),
        at_less_days <= Assignment.closes_at,
        and_(Extension.due_at.is_not(None), at <= Extension.due_at),
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
        .where(Assignment.course_id == course_id, Assignment.id == assignment_id, or_(own, moved, at <= attempt_close))
        .with_for_update(read=True, of=Assignment)
    )


def close_now(
    session: Session, *, course_id: str, assignment_id: str, student_id: str, allowance: Allowance | None = None
) -> datetime | None:
    """The student's close (their extension and ``allowance`` applied) as committed now; None: it
    never closes. For saying why a submission was refused."""
    closes_at, due_at, max_attempts, own = session.execute(
        select(Assignment.closes_at, Extension.due_at, Extension.max_attempts, Extension.closes_at)
        .select_from(Assignment)
        .outerjoin(Extension, _of_student(student_id))
        .where(Assignment.course_id == course_id, Assignment.id == assignment_id)
    ).one()
    extension = ExtensionRow(due_at=due_at, max_attempts=max_attempts, closes_at=own, allowance=allowance)
    close = own_close(_Close(closes_at), extension)
    attempt_close = session.scalar(
        select(Clock.closes_at).where(
            Clock.course_id == course_id, Clock.assignment_id == assignment_id, Clock.student_id == student_id
        )
    )
    return attempt_close if close is not None and attempt_close is not None and attempt_close > close else close
