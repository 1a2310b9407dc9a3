"""The job code's chunks (:mod:`api.jobs.run`): read, graded with no database connection, written.

Each test runs a regrade with :func:`run_job` on an engine of its own, as a runner does, and grades
its chunks with a function that watches (or meddles) and then grades as the product does
(``grade=``, the job code's seam): the grading sees the database from outside, at the moment it
runs. Nobody else runs these jobs: they are started without a procrastinate job, and the service's
own runner of this module's app is never woken.
"""

from __future__ import annotations

import dataclasses
import sqlite3
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine, delete, func, make_url, select, text, update
from sqlalchemy.orm import Session

from api.jobs.run import Runtime, run_job
from api.jobs.service import start_regrade
from api.kit.config import Settings
from api.kit.db import make_engine, make_sessionmaker, writer
from api.library.bank import Bank
from api.library.course_sets import Library
from api.lti.service import register_platform
from api.models import Assignment, EarlierGrade, Job, JobItem, LtiAccount, LtiContext, LtiScore, Role, Submission
from api.submissions.service import Regraded, StoredGrade, regrade
from api.terms.rows import Terms
from api.users.service import Caller
from harness.regrade import Stored, store_for_regrade
from problems.sets import ProblemSet


@pytest.fixture(scope="module")
def library(shared_bank: Bank) -> Library:
    return Library(shared_bank)


def _queued_regrade(engine: Engine, stored: Stored) -> int:
    """A regrade of the stored assignment, queued for nobody (no procrastinate job, no runner woken)."""
    with Session(engine) as session, session.begin():
        assignment = session.get(Assignment, (stored.course, stored.assignments[0]))
        assert assignment is not None
        caller = Caller(stored.owner, Role.INSTRUCTOR)
        return start_regrade(session, assignment=assignment, set_version=stored.new_version, caller=caller, defer=None)


@contextmanager
def _runner(settings: Settings, library: Library, name: str) -> Iterator[tuple[Runtime, Engine]]:
    """A runner's runtime on an engine of its own (its pool holds the job's connections only), whose
    PostgreSQL connections say ``name`` in ``pg_stat_activity``."""
    url = make_url(settings.database_url)
    if url.get_backend_name() == "postgresql":
        url = url.update_query_dict({"application_name": name})
    engine = make_engine(settings.model_copy(update={"database_url": url.render_as_string(hide_password=False)}))
    try:
        yield Runtime(make_sessionmaker(writer(engine)), library), engine
    finally:
        engine.dispose()


def _holds_the_database(settings: Settings, observer: Engine, name: str) -> bool:
    """Whether the runner ``name`` holds anything another writer would wait for, seen from outside:
    on SQLite the write lock (another connection cannot take it at once), on PostgreSQL an open
    transaction."""
    url = make_url(settings.database_url)
    if url.get_backend_name() == "sqlite":
        other = sqlite3.connect(str(url.database), timeout=0, isolation_level=None)
        try:
            other.execute("BEGIN IMMEDIATE")
            other.execute("ROLLBACK")
            return False
        except sqlite3.OperationalError:  # database is locked
            return True
        finally:
            other.close()
    with observer.connect() as connection:
        in_transaction = text(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = :name AND state <> 'idle'"
        )
        return bool(connection.scalar(in_transaction, {"name": name}))


def _earlier_grades(engine: Engine, job_id: int) -> dict[int, list[float]]:
    with Session(engine) as session:
        rows = session.execute(
            select(EarlierGrade.submission_id, EarlierGrade.score)
            .where(EarlierGrade.job_id == job_id)
            .order_by(EarlierGrade.id)
        )
        found: dict[int, list[float]] = {}
        for submission_id, score in rows:
            found.setdefault(submission_id, []).append(score)
        return found


def _progress(engine: Engine, job_id: int) -> tuple[str, int, int, int, int]:
    with Session(engine) as session:
        job = session.get_one(Job, job_id)
        markers = session.scalar(select(func.count()).select_from(JobItem).where(JobItem.job_id == job_id)) or 0
        return job.status, job.done, job.total, job.changed, markers


