"""Time a proctor adds to running clocks, to one student's or to every one at once.

The end moves by exactly the minutes added, wherever it lay: start + limit, or the student's close
(a clock capped by the close is moved past it; the attempt then has its own close,
``clocks.closes_at``, which every door that checks the close reads: :mod:`api.terms.closing`,
:func:`api.terms.clock.open_by_added_time`, :func:`api.terms.standing.closes_for_everyone`). That is
how an exam room works: the close caps what a student is given in advance, not what the proctor
gives while they write (Moodle's and PrairieLearn's added time pass it too). A close moved later
afterwards takes the attempt's own close along (:func:`api.terms.clock.follow_moved_close`), so the
minutes given past the old close are given past the new one. Only running clocks are moved: a
clock that ended was handled, or is being handled, by time-up."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from api.exam_room import events
from api.kit.errors import Conflict
from api.models import Clock, Extension
from api.terms.clock import CLOCK_COLUMNS, ClockRow
from api.terms.rows import ExtensionRow, Terms, with_extension
from api.terms.rules import iso

#: The minutes a proctor may add at once.
MAX_MINUTES = 600
#: Rounds of "the clock changed meanwhile": read again.
MAX_ROUNDS = 5


@dataclass(frozen=True, slots=True)
class Moved:
    """A clock given more time: its student and its new end."""

    student: str
    ends_at: datetime


def add_time(
    session: Session,
    *,
    assignment: Terms,
    minutes: int,
    by: str,
    student_id: str | None = None,
    now: datetime | None = None,
) -> list[Moved]:
    """``minutes`` added to every running clock of the assignment, or to ``student_id``'s (409 with
    a sentence if theirs is not running); each logged as an event ``time`` by ``by``. A clock
    changed meanwhile (a concurrent addition) is read again, so two proctors' minutes add up."""
    now = now or datetime.now(UTC)
    if assignment.time_limit is None:
        raise Conflict(f"Assignment {assignment.id!r} is not timed: there is no clock to add time to.")
    moved = []
    for student, found in _running(session, assignment, student_id, now).items():
        for _round in range(MAX_ROUNDS):
            given = _add(session, assignment, student, *found, minutes=minutes, by=by)
            if given is not None:
                moved.append(given)
                break
            again = _running(session, assignment, student, now)  # (changed meanwhile: read again)
            if student not in again:
                break
            found = again[student]
    if student_id is not None and not moved:
        raise Conflict(
            f"{student_id!r} has no running clock on assignment {assignment.id!r} (not started, or their time "
            "is over): there is nothing to add time to."
        )
    return moved


def _add(
    session: Session, assignment: Terms, student: str, clock: ClockRow, terms: Terms, *, minutes: int, by: str
) -> Moved | None:
    """The minutes added to one clock as read (None: it changed meanwhile), and logged."""
    end = clock.end(terms)
    assert end is not None
    new_end = end + timedelta(minutes=minutes)
    own_close = clock.closes_at
    if terms.closes_at is not None and new_end > terms.closes_at and (own_close is None or new_end > own_close):
        own_close = new_end
    changed = session.execute(
        update(Clock)
        .where(
            Clock.course_id == assignment.course_id,
            Clock.assignment_id == assignment.id,
            Clock.student_id == student,
            Clock.submitted_at.is_(None),
            Clock.added_minutes == clock.added_minutes,
        )
        .values(added_minutes=clock.added_minutes + minutes, closes_at=own_close)
    )
    if changed.rowcount != 1:  # type: ignore[attr-defined]  # (a CursorResult: an UPDATE's)
        return None
    detail = {"minutes": minutes, "ends_at": iso(new_end)}
    events.record(session, terms=assignment, student_id=student, kind=events.TIME, by=by, detail=detail)
    return Moved(student, new_end)


def _running(
    session: Session, assignment: Terms, student_id: str | None, now: datetime
) -> dict[str, tuple[ClockRow, Terms]]:
    """The running clocks (one student's, or all), each with the student's terms (their extension)."""
    query = (
        select(
            Clock.student_id,
            *CLOCK_COLUMNS,
            Extension.due_at,
            Extension.max_attempts,
            Extension.closes_at,
            Extension.extra_minutes,
        )
        .outerjoin(
            Extension,
            (Extension.course_id == Clock.course_id)
            & (Extension.assignment_id == Clock.assignment_id)
            & (Extension.student_id == Clock.student_id),
        )
        .where(
            Clock.course_id == assignment.course_id,
            Clock.assignment_id == assignment.id,
            Clock.submitted_at.is_(None),
        )
    )
    if student_id is not None:
        query = query.where(Clock.student_id == student_id)
    found = {}
    for row in session.execute(query):
        clock = ClockRow(*row[1 : 1 + len(CLOCK_COLUMNS)])
        due_at, max_attempts, closes_at, extra = row[1 + len(CLOCK_COLUMNS) :]
        given = (due_at, max_attempts, closes_at, extra)
        extension = None if all(value is None for value in given) else ExtensionRow(*given)
        terms = with_extension(assignment, extension)
        end = clock.end(terms)
        if end is not None and end > now:
            found[row[0]] = (clock, terms)
    return found
