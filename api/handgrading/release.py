"""Releasing an assignment's grades by hand (all its written parts' at once, or one part's), and
students' requests to look at one again."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from api.handgrading.queue import counted_submissions
from api.kit import score_changes
from api.kit.errors import Conflict
from api.models import Assignment, Grading, RegradeRequest, Submission
from api.terms.grades import grade_released
from api.terms.rows import Terms
from grader import written
from grader.results import Status


class Ungraded(Conflict):
    """Releasing now would show students of ungraded answers "awaiting a grader": the caller
    confirms (``force``) or grades them first."""

    def __init__(self, count: int, *, part: str | None) -> None:
        self.count = count
        super().__init__(
            f"{ungraded_sentence(count, part=part)} Send force=true to release anyway, or grade them first."
        )


def ungraded_sentence(count: int, *, part: str | None) -> str:
    """What releasing now leaves out, as staff are told it."""
    answers = "1 answer" if count == 1 else f"{count:,} answers"
    to = f"to {part}" if part is not None else "to the written parts"
    verb = "is" if count == 1 else "are"
    return f"{answers} {to} {verb} not graded yet; releasing now shows those students “awaiting a grader”."


@dataclass(frozen=True, slots=True)
class Released:
    """A release: when, how many students have a grade it shows them, and how many counted answers
    it released ungraded (their students see "awaiting a grader")."""

    at: datetime
    students: int
    ungraded: int


def ungraded_answers(session: Session, *, assignment: Terms, keys: Collection[str]) -> int:
    """The counted submissions' answers to the written parts ``keys`` no grader has graded yet."""
    pending = Status.PENDING.value
    return sum(
        1
        for submission in counted_submissions(session, assignment)
        for key in keys
        if isinstance(part := submission.parts.get(key), dict) and part.get("status") == pending
    )


def release(
    session: Session, *, assignment: Terms, written: Collection[str], part: str | None = None, force: bool = False
) -> Released:
    """Grades by hand become visible to students (and their LMS): those of the written ``part``
    alone, or with no ``part`` those of every one of the assignment's ``written`` parts. While
    counted answers to them are ungraded, :class:`Ungraded` unless ``force``. Releasing again moves
    the time on and sends nothing new (the scores did not change)."""
    row = session.get(Assignment, (assignment.course_id, assignment.id), with_for_update=True)
    assert row is not None  # (read with the caller)
    keys = list(written) if part is None else [part]
    ungraded = ungraded_answers(session, assignment=row, keys=keys)
    if ungraded and not force:
        raise Ungraded(ungraded, part=part)
    now = datetime.now(UTC)
    first = not all(grade_released(row, key) for key in keys)
    if part is None:
        row.grades_released_at = now
    else:
        row.grades_released_parts = {**(row.grades_released_parts or {}), part: now.isoformat()}
    query = (
        select(Submission.student_id)
        .join(Grading, Grading.submission_id == Submission.id)
        .where(Submission.course_id == row.course_id, Submission.assignment_id == row.id)
        .distinct()
    )
    students = set(session.scalars(query if part is None else query.where(Grading.key == part)))
    if first:
        score_changes.changed_for(session, course_id=row.course_id, assignment_id=row.id, student_ids=students)
    return Released(now, len(students), ungraded)


def ask_regrade(
    session: Session, *, submission: Submission, key: str, message: str, released: bool, verdict_shown: bool = True
) -> RegradeRequest:
    """A student's request about a graded part: a written one graded by hand once its grades are
    ``released``; a computed, choice or code part once scored, where the student is shown its
    verdict (``verdict_shown``: their feedback level says whether each part is right). 409 before
    that, for a part nobody graded, or while an earlier request about it is unanswered."""
    part = submission.parts.get(key)
    if not isinstance(part, dict) or part.get("score") is None:
        raise Conflict(f"{key!r} has not been graded yet; there is nothing to look at again yet.")
    if written.is_manual(part) and not released:
        raise Conflict("Grades of written parts are not released yet; a regrade can be asked for once they are.")
    if not written.is_manual(part) and not verdict_shown:
        raise Conflict(f"Your grade of {key!r} is not shown to you yet; a regrade can be asked for once it is.")
    open_one = session.scalar(
        select(RegradeRequest.id).where(
            RegradeRequest.submission_id == submission.id, RegradeRequest.key == key, RegradeRequest.reply.is_(None)
        )
    )
    if open_one is not None:
        raise Conflict("An earlier request about this part is not answered yet.")
    request = RegradeRequest(submission_id=submission.id, key=key, student_id=submission.student_id, message=message)
    session.add(request)
    session.flush()
    return request


def reply(session: Session, *, submission: Submission, key: str, text: str, by: str) -> RegradeRequest:
    """Staff's answer to the part's open request; 409 when none is open."""
    request = session.scalar(
        select(RegradeRequest)
        .where(RegradeRequest.submission_id == submission.id, RegradeRequest.key == key, RegradeRequest.reply.is_(None))
        .with_for_update()
    )
    if request is None:
        raise Conflict("No open regrade request about this part.")
    request.reply, request.replied_by, request.replied_at = text, by, datetime.now(UTC)
    session.flush()
    return request


@dataclass(frozen=True, slots=True)
class OpenRequest:
    """A regrade request no one has answered yet, with what the staff's link to it needs."""

    id: int
    assignment_id: str
    submission_id: int
    key: str
    student_id: str
    message: str
    created_at: datetime
    #: The attempt's number, and whether the part is written (answered in its grading queue; any
    #: other part beside the student's attempts in the gradebook)
    attempt: int = 0
    written: bool = True


#: The most open requests the course page lists (the oldest first: they have waited longest).
OPEN_SHOWN = 50


def open_requests(session: Session, *, course_id: str, limit: int = OPEN_SHOWN) -> tuple[list[OpenRequest], int]:
    """The course's unanswered regrade requests, oldest first (at most ``limit``), and how many
    there are in all: the staff's course page lists them, so none waits unseen outside the queue."""
    unanswered = (
        select(RegradeRequest.id)
        .join(Submission, Submission.id == RegradeRequest.submission_id)
        .where(Submission.course_id == course_id, RegradeRequest.reply.is_(None))
    )
    total = session.scalar(select(func.count()).select_from(unanswered.subquery())) or 0
    rows = session.execute(
        select(
            RegradeRequest.id,
            Submission.assignment_id,
            RegradeRequest.submission_id,
            RegradeRequest.key,
            RegradeRequest.student_id,
            RegradeRequest.message,
            RegradeRequest.created_at,
            Submission.attempt,
            Submission.parts,
        )
        .join(Submission, Submission.id == RegradeRequest.submission_id)
        .where(Submission.course_id == course_id, RegradeRequest.reply.is_(None))
        .order_by(RegradeRequest.created_at, RegradeRequest.id)
        .limit(limit)
    )
    found = []
    for request_id, assignment_id, submission_id, key, student_id, message, created_at, attempt, parts in rows:
        part = parts.get(key) if isinstance(parts, dict) else None
        manual = isinstance(part, dict) and written.is_manual(part)
        found.append(
            OpenRequest(request_id, assignment_id, submission_id, key, student_id, message, created_at, attempt, manual)
        )
    return found, total
