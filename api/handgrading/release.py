"""Releasing an assignment's grades by hand, and students' requests to look at one again."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from api import score_changes
from api.errors import Conflict
from api.models import Assignment, Grading, RegradeRequest, Submission
from grader import written


def release(session: Session, *, course_id: str, assignment_id: str) -> tuple[datetime, int]:
    """Manual grades become visible to students (and their LMS): when, and how many students have
    one. Releasing again moves the time on and sends nothing new (the scores did not change)."""
    assignment = session.get(Assignment, (course_id, assignment_id), with_for_update=True)
    assert assignment is not None  # (read with the caller)
    first = assignment.grades_released_at is None
    assignment.grades_released_at = now = datetime.now(UTC)
    students = set(
        session.scalars(
            select(Submission.student_id)
            .join(Grading, Grading.submission_id == Submission.id)
            .where(Submission.course_id == course_id, Submission.assignment_id == assignment_id)
            .distinct()
        )
    )
    if first:
        score_changes.changed_for(session, course_id=course_id, assignment_id=assignment_id, student_ids=students)
    return now, len(students)


def ask_regrade(session: Session, *, submission: Submission, key: str, message: str, released: bool) -> RegradeRequest:
    """A student's request about a graded, released written part; 409 before release, for a part
    nobody graded, or while an earlier request about it is unanswered."""
    part = submission.parts.get(key)
    if not released:
        raise Conflict("Grades of written parts are not released yet; a regrade can be asked for once they are.")
    if not isinstance(part, dict) or not written.is_manual(part):
        raise Conflict(f"{key!r} has not been graded by hand; there is nothing to look at again yet.")
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
