"""Time-up: the draft of every clock that ended submitted for its student, exactly once.

One function, :func:`sweep`, run by the service's own thread (:mod:`api.timed.keeper`) on both
databases: at the service's start (the clocks that ended while it was down) and every few seconds
after. No worker is needed, and nothing is lost if the service dies: a clock is handled only in the
transaction that stores its submission, so until that commits, the next sweep (of this process or
of another one) finds it again.

Exactly once, whoever runs it and however often:

- the submission goes through :func:`api.submissions.service.submit` (graded like any other,
  numbered, within the attempt limit), made at the clock's end (so never late by the sweep's
  delay, and never past the close), with the Idempotency-Key ``time-up:COURSE/ASSIGNMENT@END``:
  a second sweeper storing the same draft gets the first one's submission back, not a second;
- in the same transaction, ``clocks.submitted_at`` is set by a conditional UPDATE (``WHERE
  submitted_at IS NULL AND saved_at`` is still what was read): the winner commits both, a loser
  (the clock handled meanwhile, or a draft saved at the last instant) rolls back its attempt and
  the clock is read again.

What is submitted: the last draft, if it holds an answer and was saved after the student's last
submission (answers they had already submitted themselves are not submitted twice). Otherwise
nothing is submitted and no attempt is used, as a submission with nothing answered is refused at
every door (the clock's ``outcome`` says why). Answers that cannot be read or keys the set no
longer has are left out, rather than losing the readable ones with them; the draft itself stays
on the clock, never lost. A refusal (no attempt left, the close moved before the end) is recorded
as the outcome.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from api.code_runs.queueing import Deferrer
from api.exam_room import events
from api.kit.errors import DomainError, Unprocessable
from api.library.course_sets import Library, Sets
from api.models import Assignment, Clock, Extension
from api.submissions.service import submit
from api.terms.accommodations import allowed, own_extension, read_allowances
from api.terms.allowance import Allowance
from api.terms.clock import attempts_made, ends_at, nothing_saved, with_added_time
from api.terms.rows import AssignmentRow, ExtensionRow, Terms, with_extension
from api.terms.rules import iso
from grader.engine import is_blank

log = logging.getLogger("grader.timed")

#: The ``outcome`` of a clock whose draft was submitted.
SUBMITTED = "submitted"


@dataclass(frozen=True, slots=True)
class Ended:
    """A clock found ended and not yet handled."""

    course_id: str
    assignment_id: str
    student_id: str
    ends_at: datetime


def ended(session: Session, *, now: datetime) -> tuple[list[Ended], datetime | None]:
    """The clocks ended by ``now`` and not handled, and the earliest end still to come (None: none).
    The ends are computed from each student's terms as they are (extensions and closes move them),
    over the clocks not handled: the ones running and those just ended, a handful at any time."""
    rows = session.execute(
        select(
            Clock.course_id,
            Clock.assignment_id,
            Clock.student_id,
            Clock.started_at,
            Clock.added_minutes,
            Clock.closes_at,
            Assignment,
            Extension,
        )
        .join(Assignment, (Assignment.course_id == Clock.course_id) & (Assignment.id == Clock.assignment_id))
        .outerjoin(
            Extension,
            (Extension.course_id == Clock.course_id)
            & (Extension.assignment_id == Clock.assignment_id)
            & (Extension.student_id == Clock.student_id),
        )
        .where(Clock.submitted_at.is_(None))
    ).all()
    allowances = {course: read_allowances(session, course_id=course) for course in {row[0] for row in rows}}
    due, upcoming = [], []
    for course_id, assignment_id, student_id, started_at, added, own_close, assignment, extension in rows:
        terms = _terms(assignment, extension, allowances[course_id].get(student_id))
        end = ends_at(started_at, with_added_time(terms, added, own_close))
        if end is None:
            continue
        if end <= now:
            due.append(Ended(course_id, assignment_id, student_id, end))
        else:
            upcoming.append(end)
    return sorted(due, key=lambda clock: clock.ends_at), min(upcoming, default=None)


def _terms(assignment: Assignment, extension: Extension | None, allowance: Allowance | None) -> Terms:
    own = None
    if extension is not None:
        own = ExtensionRow(extension.due_at, extension.max_attempts, extension.closes_at, extension.extra_minutes)
    return with_extension(AssignmentRow.of(assignment), allowed(own, allowance))


@dataclass(frozen=True)
class TimeUp:
    """What a sweep needs: the service's sessions (writing; ``reads``: for the look that usually
    finds nothing, no SQLite write lock), its library of sets, how code runs are deferred
    (PostgreSQL's workers; None on SQLite) and the hooks a committed transaction calls by the keys
    of its ``info`` (the app's ``after_commit``: the code runner, the LMS's sender)."""

    sessions: sessionmaker[Session]
    reads: sessionmaker[Session]
    library: Library
    defer_code: Deferrer | None = None
    after_commit: Callable[[], dict[str, Callable[[], None]]] = dict


def sweep(time_up: TimeUp, *, now: datetime | None = None) -> tuple[int, datetime | None]:
    """Handles every clock ended by ``now``; returns how many this call handled, and the next end."""
    now = now or datetime.now(UTC)
    with time_up.reads() as session:
        due, upcoming = ended(session, now=now)
    handled = 0
    for clock in due:
        try:
            handled += handle(time_up, clock, now=now)
        except Exception:  # (one clock's failure must not stop the others; the next sweep tries it again)
            log.exception("time-up of %s/%s for %s failed", clock.course_id, clock.assignment_id, clock.student_id)
    return handled, upcoming


#: Rounds of "the draft changed, or the clock was handled, meanwhile": read again.
MAX_ROUNDS = 5


def handle(time_up: TimeUp, clock: Ended, *, now: datetime, by: str | None = None) -> bool:
    """The clock's draft submitted (or why not recorded) and the clock marked handled, in one
    transaction; False if another sweeper handled it first. ``by``: a staff member ending the
    attempt now, before its end (the draft submitted as time-up would, at ``now``)."""
    for _ in range(MAX_ROUNDS):
        with time_up.sessions() as session:
            done = _handle_once(time_up, session, clock, now=now, by=by)
            if done is None:
                session.rollback()
                continue
            session.commit()
            hooks = time_up.after_commit()
            marks = [key for key in hooks if session.info.get(key)]
        for key in marks:
            hooks[key]()
        return done
    return False


def _handle_once(time_up: TimeUp, session: Session, clock: Ended, *, now: datetime, by: str | None) -> bool | None:
    """True: handled here (to commit); False: handled already; None: changed meanwhile (roll back)."""
    where = (
        Clock.course_id == clock.course_id,
        Clock.assignment_id == clock.assignment_id,
        Clock.student_id == clock.student_id,
    )
    row = session.execute(
        select(
            Clock.started_at, Clock.answers, Clock.saved_at, Clock.submitted_at, Clock.added_minutes, Clock.closes_at
        ).where(*where)
    ).one_or_none()
    if row is None or row.submitted_at is not None:
        return False
    answers, saved_at = row.answers or {}, row.saved_at
    assignment = session.get(Assignment, (clock.course_id, clock.assignment_id))
    assert assignment is not None
    own = own_extension(
        session, course_id=clock.course_id, assignment_id=clock.assignment_id, student_id=clock.student_id
    )
    terms = with_extension(AssignmentRow.of(assignment), own)
    end = ends_at(row.started_at, with_added_time(terms, row.added_minutes, row.closes_at))
    if by is not None and (end is None or end > now):
        end = now  # (ended by staff: now, as time-up would at its end)
    if end is None or end > now:
        return False  # (moved later meanwhile: an extension; a later sweep handles it)
    submission_id, outcome = _submit_draft(time_up, session, terms, clock.student_id, answers, saved_at, end)
    unchanged = Clock.saved_at.is_(None) if saved_at is None else Clock.saved_at == saved_at
    marked = session.execute(
        update(Clock)
        .where(*where, Clock.submitted_at.is_(None), unchanged)
        .values(submitted_at=now, submission_id=submission_id, outcome=outcome[:500])
    )
    if marked.rowcount != 1:  # type: ignore[attr-defined]  # (an UPDATE's CursorResult)
        return None
    detail = {"outcome": outcome[:500], "submission": submission_id}
    kind = events.AUTO_SUBMISSION if by is None else events.END
    events.record(session, terms=terms, student_id=clock.student_id, kind=kind, by=by, detail=detail, at=now)
    return True


def _submit_draft(
    time_up: TimeUp,
    session: Session,
    terms: Terms,
    student_id: str,
    answers: dict[str, Any],
    saved_at: datetime | None,
    end: datetime,
) -> tuple[int | None, str]:
    """The submission made of the draft (its id), or None and why not."""
    if saved_at is None or nothing_saved(answers, saved_at):
        return None, "Nothing was saved before the end: nothing submitted (no attempt used)."
    _, last = attempts_made(session, terms=terms, student_id=student_id)
    if last is not None and last >= saved_at:
        return None, f"The student submitted at {iso(last)}, after their last draft: nothing more submitted."
    problem_set = Sets(time_up.library, session).of(terms)
    if problem_set is None:
        return None, f"The problem set {terms.problem_set!r} is no longer available: the draft is kept, not submitted."
    key = f"time-up:{terms.course_id}/{terms.id}@{iso(end)}"
    for _ in range(2):  # (a second time without the answers that could not be read)
        try:
            stored = submit(
                session,
                problem_set=problem_set,
                assignment=terms,
                student_id=student_id,
                answers=answers,
                idempotency_key=key,
                now=end,
                defer_code=time_up.defer_code,
                logged=False,  # (logged as the clock's end, with its outcome)
            )
        except Unprocessable as refusal:
            readable = _readable(answers, refusal.detail)
            if readable is None:
                return None, f"Not submitted: {_said(refusal.detail)}"
            answers = readable
            continue
        except DomainError as refusal:
            return None, f"Not submitted: {_said(refusal.detail)}"
        return stored.submission.id, SUBMITTED
    return None, "Not submitted: no answer could be read."


def _readable(answers: dict[str, Any], detail: Any) -> dict[str, Any] | None:
    """The answers without those a refusal could not read, the keys the set does not have and those of
    problems not drawn for the student; None
    when the refusal was of another kind, or nothing readable is left."""
    if not isinstance(detail, dict):
        return None
    left_out = set(detail.get("unreadable", {})) | set(detail.get("unknown_keys", []))
    left_out |= set(detail.get("not_drawn_keys", []))
    kept = {key: answer for key, answer in answers.items() if key not in left_out}
    if not left_out or not kept or all(is_blank(answer) for answer in kept.values()):
        return None
    return kept


def _said(detail: Any) -> str:
    return detail if isinstance(detail, str) else str(detail.get("message", detail))
