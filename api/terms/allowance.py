"""A student's accommodations as one allowance: what their labels add to every assignment.

A course names its accommodations once (``time ×1.5``, ``+2 days``: :class:`api.models.Accommodation`)
and gives them to students; they apply to every assignment of the course, now and later. A student
holding several gets the largest of each field (×1.5 and ×2 give ×2; +10 minutes and +30 give +30),
not their sum: labels describe needs, and two needs of the same kind are not added up.

The allowance is applied where the extension is, by :func:`api.terms.rows.with_extension` (so every
door reads the same terms); :mod:`api.terms.accommodations` reads it."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True, slots=True)
class Allowance:
    """What a student's labels add to every assignment (zero: nothing; ``time_multiplier`` 1: none)."""

    names: tuple[str, ...] = ()
    time_multiplier: float = 1.0
    extra_minutes: int = 0
    extra_days: int = 0
    extra_attempts: int = 0

    def time_limit(self, limit: int) -> int:
        """A timed assignment's limit for the student: multiplied (rounded up to the minute, so
        ×1.5 of 45 minutes is 68), then the extra minutes added."""
        return math.ceil(round(limit * self.time_multiplier, 6)) + self.extra_minutes

    def moved(self, moment: datetime | None) -> datetime | None:
        """A due date or close moved by the extra days (None stays None: never due, never closed)."""
        return moment if moment is None or not self.extra_days else moment + timedelta(days=self.extra_days)

    def attempts(self, limit: int | None) -> int | None:
        """An attempt limit with the extra attempts (None: unlimited stays unlimited)."""
        return None if limit is None else limit + self.extra_attempts

    @property
    def changes_anything(self) -> bool:
        return bool(self.time_multiplier > 1 or self.extra_minutes or self.extra_days or self.extra_attempts)


@dataclass(frozen=True, slots=True)
class Label:
    """One named accommodation as stored (None: adds nothing)."""

    name: str
    time_multiplier: float | None
    extra_minutes: int | None
    extra_days: int | None
    extra_attempts: int | None


def combine(labels: Iterable[Label]) -> Allowance:
    """The largest of each field over the labels (see the module's docstring)."""
    held = sorted(labels, key=lambda label: label.name)
    return Allowance(
        names=tuple(label.name for label in held),
        time_multiplier=max((label.time_multiplier or 1.0 for label in held), default=1.0),
        extra_minutes=max((label.extra_minutes or 0 for label in held), default=0),
        extra_days=max((label.extra_days or 0 for label in held), default=0),
        extra_attempts=max((label.extra_attempts or 0 for label in held), default=0),
    )
