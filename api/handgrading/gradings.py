"""Grades by hand: a grading applies rubric items, an adjustment and a comment to one written part
of one submission. The :class:`Grading` row is the truth (versioned; every version kept in
:class:`GradingEvent`); the submission's stored part and score are written from it in the same
transaction, so every total (gradebook, statistics, exports, the LMS) reads one place."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.kit import score_changes
from api.kit.errors import Conflict, Unprocessable
from api.models import Assignment, Grading, GradingEvent, RubricItem, Submission
from api.terms.grades import grade_released
from grader import written
from grader.results import AppliedItemJSON, GradedPartJSON

#: ``reason`` of a grading event.
GRADED, RUBRIC_CHANGED = "graded", "rubric changed"


def applied(items: Sequence[RubricItem], chosen: Collection[int]) -> list[AppliedItemJSON]:
    """The rubric's items a grading applies, in the rubric's order; 422 for an id not in it."""
    known = {item.id for item in items}
    unknown = sorted(set(chosen) - known)
    if unknown:
        raise Unprocessable(f"No item {', '.join(map(str, unknown))} in this part's rubric.")
    return [{"id": item.id, "points": item.points, "text": item.text} for item in items if item.id in chosen]


def locked_submission(session: Session, submission_id: int) -> Submission:
    """The submission, its row held until the transaction ends: gradings of one submission (and a
    regrade writing it) take turns, so none is lost to another's write of its parts."""
    found = session.scalar(select(Submission).where(Submission.id == submission_id).with_for_update())
    assert found is not None  # (read by the caller in this transaction)
    return found


def grade(
    session: Session,
    *,
    submission: Submission,
    key: str,
    max_score: float,
    items: Sequence[RubricItem],
    chosen: Collection[int],
    adjustment: float,
    comment: str,
    expected: int | None,
    grader: str,
) -> Grading:
    """The part graded: a new grading, or the next version of the one ``expected`` names. 409 when
    the grading is not at that version (another grader wrote since), or exists and none is named."""
    row = locked_submission(session, submission.id)
    current = session.get(Grading, (row.id, key), with_for_update=True)
    if current is None and expected not in (None, 0):
        raise Conflict(f"This answer has no grading (version 0), not version {expected}.")
    if current is not None and expected != current.version:
        stated = "without If-Match" if expected is None else f"for version {expected}"
        raise Conflict(
            f"Another grader changed this grading (it is at version {current.version}); a write {stated} "
            "would overwrite it. Read it again, then send If-Match with its version."
        )
    marks = applied(items, chosen)
    now = datetime.now(UTC)
    part = written.graded(key, max_score, marks, adjustment, comment)
    if current is None:
        current = Grading(submission_id=row.id, key=key, version=0)
        session.add(current)
    current.version += 1
    current.items = [mark["id"] for mark in marks]
    current.adjustment, current.comment, current.score = adjustment, comment, part.score
    current.graded_by, current.graded_at = grader, now
    _record(session, current, marks, GRADED, now, by=grader)
    _write_part(row, key, part.to_json(), current, now)
    return current


def history(session: Session, *, submission_id: int, key: str) -> tuple[Grading | None, list[GradingEvent]]:
    """The part's current grading and every version of it, oldest first."""
    events = session.scalars(
        select(GradingEvent)
        .where(GradingEvent.submission_id == submission_id, GradingEvent.key == key)
        .order_by(GradingEvent.version, GradingEvent.id)
    )
    return session.get(Grading, (submission_id, key)), list(events)


def rescore(
    session: Session,
    *,
    course_id: str,
    assignment_id: str,
    key: str,
    items: Sequence[RubricItem],
    touched: Collection[int],
    max_score: float,
) -> int:
    """Every grading of the part that applied one of the ``touched`` items (changed or removed)
    graded again with the rubric as it is now, as a new version that names no grader; returns how
    many. Their submissions' scores change with them, and so do the students' LMS scores."""
    if not touched:
        return 0
    rows = session.execute(
        select(Grading, Submission)
        .join(Submission, Submission.id == Grading.submission_id)
        .where(Submission.course_id == course_id, Submission.assignment_id == assignment_id, Grading.key == key)
        .order_by(Submission.id)
        .with_for_update()
    ).all()
    live = {item.id for item in items}
    now = datetime.now(UTC)
    students = set()
    for grading, submission in rows:
        if not set(grading.items) & set(touched):
            continue
        marks = applied(items, [item for item in grading.items if item in live])
        part = written.graded(key, max_score, marks, grading.adjustment, grading.comment)
        grading.version += 1
        grading.items, grading.score, grading.graded_at = [mark["id"] for mark in marks], part.score, now
        _record(session, grading, marks, RUBRIC_CHANGED, now, by=None)
        _write_part(submission, key, part.to_json(), grading, now)
        students.add(submission.student_id)
    session.flush()
    _tell_lms(session, course_id=course_id, assignment_id=assignment_id, key=key, students=students)
    return len(students)


def told_lms(session: Session, submission: Submission, key: str) -> None:
    """A student's LMS score follows a grading of the part ``key`` once its grades are released
    (before, it shows pending)."""
    _tell_lms(
        session,
        course_id=submission.course_id,
        assignment_id=submission.assignment_id,
        key=key,
        students={submission.student_id},
    )


def _tell_lms(session: Session, *, course_id: str, assignment_id: str, key: str, students: set[str]) -> None:
    assignment = session.get(Assignment, (course_id, assignment_id))
    if students and assignment is not None and grade_released(assignment, key):
        score_changes.changed_for(session, course_id=course_id, assignment_id=assignment_id, student_ids=students)


def _record(
    session: Session,
    grading: Grading,
    marks: list[AppliedItemJSON],
    reason: str,
    at: datetime,
    by: str | None,
) -> None:
    session.add(
        GradingEvent(
            submission_id=grading.submission_id,
            key=grading.key,
            version=grading.version,
            items=list(marks),
            adjustment=grading.adjustment,
            comment=grading.comment,
            score=grading.score,
            graded_by=by,
            reason=reason,
            at=at,
        )
    )


def _write_part(submission: Submission, key: str, part: GradedPartJSON, grading: Grading, at: datetime) -> None:
    """The grade into the submission's stored parts and score; ``graded_at`` moves, so a regrade
    that read the submission before sees it changed (and reads it again)."""
    stamp = {"version": grading.version, "graded_by": grading.graded_by, "graded_at": at.isoformat()}
    parts = {**submission.parts, key: {**part, "grading": stamp}}
    submission.parts = parts
    submission.score = written.total(parts)
    submission.graded_at = at
