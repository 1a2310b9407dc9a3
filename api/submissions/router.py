"""Submitting, previewing, reading and regrading submissions."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Header, Path, Query, Request, Response
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from api.assignments.service import extensions
from api.code_runs.queueing import WAITING
from api.code_runs.shares import CodeLimits
from api.code_runs.watch import MAX_WAIT
from api.deps import (
    AssignmentDep,
    Bearer,
    Credentials,
    MemberDep,
    SessionDep,
    SetsDep,
    StudentMember,
    StudentTermsDep,
    problem_set_of,
    readable_submission,
    request_session,
    student_and_terms,
    token_of,
)
from api.exam_room.admission import admit
from api.exam_room.doors import ExamPassword, api_visitor
from api.kit.bodies import documented_as, validated_body
from api.kit.db import reads_only, writes_once
from api.kit.errors import Forbidden, Refused, error_response
from api.kit.ids import MAX_ROW_ID, may_exist
from api.kit.responses import RefusedOut, errors
from api.kit.zones import zone_named
from api.library.course_sets import Sets
from api.submissions import service
from api.submissions.schemas import (
    PreviewOut,
    SubmissionIn,
    SubmissionOut,
    SubmitRefusalOut,
)
from api.submissions.views import Released, to_out
from api.terms.rows import with_extension
from api.terms.standing import released_to

router = APIRouter(tags=["submissions"])
COURSE = "/courses/{course_id}"

#: Largest page of the submissions list.
MAX_PAGE = 1000

REPLAYED = {
    "description": "`true` when this is the stored submission a retry with the same Idempotency-Key returned.",
    "schema": {"type": "string", "enum": ["true"]},
}

SUBMIT_REFUSALS = {
    403: "Not a student of the course; or refused by the assignment's `access` (`reason`: `password`, `network` "
    "or `session`; no attempt used)",
    409: "All attempts are used",
    422: "A field of the wrong shape; an answer that cannot be read or a key the assignment does not have (no "
    "attempt used); or an Idempotency-Key already used for other answers",
    429: "Past the student's budget of grading work, at once or lately (previews, practice and refused "
    "submissions count too); or, with code to run, past the student's share of the code queue (as many "
    "runs waiting as one may have, or the assignment's sandbox time used): retry after `Retry-After` "
    "seconds (no attempt used)",
}

IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        max_length=200,
        pattern=r"^[\x21-\x7e]+$",
        description="Any unique string (e.g. a UUID): a retry with the same key returns the first result.",
    ),
]


@router.post(
    COURSE + "/assignments/{assignment_id}/submissions",
    status_code=201,
    response_model=SubmissionOut,
    summary="Submit answers (graded on arrival)",
    responses={
        **errors(
            401,
            403,
            404,
            409,
            413,
            422,
            429,
            503,
            notes=SUBMIT_REFUSALS,
            bodies={422: SubmitRefusalOut, 403: RefusedOut},
        ),
        201: {"headers": {"Idempotent-Replayed": REPLAYED}},
    },
)
@writes_once
async def submit(
    request: Request,
    payload: Annotated[Any, Body(), documented_as(SubmissionIn)],
    credentials: Credentials,
    course_id: Annotated[str, Path()],
    assignment_id: Annotated[str, Path()],
    idempotency_key: IdempotencyKey = None,
    password: ExamPassword = None,
) -> Response:
    """Grades and stores the answers as one attempt. Past the due date the submission is still
    accepted and marked `late`. Answers that cannot be read are refused with 422 (no attempt used),
    listing each unreadable key and why. With an `Idempotency-Key`, a retry returns the stored
    submission (201, same body, header `Idempotent-Replayed: true`) instead of storing another.
    Grading counts against the student's budget of grading work (429 past it: one request graded
    at a time, and a share of the service's time)."""
    # The busiest endpoint does its whole work in one trip to the threadpool: the caller and the
    # checks of StudentMember and StudentTermsDep (deps.student_and_terms), grading, storing and
    # the reply. As dependencies, the caller's read would take a trip of its own (bench/service.py).
    # The body is parsed as JSON here and checked against SubmissionIn there, after the caller: an
    # anonymous client learns nothing of the schema.
    # (The session too is the endpoint's own rather than a dependency: the same, without the
    # dependency machinery's cost.)
    async with request_session(request) as session:
        sets = Sets(request.app.state.library, session)
        return await run_in_threadpool(_submit, request, session, sets, credentials, payload, idempotency_key, password)


