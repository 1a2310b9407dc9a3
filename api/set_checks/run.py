"""The job code of a set check, one function for both runners (the service's own check runner on
SQLite, the check lane of ``grader worker`` on PostgreSQL): :func:`run_set_check`.

1. claimed in a short transaction: the job ``running`` and given its sandbox seconds once (the
   least of the check's budget and what its instructor has left, :mod:`api.set_checks.budget`),
   the version's check ``running``;
2. run holding no database connection: :func:`grader.code.check_solution` through a
   :class:`Budgeted` run in the check's own sandboxes, which no student's code waits for; each run
   is given what is left, and the check is stopped once that is spent; after each run a short
   transaction writes how many were made (``done``, of at most ``total``);
3. written in one transaction: the job ``done`` with the seconds it used, the version's check
   ``passed``, or ``failed`` with its issues at their lines.

A check interrupted by its runner stopping (a service shutting down) writes nothing and stays
``running``: the next runner checks it again from the start. A job that raises is ``failed``, and
its version's check too, with a sentence.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol, cast

from sqlalchemy import Table, case, select
from sqlalchemy.orm import Session, sessionmaker

from api.kit.db import SQLITE_WRITE
from api.library.course_sets import Library
from api.models import CheckStatus, Job, JobStatus, SetVersion
from api.set_checks.budget import instructor_budget
from api.set_checks.limits import CheckLimits
from api.set_checks.service import CHECKING, issue_json
from grader.code import check_solution
from grader.code.check import SOLUTION_STUDENTS
from problems.issues import Issue
from problems.sets import ProblemSet
from sandbox import Call, CallResult, SandboxUnavailable, Status

log = logging.getLogger("grader.jobs")

JOBS, VERSIONS = (cast(Table, m.__table__) for m in (Job, SetVersion))

#: What a call cut short by the check's budget says (told apart from the solution's own timeouts).
STOPPED = "stopped: the set check's sandbox time is spent"
#: What a job's error is cut to.
MAX_ERROR = 2000


class TimedRun(Protocol):
    """:meth:`api.code_runs.sandboxes.Sandboxes.run`: calls made in a warm sandbox, stopped past ``within``."""

    def __call__(
        self, runtime: str, source: str, calls: Sequence[Call], *, within: float | None = None, stopped: str = ""
    ) -> list[CallResult]: ...


@dataclass(frozen=True)
class CheckRuntime:
    """What the job code needs from the process that runs it: its sessions, the sets, the check's
    own sandboxes (``run``) and the budgets."""

    sessions: sessionmaker[Session]
    library: Library
    run: TimedRun
    limits: CheckLimits


class BudgetSpent(Exception):
    """The check's sandbox seconds are spent: it stops."""


class Interrupted(Exception):
    """The runner is stopping: the check is left to the next one."""


class Budgeted:
    """The engine's ``run`` for :func:`grader.code.check_solution`: each run in the check's
    sandboxes given the seconds left of ``seconds``, the wall time of each counted (``used``);
    raises :class:`BudgetSpent` once they are spent and :class:`Interrupted` when ``stop`` says so."""

    def __init__(self, run: TimedRun, seconds: float, *, stop: Callable[[], bool], made: Callable[[int], None]) -> None:
        self._run, self.seconds, self._stop, self._made = run, seconds, stop, made
        self.used = 0.0
        self.runs = 0

    def __call__(self, runtime: str, source: str, calls: Sequence[Call]) -> list[CallResult]:
        if self._stop():
            raise Interrupted
        left = self.seconds - self.used
        if left <= 0:
            raise BudgetSpent
        started = time.monotonic()
        try:
            results = self._run(runtime, source, calls, within=left, stopped=STOPPED)
        finally:
            self.used += time.monotonic() - started
        if self._stop():  # (a sandbox closed under the run answers errors that are not the set's)
            raise Interrupted
        if any(result.status is Status.TIMEOUT and result.message == STOPPED for result in results):
            raise BudgetSpent
        self.runs += 1
        self._made(self.runs)
        return results


@dataclass(frozen=True)
class _Claimed:
    id: int
    version: str
    user_id: str | None
    allowed: float


def run_set_check(runtime: CheckRuntime, job_id: int, *, stop: Callable[[], bool] = lambda: False) -> str:
    """Runs the check to its end and returns the job's status (``running``: interrupted, left for
    the next runner). An error is raised again after marking the job and the check failed."""
    try:
        with runtime.sessions() as session:
            session.connection(execution_options={SQLITE_WRITE: False})
            version = session.scalar(select(JOBS.c.set_version).where(JOBS.c.id == job_id))
            problem_set = runtime.library.version(session, version) if version is not None else None
        with runtime.sessions.begin() as session:
            claimed = _claim(session, job_id, runtime.limits, total=_runs(problem_set))
        if claimed is None:
            return _status(runtime, job_id)
        if problem_set is None:
            message = "the set's stored text no longer loads on this service, so its code could not be checked"
            return _finish(runtime, claimed, [Issue(None, None, None, message)], used=0.0)
        budgeted = Budgeted(runtime.run, claimed.allowed, stop=stop, made=lambda runs: _progress(runtime, job_id, runs))
        try:
            issues = check_solution(problem_set, budgeted)
        except Interrupted:
            return JobStatus.RUNNING.value
        except SandboxUnavailable as error:
            message = f"the set's code solutions could not be run to check them, so no assignment may use it: {error}"
            issues = [Issue(None, None, "solution", message)]
        except BudgetSpent:
            issues = [Issue(None, None, None, _spent(runtime, claimed, budgeted.used))]
        if stop():
            return JobStatus.RUNNING.value
        return _finish(runtime, claimed, issues, used=budgeted.used)
    except Exception as error:
        _fail(runtime, job_id, error)
        raise


