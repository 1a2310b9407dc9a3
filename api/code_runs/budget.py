"""A budget of sandbox wall time per student and assignment: :attr:`CodeLimits.seconds` per
:attr:`CodeLimits.window`, counted in a :class:`api.models.CodeTime` row.

Wall time, not CPU: a function that only sleeps uses no CPU and holds its sandbox all the same
(the sandbox bounds each call by 10 s of wall time, and a run makes a dozen calls or more). The
window starts at the first run it counts and lasts :attr:`CodeLimits.window`; a run that starts
after it starts the next one.

- A run is given what is left (:func:`allowance`) when it is claimed, and is stopped when that is
  spent (:meth:`api.code_runs.sandboxes.Sandboxes.run`): the calls it had not made are reported
  as stopped, with a sentence that says why and when the budget renews. A run claimed with nothing
  left runs nothing.
- What it used is charged when it ends (:func:`charge`), whatever became of it, but for a run
  the sandbox failed before the student's module was loaded (none of their code ran).
- A submission with code to run while nothing is left is refused (429, ``Retry-After`` the
  window's end) before anything is stored (:func:`check_budget`).

An honest student's run takes about a second (a NumPy convolution's dozen calls), so the default
120 s a window leaves room for a hundred submissions an hour.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from typing import cast

from sqlalchemy import Table, select
from sqlalchemy.orm import Session

from api.code_runs.shares import CodeLimits
from api.kit.db import dialect_insert
from api.kit.errors import TooManyRequests
from api.models import CodeTime

CODE_TIME = cast(Table, CodeTime.__table__)


@dataclass(frozen=True)
class Allowance:
    """The sandbox wall seconds a student's code has left on an assignment, and when its window
    ends (with no window open, the one a run started now opens)."""

    seconds: float
    renews_at: datetime
    limits: CodeLimits

    def reason(self) -> str:
        """Why a run is stopped, or a submission refused, when nothing is left."""
        window = self.limits.window.total_seconds() / 60
        return (
            f"your code has used its {self.limits.seconds:g} s of sandbox time on this assignment "
            f"for {window:g} minutes; it renews at {self.renews_at:%H:%M} UTC"
        )


def allowance(
    session: Session, *, course_id: str, assignment_id: str, student_id: str, limits: CodeLimits, now: datetime
) -> Allowance:
    row = session.execute(
        select(CODE_TIME.c.window_started_at, CODE_TIME.c.seconds).where(
            CODE_TIME.c.course_id == course_id,
            CODE_TIME.c.assignment_id == assignment_id,
            CODE_TIME.c.student_id == student_id,
        )
    ).first()
    if row is None or row.window_started_at + limits.window <= now:
        return Allowance(limits.seconds, now + limits.window, limits)
    return Allowance(max(0.0, limits.seconds - row.seconds), row.window_started_at + limits.window, limits)


def check_budget(
    session: Session, *, course_id: str, assignment_id: str, student_id: str, limits: CodeLimits, now: datetime
) -> None:
    """Refuses (429, ``Retry-After`` the window's end) a submission with code to run from a student
    whose code has used its budget on the assignment."""
    left = allowance(
        session, course_id=course_id, assignment_id=assignment_id, student_id=student_id, limits=limits, now=now
    )
    if left.seconds > 0:
        return
    wait = max(1, math.ceil((left.renews_at - now).total_seconds()))
    raise TooManyRequests(
        f"Not submitted (no attempt used): {left.reason()}. Submit again then (in {wait} s); "
        "answers without code are accepted meanwhile.",
        retry_after=wait,
    )


def charge(
    session: Session,
    *,
    course_id: str,
    assignment_id: str,
    student_id: str,
    seconds: float,
    started_at: datetime,
    limits: CodeLimits,
) -> None:
    """Adds a run's wall ``seconds`` to its student's window on the assignment, or starts the next
    window at ``started_at`` (the run's start) when that one is over. The row is locked while the
    sum is made (two runs of one student rarely end together: one of theirs runs at a time)."""
    key = {"course_id": course_id, "assignment_id": assignment_id, "student_id": student_id}
    first = {**key, "window_started_at": started_at, "seconds": 0.0}
    session.execute(dialect_insert(session, CODE_TIME).values(first).on_conflict_do_nothing())
    where = [CODE_TIME.c[name] == value for name, value in key.items()]
    row = session.execute(
        select(CODE_TIME.c.window_started_at, CODE_TIME.c.seconds).where(*where).with_for_update()
    ).one()
    if row.window_started_at + limits.window <= started_at:
        values = {"window_started_at": started_at, "seconds": seconds}
    else:
        values = {"seconds": row.seconds + seconds}
    session.execute(CODE_TIME.update().where(*where).values(values))


def used(session: Session, *, course_id: str, assignment_id: str, student_id: str) -> float:
    """The seconds counted in the student's current window (0 without one): for tests and operators."""
    found = session.scalar(
        select(CODE_TIME.c.seconds).where(
            CODE_TIME.c.course_id == course_id,
            CODE_TIME.c.assignment_id == assignment_id,
            CODE_TIME.c.student_id == student_id,
        )
    )
    return float(found or 0.0)
