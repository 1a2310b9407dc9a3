"""A student's clock on a timed assignment: when it ends, and the refusal of work past it.

Here, beside the other rules that read a student's terms, rather than in :mod:`api.timed`: every
door that submits (:func:`api.submissions.service.submit`) checks it, and :mod:`api.timed`, which
starts clocks and submits drafts, calls that service (a package importing the other both ways
would be a circle)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from api.kit.errors import Conflict
from api.models import Clock, Submission
from api.terms.moments import in_course_time
from api.terms.rows import AssignmentRow, Terms
from grader.engine import is_blank


@dataclass(frozen=True, slots=True)
class ClockRow:
    """A student's clock as stored: its start, their draft, and whether time-up handled it."""

    started_at: datetime
    answers: dict[str, Any] | None
    saved_at: datetime | None
    submitted_at: datetime | None
    submission_id: int | None
    outcome: str | None
    #: Minutes a proctor added while it ran, and the attempt's own close where they took its end
    #: past the student's (None: theirs).
    added_minutes: int = 0
    closes_at: datetime | None = None

    def end(self, terms: Terms) -> datetime | None:
        """The end of this clock under the student's ``terms``, the time a proctor added included."""
        return ends_at(self.started_at, with_added_time(terms, self.added_minutes, self.closes_at))


def ends_at(started_at: datetime, terms: Terms) -> datetime | None:
    """The earlier of the start plus the student's minutes (their extension's extra ones included:
    :func:`api.terms.rows.with_extension`) and their close; None: it never ends (a limit taken off
    an assignment that never closes). A clock's own: :meth:`ClockRow.end`."""
    ends = [] if terms.time_limit is None else [started_at + timedelta(minutes=terms.time_limit)]
    if terms.closes_at is not None:
        ends.append(terms.closes_at)
    return min(ends, default=None)


def capped_at(terms: Terms, *, started_at: datetime | None, now: datetime) -> datetime | None:
    """The student's close where it ends their clock before their minutes do (None: it does not):
    a clock started at ``started_at``, or one started ``now`` if it has not been (what a student
    about to press Start, or staff granting minutes, must be told)."""
    if terms.time_limit is None or terms.closes_at is None:
        return None
    start = started_at or now
    return terms.closes_at if start + timedelta(minutes=terms.time_limit) > terms.closes_at else None


def with_added_time(terms: Terms, added_minutes: int, closes_at: datetime | None) -> Terms:
    """A student's terms on one attempt that a proctor gave more time: the minutes added to the
    limit, and the attempt's own close where it is later than the student's. A proctor's time moves
    the end past the close, as in an exam room (the close caps what a student is given in advance,
    not what the proctor gives while they write); :func:`api.timed.added.add_time` sets both so that
    the end moves by exactly the minutes added."""
    if not added_minutes and closes_at is None:
        return terms
    row = AssignmentRow.of(terms) if not isinstance(terms, AssignmentRow) else terms
    limit = None if row.time_limit is None else row.time_limit + added_minutes
    close = row.closes_at
    if close is not None and closes_at is not None and closes_at > close:
        close = closes_at
    return replace(row, time_limit=limit, closes_at=close)


CLOCK_COLUMNS = (
    Clock.started_at,
    Clock.answers,
    Clock.saved_at,
    Clock.submitted_at,
    Clock.submission_id,
    Clock.outcome,
    Clock.added_minutes,
    Clock.closes_at,
)


def follow_moved_close(session: Session, *, course_id: str, assignment_id: str, by: timedelta) -> None:
    """The running attempts' own closes (a proctor's added time past the close) moved ``by`` as the
    assignment's close moved later: the minutes a proctor gave past the old close are given past
    the new one, not swallowed by it. A close moved earlier leaves them (what the proctor gave in
    the room stands). In Python, row by row: few rows, and no date arithmetic in SQL."""
    if by <= timedelta(0):
        return
    where = (
        Clock.course_id == course_id,
        Clock.assignment_id == assignment_id,
        Clock.closes_at.is_not(None),
        Clock.submitted_at.is_(None),
    )
    for student_id, own in session.execute(select(Clock.student_id, Clock.closes_at).where(*where)).all():
        assert own is not None
        session.execute(
            update(Clock)
            .where(*where, Clock.student_id == student_id, Clock.closes_at == own)
            .values(closes_at=own + by)
        )


