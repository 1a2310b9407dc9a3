"""Which runner a service has: on PostgreSQL it only defers (``grader worker`` runs), on SQLite it
runs the jobs itself (:class:`api.jobs.local.LocalRunner`), code parts included (a runner in a
process of its own, :mod:`api.jobs.code_runner_process`, judging in processes of their own:
:mod:`api.code_runs.judges`), and set checks in a runner and a sandbox of their own, which no
student's code waits for (:mod:`api.set_checks`)."""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import httpx
from sqlalchemy import Engine
from sqlalchemy.orm import Session
from starlette.background import BackgroundTasks

from api.access import Caller
from api.code_runs.queueing import Deferrer as CodeDeferrer
from api.code_runs.sandboxes import Sandboxes
from api.jobs.code_runner_process import CodeRunnerProcess
from api.jobs.local import LocalRunner
from api.jobs.run import Runtime
from api.jobs.service import Deferrer, start_lti_sync, start_regrade, start_similarity
from api.kit.config import Settings
from api.kit.db import make_sessionmaker, writer
from api.library.course_sets import Library
from api.models import JobKind
from api.set_checks.limits import CheckLimits
from api.set_checks.run import CheckRuntime, run_set_check
from api.set_checks.service import CheckDeferrer
from api.similarity.references import checked_references
from api.similarity.service import check_parts, record_asked
from api.terms.rows import Terms
from problems.sets import ProblemSet

#: Code runs a SQLite service grades at once (its runner's threads, each handing its run to a
#: judging process with a warm sandbox): one per core of the small machine such a service runs on.
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
    #: The service's own code runner (SQLite): a process of its own, which grades in processes of
    #: its own (each with warm sandboxes).
    code_runner: CodeRunnerProcess | None = None
    #: Defers a set check in the request's transaction (PostgreSQL: a worker's check lane runs it).
    defer_check: CheckDeferrer | None = None
    #: The service's own runner of set checks (SQLite), and the sandbox they run in: apart from the
    #: code runner's, so a check never holds a sandbox a student's code waits for.
    check_runner: LocalRunner | None = None
    check_sandboxes: Sandboxes | None = None

    def start(self) -> None:
        """At the service's start: the jobs, checks and code runs queued before a restart, and those it interrupted."""
        for runner in (self.runner, self.code_runner, self.check_runner):
            if runner is not None:
                runner.start()

    def stop(self) -> None:
        for runner in (self.runner, self.code_runner, self.check_runner):
            if runner is not None:
                runner.stop()
        if self.check_sandboxes is not None:
            self.check_sandboxes.close()

    def check_started(self, background: BackgroundTasks) -> None:
        """An upload started a set check: the service's own check runner looks once the response is
        sent, so after the request's commit (SQLite)."""
        if self.check_runner is not None:
            background.add_task(self.check_runner.wake)

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

    def similarity(
        self,
        session: Session,
        *,
        assignment: Terms,
        problem_set: ProblemSet,
        caller: Caller,
        parts: Sequence[str] | None,
        starter: str | None,
        background: BackgroundTasks,
        references: Sequence[Mapping[str, str | None]] | None = None,
    ) -> int:
        """The id of the assignment's similarity report job (a new one comparing ``parts``, the
        ``starter`` weighing nothing, against the earlier assignments ``references``; or the one
        not over yet), for the REST API and the pages alike."""
        check_parts(problem_set, parts)
        checked = checked_references(session, assignment=assignment, caller=caller, named=references)
        started = start_similarity(
            session, assignment=assignment, set_version=problem_set.version, caller=caller, defer=self.defer
        )
        if started.new:
            record_asked(
                session,
                assignment=assignment,
                job_id=started.id,
                caller=caller,
                parts=parts,
                starter=starter,
                references=checked,
            )
        if self.runner is not None:
            background.add_task(self.runner.wake)
        return started.id

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
    written: Callable[[int], None] | None = None,
) -> JobRunners:
    """``scores_due``: tells the service's own LMS score sender (SQLite) that a job or a code run
    wrote scores; ``written``: the submissions whose code results the service's own runner (SQLite) wrote."""
    if engine.dialect.name == "sqlite":
        sessions = make_sessionmaker(writer(engine))
        code_runner = CodeRunnerProcess(
            settings,
            library.bank.folder,
            bank_check_every=library.bank.check_every,
            threads=CODE_THREADS,
            written=written,
            scores_due=scores_due,
        )
        runtime = Runtime(
            sessions,
            library,
            http=http,
            lti_key=settings.lti_key,
            scores_due=scores_due,
            code_queued=code_runner.wake,
        )
        check_sandboxes = Sandboxes(size=1, packages=settings.code_packages, counted=False)
        checks = CheckRuntime(sessions, library, check_sandboxes.run, CheckLimits.of(settings))
        return JobRunners(
            defer=None,
            runner=LocalRunner.of_jobs(runtime),
            code_runner=code_runner,
            check_runner=LocalRunner(
                sessions,
                lambda job_id, stop: run_set_check(checks, job_id, stop=stop),
                kinds=(JobKind.SET_CHECK.value,),
                name="grader-set-checks",
            ),
            check_sandboxes=check_sandboxes,
        )
    # (procrastinate is imported by PostgreSQL services only)
    from api.jobs.queue import defer, defer_check, defer_code, make_queue, wake_score_sender

    queue = make_queue(settings.database_url)
    return JobRunners(
        defer=functools.partial(defer, queue),
        runner=None,
        wake_score_sender=functools.partial(wake_score_sender, queue, engine),
        defer_code=functools.partial(defer_code, queue),
        defer_check=functools.partial(defer_check, queue),
    )
