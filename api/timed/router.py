"""A timed assignment's clock and draft: ``POST .../start``, ``GET``/``PUT .../draft``, ``GET .../clock``."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request

from api.assignments.service import require_student, student_extensions
from api.deps import AssignmentDep, MemberDep, SessionDep, SetsDep, StudentMember, StudentTermsDep, problem_set_of
from api.kit.errors import Forbidden
from api.kit.responses import errors
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
            403: "Not a student of the course",
            409: "The assignment is not timed, or a first start before it opens or after the student's close",
        },
    ),
)
def start(request: Request, student: StudentMember, terms: StudentTermsDep, session: SessionDep) -> ClockOut:
    """The student's clock starts at their first start and ends at the earlier of start +
    `time_limit` (+ their extension's `extra_minutes`) and their close. A second start (a reload,
    another tab, two at once) returns the same clock."""
    running = service.start(session, terms=terms, student_id=student.id)
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
            409: "Not started, or the student's time is over",
            422: "Answers past a submission's limits, or a key the assignment does not have",
        },
    ),
)
def put_draft(
    body: DraftIn, student: StudentMember, terms: StudentTermsDep, session: SessionDep, sets: SetsDep
) -> DraftOut:
    """Replaces the student's draft while their clock runs (the page saves it as they type). At the
    end it is submitted for them, graded like any submission, unless they submitted it themselves."""
    problem_set = problem_set_of(terms, sets)
    saved_at = service.save_draft(
        session, terms=terms, student_id=student.id, answers=body.answers, problem_set=problem_set
    )
    running = service.clock(session, terms=terms, student_id=student.id)
    return DraftOut(answers=body.answers, saved_at=saved_at, ends_at=running.ends_at)


@router.get(
    "/draft",
    response_model=DraftOut,
    summary="The student's last saved draft",
    responses=errors(401, 403, 404, 422, 503, notes={403: "Not a student (staff read a clock, not a draft)"}),
)
def get_draft(student: StudentMember, terms: StudentTermsDep, session: SessionDep) -> DraftOut:
    """The student's own draft only (another student's is never readable); 404 before they start."""
    running = service.clock(session, terms=terms, student_id=student.id)
    return DraftOut(answers=running.clock.answers or {}, saved_at=running.clock.saved_at, ends_at=running.ends_at)
