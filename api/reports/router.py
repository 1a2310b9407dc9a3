"""``/gradebook`` and ``/stats``: for instructors only."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response

from api.deps import AssignmentDep, SessionDep, SetsDep, StaffMember
from api.kit.responses import errors
from api.reports import service
from api.reports.exports import answer_keys, gradebook_file
from api.reports.schemas import Gradebook, Stats

router = APIRouter(prefix="/courses/{course_id}", tags=["reports"])


@router.get(
    "/assignments/{assignment_id}/gradebook",
    response_model=Gradebook,
    summary="The gradebook: per student and key",
    responses={
        **errors(401, 403, 404, 422, 503),
        200: {
            "content": {
                "text/csv": {
                    "example": "student,name,email,attempts,attempt,late,days_late,raw_score,score,max_score,q1.a\r\n"
                }
            }
        },
    },
)
def gradebook(
    _staff: StaffMember,
    assignment: AssignmentDep,
    session: SessionDep,
    sets: SetsDep,
    format: Annotated[
        Literal["json", "csv", "canvas"],
        Query(description="`csv` for spreadsheets; `canvas`: a file Canvas's gradebook import takes as it is."),
    ] = "json",
) -> Gradebook | Response:
    """Every student of the course with the attempt that counts (best or last, as the assignment
    says), its score after any late penalty, and its score per key."""
    problem_set = sets.of(assignment)
    if format != "json":
        return gradebook_file(session, assignment=assignment, problem_set=problem_set, format=format).response()
    book = service.gradebook(session, assignment=assignment, keys=answer_keys(problem_set), problem_set=problem_set)
    return Gradebook.model_validate(book)


@router.get(
    "/assignments/{assignment_id}/stats",
    response_model=Stats,
    summary="Statistics per key",
    responses=errors(401, 403, 404, 422, 503),
)
def stats(
    _staff: StaffMember,
    assignment: AssignmentDep,
    session: SessionDep,
    sets: SetsDep,
    attempts: Annotated[
        Literal["all", "counted"],
        Query(description="`all` stored attempts, or only the one the gradebook `counted` per student (best or last)."),
    ] = "all",
) -> Stats:
    """Per key: submissions, mean score, share correct, the commonest wrong answers (as read; for a
    randomized set, by what they mean against each student's reference) and
    the number of answers each mistake code explains; over all stored attempts, or over one attempt
    per student with `?attempts=counted`."""
    problem_set = sets.of(assignment)
    keys = answer_keys(problem_set)
    return Stats.model_validate(
        service.statistics(
            session, assignment=assignment, keys=keys, counted=attempts == "counted", problem_set=problem_set
        )
    )
