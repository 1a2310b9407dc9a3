"""Late work: how late a submission is under a student's terms, and what the late penalty leaves of
its score. Computed when read, from the terms as they are now, so a due date moved, a grace period
or an extension granted after the fact applies to work already stored."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

DAY = timedelta(days=1)
HOUR = timedelta(hours=1)


@dataclass(frozen=True, slots=True)
class Lateness:
    """``days_late``: started days past the due date (0: on time); ``factor``: the share of the
    score kept (1: no penalty)."""

    days_late: int
    factor: float

    @property
    def late(self) -> bool:
        return self.days_late > 0

    def applied(self, score: float) -> float:
        return round(score * self.factor, 6)


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
    if penalty is None:
        return Lateness(days, 1.0)
    if "factor" in penalty:
        return Lateness(days, float(penalty["factor"]))
    if "per_hour" in penalty:
        off = float(penalty["per_hour"]) * math.ceil(late_by / HOUR)
    else:
        off = float(penalty["per_day"]) * days
    kept = max(float(penalty.get("floor", 0.0)), 100.0 - off)
    return Lateness(days, round(kept / 100.0, 6))
