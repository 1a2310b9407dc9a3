"""One assignment's stored attempts as its reports read them: in one statement whatever the
course's size, as plain values rather than ORM objects, their parts and answers decoded only where
a report reads them, and each student's counted attempt chosen by the rules themselves
(:func:`api.terms.counted.counted_attempt`).

A report of counted attempts alone (the gradebook) reads only the attempts that may count where
the rules allow: under ``last`` each student's last, and under ``best`` where lateness takes nothing
off (:func:`api.terms.counted.best_score_counts`) those whose score is within a hair of the
student's highest (the rules round scores to 6 decimals before comparing them, so the database
gives the candidates and the rules choose among them). Elsewhere every attempt is read, the
columns the choice needs decoded, the parts only of the attempt chosen.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from functools import cache
from typing import Any

import orjson
from sqlalchemy import Text, bindparam, cast, func, select
from sqlalchemy.orm import Session

from api.kit.statements import Prepared
from api.models import GradePolicy, Submission
from api.terms.counted import best_score_counts, counted_attempt
from api.terms.lateness import Lateness
from api.terms.rows import ExtensionRow, Terms, with_extension

#: How far below a student's highest score an attempt may still round to the same 6 decimals.
ROUNDING_BAND = 1e-5


@dataclass(slots=True, eq=False)
class Attempt:
    """One stored attempt: its plain columns, the student's number of attempts, and its parts and
    answers, each decoded from the stored JSON when first read."""

    id: int
    student_id: str
    attempt: int
    score: float
    submitted_at: datetime
    max_score: float
    variant: str | None
    parts_text: str | None
    answers_text: str | None
    tries: int
    _parts: dict[str, Any] | None = field(default=None, repr=False)
    _answers: dict[str, Any] | None = field(default=None, repr=False)

    @property
    def parts(self) -> dict[str, Any]:
        if self._parts is None:
            self._parts = _decoded(self.parts_text, graded=True)
        return self._parts

    @property
    def answers(self) -> dict[str, Any]:
        if self._answers is None:
            self._answers = _decoded(self.answers_text)
        return self._answers


def _decoded(text: str | None, *, graded: bool = False) -> dict[str, Any]:
    """Stored JSON as a dict (empty: none), by orjson: a big course's statistics decode every
    attempt's parts and answers, a third of their time with the standard library's decoder. orjson
    differs in one thing: an integer past 64 bits is read as a float. The ``graded`` parts hold the
    grader's own values, where that cannot arise; a student's answers, whose numbers are theirs, are
    read again by the standard library where orjson gave a float that large (:func:`_exact`), as is
    what orjson refuses (a NaN, which SQLite's text may hold)."""
    if not text:
        return {}
    try:
        value = orjson.loads(text)
        if not graded and not _exact(value):
            value = json.loads(text)
    except orjson.JSONDecodeError:
        value = json.loads(text)
    return value if isinstance(value, dict) else {}


#: The least magnitude of an integer past 64 bits, as orjson reads one (a float).
_PAST_64_BITS = float(2**63)


def _exact(value: Any) -> bool:
    """Whether orjson's reading holds no float of a magnitude an integer past 64 bits takes (it
    reads such an integer as one): a float from the text that large is read again too."""
    if isinstance(value, float):
        return -_PAST_64_BITS < value < _PAST_64_BITS
    if isinstance(value, dict):
        return all(_exact(item) for item in value.values())
    if isinstance(value, list):
        return all(_exact(item) for item in value)
    return True


@dataclass(frozen=True, slots=True)
class Counted:
    """A student's counted attempt and how late it was under their terms."""

    attempt: Attempt
    lateness: Lateness

    @property
    def score(self) -> float:
        """The score counted: after the late penalty."""
        return self.lateness.applied(self.attempt.score)


class Which(Enum):
    """Which attempts a statement reads: every one, or the candidates of :class:`Counted`."""

    EVERY = "every"
    LAST = "last"
    BEST = "best"


#: What :class:`Attempt` is made of, in its order.
_COLUMNS = ("id", "student_id", "attempt", "score", "submitted_at", "max_score", "variant", "parts", "answers", "tries")


@cache
def _statement(which: Which, parts: bool, answers: bool) -> Prepared:
    """The assignment's attempts (``which``), by student then attempt, with each student's
    number of attempts; the text of their ``parts`` and ``answers`` if asked for."""
    every = (
        select(
            Submission.id,
            Submission.student_id,
            Submission.attempt,
            Submission.score,
            Submission.submitted_at,
            Submission.max_score,
            Submission.variant,
            (cast(Submission.parts, Text) if parts else cast(None, Text)).label("parts"),
            (cast(Submission.answers, Text) if answers else cast(None, Text)).label("answers"),
            func.count().over(partition_by=Submission.student_id).label("tries"),
            func.max(Submission.score).over(partition_by=Submission.student_id).label("best_score"),
            func.max(Submission.attempt).over(partition_by=Submission.student_id).label("last_attempt"),
        )
        .where(
            Submission.course_id == bindparam("course_id"),
            Submission.assignment_id == bindparam("assignment_id"),
        )
        .subquery()
    )
    read = select(*(every.c[name] for name in _COLUMNS))
    if which is Which.LAST:
        read = read.where(every.c.attempt == every.c.last_attempt)
    elif which is Which.BEST:
        read = read.where(every.c.score >= every.c.best_score - ROUNDING_BAND)
    return Prepared(read.order_by(every.c.student_id, every.c.attempt))


def read_attempts(
    session: Session,
    *,
    assignment: Terms,
    counted_only: bool,
    extended: bool,
    parts: bool = True,
    answers: bool = False,
) -> list[Attempt]:
    """The assignment's attempts, by student then attempt: every one, or with ``counted_only`` those
    that may be counted (a superset of each student's counted attempt; ``extended``: whether any
    student of the assignment has an extension). With their ``parts`` and ``answers`` if asked for
    (unread, they are empty)."""
    which = Which.EVERY
    if counted_only and assignment.grade_policy == GradePolicy.LAST:
        which = Which.LAST
    elif counted_only and best_score_counts(assignment, extended=extended):
        which = Which.BEST
    rows = _statement(which, parts, answers).tuples(
        session, {"course_id": assignment.course_id, "assignment_id": assignment.id}
    )
    return [Attempt(*row) for row in rows]


def counted_attempts(
    attempts: Iterable[Attempt], *, assignment: Terms, extensions: dict[str, ExtensionRow]
) -> dict[str, Counted]:
    """Each student's counted attempt among ``attempts`` (:func:`read_attempts`), under their own
    terms (the assignment with their extension), by student in the attempts' order."""
    by_student: dict[str, list[Attempt]] = {}
    for attempt in attempts:
        by_student.setdefault(attempt.student_id, []).append(attempt)
    chosen = {}
    for student, theirs in by_student.items():
        found = counted_attempt(theirs, with_extension(assignment, extensions.get(student)))
        if found is not None:
            chosen[student] = Counted(*found)
    return chosen


#: Each student's highest score, read from the index ``ix_submissions_counted`` alone.
_HIGHEST = Prepared(
    select(Submission.student_id, func.max(Submission.score))
    .where(Submission.course_id == bindparam("course_id"), Submission.assignment_id == bindparam("assignment_id"))
    .group_by(Submission.student_id)
)


def counted_scores(
    session: Session, *, assignment: Terms, extensions: dict[str, ExtensionRow], attempts: list[Attempt] | None = None
) -> dict[str, float]:
    """Each student's counted score (after the late penalty under their terms), by student (those
    without attempts absent): each one's highest score, rounded as the rules round it, from the
    index alone where that is what counts (:func:`api.terms.counted.best_score_counts`); else
    counted attempt by attempt, among ``attempts`` if already read."""
    if best_score_counts(assignment, extended=bool(extensions)):
        rounded: dict[float, float] = {}  # (a course's scores take few values, and round() is slow)
        scores = {}
        for student, best in _HIGHEST.tuples(
            session, {"course_id": assignment.course_id, "assignment_id": assignment.id}
        ):
            score = rounded.get(best)
            if score is None:
                score = rounded[best] = round(best, 6)  # (as the late penalty's ``applied`` rounds)
            scores[student] = score
        return scores
    if attempts is None:
        attempts = read_attempts(session, assignment=assignment, counted_only=True, extended=True, parts=False)
    return {
        student: found.score
        for student, found in counted_attempts(attempts, assignment=assignment, extensions=extensions).items()
    }
