"""A course's problem sets, assignments and extensions: what instructors set and students see."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, BackgroundTasks, Depends, Query, Request, Response
from sqlalchemy.orm import Session

from api.assignments import service
from api.assignments import sets as sets_service
from api.assignments.draws import drawn_ids, own_set, require_secret
from api.assignments.options import StudentLetters, order_key
from api.assignments.schemas import (
    AccessOut,
    AssignmentCreate,
    AssignmentDetail,
    AssignmentOut,
    AssignmentUpdate,
    ExtensionIn,
    ExtensionOut,
    ProblemSetOut,
    SetPreview,
    SetRefusalOut,
)
from api.deps import (
    AssignmentDep,
    Credentials,
    MemberDep,
    RunnerMember,
    SessionDep,
    SetsDep,
    StaffMember,
    StudentIdPath,
    problem_set_of,
    token_of,
)
from api.exam_room.admission import admit
from api.exam_room.doors import ExamPassword, api_visitor
from api.exam_room.rules import AccessRules
from api.kit.errors import Forbidden, Refused, Unprocessable
from api.kit.responses import errors
from api.library.course_sets import Sets
from api.set_checks.limits import CheckLimits
from api.terms.clock import read_clock
from api.terms.rows import ExtensionRow, Terms, with_extension
from api.terms.rules import answers_released, without_extensions
from api.terms.standing import standing

router = APIRouter(prefix="/courses/{course_id}", tags=["assignments"])


@router.get(
    "/problem-sets",
    response_model=list[ProblemSetOut],
    summary="The problem sets the course may use: the built-in library and its own",
    responses=errors(401, 403, 404, 422, 503),
)
def list_problem_sets(runner: RunnerMember, sets: SetsDep) -> list[ProblemSetOut]:
    """Each set with its newest version and every version the course may use (oldest first)."""
    return sets_service.course_library(sets, runner.course)


async def set_file_text(request: Request) -> str:
    """The request's body: one set file, UTF-8 (any content type; YAML is the one documented)."""
    body = await request.body()
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        raise Unprocessable("The set file is not UTF-8 text.") from None


SET_FILE_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/yaml": {
                "schema": {"type": "string"},
                "example": "id: my-set\ntitle: My set\nproblems:\n  - id: q1\n    type: conv2d\n    ...\n",
            }
        },
    }
}


@router.post(
    "/problem-sets",
    response_model=ProblemSetOut,
    status_code=201,
    summary="Upload a set file (a new version of one of the course's sets); its code is checked by a job",
    responses={
        **errors(
            401,
            403,
            404,
            413,
            422,
            429,
            503,
            notes={
                422: "The file does not validate: each problem at its line",
                429: "The instructor's set checks have used their sandbox time (or 3 are under way); nothing stored",
            },
            bodies={422: SetRefusalOut},
        ),
        200: {"model": ProblemSetOut, "description": "The file is a version the course already has, checked"},
        202: {
            "model": ProblemSetOut,
            "description": "Stored; its check (the code's solutions and mistakes run on their tests) is queued or "
            "running: `GET .../problem-sets/{set}?version=` reads it",
        },
    },
    openapi_extra=SET_FILE_BODY,
)
def upload_problem_set(
    runner: RunnerMember,
    sets: SetsDep,
    request: Request,
    response: Response,
    background: BackgroundTasks,
    text: Annotated[str, Depends(set_file_text)],
) -> ProblemSetOut:
    """Checks the file as `grader sets validate` does (schema, references, every probe variant
    solves, the set's own answer tests, its modules compile) and stores it as a new, immutable
    version named by a hash of its text; a file that does not validate changes nothing (422, each
    issue at its line). A set with code parts is then checked by a job, off the students' path:
    each code part's solution must pass its tests, and each declared mistake fail a visible one, on
    three draws. The reply is 202 with `check.status` `queued` (or `running`) until it is over;
    read it back with `GET .../problem-sets/{set}?version=`: `passed`, or `failed` with its issues
    at their lines. An assignment may use the version once its check passed. A version without
    code parts has passed at once: 201 (200 for a file the course already has). Sending the file
    of a version whose check failed checks it again. Checks are held to a budget of sandbox time
    per check and per instructor (429 past it, nothing stored)."""
    jobs = request.app.state.jobs
    uploaded = sets_service.upload(
        sets,
        course_id=runner.course,
        text=text,
        uploaded_by=runner.id,
        packages=request.app.state.settings.code_packages,
        limits=CheckLimits.of(request.app.state.settings),
        defer_check=jobs.defer_check,
    )
    if uploaded.started:
        jobs.check_started(background)
    response.status_code = uploaded.status_code
    versions = sets.course_versions(runner.course)[uploaded.problem_set.id]
    return sets_service.set_out(uploaded.problem_set, built_in=False, versions=versions, check=uploaded.check)


