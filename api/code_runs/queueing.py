"""Queueing a submission's code parts: a :class:`api.models.CodeRun` row written in the transaction
that stores the submission (or regrades it against a new version), and on PostgreSQL the
procrastinate job that carries it to a code worker, deferred on the same connection: both are
committed, or neither. On SQLite the service's own runner is woken once the transaction commits
(the session is marked :data:`CODE_QUEUED`)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import Insert, Table, bindparam
from sqlalchemy.orm import Session

from api.code_runs.shares import Placement, student_of, turn_of
from api.kit.db import insert_of
from api.kit.statements import Prepared
from api.models import CodeRun, CodeRunStatus
from grader.results import Status

CODE_RUNS = cast(Table, CodeRun.__table__)

#: The key in a session's ``info`` of "this transaction queued code": the runner woken after commit.
CODE_QUEUED = "grader_code_queued"

#: Defers the procrastinate job of a submission's code run on the session's connection (PostgreSQL),
#: placed in its student's share of the queue.
Deferrer = Callable[[Session, int, Placement], object]

#: The statuses of a code part whose result is not written yet.
WAITING = frozenset({Status.QUEUED.value, Status.RUNNING.value})

#: What :func:`queue_run` writes of a run (the rest is read in its INSERT).
QUEUED = ("submission_id", "set_version", "status", "runs", "queued_at")


def _queueing(dialect: str) -> Insert:
    """:func:`queue_run`'s INSERT on the backend ``dialect``. Its student and turn are read in the
    INSERT itself (:mod:`api.code_runs.shares`), and returned: the job's placement, no statement
    more. A run queued again keeps its turn."""
    bound = {key: bindparam(key, type_=CODE_RUNS.c[key].type) for key in QUEUED}
    submission = bound["submission_id"]
    insert = insert_of(dialect, CODE_RUNS)
    insert = insert.values({**bound, "student_id": student_of(submission), "turn": turn_of(submission)})
    again = {key: insert.excluded[key] for key in QUEUED if key != "submission_id"}
    return insert.on_conflict_do_update(index_elements=["submission_id"], set_=again).returning(
        CODE_RUNS.c.student_id, CODE_RUNS.c.turn
    )


#: Built and compiled once per backend, as a code ``POST``'s statements are (:mod:`api.kit.statements`).
_QUEUEING = Prepared(_queueing)


def waiting_keys(parts: Mapping[str, Any]) -> list[str]:
    """The keys of the stored parts that wait for the sandbox (``queued`` or ``running``)."""
    return [key for key, part in parts.items() if isinstance(part, Mapping) and part.get("status") in WAITING]


def queue_run(session: Session, *, submission_id: int, set_version: str, defer: Deferrer | None) -> None:
    """The submission's code parts queued against ``set_version`` (flushed in the caller's
    transaction), with its student and its turn in the student's share of the queue
    (:mod:`api.code_runs.shares`). A run already queued or running is pointed at the new version:
    the runner that graded the old one then finds its row changed and writes nothing."""
    values = {
        "submission_id": submission_id,
        "set_version": set_version,
        "status": CodeRunStatus.QUEUED.value,
        "runs": 0,
        "queued_at": datetime.now(UTC),
    }
    if defer is None and session.get_bind().dialect.name != "sqlite":  # (refused before anything is written)
        raise RuntimeError("code queued on PostgreSQL without deferring its job: no worker would run it")
    [placed] = _QUEUEING.rows(session, values)
    if defer is not None:
        defer(session, submission_id, Placement.of(placed["student_id"], placed["turn"]))
    session.info[CODE_QUEUED] = True
