"""Which runner a service has: on PostgreSQL it only defers (``grader worker`` runs), on SQLite it
runs the jobs itself (:class:`api.jobs.local.LocalRunner`), code parts included
(:class:`api.code_runs.local.LocalCodeRunner`)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass

import httpx
from sqlalchemy import Engine
from sqlalchemy.orm import Session
from starlette.background import BackgroundTasks

from api.access import Caller
from api.code_runs.grading import sandboxed
from api.code_runs.local import LocalCodeRunner
from api.code_runs.queueing import Deferrer as CodeDeferrer
from api.code_runs.run import CodeRuntime
from api.code_runs.sandboxes import Sandboxes
from api.code_runs.shares import CodeLimits
from api.jobs.local import LocalRunner
from api.jobs.run import Runtime
from api.jobs.service import Deferrer, start_lti_sync, start_regrade
from api.kit.config import Settings
from api.kit.db import make_sessionmaker, writer
from api.library.course_sets import Library
from api.terms.rows import Terms
from grader.code import Run

#: Code runs a SQLite service grades at once (threads, each with a warm sandbox): one per core of
#: the small machine such a service runs on.
CODE_THREADS = 2


@dataclass(frozen=True)
class JobRunners:
    #: Defers a new job's procrastinate job in the request's transaction (PostgreSQL).
    defer: Deferrer | None
    #: The service's own runner (SQLite).
    runner: LocalRunner | None
    #: Wakes the workers' sender of LMS scores (PostgreSQL; on SQLite the service's own sender).
    wake_score_sender: Callable[[], None] | None = None
    #: Defers a submission's code run in the request's transaction (PostgreSQL: a code worker runs it).
    defer_code: CodeDeferrer | None = None
    #: The service's own code runner (SQLite), and the process's warm sandboxes: the runner grades
    #: in them, and an upload's code solutions are checked in them (on PostgreSQL too).
    code_runner: LocalCodeRunner | None = None
    sandboxes: Sandboxes | None = None

    @property
    def check_code(self) -> Run | None:
        """How an uploaded set's code solutions are run (:func:`api.assignments.sets.upload`)."""
        return self.sandboxes.run if self.sandboxes is not None else None

    def start(self) -> None:
        """At the service's start: the jobs and code runs queued before a restart, and those it interrupted."""
        if self.runner is not None:
            self.runner.start()
        if self.code_runner is not None:
            self.code_runner.start()

    def stop(self) -> None:
        if self.runner is not None:
            self.runner.stop()
        if self.code_runner is not None:
            self.code_runner.stop()
        if self.sandboxes is not None:
            self.sandboxes.close()

    def code_queued(self) -> None:
        """A transaction that queued code committed: the service's own runner looks (SQLite)."""
        if self.code_runner is not None:
            self.code_runner.wake()

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
    scores_key: str | None = None,
    written: Callable[[int], None] | None = None,
) -> JobRunners:
    """``scores_due``: tells the service's own LMS score sender (SQLite) that a job wrote scores (a
    transaction marked ``scores_key``, for code runs); ``written``: the submissions whose code
    results the service's own runner (SQLite) wrote."""
    if engine.dialect.name == "sqlite":
        sessions = make_sessionmaker(writer(engine))
        sandboxes = Sandboxes(size=CODE_THREADS, packages=settings.code_packages)
        code = CodeRuntime(
            sessions,
            library,
            sandboxed(sandboxes),
            scores_due=scores_due,
            scores_key=scores_key,
            limits=CodeLimits.of(settings),
        )
        code_runner = LocalCodeRunner(code, threads=CODE_THREADS, written=written)
        runtime = Runtime(
            sessions,
            library,
            http=http,
            lti_key=settings.lti_key,
            scores_due=scores_due,
            code_queued=code_runner.wake,
        )
        return JobRunners(defer=None, runner=LocalRunner(runtime), code_runner=code_runner, sandboxes=sandboxes)
    # (procrastinate is imported by PostgreSQL services only)
    from api.jobs.queue import defer, defer_code, make_queue, wake_score_sender

    queue = make_queue(settings.database_url)
    return JobRunners(
        defer=functools.partial(defer, queue),
        runner=None,
        wake_score_sender=functools.partial(wake_score_sender, queue, engine),
        defer_code=functools.partial(defer_code, queue),
        # (started by the first upload of a set with code parts)
        sandboxes=Sandboxes(size=1, packages=settings.code_packages),
    )
