"""Starting a set version's check, and reading it.

- **One check per version.** A version is immutable, so its check is the version's, whichever
  course uploaded it: an upload of a file whose version is queued, running or passed starts
  nothing and reads that check; a new version with code parts, or one whose check failed (a
  sandbox that could not start, a budget spent, a test since fixed elsewhere), starts one. The
  version's row is locked while this is decided: two uploads of one file at once start one check.
- **Never a row without its queued job.** On PostgreSQL the procrastinate job is deferred on the
  request's connection, in the transaction that inserts the ``jobs`` row (a lock per instructor
  runs their checks one at a time); on SQLite the service's check runner is woken once the
  request has committed.
- **Usable once passed.** An assignment may pin a version only once its check passed
  (:func:`require_passed`); a version without code parts passes as it is stored.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, select
from sqlalchemy.orm import Session

from api.kit.errors import Conflict
from api.models import CheckStatus, Job, JobKind, JobStatus, SetVersion
from api.set_checks.budget import check_budget
from api.set_checks.limits import CheckLimits
from problems.issues import Issue
from problems.sets import ProblemSet

JOBS, VERSIONS = (cast(Table, m.__table__) for m in (Job, SetVersion))

#: Defers the procrastinate job of a set check's ``jobs`` row on the session's connection, under a
#: lock (PostgreSQL); returns its id.
CheckDeferrer = Callable[[Session, int, str], int]

#: The statuses of a check that is not over.
CHECKING = frozenset({CheckStatus.QUEUED.value, CheckStatus.RUNNING.value})


@dataclass(frozen=True)
class SetCheck:
    """A version's check as the API shows it: ``issues`` as an upload's 422 lists them; ``done``
    of ``total`` sandbox runs; the job's times and the sandbox seconds it used."""

    status: str
    issues: list[dict[str, Any]] = field(default_factory=list)
    job: int | None = None
    done: int = 0
    total: int | None = None
    seconds: float | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None

    @property
    def over(self) -> bool:
        return self.status not in CHECKING


PASSED = SetCheck(CheckStatus.PASSED.value)


def issue_json(issue: Issue) -> dict[str, Any]:
    """An issue as the API shows it (an upload's 422, a failed check): ``field`` from the top of the
    file (``problems.q1.layers.0.kernel`` reads as ``q1.layers...``)."""
    return {"line": issue.line, "column": issue.column, "field": issue.where, "message": issue.message}


def lock_of(user_id: str) -> str:
    """The procrastinate lock that runs one instructor's checks one at a time."""
    return f"set-check:{user_id}"


def begin_check(
    session: Session,
    *,
    problem_set: ProblemSet,
    course_id: str,
    user_id: str,
    limits: CheckLimits,
    defer: CheckDeferrer | None,
    now: datetime,
) -> tuple[SetCheck, bool]:
    """The check of a stored version (flushed in the caller's transaction), and whether this call
    started it: a version with code parts that has no check, or whose check failed, gets a new one
    (refused with :class:`api.kit.errors.TooManyRequests` past its instructor's budget)."""
    row = session.get(SetVersion, problem_set.version, with_for_update=True, populate_existing=True)
    assert row is not None, "begin_check after the version is stored"
    status = row.check_status
    if not problem_set.code() or status == CheckStatus.PASSED.value:
        return checks_of(session, [row.version])[row.version], False
    if status in CHECKING and row.check_job_id is not None:
        return checks_of(session, [row.version])[row.version], False
    check_budget(session, user_id=user_id, limits=limits, now=now)
    values = {
        "kind": JobKind.SET_CHECK.value,
        "course_id": course_id,
        "assignment_id": None,
        "created_by": user_id,
        "status": JobStatus.QUEUED.value,
        "done": 0,
        "total": 0,  # (known as it starts)
        "changed": 0,
        "set_version": row.version,
    }
    job_id = int(session.execute(JOBS.insert().values(values).returning(JOBS.c.id)).scalar_one())
    if defer is not None:
        queue_job_id = defer(session, job_id, lock_of(user_id))
        session.execute(JOBS.update().where(JOBS.c.id == job_id).values(queue_job_id=queue_job_id))
    elif session.get_bind().dialect.name != "sqlite":
        raise RuntimeError("a set check started on PostgreSQL without deferring its job: no worker would run it")
    row.check_status, row.check_issues, row.check_job_id = CheckStatus.QUEUED.value, None, job_id
    session.flush()
    return checks_of(session, [row.version])[row.version], True


def checks_of(session: Session, versions: Collection[str]) -> dict[str, SetCheck]:
    """The check of each version; a version not stored (a built-in set no assignment pinned yet)
    has passed."""
    found = {version: PASSED for version in versions}
    if not versions:
        return found
    rows = session.execute(
        select(
            VERSIONS.c.version,
            VERSIONS.c.check_status,
            VERSIONS.c.check_issues,
            JOBS.c.id,
            JOBS.c.done,
            JOBS.c.total,
            JOBS.c.seconds,
            JOBS.c.started_at,
            JOBS.c.finished_at,
        )
        .select_from(VERSIONS.outerjoin(JOBS, JOBS.c.id == VERSIONS.c.check_job_id))
        .where(VERSIONS.c.version.in_(list(versions)))
    )
    for row in rows:
        found[row.version] = SetCheck(
            status=row.check_status,
            issues=list(row.check_issues or []),
            job=row.id,
            done=row.done or 0,
            total=row.total or None,
            seconds=row.seconds,
            started_at=row.started_at,
            finished_at=row.finished_at,
        )
    return found


def require_passed(session: Session, problem_set: ProblemSet, *, course_versions: Sequence[str] = ()) -> None:
    """Refuses (409) a version whose check has not passed, saying how it stands; of the course's
    versions of the set (``course_versions``, oldest first), the newest that passed is named as the
    way out."""
    check = checks_of(session, [problem_set.version])[problem_set.version]
    if check.status == CheckStatus.PASSED.value:
        return
    name = f"Version {problem_set.version[:12]} of the set {problem_set.id!r}"
    where = f"GET .../problem-sets/{problem_set.id}?version={problem_set.version}"
    if not check.over:
        detail = (
            f"{name} is still being checked ({check.status}: its code runs on its tests; {where} shows how it "
            "goes): an assignment may use it once its check has passed."
        )
    else:
        count = len(check.issues)
        detail = (
            f"{name} failed its check ({count} issue{'s' if count != 1 else ''}: {where} lists them), so no "
            "assignment may use it: fix the file and upload it again."
        )
    others = checks_of(session, [version for version in course_versions if version != problem_set.version])
    passed = [v for v in course_versions if v in others and others[v].status == CheckStatus.PASSED.value]
    if passed:
        detail += f" Version {passed[-1][:12]} passed: name it as the version to use that one."
    raise Conflict(detail)
