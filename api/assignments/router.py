"""``/problem-sets`` and ``/assignments``: what instructors set and students see."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from api.assignments import service
from api.assignments.schemas import AssignmentCreate, AssignmentDetail, AssignmentOut, ProblemSetOut
from api.assignments.service import Terms
from api.deps import AssignmentDep, BankDep, CurrentUser, InstructorUser, SessionDep, get_or_404, problem_set_of
from api.errors import Forbidden
from api.models import Role, User
from api.responses import errors
from api.users.service import Caller
from problems.sets import ProblemSet

router = APIRouter(tags=["assignments"])


@router.get(
    "/problem-sets",
    response_model=list[ProblemSetOut],
    summary="The problem bank",
    responses=errors(401, 403, 503),
)
def list_problem_sets(_instructor: InstructorUser, bank: BankDep) -> list[ProblemSetOut]:
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


def _out(assignment: Terms, bank: dict[str, ProblemSet], attempts: int | None = None, *, staff: bool) -> AssignmentOut:
    """``staff`` see the variant secret (to reproduce a student's variant offline); students do not."""
    found = bank.get(assignment.problem_set)
    return AssignmentOut(
        id=assignment.id,
        title=assignment.title,
        problem_set=assignment.problem_set,
        set_version=found.version if found else None,
        due_at=assignment.due_at,
        max_attempts=assignment.max_attempts,
        release_answers=assignment.release_answers,
        grade_policy=assignment.grade_policy,
        answers_released=service.answers_released(assignment),
        created_at=assignment.created_at,
        attempts_used=attempts,
        variant_secret=assignment.variant_secret if staff else None,
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
        notes={409: "The id is taken", 422: "A field of the wrong shape, or an unknown problem set"},
    ),
)
def create_assignment(
    body: AssignmentCreate, instructor: InstructorUser, session: SessionDep, bank: BankDep
) -> AssignmentOut:
    """A problem set with an optional due date (submissions after it are accepted and marked late),
    attempt limit and answer release rule."""
    assignment = service.create_assignment(
        session,
        bank=bank,
        created_by=instructor.id,
        assignment_id=body.id,
        problem_set=body.problem_set,
        title=body.title,
        due_at=body.due_at,
        max_attempts=body.max_attempts,
        release_answers=body.release_answers.value,
        grade_policy=body.grade_policy.value,
    )
    return _out(assignment, bank, staff=True)


@router.get(
    "/assignments",
    response_model=list[AssignmentOut],
    summary="The assignments the caller can see",
    responses=errors(401, 503),
)
def list_assignments(user: CurrentUser, session: SessionDep, bank: BankDep) -> list[AssignmentOut]:
    """Every assignment; for a student with the number of attempts used."""
    used = service.attempts_used(session, student=user) if user.role == Role.STUDENT else None
    staff = user.role != Role.STUDENT
    return [
        _out(a, bank, None if used is None else used.get(a.id, 0), staff=staff)
        for a in service.list_assignments(session)
    ]


def _detail(
    assignment: Terms, bank: dict[str, ProblemSet], user: Caller, student: str | None, attempts: int | None
) -> AssignmentDetail:
    problem_set = problem_set_of(assignment, bank)
    variant = service.variant_of(problem_set, assignment, student)
    show_reference = user.role == Role.INSTRUCTOR or service.answers_released(assignment)
    return AssignmentDetail(
        **_out(assignment, bank, attempts, staff=user.role != Role.STUDENT).model_dump(),
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
    user: CurrentUser,
    assignment: AssignmentDep,
    session: SessionDep,
    bank: BankDep,
    student: Annotated[
        str | None, Query(max_length=64, description="Instructors: show this student's variant.")
    ] = None,
) -> AssignmentDetail:
    """A student sees the statements of their own variant, and the reference answers only once
    they are released. An instructor sees the declared numbers (or `?student=ID`'s variant) with
    the reference answers."""
    if user.role == Role.STUDENT:
        if student is not None and student != user.id:
            raise Forbidden("Students see only their own variant.")
        used = service.attempts_used(session, student=user).get(assignment.id, 0)
        return _detail(assignment, bank, user, user.id, used)
    if student is not None:
        get_or_404(session, User, student, what="student")
    return _detail(assignment, bank, user, student, None)
