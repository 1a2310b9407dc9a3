"""Late work: how late a submission is under a student's terms, and what the late penalty leaves of
its score. Computed when read, from the terms as they are now, so a due date moved or an extension
granted after the fact applies to work already stored."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

DAY = timedelta(days=1)


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


def lateness(submitted_at: datetime, due_at: datetime | None, penalty: dict[str, Any] | None) -> Lateness:
    """``penalty`` is ``{"per_day": P, "floor": F}``: P percent of the score off per started day
    late, never below F percent; or ``{"factor": X}``: late work earns X times its score; or None."""
    if due_at is None or submitted_at <= due_at:
        return ON_TIME
    days = math.ceil((submitted_at - due_at) / DAY)
    if penalty is None:
        return Lateness(days, 1.0)
    if "factor" in penalty:
        return Lateness(days, float(penalty["factor"]))
    kept = max(float(penalty.get("floor", 0.0)), 100.0 - float(penalty["per_day"]) * days)
    return Lateness(days, round(kept / 100.0, 6))
