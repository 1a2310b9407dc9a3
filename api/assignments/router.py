"""A course's problem sets, assignments and extensions: what instructors set and students see."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from api.assignments import service
from api.assignments.schemas import (
    AssignmentCreate,
    AssignmentDetail,
    AssignmentOut,
    AssignmentUpdate,
    ExtensionIn,
    ExtensionOut,
    ProblemSetOut,
)
from api.assignments.service import ExtensionRow, Terms
from api.deps import (
    AssignmentDep,
    BankDep,
    MemberDep,
    RunnerMember,
    SessionDep,
    StaffMember,
    StudentIdPath,
    problem_set_of,
)
from api.errors import Forbidden, NotFound
from api.ids import may_exist
from api.models import CourseRole, Membership
from api.responses import errors
from problems.sets import ProblemSet

router = APIRouter(prefix="/courses/{course_id}", tags=["assignments"])


@router.get(
    "/problem-sets",
    response_model=list[ProblemSetOut],
    summary="The problem sets the course may use (the built-in library)",
    responses=errors(401, 403, 404, 422, 503),
)
def list_problem_sets(_runner: RunnerMember, bank: BankDep) -> list[ProblemSetOut]:
    return [
        ProblemSetOut(
            id=s.id,
            title=s.title,
            version=s.version,
            randomized=s.randomized,
            source=s.source,
            keys=s.answer_keys(),
            max_score=service.max_score(s),
        )
        for s in bank.values()
    ]


def _out(
    assignment: Terms,
    bank: dict[str, ProblemSet],
    attempts: int | None = None,
    extension: ExtensionRow | None = None,
    *,
    staff: bool,
) -> AssignmentOut:
    """``staff`` see the variant secret (to reproduce a student's variant offline); students do not,
    and see their attempts used and extension instead."""
    found = bank.get(assignment.problem_set)
    return AssignmentOut(
        course=assignment.course_id,
        id=assignment.id,
        title=assignment.title,
        problem_set=assignment.problem_set,
        set_version=found.version if found else None,
        due_at=assignment.due_at,
        max_attempts=assignment.max_attempts,
        release_answers=assignment.release_answers,
        grade_policy=assignment.grade_policy,
        late_penalty=assignment.late_penalty,
        answers_released=service.answers_released(assignment),
        created_at=assignment.created_at,
        attempts_used=attempts,
        variant_secret=assignment.variant_secret if staff else None,
        extension=None
        if extension is None
        else ExtensionOut(due_at=extension.due_at, max_attempts=extension.max_attempts),
    )


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
        notes={409: "The id is taken in this course", 422: "A field of the wrong shape, or an unknown problem set"},
    ),
)
def create_assignment(
    body: AssignmentCreate, runner: RunnerMember, session: SessionDep, bank: BankDep
) -> AssignmentOut:
    """A problem set with an optional due date (submissions after it are accepted and marked late,
    and lose what the late penalty says), attempt limit and answer release rule."""
    assignment = service.create_assignment(
        session,
        bank=bank,
        course_id=runner.course,
        created_by=runner.id,
        assignment_id=body.id,
        problem_set=body.problem_set,
        title=body.title,
        due_at=body.due_at,
        max_attempts=body.max_attempts,
        release_answers=body.release_answers.value,
        grade_policy=body.grade_policy.value,
        late_penalty=None if body.late_penalty is None else body.late_penalty.model_dump(),
    )
    return _out(assignment, bank, staff=True)


@router.get(
    "/assignments",
    response_model=list[AssignmentOut],
    summary="The course's assignments",
    responses=errors(401, 404, 422, 503),
)
def list_assignments(member: MemberDep, session: SessionDep, bank: BankDep) -> list[AssignmentOut]:
    """Every assignment of the course; for a student with the attempts used and their extensions."""
    assignments = service.list_assignments(session, course_id=member.course)
    if member.is_staff:
        return [_out(a, bank, staff=True) for a in assignments]
    used = service.attempts_used(session, course_id=member.course, student_id=member.id)
    extended = service.student_extensions(session, course_id=member.course, student_id=member.id)
    return [_out(a, bank, used.get(a.id, 0), extended.get(a.id), staff=False) for a in assignments]


def _detail(
    assignment: Terms,
    bank: dict[str, ProblemSet],
    *,
    staff: bool,
    student: str | None,
    attempts: int | None = None,
    extension: ExtensionRow | None = None,
) -> AssignmentDetail:
    problem_set = problem_set_of(assignment, bank)
    variant = service.variant_of(problem_set, assignment, student)
    show_reference = staff or service.answers_released(assignment)
    return AssignmentDetail(
        **_out(assignment, bank, attempts, extension, staff=staff).model_dump(),
        variant=variant,
        max_score=service.max_score(problem_set),
        problems=service.statements(problem_set, variant),
        reference=service.reference_answers(problem_set, variant) if show_reference else None,
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
    member: MemberDep,
    assignment: AssignmentDep,
    session: SessionDep,
    bank: BankDep,
    student: Annotated[str | None, Query(max_length=64, description="Staff: show this student's variant.")] = None,
) -> AssignmentDetail:
    """A student sees the statements of their own variant, and the reference answers only once
    they are released. Staff see the declared numbers (or `?student=ID`'s variant) with the
    reference answers."""
    if not member.is_staff:
        if student is not None and student != member.id:
            raise Forbidden("Students see only their own variant.")
        used = service.attempts_used(session, course_id=member.course, student_id=member.id).get(assignment.id, 0)
        extension = service.student_extensions(session, course_id=member.course, student_id=member.id)
        return _detail(
            assignment, bank, staff=False, student=member.id, attempts=used, extension=extension.get(assignment.id)
        )
    if student is not None:
        _course_student(session, member.course, student)
    return _detail(assignment, bank, staff=True, student=student)


def _course_student(session: SessionDep, course_id: str, student_id: str) -> None:
    """404 unless ``student_id`` is a student of the course."""
    role = session.get(Membership, (course_id, student_id)) if may_exist(student_id) else None
    if role is None or role.role != CourseRole.STUDENT:
        raise NotFound(f"No student {student_id!r} in course {course_id!r}.")


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
        notes={409: "The problem set of an assignment with submissions", 422: "A field of the wrong shape"},
    ),
)
def update_assignment(
    body: AssignmentUpdate, runner: RunnerMember, assignment: AssignmentDep, session: SessionDep, bank: BankDep
) -> AssignmentOut:
    """Changes the fields sent (due date, attempt limit, answer release, grade policy, late penalty,
    title; the problem set while nothing is submitted). A new due date or penalty applies to work
    already submitted too: lateness is reckoned from the terms as they are."""
    changed = service.update_assignment(
        session, course_id=runner.course, assignment_id=assignment.id, bank=bank, changes=body.changes()
    )
    return _out(changed, bank, staff=True)


@router.put(
    "/assignments/{assignment_id}/extensions/{student_id}",
    response_model=ExtensionOut,
    summary="Grant one student an extension",
    responses=errors(401, 403, 404, 413, 422, 503, notes={404: "No such assignment, or no such student in the course"}),
)
def put_extension(
    body: ExtensionIn, staff: StaffMember, assignment: AssignmentDep, session: SessionDep, student_id: StudentIdPath
) -> ExtensionOut:
    """The student's own due date and/or attempt limit, in place of the assignment's (replacing an
    earlier extension). The attempt check, the late flag and the late penalty follow it."""
    granted = service.set_extension(
        session,
        assignment=assignment,
        student_id=student_id,
        due_at=body.due_at,
        max_attempts=body.max_attempts,
        granted_by=staff.id,
    )
    return ExtensionOut(student=student_id, due_at=granted.due_at, max_attempts=granted.max_attempts)


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
