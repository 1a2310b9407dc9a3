"""``POST`` and ``GET C/assignments/A/similarity``: the similarity report, for the course's staff
only (anyone else gets 404, as if there were none)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Depends, Query, Request

from api.access import Member
from api.deps import AssignmentDep, MemberDep, SessionDep, SetsDep, problem_set_of
from api.kit.responses import errors
from api.kit.schemas import JobStarted
from api.similarity.schemas import SimilarityIn, SimilarityOut
from api.similarity.service import read_report, staff_or_not_found

router = APIRouter(tags=["reports"])
PATH = "/courses/{course_id}/assignments/{assignment_id}/similarity"


async def staff_only(member: MemberDep) -> Member:
    return staff_or_not_found(member)


SimilarityStaff = Annotated[Member, Depends(staff_only)]


@router.post(
    PATH,
    status_code=202,
    response_model=JobStarted,
    summary="Compute the assignment's similarity report, in the background",
    responses=errors(
        401,
        404,
        413,
        422,
        503,
        notes={
            404: "Not staff of the course, or a reference in a course you do not staff",
            422: "Not a code or written part, or an assignment with neither",
        },
    ),
)
def start(
    staff: SimilarityStaff,
    assignment: AssignmentDep,
    session: SessionDep,
    sets: SetsDep,
    request: Request,
    background: BackgroundTasks,
    body: SimilarityIn,
) -> JobStarted:
    """Each student's latest submission: its code parts fingerprinted once (a late one, when asked
    again, alone), then pairs ranked by what they share, weighed by rarity in the class; the
    starter code and the set's solutions count for nothing. One job per assignment at a time:
    asked again while one is queued or running, the answer is that job."""
    job_id = request.app.state.jobs.similarity(
        session,
        assignment=assignment,
        problem_set=problem_set_of(assignment, sets),
        caller=staff.caller,
        parts=body.parts,
        starter=body.starter,
        background=background,
        references=[reference.model_dump() for reference in body.references or ()],
    )
    return JobStarted(job=job_id)


@router.get(
    PATH,
    response_model=SimilarityOut,
    summary="The assignment's similarity report: pairs ranked by score, and clusters",
    responses=errors(401, 404, 422, 503),
)
def report(
    staff: SimilarityStaff,
    assignment: AssignmentDep,
    session: SessionDep,
    part: Annotated[str | None, Query(max_length=100, description="Only pairs sharing code in this part.")] = None,
) -> SimilarityOut:
    """Evidence for a person to judge, never a verdict: each pair's score, the tokens of code it
    shares, its rarest shared fragments, and the same rare mistakes. Who read it is logged."""
    return SimilarityOut.model_validate(read_report(session, assignment=assignment, caller=staff.caller, part=part))
