"""Which of a student's attempts counts, and how late it was: the gradebook, the statistics, the
dashboards and LMS passback all count the same one."""

from __future__ import annotations

from datetime import datetime
from operator import attrgetter
from typing import Protocol, TypeVar

from api.models import GradePolicy
from api.terms.lateness import Lateness, lateness
from api.terms.rows import Terms


class Scored(Protocol):
    """What choosing the counted attempt reads of a submission."""

    @property
    def attempt(self) -> int: ...
    @property
    def score(self) -> float: ...
    @property
    def submitted_at(self) -> datetime: ...


S = TypeVar("S", bound=Scored)


def counted_attempt(submissions: list[S], terms: Terms) -> tuple[S, Lateness] | None:
    """The attempt the gradebook counts for one student under their own ``terms`` (the assignment
    with their extension), and how late it was; the statistics of counted attempts take the same.
    ``best``: the highest score after the late penalty (the earliest of equal scores); ``last``: the
    highest attempt number. Each attempt's lateness is worked out once, and the terms read once: a
    big course's dashboard does this for every student of every assignment
    (``bench/course_views.py``)."""
    if not submissions:
        return None
    due_at, penalty, grace = terms.due_at, terms.late_penalty, terms.grace_minutes
    if terms.grade_policy == GradePolicy.LAST:
        chosen = max(submissions, key=attrgetter("attempt"))
    elif len(submissions) == 1:
        chosen = submissions[0]
    elif due_at is None or penalty is None:  # nothing is taken off: the best raw score, as applied() rounds it
        chosen = max(submissions, key=_best_raw)
    else:  # the highest score after the penalty, the earliest of equal ones (as ``max`` keeps the first)
        best: tuple[tuple[float, int], S, Lateness] | None = None
        for submission in submissions:
            late = lateness(submission.submitted_at, due_at, penalty, grace)
            key = (late.applied(submission.score), -submission.attempt)
            if best is None or key > best[0]:
                best = (key, submission, late)
        assert best is not None
        return best[1], best[2]
    return chosen, lateness(chosen.submitted_at, due_at, penalty, grace)


def best_score_counts(terms: Terms, *, extended: bool) -> bool:
    """Whether :func:`counted_attempt`'s score is the highest raw score, rounded, whatever the
    attempts' times: under ``best`` where lateness takes nothing off (no late penalty; or no due
    date, with nobody's ``extended`` to one). A big course's gradebook then reads one maximum per
    student from the database rather than every attempt (``bench/course_views.py``)."""
    return terms.grade_policy == GradePolicy.BEST and (
        terms.late_penalty is None or (terms.due_at is None and not extended)
    )


def _best_raw(submission: Scored) -> tuple[float, int]:
    return round(submission.score, 6), -submission.attempt
