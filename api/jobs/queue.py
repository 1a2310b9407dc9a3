"""procrastinate's queue on PostgreSQL: the service defers, ``grader worker`` processes run.

procrastinate keeps the queue in the database the service already has (no broker to run), and
gives what a job must survive with: a ``lock`` per assignment (one of its jobs runs at a time),
retries, and worker heartbeats. A worker that dies (SIGKILL, a lost machine) stops beating; the
others then find its job among the stalled ones (``get_stalled_jobs``) and put it back in the
queue (``retry_job``), where the next free worker resumes it: the job code's done-markers make the
resumed run regrade only what the dead one had not committed (:mod:`api.jobs.run`).

Code parts go on a queue of their own (``code``: :data:`CODE_TASK`, one job per submission), taken
back from stalled workers the same way, so ``grader worker --queue code`` processes grade code on
machines of their own; the job code writes each result once (:mod:`api.code_runs.run`). The queue
is shared out per student (a lock per student, a priority by turn: :mod:`api.code_runs.shares`).

Instructors' set checks go on a third queue (``checks``: :data:`CHECK_TASK`, one job per check,
one instructor's at a time by a lock), run by a worker of their own inside each ``grader worker``
that takes the queue: one check at a time, in a sandbox of its own, never in a slot or a sandbox
of the code queue, so a student's code never waits behind an instructor's check
(:mod:`api.set_checks`).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Callable, Coroutine, Iterable
from datetime import datetime
from typing import Any

import psycopg
from procrastinate import App, JobContext, PsycopgConnector, RetryStrategy
from procrastinate import connector as queue_connector
from procrastinate import exceptions as queue_errors
from procrastinate.jobs import Job
from procrastinate.manager import JobManager
from sqlalchemy import Engine, make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from api.code_runs.run import CodeRuntime, run_code
from api.code_runs.shares import Placement
from api.jobs.names import CHECK_QUEUE, CODE_QUEUE, QUEUE, QUEUES
from api.jobs.run import Runtime, run_job
from api.set_checks.run import CheckRuntime, run_set_check

log = logging.getLogger("grader.jobs")

#: procrastinate's name of the task that runs a jobs row (on :data:`QUEUE`).
TASK = "grader.run_job"
#: The periodic task that sends grade passback's outbox (LTI).
LTI_TASK = "grader.send_lti_scores"
#: The queueing lock of the send task scheduled for a retry.
RETRY_LOCK = f"{LTI_TASK}:retry"
#: The task that runs a submission's code parts (on :data:`CODE_QUEUE`).
CODE_TASK = "grader.run_code"
#: The task that runs a set check (on :data:`CHECK_QUEUE`).
CHECK_TASK = "grader.check_set"
#: The task that removes finished jobs' rows (:func:`remove_finished_jobs`), every hour.
CLEANUP_TASK = "grader.remove_finished_jobs"
#: Hours a finished job's procrastinate row is kept: a week once succeeded, cancelled or aborted,
#: a month once failed (what an operator looks into).
KEPT_SUCCEEDED_HOURS, KEPT_FAILED_HOURS = 7 * 24, 30 * 24
#: Runs of a job whose database went away before it is marked failed (procrastinate counts from 0).
MAX_ATTEMPTS = 3
#: Seconds between a worker's heartbeats, and without one before its jobs are taken back.
HEARTBEAT_SECONDS = 10.0
STALLED_AFTER_SECONDS = 30.0


def conninfo(database_url: str) -> str:
    """The libpq URI of a SQLAlchemy PostgreSQL URL (``postgresql+psycopg://`` → ``postgresql://``)."""
    return make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)


def _retried(attempts: int) -> Any:
    def retried(error: BaseException) -> bool:
        return isinstance(error, DBAPIError) and error.connection_invalidated and attempts < MAX_ATTEMPTS

    return retried


#: What a worker is told once its LISTEN is in place (:class:`ListeningConnector`).
_LOOK_AGAIN = json.dumps({"type": "job_inserted"})


