"""The code queue shared out per student, so that one student's runs never hold every sandbox.

An attack showed why: the queue was first in, first out, and a module whose functions only
``time.sleep`` uses no CPU, so no CPU budget saw it. One student queued ten submissions that each
held a sandbox 171 s (17 calls of 10 s), and another student's right answer, graded in 0.6 s
otherwise, still waited a minute later. Three rules, the same on both databases:

- **One run per student at a time, taken by turn.** A run is not taken while another run of its
  student is under way; and each run carries its *turn*, how many runs of its student were waiting
  when it was queued, so the runners take the lowest turn first, then the oldest: another
  student's first run goes before a student's second, whatever came first. On SQLite the service's
  runner picks the next run with :func:`next_run`; on PostgreSQL each run's procrastinate job is
  deferred with a ``lock`` per student (procrastinate runs a lock's jobs one at a time, in order)
  and a priority of minus its turn (:class:`Placement`).
- **A few queued at most** (:attr:`CodeLimits.queued`): a submission with code to run past it is
  refused with 429 before anything is stored (:func:`api.code_runs.budget.check_share`), so a
  flood is refused rather than queued for everybody to wait behind.
- **A budget of sandbox wall time** per student and assignment (:mod:`api.code_runs.budget`).
"""

from __future__ import annotations

import functools
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, cast

from sqlalchemy import Table, and_, exists, func, select, text
from sqlalchemy.orm import Session

from api.kit.config import Settings
from api.kit.errors import TooManyRequests
from api.kit.statements import Prepared
from api.models import CodeRun, CodeRunStatus, Submission

CODE_RUNS = cast(Table, CodeRun.__table__)
SUBMISSIONS = cast(Table, Submission.__table__)

#: Seconds a student refused for too many queued runs is told to wait: a run takes about a second
#: when the queue is not busy, so one of theirs is likely written by then.
QUEUED_RETRY_AFTER = 10


@dataclass(frozen=True)
class CodeLimits:
    """The share of the code queue one student gets (defaults: :class:`api.kit.config.Settings`')."""

    #: Runs of one student queued or running at once.
    queued: int = 3
    #: Sandbox wall seconds a student's code may use on one assignment per ``window``.
    seconds: float = 120.0
    window: timedelta = timedelta(minutes=60)

    @classmethod
    def of(cls, settings: Settings) -> CodeLimits:
        return cls(
            queued=settings.code_queued_per_student,
            seconds=settings.code_seconds,
            window=timedelta(minutes=settings.code_window_minutes),
        )


@functools.cache
def configured() -> CodeLimits:
    """The limits the process's environment sets (``GRADER_CODE_*``, as the service's settings
    read them), for the callers that are handed none (the pages' form, the demo)."""
    return CodeLimits.of(Settings.from_env())


def waiting(student: Any) -> Any:
    """The student's runs queued or running (a scalar subquery: one indexed count); ``student``:
    their id, or a scalar subquery that reads it."""
    return select(func.count()).select_from(CODE_RUNS).where(CODE_RUNS.c.student_id == student).scalar_subquery()


#: Compiled once, as every statement of a code ``POST`` is (:mod:`api.kit.statements`).
_HOLD = Prepared(text("SELECT pg_advisory_xact_lock(hashtext(:key))").columns())


def hold_queueing(session: Session, *, student_id: str) -> None:
    """Holds the student's queueing until the transaction ends (PostgreSQL: an advisory lock;
    SQLite's writer holds the database already), so two submissions at once cannot both take the
    last place. A statement of its own: the next one's snapshot is taken after the lock is held,
    and sees the runs the transaction that held it before had queued."""
    if session.get_bind().dialect.name == "postgresql":
        _HOLD.rows(session, {"key": f"grader-code:{student_id}"})


def refuse_past_queue(count: int, limits: CodeLimits) -> None:
    """Refuses (429, ``Retry-After``) a submission that would queue one run more than the student
    may have, ``count`` (:func:`waiting`) being theirs."""
    if count >= limits.queued:
        raise TooManyRequests(
            f"Not submitted (no attempt used): you have {count} code runs waiting for the sandbox, the most "
            f"one student may have; submit again once one of them is graded (in about {QUEUED_RETRY_AFTER} s).",
            retry_after=QUEUED_RETRY_AFTER,
        )


def turn_of(submission_id: Any) -> Any:
    """The turn of a run queued now for the submission: its student's runs waiting (a scalar
    subquery, read in the INSERT that queues it); ``submission_id``: a value or a bound parameter."""
    return waiting(student_of(submission_id))


def student_of(submission_id: Any) -> Any:
    """The submission's student (a scalar subquery); ``submission_id``: a value or a bound parameter."""
    return select(SUBMISSIONS.c.student_id).where(SUBMISSIONS.c.id == submission_id).scalar_subquery()


@dataclass(frozen=True, slots=True)
class Placement:
    """The procrastinate ``lock`` and ``priority`` of a queued run (PostgreSQL): one lock per
    student (one job of theirs at a time, in priority then id order) and minus its turn
    (procrastinate takes the highest priority first)."""

    lock: str
    priority: int

    @classmethod
    def of(cls, student_id: str, turn: int) -> Placement:
        return cls(f"code-student:{student_id}", -turn)


def next_run(
    session: Session, *, taken: Mapping[int, str], skip: Collection[int], resume: bool
) -> tuple[int, str] | None:
    """The run the service's runner takes next (SQLite), with its student: at the start a run a
    restart interrupted (``running``), oldest first; else the queued run of lowest turn, then
    oldest, of a student with no run under way (``taken`` by this runner's threads: submission →
    student; or ``running`` in the database, for another process on the same file). ``skip``:
    runs this runner took or failed on."""
    columns = CODE_RUNS.c
    order = (columns.queued_at, columns.submission_id)
    excluded = columns.submission_id.not_in(list(skip)) if skip else None
    if resume:
        query = select(columns.submission_id, columns.student_id).where(columns.status == CodeRunStatus.RUNNING.value)
        query = query.where(excluded) if excluded is not None else query
        found = session.execute(query.order_by(*order).limit(1)).first()
        if found is not None:
            return found.submission_id, found.student_id
    other = CODE_RUNS.alias("other")
    under_way = [other.c.student_id == columns.student_id, other.c.status == CodeRunStatus.RUNNING.value]
    if skip:  # (a run this runner failed on stays ``running`` until the next start: not under way)
        under_way.append(other.c.submission_id.not_in(list(skip)))
    busy = exists().where(and_(*under_way))
    query = select(columns.submission_id, columns.student_id).where(columns.status == CodeRunStatus.QUEUED.value, ~busy)
    if excluded is not None:
        query = query.where(excluded)
    if taken:
        query = query.where(columns.student_id.not_in(sorted(set(taken.values()))))
    found = session.execute(query.order_by(columns.turn, *order).limit(1)).first()
    return None if found is None else (found.submission_id, found.student_id)
