"""An attempt's event log, as the proctor reads it: its start, draft saves, locks, unlocks, time
added, submissions, the end time-up or staff made of it, and the exam page's focus-loss and paste
signals. Recorded where each happens, in the same transaction; read for many students at once.

Only an exam's attempts are logged (:func:`watched`: a timed assignment, or one with access rules):
a homework's submissions cost no extra write. Two kinds are bounded, as a student makes them as
often as they like: a draft save is recorded at most once per :data:`SAVE_EVERY` per attempt (the
clock keeps the last save's time, ``last_saved_at``; the log shows the student kept saving), and at
most :data:`MAX_SIGNALS` signals are kept per attempt, one of each kind per :data:`SIGNAL_EVERY`
(the others are dropped: a page that sends thousands tells the proctor what a hundred already do)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import case, exists, func, insert, literal, select
from sqlalchemy.orm import Session

from api.models import AttemptEvent, UTCDateTime
from api.terms.rows import Terms

START = "start"
SAVE = "save"
LOCK = "lock"
UNLOCK = "unlock"
TIME = "time"
SUBMISSION = "submission"
AUTO_SUBMISSION = "auto_submission"
END = "end"
SIGNAL = "signal"

#: A draft save is logged at most once in this long per attempt.
SAVE_EVERY = timedelta(seconds=60)
#: Signals kept per attempt at most, and one of each kind in this long.
MAX_SIGNALS = 100
SIGNAL_EVERY = timedelta(seconds=2)
#: The signals a page may send (recorded, never enforced).
SIGNALS = ("focus_loss", "paste")


@dataclass(frozen=True, slots=True)
class Event:
    """One event as the proctor reads it."""

    at: datetime
    kind: str
    by: str | None
    detail: dict[str, Any] | None


def watched(terms: Terms) -> bool:
    """Whether the assignment's attempts are logged: timed, or with access rules."""
    return terms.time_limit is not None or bool(terms.access)


def record(
    session: Session,
    *,
    terms: Terms,
    student_id: str,
    kind: str,
    by: str | None = None,
    detail: dict[str, Any] | None = None,
    at: datetime | None = None,
) -> None:
    """One event of the student's attempt (flushed with the caller's transaction)."""
    session.execute(
        insert(AttemptEvent).values(
            course_id=terms.course_id,
            assignment_id=terms.id,
            student_id=student_id,
            at=at or datetime.now(UTC),
            kind=kind,
            by=by,
            detail=detail,
        )
    )


def _of(terms: Terms, student_id: str) -> tuple[Any, ...]:
    return (
        AttemptEvent.course_id == terms.course_id,
        AttemptEvent.assignment_id == terms.id,
        AttemptEvent.student_id == student_id,
    )


def record_save(session: Session, *, terms: Terms, student_id: str, at: datetime, address: str | None = None) -> None:
    """A draft save, unless one was logged within :data:`SAVE_EVERY` (one statement: ``INSERT ...
    SELECT ... WHERE NOT EXISTS``), with the client's ``address`` where known."""
    recent = exists().where(*_of(terms, student_id), AttemptEvent.kind == SAVE, AttemptEvent.at > at - SAVE_EVERY)
    row = select(
        literal(terms.course_id),
        literal(terms.id),
        literal(student_id),
        literal(at, UTCDateTime()),
        literal(SAVE),
        literal(None if address is None else {"address": address}, AttemptEvent.__table__.c.detail.type),
    ).where(~recent)
    columns = ["course_id", "assignment_id", "student_id", "at", "kind", "detail"]
    session.execute(insert(AttemptEvent).from_select(columns, row))


def record_signal(session: Session, *, terms: Terms, student_id: str, signal: str, at: datetime) -> bool:
    """A signal from the exam page, unless the attempt has :data:`MAX_SIGNALS` already; whether it
    was kept."""
    kept, latest = session.execute(
        select(
            func.count(),
            func.max(case((AttemptEvent.detail["signal"].as_string() == signal, AttemptEvent.at))),
        ).where(*_of(terms, student_id), AttemptEvent.kind == SIGNAL)
    ).one()
    if kept >= MAX_SIGNALS or (latest is not None and at - latest < SIGNAL_EVERY):
        return False
    record(session, terms=terms, student_id=student_id, kind=SIGNAL, detail={"signal": signal}, at=at)
    return True


def events_of(session: Session, *, terms: Terms, students: Iterable[str] | None = None) -> dict[str, list[Event]]:
    """Each student's events on the assignment, oldest first (one statement for all of them)."""
    query = select(
        AttemptEvent.student_id, AttemptEvent.at, AttemptEvent.kind, AttemptEvent.by, AttemptEvent.detail
    ).where(AttemptEvent.course_id == terms.course_id, AttemptEvent.assignment_id == terms.id)
    if students is not None:
        query = query.where(AttemptEvent.student_id.in_(list(students)))
    found: dict[str, list[Event]] = {}
    for student_id, at, kind, by, detail in session.execute(query.order_by(AttemptEvent.at, AttemptEvent.id)):
        found.setdefault(student_id, []).append(Event(at, kind, by, detail))
    return found