#: A set's version asked for in a query (its newest without one).
VersionQuery = Annotated[
    str | None, Query(max_length=sets_service.MAX_ID_LENGTH, description="A version; the newest without it.")
]


@router.get(
    "/problem-sets/{set_id}",
    response_model=ProblemSetOut,
    summary="One set the course may use, with its version's check",
    responses=errors(401, 403, 404, 422, 503, notes={404: "No such set (or version) for the course"}),
)
def get_problem_set(
    runner: RunnerMember,
    sets: SetsDep,
    set_id: str,
    version: VersionQuery = None,
) -> ProblemSetOut:
    """The set at `version` (its newest without one) and that version's `check`: poll it after an
    upload answered 202, until `status` is `passed` or `failed` (with its `issues`)."""
    return sets_service.course_set(sets, course_id=runner.course, set_id=set_id, version=version)


@router.get(
    "/problem-sets/{set_id}/preview",
    response_model=SetPreview,
    summary="Any variant of a set: its statements and reference answers",
    responses=errors(401, 403, 404, 422, 503, notes={404: "No such set (or version) for the course"}),
)
def preview_problem_set(
    runner: RunnerMember,
    sets: SetsDep,
    set_id: str,
    version: VersionQuery = None,
    student: Annotated[
        str | None,
        Query(
            max_length=sets_service.MAX_ID_LENGTH,
            description="A student's variant (as a new assignment would draw it).",
        ),
    ] = None,
    seed: Annotated[int | None, Query(ge=0, le=sets_service.MAX_SEED, description="The variant of this seed.")] = None,
    assignment: Annotated[
        str | None,
        Query(
            max_length=sets_service.MAX_ID_LENGTH,
            description="With `student`: that student's numbers in this assignment (drawn from its secret).",
        ),
    ] = None,
) -> SetPreview:
    """Before an assignment uses it: the statements and reference answers of the declared numbers,
    of the variant of `?seed=N`, or of `?student=ID` (drawn from the student's id, as
    `grader problems show SET --student ID` would); with `?assignment=A&student=ID`, the numbers
    that student has in that assignment, drawn from its own secret. Of a set with pools, a seed's or
    an assignment's student's problems alone (a student id without an assignment: every problem)."""
    return sets_service.preview(
        sets,
        course_id=runner.course,
        set_id=set_id,
        version=version,
        student=student,
        seed=seed,
        assignment_id=assignment,
    )


def _out(
    assignment: Terms,
    sets: Sets,
    attempts: int | None = None,
    extension: ExtensionRow | None = None,
    *,
    staff: bool,
    released: bool,
) -> AssignmentOut:
    """``staff`` see the variant secret (to reproduce a student's variant offline); students do not,
    and see their attempts used and extension instead; ``released``: whether answers are released
    (:func:`_released`)."""
    return AssignmentOut(
        course=assignment.course_id,
        id=assignment.id,
        title=assignment.title,
        problem_set=assignment.problem_set,
        set_version=assignment.set_version,
        due_at=assignment.due_at,
        opens_at=assignment.opens_at,
        closes_at=assignment.closes_at,
        published=assignment.published,
        archived_at=assignment.archived_at,
        max_attempts=assignment.max_attempts,
        release_answers=assignment.release_answers,
        grade_policy=assignment.grade_policy,
        late_penalty=assignment.late_penalty,
        grace_minutes=assignment.grace_minutes,
        time_limit=assignment.time_limit,
        practice=assignment.practice,
        category=assignment.category,
        feedback=assignment.feedback,
        access=access_out(assignment.access),
        answers_released=released,
        grades_released_at=assignment.grades_released_at,
        grades_released_parts=assignment.grades_released_parts or {},
        created_at=assignment.created_at,
        attempts_used=attempts,
        variant_secret=assignment.variant_secret if staff else None,
        extension=None
        if extension is None or not extension.granted  # (accommodations alone are no extension)
        else ExtensionOut(
            due_at=extension.due_at,
            max_attempts=extension.max_attempts,
            closes_at=extension.closes_at,
            extra_minutes=extension.extra_minutes,
        ),
    )


def access_out(stored: dict[str, Any] | None) -> AccessOut | None:
    """The rules as a reply shows them: whether there is a password, never its hash."""
    shown = AccessRules.of(stored).shown()
    return None if shown is None else AccessOut(**shown)


def _admitted(
    session: Session, request: Request, assignment: Terms, student: str, token: str, password: str | None
) -> bool:
    """Whether the assignment's access rules let the caller read its questions now (nothing bound:
    a read starts nothing)."""
    try:
        admit(session, terms=assignment, student_id=student, visitor=api_visitor(request, token, password), bind=False)
    except Refused:
        return False
    return True