class ListeningConnector(PsycopgConnector):
    """procrastinate's connector, counting the notifications its worker is sent, and sending it one
    more each time its LISTEN is in place.

    A worker fetches jobs as it starts, then when a notification comes, else every polling
    interval (5 s). Two ways a job could wait for the poll (``bench/lti_passback.py``: in about one
    run in ten, every score of the run's first 5 s arrived together, 5 s after the first; the
    minute's send task, deferred as the worker started, waited, and its queueing lock refused the
    send tasks the service deferred meanwhile):

    - a job deferred before the LISTEN is in place notified nobody: the worker starts listening
      beside its first fetch and its periodic deferrer (and a lost listening connection is
      replaced). Told once the LISTEN is in place, the worker looks again;
    - a notification that comes while the worker fetches is forgotten: the worker clears its
      wake-up after the fetch. :class:`WakefulJobManager` looks again when the count moved.

    ``listening`` is called the first time the LISTEN is in place: the worker is then ready.
    (``_loop_notify`` runs right after the LISTEN statements; procrastinate is pinned to 3.10.)
    """

    def __init__(self, *, listening: Callable[[], None] | None = None, **options: Any) -> None:
        super().__init__(**options)
        self._listening = listening
        self.notified = 0

    async def _loop_notify(
        self,
        on_notification: queue_connector.Notify,
        connection: psycopg.AsyncConnection,
        timeout: float = queue_connector.LISTEN_TIMEOUT,
    ) -> None:
        async def counted(*, channel: str, payload: str) -> None:
            self.notified += 1
            await on_notification(channel=channel, payload=payload)

        await counted(channel="grader_listening", payload=_LOOK_AGAIN)
        if self._listening is not None:
            listening, self._listening = self._listening, None
            listening()
        await super()._loop_notify(on_notification=counted, connection=connection, timeout=timeout)


class WakefulJobManager(JobManager):
    """A fetch that found nothing while a notification came looks again (:class:`ListeningConnector`)."""

    def __init__(self, connector: ListeningConnector) -> None:
        super().__init__(connector)
        self.listener = connector

    async def fetch_job(self, queues: Iterable[str] | None, worker_id: int) -> Job | None:
        while True:
            notified = self.listener.notified
            job = await super().fetch_job(queues, worker_id)
            if job is not None or self.listener.notified == notified:
                return job


def make_queue(database_url: str, *, listening: Callable[[], None] | None = None) -> App:
    """The procrastinate app of a database, with the task that runs a jobs row. Opened only by
    workers: the service defers on its own connections (:func:`defer`). ``listening``: called once
    a worker of it listens for jobs (:class:`ListeningConnector`)."""
    connector = ListeningConnector(conninfo=conninfo(database_url), min_size=1, max_size=4, listening=listening)
    queue = App(connector=connector)
    queue.job_manager = WakefulJobManager(connector)

    @queue.task(
        name=TASK,
        queue=QUEUE,
        pass_context=True,
        # a connection lost mid-job: run again (the markers make it resume, not redo)
        retry=RetryStrategy(max_attempts=MAX_ATTEMPTS, wait=5, retry_exceptions={DBAPIError}),
    )
    def run(context: JobContext, job_id: int) -> str:
        runtime: Runtime = context.additional_context["runtime"]
        return run_job(runtime, job_id, retried=_retried(context.job.attempts))

    @queue.task(name=CODE_TASK, queue=CODE_QUEUE, pass_context=True)
    def run_code_task(context: JobContext, submission_id: int) -> str:
        """A submission's code parts run and written once (:func:`api.code_runs.run.run_code`): a
        worker that died midway leaves its job stalled, and the job runs again elsewhere."""
        code_runtime: CodeRuntime = context.additional_context["code_runtime"]
        return run_code(code_runtime, submission_id)

    @queue.task(name=CHECK_TASK, queue=CHECK_QUEUE, pass_context=True)
    def check_set_task(context: JobContext, job_id: int) -> str:
        """An uploaded set version's check (:func:`api.set_checks.run.run_set_check`): a worker that
        died midway leaves its job stalled, and the check runs again elsewhere, from the start."""
        check_runtime: CheckRuntime = context.additional_context["check_runtime"]
        return run_set_check(check_runtime, job_id)

    @queue.periodic(cron="* * * * *", periodic_id="lti-scores")
    @queue.task(name=LTI_TASK, queue=QUEUE, pass_context=True, queueing_lock=LTI_TASK)
    def send_lti_scores(context: JobContext, timestamp: int) -> None:
        """Every minute, and when deferred: the LMS's scores that are due (:func:`api.lti.ags.send_due`)
        and the line items' dates (:func:`api.lti.item_dates.send_dates`); then, if a retry falls due
        before the next minute, the task again at that time."""
        send = context.additional_context.get("send_lti_scores")
        retry_at = send() if send is not None else None
        if isinstance(retry_at, datetime):
            _schedule_retry(context.app, retry_at)

    @queue.periodic(cron="17 * * * *", periodic_id="finished-jobs")
    @queue.task(name=CLEANUP_TASK, queue=QUEUE, pass_context=True, queueing_lock=CLEANUP_TASK)
    async def remove_finished_jobs_task(context: JobContext, timestamp: int) -> None:
        await remove_finished_jobs(context.app.job_manager)

    return queue


