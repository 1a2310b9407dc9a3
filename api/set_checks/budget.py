"""An instructor's budget of sandbox wall time for set checks, over a rolling window.

A check counts from the moment it started for :attr:`CheckLimits.window`: while it runs, the
seconds it may use (``jobs.allowed_seconds``, fixed as it starts: the least of the check's own
budget and what its instructor has left), and once over, the seconds it used (``jobs.seconds``).
Counting a running check in full keeps two checks of one instructor that run at once (two workers,
two processes) from spending the same seconds twice.

- An upload whose instructor has nothing left is refused (429, ``Retry-After`` when enough of it
  leaves the window) before anything is stored, and so is one past
  :data:`api.set_checks.limits.QUEUED_PER_INSTRUCTOR` checks queued or running (:func:`check_budget`).
- A check that starts is given what is left (:func:`instructor_budget`), and stopped when it is spent.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from typing import cast

from sqlalchemy import Table, func, select, text
from sqlalchemy.orm import Session

from api.kit.errors import TooManyRequests
from api.models import ACTIVE_JOB, Job, JobKind
from api.set_checks.limits import QUEUED_PER_INSTRUCTOR, QUEUED_RETRY_AFTER, CheckLimits

JOBS = cast(Table, Job.__table__)


@dataclass(frozen=True)
class InstructorBudget:
    """The sandbox seconds an instructor's checks have left in the window, and when enough of what
    they used leaves it for some to be left again (None: nothing counts)."""

    left: float
    renews_at: datetime | None
    limits: CheckLimits

    def reason(self) -> str:
        """Why a check is refused or stopped when nothing is left."""
        window = self.limits.window.total_seconds() / 60
        when = f"; some is back at {self.renews_at:%H:%M} UTC" if self.renews_at is not None else ""
        return (
            f"your set checks have used their {self.limits.instructor_seconds:g} s of sandbox time "
            f"for {window:g} minutes{when}"
        )


def instructor_budget(
    session: Session, *, user_id: str | None, limits: CheckLimits, now: datetime, excluding: int | None = None
) -> InstructorBudget:
    """What ``user_id``'s checks that started within the window leave of their budget (the check
    ``excluding`` left out: the one being given its share)."""
    counted = func.coalesce(JOBS.c.seconds, JOBS.c.allowed_seconds, 0.0)
    query = select(counted, JOBS.c.started_at).where(
        JOBS.c.kind == JobKind.SET_CHECK.value,
        JOBS.c.created_by == user_id,
        JOBS.c.started_at >= now - limits.window,
    )
    if excluding is not None:
        query = query.where(JOBS.c.id != excluding)
    counted_checks = sorted(((started, float(seconds)) for seconds, started in session.execute(query)))
    spent = sum(seconds for _, seconds in counted_checks)
    # the oldest checks leave the window first: some is left again once enough of them have
    renews_at, still_counted = None, spent
    for started, seconds in counted_checks:
        renews_at, still_counted = started + limits.window, still_counted - seconds
        if still_counted < limits.instructor_seconds:
            break
    return InstructorBudget(max(0.0, limits.instructor_seconds - spent), renews_at, limits)


def check_budget(session: Session, *, user_id: str, limits: CheckLimits, now: datetime) -> None:
    """Refuses (429) a check from an instructor with no sandbox time left, or with
    :data:`QUEUED_PER_INSTRUCTOR` checks queued or running."""
    waiting = session.scalar(
        select(func.count())
        .select_from(JOBS)
        .where(JOBS.c.kind == JobKind.SET_CHECK.value, JOBS.c.created_by == user_id, text(ACTIVE_JOB))
    )
    if (waiting or 0) >= QUEUED_PER_INSTRUCTOR:
        raise TooManyRequests(
            f"Not stored: {waiting} of your set checks are queued or running, the most at once; "
            "upload again once one is over (GET .../problem-sets/SET shows its check).",
            retry_after=QUEUED_RETRY_AFTER,
        )
    budget = instructor_budget(session, user_id=user_id, limits=limits, now=now)
    if budget.left > 0:
        return
    renews_at = budget.renews_at or now
    wait = max(1, math.ceil((renews_at - now).total_seconds()))
    raise TooManyRequests(
        f"Not stored: {budget.reason()}. Upload again then (in {wait} s); a set without code parts "
        "needs no check and is stored meanwhile.",
        retry_after=wait,
    )
