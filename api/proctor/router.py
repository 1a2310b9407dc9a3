"""The proctor's routes (staff): every student's attempt, time added, an attempt ended; and the
student's exam page's signals (focus loss, paste), recorded for the proctor and never enforced."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from api.assignments.service import require_student
from api.deps import AssignmentDep, SessionDep, StaffMember, StudentIdPath, StudentMember, StudentTermsDep
from api.exam_room import events
from api.kit.db import reads_only
from api.kit.errors import Conflict
from api.kit.responses import errors
from api.proctor import service
from api.proctor.schemas import AttemptOut, EndedOut, EventOut, MovedOut, SignalIn, TimeIn, TimeOut
from api.terms.clock import read_clock
from api.timed.added import add_time
from api.timed.ending import end_attempt

router = APIRouter(prefix="/courses/{course_id}/assignments/{assignment_id}", tags=["assignments"])


def attempt_out(attempt: service.Attempt) -> AttemptOut:
    return AttemptOut(
        student=attempt.student,
        accommodations=list(attempt.accommodations),
        state=attempt.state,
        started_at=attempt.started_at,
        ends_at=attempt.ends_at,
        last_saved_at=attempt.last_saved_at,
        address=attempt.address,
        sessions=attempt.sessions,
        outcome=attempt.outcome,
        events=[EventOut(at=e.at, kind=e.kind, by=e.by, detail=e.detail) for e in attempt.events],
    )


@router.get(
    "/attempts",
    response_model=list[AttemptOut],
    response_model_exclude_none=False,
    summary="Every student's attempt, as a proctor watches it (staff)",
    responses=errors(401, 403, 404, 422, 503, notes={403: "Not staff of the course", 404: "No such student"}),
)
def list_attempts(
    staff: StaffMember,
    assignment: AssignmentDep,
    session: SessionDep,
    student: Annotated[str | None, Query(max_length=64, description="Only this student's.")] = None,
) -> list[AttemptOut]:
    """Every roster student, started or not: state (`not_started`, `in_progress`, `submitted`,
    `auto_submitted`, `locked`), clock, last save, address, sessions and the attempt's event log."""
    if student is not None:
        require_student(session, course_id=staff.course, student_id=student)
    found = service.attempts(session, assignment=assignment)
    return [attempt_out(a) for a in found if student is None or a.student == student]


@router.post(
    "/time",
    response_model=TimeOut,
    summary="Add minutes to every running clock, or to one student's (staff)",
    responses=errors(
        401,
        403,
        404,
        409,
        422,
        503,
        notes={
            403: "Not staff of the course",
            404: "No such student",
            409: "The assignment is not timed, or the student's clock is not running",
        },
    ),
)
def post_time(staff: StaffMember, assignment: AssignmentDep, session: SessionDep, body: TimeIn) -> TimeOut:
    """Each running clock's end moves by `minutes`, past the close if need be (the attempt then has
    its own close: a proctor's time is not capped by it). Logged as the attempt's event `time`, by
    the caller. A clock not started or over is not moved."""
    if body.student is not None:
        require_student(session, course_id=staff.course, student_id=body.student)
    moved = add_time(session, assignment=assignment, minutes=body.minutes, by=staff.id, student_id=body.student)
    return TimeOut(minutes=body.minutes, students=[MovedOut(student=m.student, ends_at=m.ends_at) for m in moved])


@router.post(
    "/attempts/{student_id}/end",
    response_model=EndedOut,
    summary="End a student's running attempt now, submitting their last draft (staff)",
    responses=errors(
        401,
        403,
        404,
        409,
        422,
        503,
        notes={
            403: "Not staff of the course",
            404: "No such student",
            409: "Their clock is not running (not started, or handled already)",
        },
    ),
)
@reads_only  # (the end is written in a transaction of its own, as time-up's)
def end_one(
    request: Request, staff: StaffMember, assignment: AssignmentDep, session: SessionDep, student_id: StudentIdPath
) -> EndedOut:
    """The student's clock ends now: their last draft is submitted as time-up would at the end (or
    why not is recorded), and the attempt's event `end` names the caller."""
    require_student(session, course_id=staff.course, student_id=student_id)
    time_up = request.app.state.time_keeper.time_up
    clock = end_attempt(time_up, assignment=assignment, student_id=student_id, by=staff.id)
    return EndedOut(student=student_id, outcome=clock.outcome, submission_id=clock.submission_id)


@router.post(
    "/signals",
    status_code=204,
    summary="Record a focus loss or a paste on the student's exam page (never enforced)",
    responses=errors(401, 403, 404, 409, 422, 503, notes={409: "The student's attempt is not running"}),
)
def post_signal(student: StudentMember, terms: StudentTermsDep, session: SessionDep, body: SignalIn) -> Response:
    """The exam page sends what it notices (a focus loss, a paste) for the proctor to read: a signal,
    never a penalty nor a refusal (any second device defeats it). At most 100 are kept per attempt,
    and one of each kind per two seconds; the others are answered alike and not kept."""
    now = datetime.now(UTC)
    clock = read_clock(session, course_id=terms.course_id, assignment_id=terms.id, student_id=student.id)
    end = None if clock is None else clock.end(terms)
    if clock is None or clock.submitted_at is not None or (end is not None and now > end):
        raise Conflict("Your attempt is not running: there is nothing to record a signal on.")
    events.record_signal(session, terms=terms, student_id=student.id, signal=body.signal, at=now)
    return Response(status_code=204)