async def remove_finished_jobs(jobs: JobManager) -> None:
    """Finished jobs' rows removed once old (:data:`KEPT_SUCCEEDED_HOURS`, :data:`KEPT_FAILED_HOURS`).
    procrastinate keeps every job it ran, and every submission's code is one: a term's deadlines
    left hundreds of thousands of rows (and their events) in the tables each fetch reads. What a job
    did stays in grader's own tables (results, ``jobs``); its queue row only said that it ran."""
    await jobs.delete_old_jobs(nb_hours=KEPT_SUCCEEDED_HOURS, include_cancelled=True, include_aborted=True)
    await jobs.delete_old_jobs(nb_hours=KEPT_FAILED_HOURS, include_failed=True)


def defer(queue: App, session: Session, job_id: int, lock: str) -> int:
    """The procrastinate job of a jobs row, deferred on the session's connection, so in its
    transaction; ``lock`` keeps one job per assignment running."""
    connection = session.connection().connection.driver_connection
    deferrer = queue.configure_task(TASK, allow_unknown=False, connection=connection, lock=lock, queueing_lock=lock)
    return deferrer.defer(job_id=job_id)


def defer_code(queue: App, session: Session, submission_id: int, placed: Placement) -> int:
    """The procrastinate job of a submission's code run (queued already in the session), deferred
    on the session's connection, so in its transaction. One at a time per student (a lock), by
    turn (a priority): :class:`api.code_runs.shares.Placement`. A second job for one submission,
    deferred by a regrade, runs after the first and finds what is left."""
    connection = session.connection().connection.driver_connection
    deferrer = queue.configure_task(
        CODE_TASK, allow_unknown=False, connection=connection, lock=placed.lock, priority=placed.priority
    )
    return deferrer.defer(submission_id=submission_id)


def defer_check(queue: App, session: Session, job_id: int, lock: str) -> int:
    """The procrastinate job of a set check's ``jobs`` row, deferred on the session's connection, so
    in its transaction; ``lock`` runs one instructor's checks one at a time."""
    connection = session.connection().connection.driver_connection
    deferrer = queue.configure_task(CHECK_TASK, allow_unknown=False, connection=connection, lock=lock)
    return deferrer.defer(job_id=job_id)


def wake_score_sender(queue: App, engine: Engine) -> None:
    """The LMS's scores sent now rather than at the next minute, from a service (whose procrastinate
    app is not open): the send task deferred on a connection of ``engine`` (procrastinate notifies
    the listening workers as it inserts). One not started yet is enough: its queueing lock refuses
    a second, which will find these scores too."""
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        driver = connection.connection.driver_connection
        deferrer = queue.configure_task(LTI_TASK, allow_unknown=False, connection=driver, queueing_lock=LTI_TASK)
        with contextlib.suppress(queue_errors.AlreadyEnqueued):
            deferrer.defer(timestamp=int(time.time()))


def _schedule_retry(queue: App, at: datetime) -> None:
    """The send task again ``at`` a retry's end, from a worker's round: under a lock of its own, so
    that it never holds back the task a new score defers."""
    deferrer = queue.configure_task(LTI_TASK, allow_unknown=False, queueing_lock=RETRY_LOCK, schedule_at=at)
    with contextlib.suppress(queue_errors.AlreadyEnqueued):
        deferrer.defer(timestamp=int(at.timestamp()))


def send_scores_soon(queue: App) -> None:
    """The send task deferred from inside a worker (whose procrastinate app is open), for the scores
    a job has just committed (a regrade's chunk, a sync); one waiting already is enough."""
    deferrer = queue.configure_task(LTI_TASK, allow_unknown=False, queueing_lock=LTI_TASK)
    with contextlib.suppress(queue_errors.AlreadyEnqueued):
        deferrer.defer(timestamp=int(time.time()))