def _submit(
    request: Request,
    session: Session,
    sets: Sets,
    credentials: Bearer,
    payload: Any,
    idempotency_key: str | None,
    password: str | None,
) -> Response:
    student, assignment = student_and_terms(request, session, credentials)
    try:  # (the exam room's rules, before the body is even read: a refused student learns nothing)
        admit(
            session,
            terms=assignment,
            student_id=student.id,
            visitor=api_visitor(request, token_of(credentials), password),
        )
    except Refused as refusal:
        return error_response(refusal)  # (a lock is recorded: the transaction commits)
    body = validated_body(SubmissionIn, payload)
    problem_set = problem_set_of(assignment, sets)
    stored = service.submit(
        session,
        problem_set=problem_set,
        assignment=assignment,
        student_id=student.id,
        answers=body.answers,
        idempotency_key=idempotency_key,
        from_lms=student.from_lms,
        budget=request.app.state.grading_budget,
        defer_code=request.app.state.jobs.defer_code,
        code_limits=CodeLimits.of(request.app.state.settings),
    )
    released = released_to(session, terms=assignment, student_id=student.id)
    out = to_out(
        stored.submission, staff=False, terms=assignment, problem_set=problem_set, released_to_student=released
    )
    # Serialized here, in the worker thread: returned as a model, FastAPI would validate it again.
    headers = {"Idempotent-Replayed": "true"} if stored.replayed else None
    return Response(out.model_dump_json(), status_code=201, media_type="application/json", headers=headers)


@router.post(
    COURSE + "/assignments/{assignment_id}/preview",
    response_model=PreviewOut,
    summary="How each answer would be read (nothing graded or stored)",
    responses=errors(401, 403, 404, 413, 422, 429, 503, notes={429: SUBMIT_REFUSALS[429]}),
)
@reads_only
def preview(
    request: Request,
    body: SubmissionIn,
    student: StudentMember,
    assignment: StudentTermsDep,
    session: SessionDep,
    sets: SetsDep,
    credentials: Credentials,
    password: ExamPassword = None,
) -> Response:
    """Shows how each answer was read, or why it could not be, so a typo can be fixed before
    submitting, and whether submitting now would be accepted (`ready`; `obstacle` says why not when
    no attempt is left or nothing is answered). Grades nothing, stores nothing, uses no attempt,
    but counts against the student's budget of grading work like submitting (429 past it). Under
    the assignment's `access` rules as a submission is (403 with the reason; a preview binds no
    session)."""
    visitor = api_visitor(request, token_of(credentials), password)
    admit(session, terms=assignment, student_id=student.id, visitor=visitor, bind=False)
    problem_set = problem_set_of(assignment, sets)
    left = service.attempts_left(session, assignment=assignment, student_id=student.id)
    zone = zone_named(request.state.access.time_zone)  # (read with the caller)
    # The answers are read and the reply written off the database, charged to the student's budget.
    with service.grading(session, budget=request.app.state.grading_budget, account=student.id):
        found = service.previewed(
            problem_set=problem_set,
            assignment=assignment,
            student_id=student.id,
            answers=body.answers,
            left=left,
            zone=zone,
        )
        out = PreviewOut(
            parts={key: part.to_json() for key, part in found.parts.items()},
            unreadable=found.unreadable,
            unknown_keys=found.unknown_keys,
            attempts_left=found.attempts_left,
            obstacle=found.obstacle,
            ready=found.ready,
        ).model_dump_json()
    return Response(out, media_type="application/json")


