"""Every roster student's attempt on one assignment, as the proctor's table shows it, read in a
fixed number of statements whatever the course's size (the roster, the clocks, the extensions, the
accommodations, the sessions, the submission counts and the events: seven). Each student's clock and
attempts are under their own terms: their extension and their accommodations applied."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from api.exam_room import events
from api.exam_room.events import Event
from api.models import AttemptSession, Clock, CourseRole, Extension, Membership, Submission
from api.terms.accommodations import allowed, read_allowances
from api.terms.clock import CLOCK_COLUMNS, ClockRow
from api.terms.rows import ExtensionRow, Terms, with_extension

NOT_STARTED = "not_started"
IN_PROGRESS = "in_progress"
SUBMITTED = "submitted"
AUTO_SUBMITTED = "auto_submitted"
LOCKED = "locked"


@dataclass(frozen=True, slots=True)
class Attempt:
    """One student's attempt as the proctor sees it. ``sessions``: the browser sessions seen on it,
    the one it is bound to and each other one refused (a lock); ``address``: the client address of
    the last request admitted on a one-session assignment, else of the start or the last logged
    save; ``accommodations``: the names
    of the labels they hold."""

    student: str
    accommodations: tuple[str, ...]
    state: str
    started_at: datetime | None
    ends_at: datetime | None
    last_saved_at: datetime | None
    address: str | None
    sessions: int
    outcome: str | None
    events: list[Event]

    def time_left(self, now: datetime) -> float | None:
        """Seconds left on a running clock (None: no clock running)."""
        if self.state not in (IN_PROGRESS, LOCKED) or self.ends_at is None:
            return None
        return max(0.0, (self.ends_at - now).total_seconds())


def attempts(session: Session, *, assignment: Terms, now: datetime | None = None) -> list[Attempt]:
    """Every student of the course (by id), started or not."""
    now = now or datetime.now(UTC)
    keys = {"course_id": assignment.course_id, "assignment_id": assignment.id}
    students = session.scalars(
        select(Membership.user_id)
        .where(Membership.course_id == assignment.course_id, Membership.role == CourseRole.STUDENT)
        .order_by(Membership.user_id)
    ).all()
    clocks = {
        row[0]: ClockRow(*row[1:])
        for row in session.execute(select(Clock.student_id, *CLOCK_COLUMNS).filter_by(**keys))
    }
    extensions = {}
    if clocks:
        query = select(
            Extension.student_id, Extension.due_at, Extension.max_attempts, Extension.closes_at, Extension.extra_minutes
        ).filter_by(**keys)
        extensions = {row[0]: ExtensionRow(*row[1:]) for row in session.execute(query)}
    allowances = read_allowances(session, course_id=assignment.course_id)
    seats = {
        row.student_id: row
        for row in session.execute(
            select(
                AttemptSession.student_id, AttemptSession.session_key, AttemptSession.address, AttemptSession.locked_at
            ).filter_by(**keys)
        )
    }
    used = dict(
        session.execute(
            select(Submission.student_id, func.count()).filter_by(**keys).group_by(Submission.student_id)
        ).all()
    )
    logged = events.events_of(session, terms=assignment)
    found = []
    for student in students:
        clock = clocks.get(student)
        seat = seats.get(student)
        log = logged.get(student, [])
        allowance = allowances.get(student)
        terms = with_extension(assignment, allowed(extensions.get(student), allowance))
        end = None if clock is None else clock.end(terms)
        state = _state(
            terms,
            clock,
            end,
            now,
            locked=seat is not None and seat.locked_at is not None,
            bound=seat is not None,
            used=used.get(student, 0),
        )
        locks = sum(1 for event in log if event.kind == events.LOCK)
        found.append(
            Attempt(
                student=student,
                accommodations=() if allowance is None else allowance.names,
                state=state,
                started_at=None if clock is None else clock.started_at,
                ends_at=end,
                last_saved_at=None if clock is None else clock.saved_at,
                address=(seat.address if seat is not None else None) or _last_address(log),
                sessions=(1 if seat is not None else 0) + locks,
                outcome=None if clock is None else clock.outcome,
                events=log,
            )
        )
    return found


def _last_address(log: list[Event]) -> str | None:
    """The client address of the attempt's latest event that has one (its start, a logged save)."""
    for event in reversed(log):
        if event.detail and isinstance(event.detail.get("address"), str):
            return str(event.detail["address"])
    return None


def _state(
    assignment: Terms,
    clock: ClockRow | None,
    end: datetime | None,
    now: datetime,
    *,
    locked: bool,
    bound: bool,
    used: int,
) -> str:
    """The attempt's state: handled by time-up or staff (``auto_submitted``, unless the student's own
    submission came last: ``submitted``); locked while a second session waits for the proctor; in
    progress while the clock runs (unless the attempts are all used: ``submitted``); on an untimed
    assignment, submitted once they did, in progress once bound to a session."""
    limit = assignment.max_attempts
    if clock is not None and clock.submitted_at is not None:
        return AUTO_SUBMITTED if clock.submission_id is not None or not used else SUBMITTED
    if locked:
        return LOCKED
    if used and (clock is None or (limit is not None and used >= limit)):
        return SUBMITTED
    if clock is not None:
        return IN_PROGRESS if end is None or end > now else AUTO_SUBMITTED
    return IN_PROGRESS if bound else NOT_STARTED
