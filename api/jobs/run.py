"""The job code, one function for both runners (``grader worker`` on PostgreSQL, the service's own
thread on SQLite): :func:`run_job`.

A regrade works in chunks, and grades holding no database connection (so no transaction, and on
SQLite not the write lock every submission waits for): each chunk is

1. read, in a short session of its own (the submissions' answers and current grades);
2. graded, with no session open (:func:`api.submissions.service.regrade`: computation only);
3. written, in one transaction: the chunk's rows locked, its done-markers (:class:`JobItem`)
   inserted with ``ON CONFLICT DO NOTHING RETURNING``, then the new grades (the old ones moved to
   ``earlier_grades``) of the submissions whose marker this transaction wrote, and ``done`` grown
   by as many.

The marker is what makes a job exactly-once whoever runs it: a job resumed after its runner died,
or even run by two runners at once, writes each submission's new grade only in the transaction
that wrote its marker (the second writer of a chunk waits for the first to commit, then wins no
marker: what it graded is dropped), and a runner killed before step 3 commits leaves nothing
behind. A grade is written only over the grade it was computed against: if a submission won in
step 3 is no longer as step 1 read it (only another regrade job writes grades, and only a failed
job's runner still at work can be one), the transaction is rolled back and the chunk read and
graded again. Step 3 first locks the job's row and writes nothing once the job is over (done by
another runner, or marked failed). ``done`` therefore only grows, and ends equal to ``total``.

The job covers the submissions stored when it was asked for (``last_submission``, ``total`` and
the set version are fixed then, :mod:`api.jobs.service`): later ones are graded on arrival.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast

import httpx
from sqlalchemy import Table, func, select
from sqlalchemy.orm import Session, sessionmaker

from api.code_runs.queueing import CODE_QUEUED, Deferrer
from api.kit import score_changes
from api.kit.db import SQLITE_WRITE, dialect_insert
from api.library.course_sets import Library
from api.lti.outbox import LMS_OUTBOX, SCORES_DUE
from api.lti.sync import run_sync
from api.models import Assignment, Job, JobItem, JobKind, JobStatus
from api.similarity.run import run_similarity
from api.submissions.service import (
    Regraded,
    StoredGrade,
    lock_for_regrade,
    regrade,
    store_regrades,
    submissions_to_regrade,
)
from api.terms.rows import Terms
from problems.sets import ProblemSet

log = logging.getLogger("grader.jobs")

JOBS, ITEMS = (cast(Table, m.__table__) for m in (Job, JobItem))

#: Submissions per chunk: large enough that a commit is cheap beside the grading, small enough that
#: the chunk's write holds SQLite's write lock only briefly (submissions wait for it).
CHUNK = 200
#: Rounds of "a submission changed while its chunk was graded: read and grade it again".
MAX_CHUNK_ROUNDS = 10
#: What an error message shown through the API is cut to.
MAX_ERROR = 2000


#: How a chunk is graded (:func:`api.submissions.service.regrade`; tests pass one that watches it).
Grade = Callable[[ProblemSet, Terms, Sequence[StoredGrade]], list[Regraded]]


class JobFailed(Exception):
    """A job that cannot succeed whatever the runner does (its set is gone): marked failed."""


class _ChangedMeanwhile(Exception):
    """A submission won by this chunk's write is no longer as its read saw it."""


class _Ended(Exception):
    """The job was ended by someone else (done by another runner, or marked failed) meanwhile."""

    def __init__(self, status: str) -> None:
        super().__init__(status)
        self.status = status


@dataclass(frozen=True)
class Runtime:
    """What the job code needs from the process that runs it: for an LTI sync, also the one HTTP
    client of calls to LMS platforms and the key that opens the tool's keys."""

    sessions: sessionmaker[Session]
    library: Library
    http: Callable[[], httpx.Client] | None = None
    lti_key: str | None = None
    #: Tells the process's LMS score sender that a job committed scores to send (its passback rows).
    scores_due: Callable[[], None] | None = None
    #: A regrade against a new version queues code parts again: their job deferred (PostgreSQL) ...
    defer_code: Deferrer | None = None
    #: ... or the service's own code runner woken once committed (SQLite).
    code_queued: Callable[[], None] | None = None

    def __post_init__(self) -> None:
        score_changes.listen("lms", LMS_OUTBOX)  # changed scores written by jobs go to the LMS too

    def committed(self, session: Session) -> None:
        """After a transaction of ``session`` committed: the sender told if it wrote scores."""
        if self.scores_due is not None and session.info.get(SCORES_DUE):
            self.scores_due()
        if self.code_queued is not None and session.info.get(CODE_QUEUED):
            self.code_queued()