def _runs(problem_set: ProblemSet | None) -> int | None:
    """The sandbox runs a check makes at most: per code part and draw, the solution and (for a part
    judged by its driver) each declared mistake (fewer when references are remembered)."""
    if problem_set is None:
        return None
    per_draw = sum(1 + (len(part.mistakes) if part.kind is None else 0) for part in problem_set.code().values())
    return per_draw * len(SOLUTION_STUDENTS)


def _claim(session: Session, job_id: int, limits: CheckLimits, *, total: int | None) -> _Claimed | None:
    """The job marked running, given its seconds as it first starts; None if it is over."""
    job = session.get(Job, job_id, with_for_update=True)
    if job is None or job.status in (JobStatus.DONE, JobStatus.FAILED) or job.set_version is None:
        return None
    now = datetime.now(UTC)
    if job.allowed_seconds is None:
        left = instructor_budget(session, user_id=job.created_by, limits=limits, now=now, excluding=job.id).left
        job.allowed_seconds = min(limits.seconds, left)
        job.started_at = now
    job.status, job.total, job.done = JobStatus.RUNNING.value, total or 0, 0
    session.execute(
        VERSIONS.update()
        .where(VERSIONS.c.version == job.set_version, VERSIONS.c.check_job_id == job.id)
        .values(check_status=CheckStatus.RUNNING.value)
    )
    return _Claimed(job.id, job.set_version, job.created_by, job.allowed_seconds)


def _spent(runtime: CheckRuntime, claimed: _Claimed, used: float) -> str:
    """Why the check stopped: its own budget, or its instructor's."""
    limits = runtime.limits
    if claimed.allowed >= limits.seconds:
        return (
            f"the check was stopped: it had used the {limits.seconds:g} s of sandbox time a set check may use "
            f"(for every code part's solution and declared mistakes, each run on {len(SOLUTION_STUDENTS)} draws); "
            "make the tests quicker (a solution that sleeps or trains long holds a sandbox all the while), or ask "
            "the operator for more (GRADER_SET_CHECK_SECONDS)"
        )
    with runtime.sessions() as session:
        now = datetime.now(UTC)
        budget = instructor_budget(session, user_id=claimed.user_id, limits=limits, now=now)  # (this one counted)
    done = "did not run" if used <= 0 else "was stopped"
    return f"the check {done}: {budget.reason()}; upload the file again then to check it"


def _progress(runtime: CheckRuntime, job_id: int, runs: int) -> None:
    """``done`` written after each run (``total`` grown with it, should the engine make more)."""
    with runtime.sessions.begin() as session:
        session.execute(
            JOBS.update()
            .where(JOBS.c.id == job_id, JOBS.c.status == JobStatus.RUNNING.value)
            .values(done=runs, total=case((JOBS.c.total < runs, runs), else_=JOBS.c.total))
        )


def _finish(runtime: CheckRuntime, claimed: _Claimed, issues: list[Issue], *, used: float) -> str:
    """The job done with the seconds it used, and the version's check passed or failed; nothing
    if someone else ended the job meanwhile."""
    with runtime.sessions.begin() as session:
        job = session.get(Job, claimed.id, with_for_update=True)
        if job is None or job.status != JobStatus.RUNNING.value:
            return job.status if job is not None else "gone"
        job.status, job.seconds, job.finished_at = JobStatus.DONE.value, used, datetime.now(UTC)
        status = CheckStatus.FAILED if issues else CheckStatus.PASSED
        found: list[Any] | None = [issue_json(issue) for issue in issues] or None
        session.execute(
            VERSIONS.update()
            .where(VERSIONS.c.version == claimed.version, VERSIONS.c.check_job_id == claimed.id)
            .values(check_status=status.value, check_issues=found)
        )
        log.info("set check %s of version %s: %s in %.1f s", claimed.id, claimed.version, status.value, used)
        return JobStatus.DONE.value


def _status(runtime: CheckRuntime, job_id: int) -> str:
    with runtime.sessions() as session:
        return session.scalar(select(JOBS.c.status).where(JOBS.c.id == job_id)) or "gone"


def _fail(runtime: CheckRuntime, job_id: int, error: BaseException) -> None:
    """The job and its version's check marked failed (best effort: the database may be what failed)."""
    message = f"{type(error).__name__}: {error}"
    log.error("set check %s failed: %s", job_id, message)
    told = "the check could not finish (an error of the service's, logged); upload the file again to check it"
    try:
        with runtime.sessions.begin() as session:
            session.execute(
                JOBS.update()
                .where(JOBS.c.id == job_id, JOBS.c.status.in_([JobStatus.QUEUED.value, JobStatus.RUNNING.value]))
                .values(status=JobStatus.FAILED.value, error=message[:MAX_ERROR], finished_at=datetime.now(UTC))
            )
            session.execute(
                VERSIONS.update()
                .where(VERSIONS.c.check_job_id == job_id, VERSIONS.c.check_status.in_(CHECKING))
                .values(check_status=CheckStatus.FAILED.value, check_issues=[issue_json(Issue(None, None, None, told))])
            )
    except Exception:
        log.exception("set check %s: could not record its failure", job_id)
