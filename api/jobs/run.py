"""The job code, one function for both runners (``grader worker`` on PostgreSQL, the service's own
thread on SQLite): :func:`run_job`.

A regrade works in chunks, one transaction each: a chunk's done-markers (:class:`JobItem`), the
submissions' new grades and their earlier grades are committed together, and ``done`` grows by the
markers written. The markers are inserted first, with ``ON CONFLICT DO NOTHING RETURNING``: only
the submissions whose marker this transaction wrote are regraded, so a job resumed after its
runner died, or even run by two runners at once, regrades each submission exactly once (the second
inserter of a marker waits for the first to commit, then writes nothing). ``done`` therefore only
grows, and ends equal to ``total``.

The job covers the submissions stored when it was asked for (``last_submission``, ``total`` and
the set version are fixed then, :mod:`api.jobs.service`): later ones are graded on arrival.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import Table, func, select
from sqlalchemy.orm import Session, sessionmaker

from api.db import dialect_insert
from api.library import Library
from api.models import Assignment, Job, JobItem, JobStatus, Submission
from api.submissions.service import regrade_submissions
from problems.sets import ProblemSet

log = logging.getLogger("grader.jobs")

JOBS, ITEMS, SUBMISSIONS = (cast(Table, m.__table__) for m in (Job, JobItem, Submission))

#: Submissions per transaction: large enough that a commit is cheap beside the grading, small
#: enough that a chunk holds SQLite's write lock only briefly (submissions wait for it).
CHUNK = 200
#: What an error message shown through the API is cut to.
MAX_ERROR = 2000


class JobFailed(Exception):
    """A job that cannot succeed whatever the runner does (its set is gone): marked failed."""


@dataclass(frozen=True)
class Runtime:
    """What the job code needs from the process that runs it."""

    sessions: sessionmaker[Session]
    library: Library


def run_job(
    runtime: Runtime,
    job_id: int,
    *,
    chunk: int = CHUNK,
    stop: Callable[[], bool] = lambda: False,
    retried: Callable[[BaseException], bool] = lambda _: False,
) -> str:
    """Runs (or resumes) the job to its end and returns its final status. An error is raised again
    after marking the job failed, unless the runner will run it again (``retried``: a database
    that went away, on a worker with attempts left). ``stop`` is asked between chunks: True leaves
    the job running, to be resumed (a service shutting down)."""
    try:
        with runtime.sessions.begin() as session:
            job = _claim(session, job_id)
            if job is None:
                return _status(runtime, job_id)
            problem_set = _problem_set(session, runtime.library, job)
        after = 0
        while not stop():
            with runtime.sessions.begin() as session:
                last = _regrade_chunk(session, job, problem_set, chunk, after=after)
                if last is None:
                    _finish(session, job_id)
                    return JobStatus.DONE.value
                after = last
        return JobStatus.RUNNING.value
    except Exception as error:
        if isinstance(error, JobFailed) or not retried(error):
            fail(runtime, job_id, error)
        raise


def _status(runtime: Runtime, job_id: int) -> str:
    with runtime.sessions() as session:
        return session.scalar(select(JOBS.c.status).where(JOBS.c.id == job_id)) or "gone"


@dataclass(frozen=True)
class _Claimed:
    id: int
    assignment: Assignment
    last_submission: int
    set_version: str


def _claim(session: Session, job_id: int) -> _Claimed | None:
    """The job marked running; None if it is over (or gone with its assignment)."""
    job = session.get(Job, job_id, with_for_update=True)
    if job is None or job.status in (JobStatus.DONE, JobStatus.FAILED):
        return None
    assignment = session.get(Assignment, (job.course_id, job.assignment_id))
    assert assignment is not None  # (jobs are deleted with their assignment)
    job.status = JobStatus.RUNNING.value
    job.started_at = job.started_at or datetime.now(UTC)
    assert job.last_submission is not None and job.set_version is not None  # (fixed when asked for)
    return _Claimed(job.id, assignment, job.last_submission, job.set_version)


def _problem_set(session: Session, library: Library, job: _Claimed) -> ProblemSet:
    """The set the job grades with: the version the assignment pinned when the job was asked for."""
    found = library.version(session, job.set_version)
    if found is None:
        raise JobFailed(f"The problem set version {job.set_version} of this job is no longer available.")
    return found


def _regrade_chunk(session: Session, job: _Claimed, problem_set: ProblemSet, chunk: int, *, after: int) -> int | None:
    """Regrades those of the next ``chunk`` submissions (by id, past ``after``) the job has not
    done; returns the last id looked at, None when none is left. Which ones are done is what the
    markers' insert says, not a join with them: such a join's plan goes wrong as the markers grow
    faster than the table's statistics (a nested loop over every marker for each submission)."""
    assignment = job.assignment
    candidates = list(
        session.scalars(
            select(SUBMISSIONS.c.id)
            .where(
                SUBMISSIONS.c.course_id == assignment.course_id,
                SUBMISSIONS.c.assignment_id == assignment.id,
                SUBMISSIONS.c.id > after,
                SUBMISSIONS.c.id <= job.last_submission,
            )
            .order_by(SUBMISSIONS.c.id)
            .limit(chunk)
        )
    )
    if not candidates:
        return None
    mine = list(session.scalars(_mark(session), [{"job_id": job.id, "submission_id": s} for s in candidates]))
    changed = regrade_submissions(session, problem_set=problem_set, assignment=assignment, ids=mine, job_id=job.id)
    if mine:
        session.execute(
            JOBS.update()
            .where(JOBS.c.id == job.id)
            .values(done=JOBS.c.done + len(mine), changed=JOBS.c.changed + changed)
        )
    return candidates[-1]


def _mark(session: Session) -> Any:
    """``INSERT INTO job_items ... ON CONFLICT DO NOTHING RETURNING submission_id``: the markers this
    transaction wrote (one already written, by this job before or by another runner, yields no row)."""
    return dialect_insert(session, ITEMS).on_conflict_do_nothing().returning(ITEMS.c.submission_id)


def _finish(session: Session, job_id: int) -> None:
    done = session.scalar(select(func.count()).select_from(ITEMS).where(ITEMS.c.job_id == job_id)) or 0
    session.execute(
        JOBS.update()
        .where(JOBS.c.id == job_id, JOBS.c.status == JobStatus.RUNNING.value)
        .values(status=JobStatus.DONE.value, done=done, finished_at=datetime.now(UTC))
    )


def fail(runtime: Runtime, job_id: int, error: BaseException) -> None:
    """Marks the job failed with the error's message (best effort: the database may be what failed)."""
    message = str(error) if isinstance(error, JobFailed) else f"{type(error).__name__}: {error}"
    log.error("job %s failed: %s", job_id, message)
    try:
        with runtime.sessions.begin() as session:
            session.execute(
                JOBS.update()
                .where(JOBS.c.id == job_id, JOBS.c.status.in_([JobStatus.QUEUED.value, JobStatus.RUNNING.value]))
                .values(status=JobStatus.FAILED.value, error=message[:MAX_ERROR], finished_at=datetime.now(UTC))
            )
    except Exception:
        log.exception("job %s: could not record its failure", job_id)