def _ids(engine: Engine, stored: Stored) -> list[int]:
    with Session(engine) as session:
        return list(session.scalars(select(Submission.id).where(Submission.course_id == stored.course).order_by("id")))


def test_no_connection_is_held_while_a_chunk_is_graded(engine, settings, library) -> None:
    """While a chunk is graded the runner has no connection checked out of its pool, and the
    database sees no transaction of it: on SQLite another writer takes the write lock at once."""
    stored = store_for_regrade(engine, submissions=5)
    job_id = _queued_regrade(engine, stored)
    name = f"runner-{uuid.uuid4().hex[:8]}"
    seen: list[tuple[int, int, bool]] = []
    with _runner(settings, library, name) as (runtime, own):

        def watched(problem_set: ProblemSet, assignment: Terms, chunk: Sequence[StoredGrade]) -> list[Regraded]:
            seen.append((len(chunk), own.pool.checkedout(), _holds_the_database(settings, engine, name)))
            return regrade(problem_set, assignment, chunk)

        assert run_job(runtime, job_id, chunk=2, grade=watched) == "done"
    assert seen == [(2, 0, False), (2, 0, False), (1, 0, False)]
    assert _progress(engine, job_id) == ("done", 5, 5, 5, 5)
    assert _earlier_grades(engine, job_id) == {i: [2.0] for i in _ids(engine, stored)}


def test_a_submission_written_since_its_chunk_was_read_is_read_and_graded_again(engine, settings, library) -> None:
    """A new grade written over one of the chunk's submissions while the chunk is graded (as a failed
    job's runner still at work could): the chunk's write is rolled back, the chunk read and graded
    again, and the grade the job replaces, kept as the earlier one, is the grade it found."""
    stored = store_for_regrade(engine, submissions=3)
    job_id = _queued_regrade(engine, stored)
    first, *_ = ids = _ids(engine, stored)
    chunks: list[list[int]] = []
    with _runner(settings, library, "meddled") as (runtime, _):

        def meddled(problem_set: ProblemSet, assignment: Terms, chunk: Sequence[StoredGrade]) -> list[Regraded]:
            chunks.append([submission.id for submission in chunk])
            if len(chunks) == 1:
                with Session(engine) as session, session.begin():
                    changed = {"score": 1.0, "graded_at": datetime.now(UTC)}
                    session.execute(update(Submission).where(Submission.id == first).values(changed))
            return regrade(problem_set, assignment, chunk)

        assert run_job(runtime, job_id, grade=meddled) == "done"
    assert chunks == [ids, ids]
    assert _progress(engine, job_id) == ("done", 3, 3, 3, 3)
    assert _earlier_grades(engine, job_id) == {first: [1.0]} | {i: [2.0] for i in ids[1:]}


def test_a_chunk_another_runner_wrote_while_it_was_graded_is_dropped(engine, settings, library) -> None:
    """Two runners of one job: the second runs the whole job while the first grades its first
    chunk; the first then writes nothing (its grading is wasted) and stops, and each submission is
    regraded once."""
    stored = store_for_regrade(engine, submissions=4)
    job_id = _queued_regrade(engine, stored)
    graded: list[int] = []
    with _runner(settings, library, "first") as (first, _), _runner(settings, library, "second") as (second, _):

        def overtaken(problem_set: ProblemSet, assignment: Terms, chunk: Sequence[StoredGrade]) -> list[Regraded]:
            graded.append(len(chunk))
            if len(graded) == 1:
                assert run_job(second, job_id, chunk=2) == "done"
            return regrade(problem_set, assignment, chunk)

        assert run_job(first, job_id, chunk=2, grade=overtaken) == "done"
    assert graded == [2]  # the first runner graded its first chunk, found the job done, and stopped
    assert _progress(engine, job_id) == ("done", 4, 4, 4, 4)
    assert _earlier_grades(engine, job_id) == {i: [2.0] for i in _ids(engine, stored)}


