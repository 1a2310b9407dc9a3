"""The queues' figures an autoscaler reads (:func:`api.kit.metrics.watch_queues`): for each queue, the
jobs waiting or running and the age of the oldest waiting, read from the rows that are the queues'
truth on both databases: students' code runs (``code``, :class:`api.models.CodeRun`), background
jobs (``grader``, :class:`api.models.Job`: regrades, LMS syncs) and instructors' set checks
(``checks``, jobs of their own kind, run apart: :mod:`api.set_checks`). Two small aggregate
statements over rows that exist only while their work waits or runs."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from api.jobs.names import CHECK_QUEUE, CODE_QUEUE, QUEUE
from api.kit.metrics import QueueFigures
from api.models import CodeRun, CodeRunStatus, Job, JobKind, JobStatus

_WAITING_JOBS = (JobStatus.QUEUED.value, JobStatus.RUNNING.value)


def queue_figures(session: Session, *, now: datetime | None = None) -> QueueFigures:
    """``{queue: (jobs waiting or running, seconds the oldest waiting has waited)}``."""
    now = now or datetime.now(UTC)
    queued = CodeRun.status == CodeRunStatus.QUEUED.value
    runs, oldest_run = session.execute(select(func.count(), func.min(CodeRun.queued_at).filter(queued))).one()
    checks = Job.kind == JobKind.SET_CHECK.value
    waiting = Job.status == JobStatus.QUEUED.value
    jobs, oldest_job, checking, oldest_check = session.execute(
        select(
            func.count().filter(~checks),
            func.min(Job.created_at).filter(waiting, ~checks),
            func.count().filter(checks),
            func.min(Job.created_at).filter(waiting, checks),
        ).where(Job.status.in_(_WAITING_JOBS))
    ).one()
    return {
        CODE_QUEUE: (runs, _age(oldest_run, now)),
        QUEUE: (jobs, _age(oldest_job, now)),
        CHECK_QUEUE: (checking, _age(oldest_check, now)),
    }


def _age(since: datetime | None, now: datetime) -> float:
    if since is None:
        return 0.0
    if since.tzinfo is None:  # (an aggregate's value comes back as stored: SQLite's naive UTC)
        since = since.replace(tzinfo=UTC)
    return max(0.0, (now - since).total_seconds())


def reader(sessions: Callable[[], Session]) -> Callable[[], QueueFigures]:
    """What a scrape calls: the figures read in a session of their own (no transaction kept)."""

    def read() -> QueueFigures:
        with sessions() as session:
            return queue_figures(session)

    return read
