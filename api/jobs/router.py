"""Background jobs: starting a regrade, and ``GET /jobs/{id}``: how far a job got."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Path, Request

from api.deps import AssignmentDep, CurrentUser, RunnerMember, SessionDep, SetsDep, problem_set_of
from api.jobs.runners import JobRunners
from api.jobs.schemas import JobOut
from api.jobs.service import readable_job
from api.kit.responses import errors
from api.kit.schemas import JobStarted

router = APIRouter(tags=["jobs"])


@router.get(
    "/jobs/{job_id}",
    response_model=JobOut,
    summary="A background job: status and progress",
    responses=errors(401, 404, 422, 503),
)
def get_job(job_id: Annotated[int, Path()], user: CurrentUser, session: SessionDep) -> JobOut:
    """For who started it and the staff of its course (404 for anyone else). Poll it: `done` only
    grows, up to `total`; `status` ends `done`, or `failed` with the `error`."""
    job = readable_job(session, job_id=job_id, caller=user)
    return JobOut.model_validate(job)


@router.post(
    "/courses/{course_id}/assignments/{assignment_id}/regrade",
    status_code=202,
    response_model=JobStarted,
    summary="Regrade every submission against the pinned problem-set version, in the background",
    responses=errors(
        401,
        403,
        404,
        422,
        409,
        503,
        notes={409: "A regrade against another version of the set is not over yet"},
    ),
)
def regrade(
    runner: RunnerMember,
    assignment: AssignmentDep,
    session: SessionDep,
    sets: SetsDep,
    request: Request,
    background: BackgroundTasks,
) -> JobStarted:
    """After a problem set changed: each stored submission is graded again from its raw answers, by
    a background job (`GET /api/v1/jobs/{id}` shows its progress). A grade that changes is kept in
    the submission's `earlier_grades`. One regrade per assignment at a time: asked again while one
    is queued or running, the answer is that job's id (409 if the assignment moved to another
    version since that job was asked for: ask again once it is over)."""
    problem_set = problem_set_of(assignment, sets)
    jobs: JobRunners = request.app.state.jobs
    job_id = jobs.regrade(
        session, assignment=assignment, set_version=problem_set.version, caller=runner.caller, background=background
    )
    return JobStarted(job=job_id)