async def take_back_stalled(queue: App, *, stalled_after: float, every: float) -> None:
    """Forever: the jobs of workers without a heartbeat for ``stalled_after`` s go back to the
    queue. Every worker does it; two at once on one job is harmless (the second finds it queued)."""
    while True:
        await asyncio.sleep(every)
        try:
            stalled = [
                job
                for task in (TASK, CODE_TASK, CHECK_TASK)
                for job in await queue.job_manager.get_stalled_jobs(
                    task_name=task, seconds_since_heartbeat=stalled_after
                )
            ]
            for job in stalled:
                with contextlib.suppress(queue_errors.ConnectorException):
                    await queue.job_manager.retry_job(job)
                    log.warning("job %s of a stalled worker is back in the queue", job.id)
        except queue_errors.ConnectorException:
            log.exception("could not look for stalled jobs")


async def work(
    queue: App,
    runtime: Runtime,
    *,
    concurrency: int = 1,
    heartbeat: float = HEARTBEAT_SECONDS,
    stalled_after: float = STALLED_AFTER_SECONDS,
    wait: bool = True,
    name: str = "grader-worker",
    send_lti_scores: Callable[[], datetime | None] | None = None,
    queues: Iterable[str] | None = None,
    code_runtime: CodeRuntime | None = None,
    check_runtime: CheckRuntime | None = None,
) -> None:
    """Runs jobs of ``queues`` until stopped (SIGINT, SIGTERM), or with ``wait=False`` until they
    are empty. ``code_runtime``: how this process grades code, which the ``code`` queue needs;
    ``check_runtime``: how it checks sets, which the ``checks`` queue needs (by default a worker
    runs every queue it can). Set checks run in a worker of their own, one at a time: the
    ``concurrency`` slots of the other queues are never taken by a check."""
    can = {CODE_QUEUE: code_runtime is not None, CHECK_QUEUE: check_runtime is not None}
    queues = list(queues) if queues is not None else [name for name in QUEUES if can.get(name, True)]
    for needed, what in ((CODE_QUEUE, "a code runtime"), (CHECK_QUEUE, "a check runtime")):
        if needed in queues and not can[needed]:
            raise ValueError(f"a worker of the {needed} queue needs {what}")
    others = [name for name in queues if name != CHECK_QUEUE]
    options: dict[str, Any] = {
        "wait": wait,
        "additional_context": {
            "runtime": runtime,
            "send_lti_scores": send_lti_scores,
            "code_runtime": code_runtime,
            "check_runtime": check_runtime,
        },
        "update_heartbeat_interval": heartbeat,
        "stalled_worker_timeout": stalled_after,
        "fetch_job_polling_interval": min(5.0, heartbeat),
    }
    async with queue.open_async():
        recovery = asyncio.create_task(take_back_stalled(queue, stalled_after=stalled_after, every=heartbeat))
        lanes = []
        if others:
            lanes.append(
                queue.run_worker_async(
                    queues=others, name=name, concurrency=concurrency, install_signal_handlers=wait, **options
                )
            )
        if CHECK_QUEUE in queues:
            lanes.append(
                queue.run_worker_async(
                    queues=[CHECK_QUEUE],
                    name=f"{name}-checks",
                    concurrency=1,
                    install_signal_handlers=wait and not others,
                    **options,
                )
            )
        try:
            await _together(lanes, wait=wait)
        finally:
            recovery.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await recovery


async def _together(lanes: list[Coroutine[Any, Any, None]], *, wait: bool) -> None:
    """The workers of a process run together. Without ``wait`` each ends once its queues are empty;
    with it the first (it has the signal handlers) ends on SIGTERM, and the others are then stopped
    as procrastinate stops a cancelled worker: its running jobs finish first."""
    tasks = [asyncio.create_task(lane) for lane in lanes]
    if not wait or len(tasks) == 1:
        await asyncio.gather(*tasks)
        return
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()
        results = await asyncio.gather(*tasks, return_exceptions=True)
    for result in results:
        if isinstance(result, BaseException) and not isinstance(result, asyncio.CancelledError):
            raise result
