"""The application factory: ``create_app(settings)``; ``create_app_from_env`` for uvicorn workers."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from functools import partial
from typing import Any

import httpx
from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool
from starlette.middleware.gzip import GZipMiddleware

from api import pages
from api.accommodations.router import router as accommodations_router
from api.assignments.lms_dates import DATES_DUE
from api.assignments.router import router as assignments_router
from api.code_runs.queueing import CODE_QUEUED
from api.code_runs.watch import ResultWatch
from api.coursebook.router import router as coursebook_router
from api.courses.router import router as courses_router
from api.gate import GradingGate
from api.handgrading.router import router as grading_router
from api.jobs.router import router as jobs_router
from api.jobs.runners import job_runners
from api.jobs.similarity_due import reports_due
from api.kit import errors, metrics, score_changes
from api.kit.collector import collector_paused
from api.kit.compression import COMPRESSED
from api.kit.config import Settings
from api.kit.db import autocommit, make_engine, make_sessionmaker, writer
from api.kit.headers import SecurityHeaders
from api.kit.health import DatabaseHealth
from api.kit.limits import BodySizeLimit
from api.kit.quotas import GradingBudget
from api.kit.responses import RETRY_AFTER
from api.kit.routes import build_routes
from api.kit.schemas import HealthOut
from api.library.bank import Bank
from api.library.course_sets import Library
from api.lti.keysets import KeySets
from api.lti.outbox import LMS_OUTBOX, SCORES_DUE
from api.lti.router import router as lti_router
from api.lti.sender import ScoreSender, next_due, send_round
from api.operations.queues import reader as queue_reader
from api.operations.router import router as operations_router
from api.pages.lms import launch as lti_launch
from api.pages.lms import registration as lti_registration
from api.proctor.router import router as proctor_router
from api.reports.router import router as reports_router
from api.signin.mail_runner import mail_runner
from api.signin.router import router as signin_router
from api.similarity.router import router as similarity_router
from api.submissions.router import router as submissions_router
from api.timed.keeper import TimeKeeper
from api.timed.router import router as timed_router
from api.timed.sweep import TimeUp
from api.users.tokens import TokenUses
from api.users.usage import UseRecorder

#: How often a worker looks for changed set files (see :mod:`api.library.bank`).
BANK_CHECK_SECONDS = 1.0

#: The operations' groups in the OpenAPI document, in the order of a course's life.
TAGS = (
    *("courses", "assignments", "submissions", "reports", "grading", "jobs"),
    *("sign-in", "account", "lti", "health", "operations"),
)

DESCRIPTION = """
Grades convolutional-network homework on arrival.

Authenticate with `Authorization: Bearer TOKEN` (a token from `grader users create` or the
roster import; tokens are shown once and stored only as hashes).

One service holds many courses. Instructor accounts create courses and own them; the roster
import enrols students, TAs and instructors with a role per course. Everything of a course is
under `/api/v1/courses/{course_id}`, and a course the caller is not a member of answers 404, as
if it did not exist.

