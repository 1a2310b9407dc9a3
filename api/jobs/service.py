"""Starting a job and reading one: the ``jobs`` row, and who may see it.

**One job of a kind per assignment at a time** (:func:`start_one`: a regrade, a similarity report).
A partial unique index allows one job that is not over (``queued`` or ``running``) per (kind,
assignment), and the job is inserted with ``INSERT ... ON
CONFLICT DO NOTHING`` on it: a second request while one is queued or running gets that job's id
(202 again), since that job regrades every stored submission anyway, unless the assignment was
moved to another version since that job was asked for: then 409, naming the job (ask again once
it is over). A job's scope is fixed when it is asked for: the submissions stored then (later ones
are graded on arrival) and the version the assignment pins then.

**Never a row without its queued job.** On PostgreSQL the procrastinate job that carries the row
to a worker is deferred on the request's own connection, inside the transaction that inserts the
row: both are committed, or neither.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Table, func, select, text
from sqlalchemy.orm import Session

from api.access import member_of
from api.deps import get_or_404
from api.kit.db import dialect_insert
from api.kit.errors import Conflict, NotFound
from api.models import ACTIVE_JOB, Job, JobKind, Submission
from api.terms.rows import Terms
from api.users.service import Caller

JOBS, SUBMISSIONS = (cast(Table, m.__table__) for m in (Job, Submission))

#: Defers the procrastinate job of a new jobs row on the session's connection; returns its id.
Deferrer = Callable[[Session, int, str], int]

#: Rounds of "another job is active, read its id" (it may finish in between: then insert again).
MAX_START_ROUNDS = 20


def lock_of(kind: str, course_id: str, assignment_id: str) -> str:
    """The name that keeps one job of a kind per assignment running at a time in procrastinate."""
    return f"{kind}:{course_id}:{assignment_id}"


@dataclass(frozen=True, slots=True)
class Started:
    """A job of an assignment: ``new`` (this request made it), or the one of its kind already queued
    or running, with the set version it runs against."""

    id: int
    new: bool
    set_version: str | None


def start_one(session: Session, values: dict[str, Any], *, defer: Deferrer | None) -> Started:
    """A new job (``values``: its row; deferred with ``defer`` on PostgreSQL, in this transaction),
    or the one of its kind already queued or running for its assignment: one at a time, held by
    the unique index on active jobs (a concurrent start's INSERT does nothing, and its id is read)."""
    kind, course_id, assignment_id = values["kind"], values["course_id"], values["assignment_id"]
    for _ in range(MAX_START_ROUNDS):
        job_id = session.execute(_insert_unless_active(session, values)).scalar()
        if job_id is not None:
            if defer is not None:
                queue_job_id = defer(session, job_id, lock_of(kind, course_id, assignment_id))
                session.execute(JOBS.update().where(JOBS.c.id == job_id).values(queue_job_id=queue_job_id))
            return Started(int(job_id), True, values.get("set_version"))
        active = session.execute(
            select(JOBS.c.id, JOBS.c.set_version).where(
                JOBS.c.kind == kind,
                JOBS.c.course_id == course_id,
                JOBS.c.assignment_id == assignment_id,
                text(ACTIVE_JOB),
            )
        ).first()
        if active is not None:  # (else it ended in between: insert again)
            return Started(int(active.id), False, active.set_version)
    raise RuntimeError(f"could not start or find the assignment's {kind} job")


def start_regrade(
    session: Session, *, assignment: Terms, set_version: str, caller: Caller, defer: Deferrer | None
) -> int:
    """The id of the assignment's regrade against ``set_version``: a new queued job (deferred with
    ``defer`` on PostgreSQL, in this transaction), or the one already queued or running."""
    scope = (SUBMISSIONS.c.course_id == assignment.course_id) & (SUBMISSIONS.c.assignment_id == assignment.id)
    last, total = session.execute(select(func.max(SUBMISSIONS.c.id), func.count()).where(scope)).one()
    values = {
        "kind": JobKind.REGRADE.value,
        "course_id": assignment.course_id,
        "assignment_id": assignment.id,
        "created_by": caller.id,
        "status": "queued",
        "done": 0,
        "changed": 0,
        "total": total,
        "last_submission": last or 0,
        "set_version": set_version,
    }
    started = start_one(session, values, defer=defer)
    if not started.new and started.set_version != set_version:
        raise Conflict(
            f"A regrade against version {started.set_version} is not over yet (job {started.id}); ask again when it is."
        )
    return started.id


def start_similarity(
    session: Session, *, assignment: Terms, set_version: str, caller: Caller | None, defer: Deferrer | None
) -> Started:
    """The assignment's similarity report job (:mod:`api.similarity.run`): a new one, or the one
    already queued or running, which compares what was asked first. ``caller`` None: started by the
    assignment's close (:mod:`api.jobs.similarity_due`)."""
    values = {
        "kind": JobKind.SIMILARITY.value,
        "course_id": assignment.course_id,
        "assignment_id": assignment.id,
        "created_by": caller.id if caller is not None else None,
        "status": "queued",
        "done": 0,
        "changed": 0,
        "total": 0,
        "set_version": set_version,
    }
    return start_one(session, values, defer=defer)


def start_lti_sync(session: Session, *, course_id: str, caller: Caller, defer: Deferrer | None) -> int:
    """The id of the course's LTI sync: the one queued or running, else a new one (deferred with
    ``defer`` on PostgreSQL, in this transaction)."""
    active = session.scalar(
        select(JOBS.c.id).where(JOBS.c.kind == JobKind.LTI_SYNC.value, JOBS.c.course_id == course_id, text(ACTIVE_JOB))
    )
    if active is not None:
        return int(active)
    values = {
        "kind": JobKind.LTI_SYNC.value,
        "course_id": course_id,
        "assignment_id": None,
        "created_by": caller.id,
        "status": "queued",
        "done": 0,
        "changed": 0,
        "total": 0,
    }
    job_id = int(session.execute(JOBS.insert().values(values).returning(JOBS.c.id)).scalar_one())
    if defer is not None:
        queue_job_id = defer(session, job_id, f"{JobKind.LTI_SYNC.value}:{course_id}")
        session.execute(JOBS.update().where(JOBS.c.id == job_id).values(queue_job_id=queue_job_id))
    return job_id


def _insert_unless_active(session: Session, values: dict[str, Any]) -> Any:
    return (
        dialect_insert(session, JOBS)
        .values(values)
        .on_conflict_do_nothing(index_elements=["kind", "course_id", "assignment_id"], index_where=text(ACTIVE_JOB))
        .returning(JOBS.c.id)
    )


def readable_job(session: Session, *, job_id: int, caller: Caller) -> Job:
    """The job, for who started it and the staff of its course; 404 for anyone else, who may not
    know the course exists."""
    job = get_or_404(session, Job, job_id, what="job")
    if job.created_by == caller.id:
        return job
    member = member_of(session, caller, job.course_id)
    if member is None or not member.is_staff:
        raise NotFound(f"No job {job_id!r}.")
    return job