def run_job(
    runtime: Runtime,
    job_id: int,
    *,
    chunk: int = CHUNK,
    stop: Callable[[], bool] = lambda: False,
    retried: Callable[[BaseException], bool] = lambda _: False,
    grade: Grade = regrade,
) -> str:
    """Runs (or resumes) the job to its end and returns its final status. An error is raised again
    after marking the job failed, unless the runner will run it again (``retried``: a database
    that went away, on a worker with attempts left). ``stop`` is asked between chunks: True leaves
    the job running, to be resumed (a service shutting down)."""
    try:
        with _reading(runtime) as session:
            kind = session.scalar(select(Job.kind).where(Job.id == job_id))
        if kind == JobKind.LTI_SYNC:
            if runtime.http is None:
                raise JobFailed("This process cannot reach LMS platforms (no HTTP client).")
            status = run_sync(runtime.sessions, runtime.http(), kek=runtime.lti_key, job_id=job_id)
            if runtime.scores_due is not None:
                runtime.scores_due()  # (every score of the course written again)
            return status
        if kind == JobKind.SIMILARITY:
            return run_similarity(runtime.sessions, runtime.library, job_id)
        with runtime.sessions.begin() as session:
            job = _claim(session, job_id)
        if job is None:
            return _status(runtime, job_id)
        with _reading(runtime) as session:
            problem_set = _problem_set(session, runtime.library, job)
        after = 0
        while not stop():
            last = _regrade_chunk(runtime, job, problem_set, chunk, after=after, grade=grade)
            if last is None:
                with runtime.sessions.begin() as session:
                    return _finish(session, job_id)
            after = last
        return JobStatus.RUNNING.value
    except _Ended as ended:
        return ended.status
    except Exception as error:
        if isinstance(error, JobFailed) or not retried(error):
            fail(runtime, job_id, error)
        raise


@contextmanager
def _reading(runtime: Runtime) -> Iterator[Session]:
    """A session for a short read, closed at the block's end (its connection back in the pool); on
    SQLite its transaction does not take the write lock."""
    with runtime.sessions() as session:
        session.connection(execution_options={SQLITE_WRITE: False})
        yield session


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


def _regrade_chunk(
    runtime: Runtime, job: _Claimed, problem_set: ProblemSet, chunk: int, *, after: int, grade: Grade
) -> int | None:
    """Regrades those of the next ``chunk`` submissions (by id, past ``after``) the job has not
    done; returns the last id looked at, None when none is left. Which ones are done is what the
    markers' insert says, not a join with them: such a join's plan goes wrong as the markers grow
    faster than the table's statistics (a nested loop over every marker for each submission)."""
    for _ in range(MAX_CHUNK_ROUNDS):
        with _reading(runtime) as session:
            submissions = submissions_to_regrade(
                session, assignment=job.assignment, after=after, last=job.last_submission, limit=chunk
            )
        if not submissions:
            return None
        regraded = grade(problem_set, job.assignment, submissions)  # no session open
        try:
            with runtime.sessions.begin() as session:
                _write_chunk(session, job, regraded, runtime.defer_code)
            runtime.committed(session)
        except _ChangedMeanwhile:
            log.warning("job %s: submissions after %s changed while graded; grading them again", job.id, after)
            continue
        return submissions[-1].id
    raise RuntimeError(f"the submissions after {after} kept changing while they were graded")


def _write_chunk(session: Session, job: _Claimed, regraded: list[Regraded], defer_code: Deferrer | None) -> None:
    """The new grades of the submissions whose marker this transaction writes, and the job's
    progress; :class:`_ChangedMeanwhile` (the caller rolls back) if one of them was written since
    it was read. A submission deleted meanwhile gets no marker: there is nothing left to regrade.

    The job's row is locked first, and nothing is written once the job is over (:class:`_Ended`):
    a runner that went on after its job was marked failed (by another runner of it) would otherwise
    write this job's grades over those of the assignment's next regrade, which may start then."""
    status = session.scalar(select(JOBS.c.status).where(JOBS.c.id == job.id).with_for_update(key_share=True))
    if status != JobStatus.RUNNING.value:
        raise _Ended(status or "gone")
    stamps = lock_for_regrade(session, ids=[new.submission.id for new in regraded])
    present = [new for new in regraded if new.submission.id in stamps]
    if not present:
        return
    mine = set(
        session.scalars(_mark(session), [{"job_id": job.id, "submission_id": new.submission.id} for new in present])
    )
    won = [new for new in present if new.submission.id in mine]
    if not won:
        return
    if any(stamps[new.submission.id] != new.submission.stamp for new in won):
        raise _ChangedMeanwhile
    store_regrades(session, regraded=won, job_id=job.id, defer_code=defer_code)
    # a changed score is what the job reports, and goes to the LMS the student came from, in this transaction
    changed = sum(new.score_changed for new in won)
    changed_students = {new.submission.student_id for new in won if new.score_changed}
    score_changes.changed_for(
        session, course_id=job.assignment.course_id, assignment_id=job.assignment.id, student_ids=changed_students
    )
    session.execute(
        JOBS.update().where(JOBS.c.id == job.id).values(done=JOBS.c.done + len(won), changed=JOBS.c.changed + changed)
    )


def _mark(session: Session) -> Any:
    """``INSERT INTO job_items ... ON CONFLICT DO NOTHING RETURNING submission_id``: the markers this
    transaction wrote (one already written, by this job before or by another runner, yields no row)."""
    return dialect_insert(session, ITEMS).on_conflict_do_nothing().returning(ITEMS.c.submission_id)


def _finish(session: Session, job_id: int) -> str:
    """The job marked done, unless someone else ended it first; its status."""
    done = session.scalar(select(func.count()).select_from(ITEMS).where(ITEMS.c.job_id == job_id)) or 0
    finished = session.scalar(
        JOBS.update()
        .where(JOBS.c.id == job_id, JOBS.c.status == JobStatus.RUNNING.value)
        .values(status=JobStatus.DONE.value, done=done, finished_at=datetime.now(UTC))
        .returning(JOBS.c.status)
    )
    return finished or session.scalar(select(JOBS.c.status).where(JOBS.c.id == job_id)) or "gone"


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
