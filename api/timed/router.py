"""A timed assignment's clock and draft: ``POST .../start``, ``GET``/``PUT .../draft``, ``GET .../clock``;
and the staff's unlock of an attempt bound to another session (the exam room's, timed or not:
``POST .../attempts/STUDENT/unlock``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from api.assignments.service import require_student, student_extensions
from api.deps import (
    AssignmentDep,
    Credentials,
    MemberDep,
    SessionDep,
    SetsDep,
    StaffMember,
    StudentIdPath,
    StudentMember,
    StudentTermsDep,
    problem_set_of,
    token_of,
)
from api.exam_room.admission import admit, unlock
from api.exam_room.doors import ExamPassword, api_visitor, client_address
from api.kit.errors import Forbidden, Refused, error_response
from api.kit.responses import RefusedOut, errors
from api.terms.rows import with_extension
from api.timed import service
from api.timed.schemas import ClockOut, DraftIn, DraftOut

router = APIRouter(prefix="/courses/{course_id}/assignments/{assignment_id}", tags=["assignments"])


def _clock_out(student: str, running: service.Running, time_limit: int | None) -> ClockOut:
    clock = running.clock
    return ClockOut(
        student=student,
        started_at=clock.started_at,
        ends_at=running.ends_at,
        time_limit=time_limit,
        submitted_at=clock.submitted_at,
        submission_id=clock.submission_id,
        outcome=clock.outcome,
    )


@router.post(
    "/start",
    response_model=ClockOut,
    summary="Start a timed assignment's clock (again: the same clock)",
    responses=errors(
        401,
        403,
        404,
        409,
        422,
        503,
        notes={
            403: "Not a student of the course; or refused by the assignment's `access` (`reason`: `password`, "
            "`network` or `session`)",
            409: "The assignment is not timed, or a first start before it opens or after the student's close",
        },
        bodies={403: RefusedOut},
    ),
)
def start(
    request: Request,
    student: StudentMember,
    terms: StudentTermsDep,
    session: SessionDep,
    credentials: Credentials,
    password: ExamPassword = None,
) -> ClockOut | Response:
    """The student's clock starts at their first start and ends at the earlier of start +
    `time_limit` (+ their extension's `extra_minutes`) and their close. A second start (a reload,
    another tab, two at once) returns the same clock. On an assignment with `access` rules the
    start must pass them (403 with `reason` otherwise); with `one_session` the first start binds
    the attempt to the caller's token."""
    try:
        admit(
            session, terms=terms, student_id=student.id, visitor=api_visitor(request, token_of(credentials), password)
        )
    except Refused as refusal:
        return error_response(refusal)  # (a lock is recorded: the transaction commits)
    running = service.start(session, terms=terms, student_id=student.id, address=client_address(request))
    keeper = getattr(request.app.state, "time_keeper", None)
    if keeper is not None:
        keeper.wake()  # (its end may come before the keeper's next look)
    return _clock_out(student.id, running, terms.time_limit)


@router.get(
    "/clock",
    response_model=ClockOut,
    summary="A student's clock (students: their own; staff: `?student=ID`)",
    responses=errors(
        401, 403, 404, 422, 503, notes={403: "A student asking for another's", 404: "Not started, or no such student"}
    ),
)
def read_clock(
    member: MemberDep,
    assignment: AssignmentDep,
    session: SessionDep,
    student: Annotated[str | None, Query(max_length=64, description="Staff: this student's clock.")] = None,
) -> ClockOut:
    """When the student started, when their time ends, and what time-up did at the end."""
    if not member.is_staff:
        if student is not None and student != member.id:
            raise Forbidden("Students see only their own clock.")
        student = member.id
    elif student is None:
        raise Forbidden("Staff have no clock of their own: ask for a student's (`?student=ID`).")
    else:
        require_student(session, course_id=member.course, student_id=student)
    extension = student_extensions(session, course_id=member.course, student_id=student).get(assignment.id)
    terms = with_extension(assignment, extension)
    return _clock_out(student, service.clock(session, terms=terms, student_id=student), terms.time_limit)


@router.put(
    "/draft",
    response_model=DraftOut,
    summary="Save the answers typed so far (never graded)",
    responses=errors(
        401,
        403,
        404,
        409,
        413,
        422,
        503,
        notes={
            403: "Refused by the assignment's `access` (`reason`: `password`, `network` or `session`)",
            409: "Not started, the student's time is over, or their attempts are used (nothing more is saved "
            "or submitted)",
            422: "Answers past a submission's limits, or a key the assignment does not have",
        },
        bodies={403: RefusedOut},
    ),
)
def put_draft(
    request: Request,
    body: DraftIn,
    student: StudentMember,
    terms: StudentTermsDep,
    session: SessionDep,
    sets: SetsDep,
    credentials: Credentials,
    password: ExamPassword = None,
) -> DraftOut | Response:
    """Replaces the student's draft while their clock runs (the page saves it as they type). At the
    end it is submitted for them, graded like any submission, unless they submitted it themselves.
    Each save must pass the assignment's `access` rules (403 with `reason`; the draft saved before
    stays)."""
    try:
        admit(
            session, terms=terms, student_id=student.id, visitor=api_visitor(request, token_of(credentials), password)
        )
    except Refused as refusal:
        return error_response(refusal)
    problem_set = problem_set_of(terms, sets)
    saved_at = service.save_draft(
        session,
        terms=terms,
        student_id=student.id,
        answers=body.answers,
        problem_set=problem_set,
        address=client_address(request),
    )
    running = service.clock(session, terms=terms, student_id=student.id)
    return DraftOut(answers=body.answers, saved_at=saved_at, ends_at=running.ends_at)


@router.get(
    "/draft",
    response_model=DraftOut,
    summary="The student's last saved draft",
    responses=errors(
        401,
        403,
        404,
        422,
        503,
        notes={
            403: "Not a student (staff read a clock, not a draft); or refused by the assignment's `access` "
            "(`reason`: `password`, `network` or `session`)"
        },
        bodies={403: RefusedOut},
    ),
)
def get_draft(
    request: Request,
    student: StudentMember,
    terms: StudentTermsDep,
    session: SessionDep,
    credentials: Credentials,
    password: ExamPassword = None,
) -> DraftOut:
    """The student's own draft only (another student's is never readable); 404 before they start.
    It is read under the assignment's `access` rules as a save is (a locked session reads nothing)."""
    visitor = api_visitor(request, token_of(credentials), password)
    admit(session, terms=terms, student_id=student.id, visitor=visitor, bind=False)
    running = service.clock(session, terms=terms, student_id=student.id)
    return DraftOut(answers=running.clock.answers or {}, saved_at=running.clock.saved_at, ends_at=running.ends_at)


@router.post(
    "/attempts/{student_id}/unlock",
    status_code=204,
    summary="Unlock a student's attempt bound to another session (staff)",
    responses=errors(
        401,
        403,
        404,
        422,
        503,
        notes={403: "Not staff of the course", 404: "No such student, or no attempt of theirs bound to a session"},
    ),
)
def unlock_attempt(
    staff: StaffMember, assignment: AssignmentDep, session: SessionDep, student_id: StudentIdPath
) -> Response:
    """On an assignment with `access.one_session`: the student's attempt is no longer bound to the
    session that started it; the next session that resumes it (passing the password and networks as
    any) is bound to it instead. Nothing of the attempt changes: the draft stays, the clock runs."""
    require_student(session, course_id=staff.course, student_id=student_id)
    unlock(session, terms=assignment, student_id=student_id, by=staff.id)
    return Response(status_code=204)