Errors are JSON `{"detail": ...}`: 401 without a valid token, 403 for the wrong role inside a
course or someone else's data, 404 for an unknown id or a course the caller is not in, 409 past
the attempt limit or for a taken id, 413 for an oversized body,
422 for a body of the wrong shape or answers that cannot be read, 429 (with `Retry-After`) past
a student's budget of grading work (previews and refused submissions count), 503 (with
`Retry-After`) while the database does not answer. Each operation lists the statuses it can answer, with the
schema of each body.
"""


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    runner, mail, uses = app.state.jobs.runner, app.state.mail, app.state.token_use_recorder
    uses.start()
    app.state.jobs.start()  # (SQLite) the jobs and code queued before a restart, and those it interrupted
    if runner is not None:
        app.state.lti_sender.start()  # on SQLite the service sends the LMS's scores itself
    if mail is not None:
        mail.start()  # the mails queued before a restart, and the retries due
    app.state.time_keeper.start()  # the clocks that ended while the service was down, first
    yield
    await run_in_threadpool(app.state.time_keeper.stop)
    if mail is not None:
        await run_in_threadpool(mail.stop)
    await run_in_threadpool(uses.stop)
    await run_in_threadpool(app.state.jobs.stop)
    if runner is not None:
        await run_in_threadpool(app.state.lti_sender.stop)
    app.state.lti_http.close()
    app.state.database_health.close()
    app.state.engine.dispose()


def create_app(settings: Settings | None = None, *, bank: Bank | None = None) -> FastAPI:
    settings = settings or Settings.from_env()
    # /docs is the pages' own, from vendored Swagger UI files (api/pages/accounts/docs.py); no ReDoc
    app = FastAPI(
        title="grader",
        version="1",
        description=DESCRIPTION,
        openapi_tags=[{"name": tag} for tag in TAGS],
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
    )
    engine = make_engine(settings)
    app.state.settings = settings
    app.state.engine = engine
    app.state.database_health = DatabaseHealth(engine)  # /health's own connection, no slot (api.kit.health)
    app.state.write_engine = writer(engine)
    app.state.autocommit_engine = autocommit(engine)
    app.state.sessionmaker = make_sessionmaker(engine)
    app.state.bank = bank or Bank(check_every=BANK_CHECK_SECONDS)
    app.state.library = Library(app.state.bank)
    # Every call to an LMS platform (its key set, its token, grade and roster services) goes through
    # this one client: tests replace it with one routed to a platform in the test process.
    app.state.lti_http = httpx.Client(timeout=httpx.Timeout(10.0), follow_redirects=False)
    # readers waiting for code results (GET /submissions/{id}?wait=S) are woken as they are written
    app.state.results = ResultWatch(app.state.autocommit_engine, slots=settings.db_slots)
    app.state.jobs = job_runners(
        settings,
        engine,
        app.state.library,
        http=lambda: app.state.lti_http,
        scores_due=lambda: app.state.lti_sender.wake(),
        written=app.state.results.written,
    )
    app.state.lti_keysets = KeySets(lambda: app.state.lti_http)
    sessions, reads = make_sessionmaker(app.state.write_engine), make_sessionmaker(app.state.autocommit_engine)

    def scores_due() -> datetime | None:
        with reads() as db:
            return next_due(db)

    app.state.lti_sender = ScoreSender(
        lambda: send_round(sessions, app.state.lti_http, kek=settings.lti_key, reads=reads), due=scores_due
    )
    # changed scores go to the LMS (api.kit.score_changes); a transaction that wrote LMS scores tells
    # their sender as it commits (api.lti.outbox)
    score_changes.listen("lms", LMS_OUTBOX)
    wake = app.state.jobs.wake_score_sender or app.state.lti_sender.wake
    app.state.after_commit = {SCORES_DUE: wake, DATES_DUE: wake}
    if app.state.jobs.code_runner is not None:  # (on PostgreSQL the job's defer told the workers: no hop more)
        app.state.after_commit[CODE_QUEUED] = app.state.jobs.code_queued
    # what the queues hold, read from the database at each scrape of the metrics (api.kit.metrics)
    metrics.watch_queues(queue_reader(reads))
    # timed assignments: each clock's draft submitted at its end, by the service on both databases;
    # in the same rounds, an assignment's similarity report started once it has closed
    runner = app.state.jobs.runner
    similarity_due = partial(
        reports_due,
        sessions,
        reads=reads,
        library=app.state.library,
        defer=app.state.jobs.defer,
        wake=runner.wake if runner is not None else None,
    )
    app.state.time_keeper = TimeKeeper(
        TimeUp(
            sessions=sessions,
            reads=reads,
            library=app.state.library,
            defer_code=app.state.jobs.defer_code,
            after_commit=lambda: app.state.after_commit,
        ),
        after=[similarity_due],
    )
    app.state.mail = mail_runner(settings, app.state.write_engine, app.state.autocommit_engine)
    app.state.token_uses = TokenUses()
    app.state.grading_budget = GradingBudget()  # each account's share of the grading (api.kit.quotas)
    app.state.token_use_recorder = UseRecorder(app.state.token_uses, writer(engine))
    errors.install(app)

    api = APIRouter(prefix="/api/v1")
    # The routers' paths do not overlap, so their order decides only how many routes a request is
    # matched against before its own: submissions, the busiest, first (bench/service.py). The
    # document lists the tags in the order of the course's life (TAGS), whatever the routers'.
    routers = (
        *(submissions_router, courses_router, assignments_router, reports_router, coursebook_router),
        *(grading_router, jobs_router, timed_router, accommodations_router, proctor_router),
        similarity_router,
    )
    for router in (*routers, signin_router, lti_router):
        api.include_router(router)
    app.include_router(api)
    app.include_router(operations_router)  # GET /metrics (api.operations)
    pages.install(app)
    app.include_router(lti_launch.router)
    app.include_router(lti_registration.router)

    @app.get(
        "/health",
        tags=["health"],
        summary="Liveness and database check",
        response_model=HealthOut,
        responses={503: {"model": HealthOut, "description": "The database does not answer", "headers": RETRY_AFTER}},
    )
    async def health(request: Request) -> Any:
        """`{"status": "ok", "database": "ok"}`; 503 with `"database": "unavailable"` when the
        database does not answer."""
        # No database slot and no pooled connection: at a deadline every slot may be held for
        # seconds, and a balancer's health check must not queue behind them (api.kit.health)
        reachable = await request.app.state.database_health.answers()
        if not reachable:
            headers = {"Retry-After": str(errors.RETRY_AFTER_SECONDS)}
            return JSONResponse({"status": "degraded", "database": "unavailable"}, status_code=503, headers=headers)
        return {"status": "ok", "database": "ok"}

    # A large reply (a big course's gradebooks as JSON or CSV) travels compressed to a caller that
    # accepts it (api.kit.compression); the body limit applies before routing or parsing, and a caller
    # past its budget of grading work is refused before even that (api.gate); the security headers go
    # on every response, its 413 and 429 included (the 500 of an unexpected error gets them from its
    # handler, api/kit/errors.py).
    app.add_middleware(GZipMiddleware, **COMPRESSED)
    app.add_middleware(BodySizeLimit, limit=settings.max_body_bytes)
    app.add_middleware(GradingGate)
    app.add_middleware(SecurityHeaders)  # outermost: added last
    return app


def create_app_from_env() -> FastAPI:
    """For ``uvicorn --factory api.app:create_app_from_env`` (each worker process builds its own).

    The app and what it loads (the problem bank) live as long as the process: they are made with
    the collector paused and frozen out of it (:mod:`api.kit.collector`). Every route's request
    handling is built here too (:func:`api.kit.routes.build_routes`), before the process listens,
    rather than by its first request; the grouping's and the similarity's numerical libraries are
    imported by the first grouping or report that needs them (:func:`api.kit.collector.prepared_once`).
    """
    with collector_paused():
        app = create_app(Settings.from_env())
        build_routes(app)
    return app