def _started(session: Session, assignment: Terms, student: str) -> bool:
    found = read_clock(session, course_id=assignment.course_id, assignment_id=assignment.id, student_id=student)
    return found is not None


def _released(session: Session, terms: Terms, student: str | None) -> bool:
    """Whether the answers are released to ``student`` under their own ``terms`` (None: to every
    student, as staff are told)."""
    return answers_released(terms, standing(session, terms=terms, student_id=student))


@router.post(
    "/assignments",
    status_code=201,
    response_model=AssignmentOut,
    summary="Create an assignment",
    responses=errors(
        401,
        403,
        409,
        413,
        422,
        503,
        404,
        notes={
            409: "The id is taken in this course, or the set's version has not passed its check",
            422: "A field of the wrong shape, or an unknown problem set",
        },
    ),
)
def create_assignment(body: AssignmentCreate, runner: RunnerMember, sets: SetsDep) -> AssignmentOut:
    """A problem set with optional dates (it opens at `opens_at`; submissions after `due_at` are
    accepted until `closes_at`, marked late, and lose what the late penalty says), attempt limit,
    answer release rule, and whether it is published. Dates out of order, or answers released
    while late work is accepted, are refused (422) with the reason; a set version whose check has
    not passed (still running, or failed) is refused (409) with how it stands."""
    assignment = sets_service.create_assignment(sets, course_id=runner.course, created_by=runner.id, body=body)
    return _out(assignment, sets, staff=True, released=answers_released(assignment, without_extensions(assignment)))


@router.get(
    "/assignments",
    response_model=list[AssignmentOut],
    summary="The course's assignments",
    responses=errors(401, 403, 404, 422, 503, notes={403: "A student asking for the archived ones"}),
)
def list_assignments(
    member: MemberDep,
    session: SessionDep,
    sets: SetsDep,
    archived: Annotated[bool, Query(description="Staff: list the archived assignments too.")] = False,
) -> list[AssignmentOut]:
    """The course's assignments: for staff every one (drafts and those not open yet included; the
    archived with `?archived=true`); for a student those published and open, with the attempts
    used and their extensions."""
    if member.is_staff:
        listed = service.list_assignments(session, course_id=member.course, archived=archived)
        return [_out(a, sets, staff=True, released=_released(session, a, None)) for a in listed]
    if archived:
        raise Forbidden("Only staff see archived assignments.")
    listed = service.list_assignments(session, course_id=member.course, students=True)
    used = service.attempts_used(session, course_id=member.course, student_id=member.id)
    extended = service.student_extensions(session, course_id=member.course, student_id=member.id)
    return [
        _out(
            a,
            sets,
            used.get(a.id, 0),
            extended.get(a.id),
            staff=False,
            released=_released(session, with_extension(a, extended.get(a.id)), member.id),
        )
        for a in listed
    ]


def _detail(
    session: Session,
    assignment: Terms,
    sets: Sets,
    *,
    staff: bool,
    student: str | None,
    attempts: int | None = None,
    extension: ExtensionRow | None = None,
) -> AssignmentDetail:
    whole = problem_set_of(assignment, sets)
    problem_set = own_set(whole, assignment, student)
    variant = service.variant_of(problem_set, assignment, student)
    terms = with_extension(assignment, extension)
    released = _released(session, terms, None if staff else student)
    reference = service.reference_answers(problem_set, variant) if staff or released else None
    options_for = order_key(assignment, student)
    if reference is not None and not staff:  # a choice part's right options by the student's own letters
        reference = StudentLetters.of(problem_set, options_for).reference_shown(reference)
    return AssignmentDetail(
        **_out(assignment, sets, attempts, extension, staff=staff, released=released).model_dump(),
        variant=variant,
        drawn=drawn_ids(whole, assignment, student) if student is not None else None,
        max_score=service.max_score(problem_set),
        # (staff, of a student too, read the file's letters: those of the gradebook and the statistics)
        problems=service.statements(problem_set, variant, options_for, own_letters=not staff),
        reference=reference,
    )