@router.get(
    COURSE + "/assignments/{assignment_id}/submissions",
    response_model=list[SubmissionOut],
    summary="Submissions to an assignment (staff: all; student: own)",
    responses=errors(401, 403, 404, 422, 503, notes={403: "A student asking for another's"}),
)
def list_submissions(
    member: MemberDep,
    assignment: AssignmentDep,
    session: SessionDep,
    sets: SetsDep,
    student: Annotated[str | None, Query(max_length=64, description="Staff: only this student's.")] = None,
    limit: Annotated[
        int | None, Query(ge=1, le=MAX_PAGE, description=f"At most this many (1 to {MAX_PAGE}); all without it.")
    ] = None,
    offset: Annotated[int, Query(ge=0, le=MAX_ROW_ID, description="Skip this many first (with `limit`: pages).")] = 0,
) -> list[SubmissionOut]:
    """Ordered by student, then attempt; `limit` and `offset` page through a large class."""
    if not member.is_staff:
        if student is not None and student != member.id:
            raise Forbidden("Students see only their own submissions.")
        student = member.id
    elif student is not None and not may_exist(student):
        return []
    problem_set = sets.of(assignment)
    references: dict[str | None, Released] = {}
    extended = extensions(session, assignment=assignment)
    released = not member.is_staff and released_to(
        session, terms=with_extension(assignment, extended.get(member.id)), student_id=member.id
    )
    return [
        to_out(
            s,
            staff=member.is_staff,
            terms=with_extension(assignment, extended.get(s.student_id)),
            problem_set=problem_set,
            references=references,
            released_to_student=released,
        )
        for s in service.list_submissions(session, assignment=assignment, student=student, limit=limit, offset=offset)
    ]


@router.get(
    "/submissions/{submission_id}",
    response_model=SubmissionOut,
    summary="One submission",
    responses=errors(401, 403, 404, 422, 503, notes={403: "Another student's submission"}),
)
@reads_only
async def get_submission(
    request: Request,
    credentials: Credentials,
    submission_id: Annotated[int, Path()],
    wait: Annotated[
        float,
        Query(
            ge=0,
            le=MAX_WAIT,
            description="Seconds to wait for code parts still `queued` or `running`: the reply comes when "
            "they are graded, or after this long with them still waiting (0: at once).",
        ),
    ] = 0,
) -> Response:
    """For its student and for the staff of its course; another student of the course gets 403.
    With `wait`, a reader following code parts asks once, not once a second."""
    # (a reader that waits takes its slots behind others': api.kit.slots.PATIENCE)
    out = await _read_submission(request, credentials, submission_id, unless_waiting=wait > 0, patient=wait > 0)
    if out is None:
        # no session, no slot and no thread held while waiting (api.code_runs.watch)
        await request.app.state.results.graded(submission_id, within=wait)
        out = await _read_submission(request, credentials, submission_id, patient=True)
    assert out is not None
    return Response(out.model_dump_json(), media_type="application/json")


async def _read_submission(
    request: Request, credentials: Bearer, submission_id: int, *, unless_waiting: bool = False, patient: bool = False
) -> SubmissionOut | None:
    """The submission as the caller may see it, read in one trip to the threadpool (as submitting
    is); None, ``unless_waiting``, where code parts still wait (a part not scored yet says only
    that, whatever the reader may see: :func:`api.terms.feedback.held_back`), once the caller is
    known to may see it: the reply is then read once, after the wait, not also before it (most
    readers of a deadline's burst ask before their code has run). ``patient``: its slot taken behind
    other requests' (a reader waiting for code waits anyway: :data:`api.kit.slots.PATIENCE`)."""
    async with request_session(request, patient=patient) as session:
        return await run_in_threadpool(_submission_out, request, session, credentials, submission_id, unless_waiting)


def _submission_out(
    request: Request, session: Session, credentials: Bearer, submission_id: int, unless_waiting: bool = False
) -> SubmissionOut | None:
    found = readable_submission(request, session, credentials, submission_id)
    values = found.submission
    assert values is not None and found.access.assignment is not None  # (its assignment: a foreign key)
    if unless_waiting and any(
        isinstance(part, dict) and part.get("status") in WAITING for part in values["parts"].values()
    ):
        return None
    earlier = service.earlier_grades(session, submission_id) if found.regraded else ()
    submission = service.SubmissionValues(**values, earlier_grades=earlier)
    terms = with_extension(found.access.assignment, found.access.extension)
    caller = found.access.caller
    staff = submission.student_id != caller.id
    return to_out(
        submission,
        staff=staff,
        terms=terms,
        problem_set=Sets(request.app.state.library, session).of(terms),
        released_to_student=not staff and released_to(session, terms=terms, student_id=caller.id),
    )
