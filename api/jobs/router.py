"""``GET /jobs/{id}``: how far a background job got."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from api.deps import CurrentUser, SessionDep
from api.jobs.schemas import JobOut
from api.jobs.service import readable_job
from api.responses import errors

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
