"""A budget of sandbox wall time per student and assignment: :attr:`CodeLimits.seconds` per
:attr:`CodeLimits.window`, counted in a :class:`api.models.CodeTime` row.

Wall time, not CPU: a function that only sleeps uses no CPU and holds its sandbox all the same
(the sandbox bounds each call by 10 s of wall time, and a run makes a dozen calls or more). The
window starts at the first run it counts and lasts :attr:`CodeLimits.window`; a run that starts
after it starts the next one.

- A run is given what is left (:meth:`Allowance.of`, read with :func:`counted`) when it is
  claimed, and is stopped when that is spent (:meth:`api.code_runs.sandboxes.Sandboxes.run`): the
  calls it had not made are reported as stopped, with a sentence that says why and when the
  budget renews. A run claimed with nothing left runs nothing.
- What it used is charged when it ends (:func:`charge`), whatever became of it, but for a run
  the sandbox failed before the student's module was loaded (none of their code ran).
- A submission with code to run while nothing is left is refused (429, ``Retry-After`` the
  window's end) before anything is stored (:func:`check_share`).

An honest student's run takes about a second (a NumPy convolution's dozen calls), so the default
120 s a window leaves room for a hundred submissions an hour.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import ColumnElement, Insert, Table, bindparam, case, select
from sqlalchemy.orm import Session

from api.code_runs.shares import CodeLimits, hold_queueing, refuse_past_queue, waiting
from api.kit.db import insert_of
from api.kit.errors import TooManyRequests
from api.kit.statements import Prepared
from api.models import CodeTime

CODE_TIME = cast(Table, CodeTime.__table__)


@dataclass(frozen=True)
class Allowance:
    """The sandbox wall seconds a student's code has left on an assignment, and when its window
    ends (with no window open, the one a run started now opens)."""

    seconds: float
    renews_at: datetime
    limits: CodeLimits

    @classmethod
    def of(cls, window_started_at: datetime | None, used: float | None, limits: CodeLimits, now: datetime) -> Allowance:
        """From the student's window as counted (none yet: ``None``)."""
        if window_started_at is None or window_started_at + limits.window <= now:
            return cls(limits.seconds, now + limits.window, limits)
        return cls(max(0.0, limits.seconds - (used or 0.0)), window_started_at + limits.window, limits)

    def reason(self) -> str:
        """Why a run is stopped, or a submission refused, when nothing is left."""
        window = self.limits.window.total_seconds() / 60
        return (
            f"your code has used its {self.limits.seconds:g} s of sandbox time on this assignment "
            f"for {window:g} minutes; it renews at {self.renews_at:%H:%M} UTC"
        )


def _window(course_id: Any, assignment_id: Any, student_id: Any) -> list[ColumnElement[bool]]:
    """The student's row of the assignment."""
    return [
        CODE_TIME.c.course_id == course_id,
        CODE_TIME.c.assignment_id == assignment_id,
        CODE_TIME.c.student_id == student_id,
    ]


def counted(course_id: Any, assignment_id: Any, student_id: Any) -> list[Any]:
    """The student's window on the assignment as scalar subqueries (NULL without one), so that a
    read of it always has its one row and may read more beside it (a run's claim reads it with the
    submission; :func:`Allowance.of` makes what is left of it); by values, bound parameters or a
    row's columns."""
    where = _window(course_id, assignment_id, student_id)
    return [
        select(CODE_TIME.c[name]).where(*where).scalar_subquery().label(name)
        for name in ("window_started_at", "seconds")
    ]


#: A student's window's key.
_KEY = ("course_id", "assignment_id", "student_id")
#: :func:`check_share`'s read, built and compiled once (a code ``POST``'s statements are: building
#: this one at each request cost more than its trip, :mod:`api.kit.statements`).
_BOUND = {key: bindparam(key, type_=CODE_TIME.c[key].type) for key in _KEY}
_SHARE = Prepared(select(waiting(_BOUND["student_id"]).label("waiting"), *counted(**_BOUND)))


def check_share(
    session: Session, *, course_id: str, assignment_id: str, student_id: str, limits: CodeLimits, now: datetime
) -> None:
    """Refuses (429) a submission with code to run past the student's share of the code queue: runs
    waiting (:func:`api.code_runs.shares.refuse_past_queue`), then sandbox time on the assignment
    (``Retry-After`` the window's end). In the transaction that queues the run, the student's
    queueing held until it ends; both read in one statement (at a deadline each trip to the
    database waits for its turn on a busy machine)."""
    hold_queueing(session, student_id=student_id)
    [row] = _SHARE.rows(session, {"course_id": course_id, "assignment_id": assignment_id, "student_id": student_id})
    refuse_past_queue(row["waiting"], limits)
    left = Allowance.of(row["window_started_at"], row["seconds"], limits, now)
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
    window at ``started_at`` (the run's start) when that one is over, or the first. One statement
    (an upsert: its row is locked while the sum is made, and each SET reads the row as it was), of
    the few a run writes at its end."""
    _CHARGING.rows(
        session,
        {
            "course_id": course_id,
            "assignment_id": assignment_id,
            "student_id": student_id,
            "window_started_at": started_at,
            "seconds": seconds,
            "over_before": started_at - limits.window,
        },
    )


def _charging(dialect: str) -> Insert:
    """:func:`charge`'s upsert on the backend ``dialect``. ``over_before``: a window that started
    then or earlier is over."""
    bound = {key: bindparam(key, type_=CODE_TIME.c[key].type) for key in (*_KEY, "window_started_at", "seconds")}
    insert = insert_of(dialect, CODE_TIME).values(bound)
    over = CODE_TIME.c.window_started_at <= bindparam("over_before", type_=CODE_TIME.c.window_started_at.type)
    fresh, row = insert.excluded, CODE_TIME.c
    return insert.on_conflict_do_update(
        index_elements=list(_KEY),
        set_={
            "window_started_at": case((over, fresh.window_started_at), else_=row.window_started_at),
            "seconds": case((over, fresh.seconds), else_=row.seconds + fresh.seconds),
        },
    )


_CHARGING = Prepared(_charging)


def used(session: Session, *, course_id: str, assignment_id: str, student_id: str) -> float:
    """The seconds counted in the student's current window (0 without one): for tests and operators."""
    found = session.scalar(select(CODE_TIME.c.seconds).where(*_window(course_id, assignment_id, student_id)))
    return float(found or 0.0)
