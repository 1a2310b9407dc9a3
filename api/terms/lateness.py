"""Late work: how late a submission is under a student's terms, and what the late penalty leaves of
its score. Computed when read, from the terms as they are now, so a due date moved, a grace period
or an extension granted after the fact applies to work already stored."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

DAY = timedelta(days=1)
HOUR = timedelta(hours=1)
MINUTE = timedelta(minutes=1)


@dataclass(frozen=True, slots=True)
class Lateness:
    """``days_late``: started days past the due date (0: on time); ``factor``: the share of the
    score kept (1: no penalty); ``minutes_late``: whole minutes past the due date; ``counted``: what
    the penalty counted, kept for :attr:`described` (``("factor", X, 0, 0)``, or ``("hour" | "day",
    percent per unit, units started, the floor where it held else 0)``; None: no penalty). (The last
    two are how the first two read, not compared.)"""

    days_late: int
    factor: float
    minutes_late: int = field(default=0, compare=False)
    counted: tuple[str, float, int, float] | None = field(default=None, compare=False)

    @property
    def late(self) -> bool:
        return self.days_late > 0

    def applied(self, score: float) -> float:
        return round(score * self.factor, 6)

    @property
    def described(self) -> str:
        """The lateness in its penalty's unit, as students and staff read it ("2 h 30 min late: 3
        started hours × 10 %"), empty on time. Worked out when read, not with every lateness: a big
        course's gradebook works out every attempt's and reads a few."""
        if not self.minutes_late:
            return ""
        how_late = f"{duration(self.minutes_late)} late"
        if self.counted is None:
            return how_late
        unit, per, units, floor = self.counted
        if unit == "factor":
            return f"{how_late}: × {_number(per)}"
        held = f", no lower than {_number(floor)} % kept" if floor else ""
        return f"{how_late}: {units} started {unit}{'' if units == 1 else 's'} × {_number(per)} %{held}"


ON_TIME = Lateness(0, 1.0)


def is_late(submitted_at: datetime, due_at: datetime | None, grace_minutes: int = 0) -> bool:
    """Late once past the due date and its grace period: the grace forgives a minute's slip without
    moving the due date, so work past it is as late as it would have been without one."""
    return due_at is not None and submitted_at - due_at > _grace(grace_minutes)


@lru_cache(maxsize=256)
def _grace(minutes: int) -> timedelta:
    """(made once: a big course's gradebook asks for every attempt's lateness)"""
    return timedelta(minutes=minutes)


def lateness(
    submitted_at: datetime, due_at: datetime | None, penalty: dict[str, Any] | None, grace_minutes: int = 0
) -> Lateness:
    """``penalty`` is ``{"per_day": P, "floor": F}``: P percent of the score off per started day
    late, never below F percent; ``{"per_hour": P, "floor": F}``: the same per started hour;
    ``{"factor": X}``: late work earns X times its score; or None. Work within ``grace_minutes``
    of the due date is on time; past them it is late from the due date (a minute past a day's
    grace is a second day started)."""
    if due_at is None:
        return ON_TIME
    late_by = submitted_at - due_at
    if late_by <= _grace(grace_minutes):  # (not late: :func:`is_late`)
        return ON_TIME
    days = math.ceil(late_by / DAY)
    minutes = max(1, int(late_by / MINUTE))
    if penalty is None:
        return Lateness(days, 1.0, minutes)
    if "factor" in penalty:
        factor = float(penalty["factor"])
        return Lateness(days, factor, minutes, ("factor", factor, 0, 0.0))
    if "per_hour" in penalty:
        per, units, unit = float(penalty["per_hour"]), math.ceil(late_by / HOUR), "hour"
    else:
        per, units, unit = float(penalty["per_day"]), days, "day"
    floor = float(penalty.get("floor", 0.0))
    kept = max(floor, 100.0 - per * units)
    return Lateness(days, round(kept / 100.0, 6), minutes, (unit, per, units, floor if kept == floor else 0.0))


@dataclass(frozen=True, slots=True)
class Steps:
    """The late penalty as steps in time, for a database to apply: work submitted at or before
    ``until[i]`` (the first that holds) keeps ``factors[i]`` of its score, later work ``after``.
    What :func:`lateness` gives, told by comparing times alone."""

    until: tuple[datetime, ...]
    factors: tuple[float, ...]
    after: float


#: The most steps a penalty is told in (a penalty of 1 % a day with no floor takes 100): beyond, its
#: work is counted by :func:`lateness` itself.
MOST_STEPS = 120


def steps(
    due_at: datetime | None, penalty: dict[str, Any] | None, grace_minutes: int = 0, *, most: int = MOST_STEPS
) -> Steps | None:
    """:func:`lateness`'s factor as :class:`Steps` (None: more than ``most`` of them). On time up to
    the due date and its grace; then a factor's one step, or one step per started hour or day until
    the floor holds (the units count from the due date, as :func:`lateness` counts them).

    Why: a big course's gradebook has the database choose each student's best score after the
    penalty, rather than reading every late attempt to count it here (``bench/course_views.py``)."""
    if due_at is None:
        return Steps((), (), 1.0)
    on_time = due_at + _grace(grace_minutes)
    if penalty is None:
        return Steps((on_time,), (1.0,), 1.0)
    if "factor" in penalty:
        return Steps((on_time,), (1.0,), float(penalty["factor"]))
    unit, per = (HOUR, float(penalty["per_hour"])) if "per_hour" in penalty else (DAY, float(penalty["per_day"]))
    floor = float(penalty.get("floor", 0.0))
    until, factors = [on_time], [1.0]
    units = 1
    while 100.0 - per * units > floor:
        if units > most:
            return None
        until.append(due_at + unit * units)
        factors.append(round((100.0 - per * units) / 100.0, 6))
        units += 1
    return Steps(tuple(until), tuple(factors), round(max(floor, 100.0 - per * units) / 100.0, 6))


def duration(minutes: int) -> str:
    """``minutes`` as a person reads a span: "2 h 30 min", "1 day 3 h", "45 min"."""
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    pieces = [f"{days} day{'' if days == 1 else 's'}"] if days else []
    pieces += [f"{hours} h"] if hours else []
    pieces += [f"{mins} min"] if mins or not pieces else []
    return " ".join(pieces)


def _number(value: float) -> str:
    """10.0 as "10", 2.5 as "2.5": a percentage or factor as the set's author wrote it."""
    return f"{value:g}"