@router.get(
    "/assignments/{assignment_id}",
    response_model=AssignmentDetail,
    summary="One assignment with the statements of the caller's variant",
    responses=errors(
        401,
        403,
        404,
        422,
        503,
        notes={403: "A student asking for another's variant", 404: "No such assignment, or no such student"},
    ),
)
def get_assignment(
    request: Request,
    member: MemberDep,
    assignment: AssignmentDep,
    session: SessionDep,
    sets: SetsDep,
    credentials: Credentials,
    student: Annotated[str | None, Query(max_length=64, description="Staff: show this student's variant.")] = None,
    password: ExamPassword = None,
) -> AssignmentDetail:
    """A student sees the statements of their own variant (of a timed assignment, once they have
    started it; of a set with pools, only the problems drawn for them, in their order), and the
    reference answers only once they are released. Staff see the declared numbers and every problem
    (or `?student=ID`'s variant and draw) with the reference answers."""
    if not member.is_staff:
        if student is not None and student != member.id:
            raise Forbidden("Students see only their own variant.")
        used = service.attempts_used(session, course_id=member.course, student_id=member.id).get(assignment.id, 0)
        extension = service.student_extensions(session, course_id=member.course, student_id=member.id)
        detail = _detail(
            session,
            assignment,
            sets,
            staff=False,
            student=member.id,
            attempts=used,
            extension=extension.get(assignment.id),
        )
        if assignment.time_limit is not None and not _started(session, assignment, member.id):
            # the questions of a timed assignment are read on its clock: answers prepared before the
            # start would make the limit meaningless
            return detail.model_copy(update={"problems": []})
        if not _admitted(session, request, assignment, member.id, token_of(credentials), password):
            # the exam room's: read only by a session its rules let in (not a locked one)
            return detail.model_copy(update={"problems": []})
        return detail
    if student is not None:
        service.require_student(session, course_id=member.course, student_id=student)
    return _detail(session, assignment, sets, staff=True, student=student)


@router.patch(
    "/assignments/{assignment_id}",
    response_model=AssignmentOut,
    summary="Change an assignment",
    responses=errors(
        401,
        403,
        404,
        409,
        413,
        422,
        503,
        notes={
            409: "The problem set of an assignment with submissions, or a version that has not passed its check",
            422: "A field of the wrong shape",
        },
    ),
)
def update_assignment(
    body: AssignmentUpdate, runner: RunnerMember, assignment: AssignmentDep, session: SessionDep, sets: SetsDep
) -> AssignmentOut:
    """Changes the fields sent (due date, attempt limit, answer release, grade policy, late penalty,
    title; another `version` of the set, after which `POST .../regrade` regrades with it; another
    set while nothing is submitted). A new due date or penalty applies to work already submitted
    too: lateness is reckoned from the terms as they are."""
    problem_set = None
    if body.problem_set is not None or body.version is not None:
        problem_set = sets_service.usable(sets, runner.course, body.problem_set or assignment.problem_set, body.version)
        require_secret(problem_set, assignment)
        sets.pin(problem_set)
    changed = service.update_assignment(
        session,
        course_id=runner.course,
        assignment_id=assignment.id,
        changes=body.changes(),
        problem_set=problem_set,
    )
    return _out(changed, sets, staff=True, released=_released(session, changed, None))


@router.delete(
    "/assignments/{assignment_id}",
    status_code=204,
    summary="Archive an assignment (nothing is deleted)",
    responses=errors(401, 403, 404, 422, 503),
)
def archive_assignment(runner: RunnerMember, assignment: AssignmentDep, session: SessionDep) -> Response:
    """Hidden from students from now on; its submissions, grades and LMS line items are kept, and
    `PATCH {"archived": false}` restores it. Archiving an archived assignment changes nothing."""
    service.archive_assignment(session, course_id=runner.course, assignment_id=assignment.id)
    return Response(status_code=204)


@router.put(
    "/assignments/{assignment_id}/extensions/{student_id}",
    response_model=ExtensionOut,
    summary="Grant one student an extension",
    responses=errors(401, 403, 404, 413, 422, 503, notes={404: "No such assignment, or no such student in the course"}),
)
def put_extension(
    body: ExtensionIn, staff: StaffMember, assignment: AssignmentDep, session: SessionDep, student_id: StudentIdPath
) -> ExtensionOut:
    """The student's own due date, attempt limit and/or close, in place of the assignment's
    (replacing an earlier extension), and/or `extra_minutes` on a timed assignment's clock (a clock
    running already ends later at once, never past the student's close). The attempt check, the late
    flag, the late penalty and the close follow it; without a close of its own, a due date past the
    assignment's close moves the student's close to it."""
    granted = service.set_extension(
        session,
        assignment=assignment,
        student_id=student_id,
        due_at=body.due_at,
        max_attempts=body.max_attempts,
        granted_by=staff.id,
        closes_at=body.closes_at,
        extra_minutes=body.extra_minutes,
    )
    return ExtensionOut(
        student=student_id,
        due_at=granted.due_at,
        max_attempts=granted.max_attempts,
        closes_at=granted.closes_at,
        extra_minutes=granted.extra_minutes,
    )


@router.delete(
    "/assignments/{assignment_id}/extensions/{student_id}",
    status_code=204,
    summary="Withdraw a student's extension",
    responses=errors(401, 403, 404, 422, 503, notes={404: "No such assignment, or no extension for the student"}),
)
def delete_extension(
    _staff: StaffMember, assignment: AssignmentDep, session: SessionDep, student_id: StudentIdPath
) -> Response:
    service.drop_extension(session, assignment=assignment, student_id=student_id)
    return Response(status_code=204)
