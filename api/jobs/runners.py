"""Which runner a service has: on PostgreSQL it only defers (``grader worker`` runs), on SQLite it
runs the jobs itself (:class:`api.jobs.local.LocalRunner`)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass

import httpx
from sqlalchemy import Engine
from sqlalchemy.orm import Session
from starlette.background import BackgroundTasks

from api.access import Caller
from api.config import Settings
from api.db import make_sessionmaker, writer
from api.jobs.local import LocalRunner
from api.jobs.run import Runtime
from api.jobs.service import Deferrer, start_lti_sync, start_regrade
from api.library import Library
from api.terms.rows import Terms


@dataclass(frozen=True)
class JobRunners:
    #: Defers a new job's procrastinate job in the request's transaction (PostgreSQL).
    defer: Deferrer | None
    #: The service's own runner (SQLite).
    runner: LocalRunner | None
    #: Wakes the workers' sender of LMS scores (PostgreSQL; on SQLite the service's own sender).
    wake_score_sender: Callable[[], None] | None = None

    def regrade(
        self, session: Session, *, assignment: Terms, set_version: str, caller: Caller, background: BackgroundTasks
    ) -> int:
        """The id of the assignment's regrade (:func:`start_regrade`: a new job, or the one not over
        yet), for the REST API and the pages alike. The service's own runner is woken once the
        response is sent, so after the request's commit: before it, the job is not there to run."""
        job_id = start_regrade(session, assignment=assignment, set_version=set_version, caller=caller, defer=self.defer)
        if self.runner is not None:
            background.add_task(self.runner.wake)
        return job_id

    def lti_sync(self, session: Session, *, course_id: str, caller: Caller, background: BackgroundTasks) -> int:
        """A new LTI sync of the course (:mod:`api.lti.sync`), or the one not over yet."""
        job_id = start_lti_sync(session, course_id=course_id, caller=caller, defer=self.defer)
        if self.runner is not None:
            background.add_task(self.runner.wake)
        return job_id


def job_runners(
    settings: Settings,
    engine: Engine,
    library: Library,
    *,
    http: Callable[[], httpx.Client] | None = None,
    scores_due: Callable[[], None] | None = None,
) -> JobRunners:
    """``scores_due``: tells the service's own LMS score sender (SQLite) that a job wrote scores."""
    if engine.dialect.name == "sqlite":
        runtime = Runtime(
            make_sessionmaker(writer(engine)), library, http=http, lti_key=settings.lti_key, scores_due=scores_due
        )
        return JobRunners(defer=None, runner=LocalRunner(runtime))
    # (procrastinate is imported by PostgreSQL services only)
    from api.jobs.queue import defer, make_queue, wake_score_sender

    queue = make_queue(settings.database_url)
    return JobRunners(
        defer=functools.partial(defer, queue),
        runner=None,
        wake_score_sender=functools.partial(wake_score_sender, queue, engine),
    )
