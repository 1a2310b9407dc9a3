"""``GET /metrics``: the service's figures in Prometheus's text format (:mod:`api.kit.metrics`), for
instructor and admin accounts' tokens (a scraper's own account); an operator who would rather not
give Prometheus a token serves them on a port of their own (``GRADER_METRICS_PORT``)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Response
from starlette.concurrency import run_in_threadpool

from api.access import Caller
from api.deps import CurrentUser
from api.kit import metrics
from api.kit.errors import Forbidden
from api.kit.responses import errors
from api.models import Role

router = APIRouter(tags=["operations"])


async def get_operator(user: CurrentUser) -> Caller:
    if user.role not in (Role.INSTRUCTOR, Role.ADMIN):
        raise Forbidden("Only instructor and admin accounts may read the service's metrics.")
    return user


@router.get(
    "/metrics",
    summary="The service's metrics in Prometheus's text format",
    response_class=Response,
    responses={200: {"content": {"text/plain": {}}}, **errors(401, 403, 503)},
    dependencies=[Depends(get_operator)],
)
async def get_metrics() -> Response:
    """`grader_queue_jobs{queue}` and `grader_queue_oldest_seconds{queue}` (read from the database:
    the same from every process), `grader_submissions_total`, `grader_graded_total{outcome}`,
    `grader_grading_seconds` (a histogram: from a submission's 201 to its code's results),
    `grader_sandboxes_busy`, `grader_refusals_total{reason}`."""
    body = await run_in_threadpool(metrics.exposition)
    return Response(body, media_type=metrics.CONTENT_TYPE)
