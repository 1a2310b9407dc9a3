"""Starting a clock and saving a draft: the requests of a student during a timed assignment."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Session

from api.assignments.draws import not_drawn, own_set
from api.exam_room import events
from api.kit.db import dialect_insert
from api.kit.errors import Conflict, NotFound, Unprocessable
from api.models import Clock
from api.submissions.service import attempts_left
from api.terms.clock import ClockRow, read_clock, time_up_message
from api.terms.moments import in_course_time
from api.terms.rows import Terms
from api.terms.rules import is_closed
from problems.sets import ProblemSet


@dataclass(frozen=True, slots=True)
class Running:
    """A student's clock with its end under their terms as they are now."""

    clock: ClockRow
    ends_at: datetime | None

    def over(self, now: datetime) -> bool:
        return self.clock.submitted_at is not None or (self.ends_at is not None and now > self.ends_at)


def _timed(terms: Terms) -> int:
    if terms.time_limit is None:
        raise Conflict(f"Assignment {terms.id!r} is not timed: there is no clock to start; submit as usual.")
    return terms.time_limit


def start(
    session: Session, *, terms: Terms, student_id: str, now: datetime | None = None, address: str | None = None
) -> Running:
    """The student's clock, started now unless it was already (a second start, another tab, or a
    concurrent start returns the first one's): ``INSERT ... ON CONFLICT DO NOTHING`` on the row
    unique per assignment and student, then read, so two starts at once give one clock on both
    databases (PostgreSQL's second INSERT waits for the first to commit; SQLite's writes are
    serialized). A first start before the assignment opens or after the student's close is 409."""
    _timed(terms)
    now = now or datetime.now(UTC)
    keys = {"course_id": terms.course_id, "assignment_id": terms.id, "student_id": student_id}
    found = read_clock(session, **keys)
    if found is None:
        if terms.opens_at is not None and now < terms.opens_at:
            opens = in_course_time(session, terms.course_id, terms.opens_at)
            raise Conflict(f"Assignment {terms.id!r} opens at {opens}: it cannot be started before.")
        if is_closed(terms, now):
            assert terms.closes_at is not None
            closed = in_course_time(session, terms.course_id, terms.closes_at)
            raise Conflict(f"Assignment {terms.id!r} closed at {closed}: it can no longer be started.")
        began = session.execute(
            dialect_insert(session, Clock)
            .values(**keys, started_at=now)
            .on_conflict_do_nothing()
            .returning(Clock.started_at)
        ).first()
        if began is not None:  # (this start made the clock)
            detail = None if address is None else {"address": address}  # (for the proctor, whatever the rules)
            events.record(session, terms=terms, student_id=student_id, kind=events.START, detail=detail, at=now)
        found = read_clock(session, **keys)
        assert found is not None
    return Running(found, found.end(terms))


def clock(session: Session, *, terms: Terms, student_id: str) -> Running:
    """The student's clock; 404 if they have not started (or the assignment is not timed)."""
    found = read_clock(session, course_id=terms.course_id, assignment_id=terms.id, student_id=student_id)
    if found is None:
        raise NotFound(f"No clock of {student_id!r} on assignment {terms.id!r}: not started.")
    return Running(found, found.end(terms))


def save_draft(
    session: Session,
    *,
    terms: Terms,
    student_id: str,
    answers: dict[str, Any],
    problem_set: ProblemSet,
    now: datetime | None = None,
    address: str | None = None,
) -> datetime:
    """Replaces the student's draft (never graded), while their clock runs: 409 before the start,
    after the end and once their attempts are used (time-up would submit nothing), 422 for a key
    the assignment does not have or of a problem not drawn for them. The UPDATE holds only while
    time-up has not handled the clock, and time-up submits a draft only if it is still the one it
    read (:mod:`api.timed.sweep`): a draft saved is either submitted or refused, never dropped."""
    _timed(terms)
    now = now or datetime.now(UTC)
    unknown = sorted(set(answers) - set(problem_set.answer_keys()))
    if unknown:
        raise Unprocessable(f"The assignment has no key(s) {', '.join(unknown)}: the draft was not saved.")
    undrawn = not_drawn(problem_set, own_set(problem_set, terms, student_id), sorted(answers))
    if undrawn:
        raise Unprocessable(
            f"The key(s) {', '.join(undrawn)} belong to problems not drawn for you: the draft was not saved."
        )
    running = read_clock(session, course_id=terms.course_id, assignment_id=terms.id, student_id=student_id)
    if running is None:
        raise Conflict(f"Assignment {terms.id!r} is timed: start it before saving answers (nothing was saved).")
    end = running.end(terms)
    if running.submitted_at is not None or (end is not None and now > end):
        ended = end or running.submitted_at or now
        raise Conflict(time_up_message(session, terms=terms, student_id=student_id, end=ended, clock=running))
    if attempts_left(session, assignment=terms, student_id=student_id) == 0:
        raise Conflict(used_up_message(terms))
    saved = session.execute(
        update(Clock)
        .where(
            Clock.course_id == terms.course_id,
            Clock.assignment_id == terms.id,
            Clock.student_id == student_id,
            Clock.submitted_at.is_(None),
        )
        .values(answers=answers, saved_at=now)
    )
    if saved.rowcount != 1:  # type: ignore[attr-defined]  # (a CursorResult: an UPDATE's)
        raise Conflict(time_up_message(session, terms=terms, student_id=student_id, end=end or now))
    events.record_save(session, terms=terms, student_id=student_id, at=now, address=address)
    return now


def used_up_message(terms: Terms) -> str:
    """Why nothing more is saved once the attempts are used: the sweep submits no draft past the limit."""
    limit = terms.max_attempts
    return (
        f"You have used your {limit} attempt{'' if limit == 1 else 's'} at assignment {terms.id!r}: "
        "your answers are no longer saved, and nothing more is submitted for you (nothing was saved)."
    )