def read_clock(session: Session, *, course_id: str, assignment_id: str, student_id: str) -> ClockRow | None:
    row = session.execute(
        select(*CLOCK_COLUMNS).where(
            Clock.course_id == course_id, Clock.assignment_id == assignment_id, Clock.student_id == student_id
        )
    ).one_or_none()
    return None if row is None else ClockRow(*row)


def open_by_added_time(session: Session, *, terms: Terms, student_id: str, at: datetime) -> bool:
    """Whether a proctor's added time keeps the student's attempt open ``at``, past their close
    (a timed assignment only; read where the close would refuse)."""
    if terms.time_limit is None:
        return False
    clock = read_clock(session, course_id=terms.course_id, assignment_id=terms.id, student_id=student_id)
    if clock is None or clock.closes_at is None:
        return False
    end = clock.end(terms)
    return end is not None and at <= end


def check_time_left(session: Session, *, terms: Terms, student_id: str, at: datetime) -> datetime | None:
    """The end of the student's clock on a timed assignment (None: untimed, or it never ends);
    :class:`Conflict` (409) unless a submission made ``at`` falls within it: refused before they
    started it (the clock is what they agreed to) and after its end. Untimed assignments pass
    without a read."""
    if terms.time_limit is None:
        return None
    clock = read_clock(session, course_id=terms.course_id, assignment_id=terms.id, student_id=student_id)
    if clock is None:
        raise Conflict(
            f"Assignment {terms.id!r} is timed ({terms.time_limit} minutes from your start): start it first "
            "(its page's Start button, or POST .../start); nothing was submitted."
        )
    end = clock.end(terms)
    if end is not None and at > end:
        raise Conflict(time_up_message(session, terms=terms, student_id=student_id, end=end, clock=clock))
    return end


def time_up_message(
    session: Session, *, terms: Terms, student_id: str, end: datetime, clock: ClockRow | None = None
) -> str:
    """Why work past the end of a student's clock is refused, its end in the course's time, and what
    becomes of their saved answers (read here, from ``clock`` or the stored one): time-up submits the
    last draft only if there is one, newer than their last submission, with an attempt left."""
    clock = clock or read_clock(session, course_id=terms.course_id, assignment_id=terms.id, student_id=student_id)
    ended = in_course_time(session, terms.course_id, end)
    return (
        f"Your time on assignment {terms.id!r} ended at {ended}: nothing is accepted after it; "
        f"{_draft_fate(session, terms, student_id, clock)}."
    )


def nothing_saved(answers: Mapping[str, Any] | None, saved_at: datetime | None) -> bool:
    """Whether a draft holds nothing time-up would submit: never saved, or only blank answers."""
    return saved_at is None or all(is_blank(answer) for answer in (answers or {}).values())


def attempts_made(session: Session, *, terms: Terms, student_id: str) -> tuple[int, datetime | None]:
    """How many submissions the student stored on the assignment, and when the last one was (a
    draft older than it is not submitted by time-up: :mod:`api.timed.sweep`)."""
    made, last = session.execute(
        select(func.count(), func.max(Submission.submitted_at)).where(
            Submission.course_id == terms.course_id,
            Submission.assignment_id == terms.id,
            Submission.student_id == student_id,
        )
    ).one()
    return int(made or 0), last


def _draft_fate(session: Session, terms: Terms, student_id: str, clock: ClockRow | None) -> str:
    """What time-up did or will do with the draft, as :mod:`api.timed.sweep` decides it."""
    if clock is not None and clock.submission_id is not None:
        return "your last saved answers were submitted for you"
    if clock is not None and clock.submitted_at is not None:
        return "nothing more was submitted for you"
    if clock is None or nothing_saved(clock.answers, clock.saved_at):
        return "you saved no answers, so nothing is submitted for you"
    made, last = attempts_made(session, terms=terms, student_id=student_id)
    if last is not None and clock.saved_at is not None and last >= clock.saved_at:
        return "you submitted after your last saved answers, so nothing more is submitted for you"
    if terms.max_attempts is not None and made >= terms.max_attempts:
        return "your attempts are used, so nothing more is submitted for you"
    return "your last saved answers are submitted for you (within a minute)"