def test_a_submission_deleted_while_its_chunk_is_graded_is_left_out(engine, settings, library) -> None:
    """A submission gone (its student deleted, say) by the time its chunk is written gets no marker
    and no grade; the others are regraded, and the job ends done."""
    stored = store_for_regrade(engine, submissions=3)
    job_id = _queued_regrade(engine, stored)
    gone, *kept = _ids(engine, stored)
    with _runner(settings, library, "deleted") as (runtime, _):

        def deleting(problem_set: ProblemSet, assignment: Terms, chunk: Sequence[StoredGrade]) -> list[Regraded]:
            with Session(engine) as session, session.begin():
                session.execute(delete(Submission).where(Submission.id == gone))
            return regrade(problem_set, assignment, chunk)

        assert run_job(runtime, job_id, grade=deleting) == "done"
    assert _progress(engine, job_id) == ("done", 2, 3, 2, 2)
    assert _earlier_grades(engine, job_id) == {i: [2.0] for i in kept}


def test_a_runner_whose_job_was_marked_failed_while_it_graded_writes_nothing(engine, settings, library) -> None:
    """A job marked failed (by another runner of it) while a runner grades a chunk: the runner
    writes none of it and stops, so that it cannot write over the assignment's next regrade."""
    stored = store_for_regrade(engine, submissions=3)
    job_id = _queued_regrade(engine, stored)
    with _runner(settings, library, "failed") as (runtime, _):

        def failing(problem_set: ProblemSet, assignment: Terms, chunk: Sequence[StoredGrade]) -> list[Regraded]:
            with Session(engine) as session, session.begin():
                session.execute(update(Job).where(Job.id == job_id).values(status="failed", error="elsewhere"))
            return regrade(problem_set, assignment, chunk)

        assert run_job(runtime, job_id, grade=failing) == "failed"
    assert _progress(engine, job_id) == ("failed", 0, 3, 0, 0)
    assert _earlier_grades(engine, job_id) == {}


def test_a_chunk_that_changed_lms_students_scores_tells_the_sender_once_committed(engine, settings, library) -> None:
    """A regrade's changed scores go to the LMS as a request's do: after each chunk's commit that
    wrote passback rows, the runner's process tells its sender (and not for a chunk without)."""
    stored = store_for_regrade(engine, submissions=4, attempts=1)
    students = sorted({s for s in _students(engine, stored)})
    with Session(writer(engine)) as session, session.begin():
        platform = register_platform(
            session,
            name="LMS",
            issuer=f"https://lms-{uuid.uuid4().hex[:8]}.example.edu",
            client_id="1",
            auth_url="https://lms.example.edu/auth",
            token_url="https://lms.example.edu/token",
            jwks_url="https://lms.example.edu/jwks",
            deployments=["1"],
        )
        session.add(LtiContext(platform_id=platform.id, context_id="c1", course_id=stored.course))
        session.flush()
        for student in students[:2]:  # the first chunk's students came from the LMS, the second's did not
            session.add(LtiAccount(platform_id=platform.id, sub=f"sub-{student}", user_id=student))
    job_id = _queued_regrade(engine, stored)
    told: list[int] = []
    with _runner(settings, library, f"runner-{uuid.uuid4().hex[:8]}") as (runtime, _):
        counted = dataclasses.replace(runtime, scores_due=lambda: told.append(len(told)))
        assert run_job(counted, job_id, chunk=2) == "done"
    assert told == [0]
    with Session(engine) as session:
        rows = session.scalars(select(LtiScore.student_id).where(LtiScore.platform_id == platform.id)).all()
    assert sorted(rows) == students[:2]


def _students(engine: Engine, stored: Stored) -> list[str]:
    with Session(engine) as session:
        found = session.scalars(select(Submission.student_id).where(Submission.course_id == stored.course))
        return list(found)
