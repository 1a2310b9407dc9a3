"""Assignments: creation, who sees what, statements of one variant, answer release."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from api.db import is_unique_violation
from api.errors import Conflict, Unprocessable
from api.models import Assignment, Release, Submission
from api.users.service import Caller
from problems.render import to_json
from problems.sets import ProblemSet
from problems.variants import variant_key


def create_assignment(
    session: Session,
    *,
    bank: dict[str, ProblemSet],
    created_by: str | None,
    assignment_id: str,
    problem_set: str,
    title: str | None,
    due_at: datetime | None,
    max_attempts: int | None,
    release_answers: str,
    grade_policy: str,
) -> Assignment:
    if problem_set not in bank:
        raise Unprocessable(f"No problem set {problem_set!r}; the bank has: {', '.join(sorted(bank))}.")
    if session.get(Assignment, assignment_id) is not None:
        raise Conflict(f"There is already an assignment {assignment_id!r}.")
    if due_at is not None and due_at.tzinfo is None:
        due_at = due_at.replace(tzinfo=UTC)
    assignment = Assignment(
        id=assignment_id,
        problem_set=problem_set,
        title=title or bank[problem_set].title,
        due_at=due_at,
        max_attempts=max_attempts,
        release_answers=release_answers,
        grade_policy=grade_policy,
        created_by=created_by,
        variant_secret=secrets.token_urlsafe(24),
    )
    session.add(assignment)
    try:
        session.flush()
    except IntegrityError as error:
        # created by a simultaneous request after the look-up above (PostgreSQL: this INSERT waited
        # for that request's commit); SQLite's write lock serializes such requests
        if is_unique_violation(error):
            raise Conflict(f"There is already an assignment {assignment_id!r}.") from None
        raise
    return assignment


class Terms(Protocol):
    """An assignment as the endpoints read it: an :class:`Assignment` row has these, and so has the
    :class:`AssignmentRow` read with the caller (:func:`api.deps.get_current_user`)."""

    @property
    def id(self) -> str: ...
    @property
    def problem_set(self) -> str: ...
    @property
    def title(self) -> str: ...
    @property
    def due_at(self) -> datetime | None: ...
    @property
    def max_attempts(self) -> int | None: ...
    @property
    def release_answers(self) -> str: ...
    @property
    def grade_policy(self) -> str: ...
    @property
    def created_at(self) -> datetime: ...
    @property
    def variant_secret(self) -> str | None: ...


@dataclass(frozen=True, slots=True)
class AssignmentRow:
    """An assignment's columns as plain values: read by every request about an assignment, where
    an ORM object cost more to build than the query that found it (``bench/service.py``)."""

    id: str
    problem_set: str
    title: str
    due_at: datetime | None
    max_attempts: int | None
    release_answers: str
    grade_policy: str
    created_by: str | None
    created_at: datetime
    variant_secret: str | None


def is_late(assignment: Terms, at: datetime) -> bool:
    return assignment.due_at is not None and at > assignment.due_at


def answers_released(assignment: Terms, now: datetime | None = None) -> bool:
    """``immediately``: always; ``after_due``: once the due date has passed (never without one); ``never``: never."""
    now = now or datetime.now(UTC)
    if assignment.release_answers == Release.IMMEDIATELY:
        return True
    if assignment.release_answers == Release.AFTER_DUE:
        return assignment.due_at is not None and now >= assignment.due_at
    return False


def list_assignments(session: Session) -> list[Assignment]:
    return list(session.scalars(select(Assignment).order_by(Assignment.created_at, Assignment.id)))


def attempts_used(session: Session, *, student: Caller) -> dict[str, int]:
    rows = session.execute(
        select(Submission.assignment_id, func.count())
        .where(Submission.student_id == student.id)
        .group_by(Submission.assignment_id)
    )
    return {assignment_id: count for assignment_id, count in rows}


def variant_of(problem_set: ProblemSet, assignment: Terms, student: str | None) -> str | None:
    """What a student's variant of a randomized set is drawn from (None: the declared numbers)."""
    if not problem_set.randomized:
        return None
    return variant_key(student=student, secret=assignment.variant_secret)


def statements(problem_set: ProblemSet, student: str | None) -> list[dict[str, Any]]:
    """The problems of one variant with statements filled in; problems sharing an id are merged."""
    merged: dict[str, dict[str, Any]] = {}
    solved = problem_set.solve(student)
    for problem in problem_set.variant(student).problems:
        entry = merged.setdefault(
            problem.id, {"id": problem.id, "title": problem.title, "statement": problem.statement(), "parts": []}
        )
        for part in problem.parts:
            kind = solved[problem.key(part)].kind.value if problem.key(part) in solved else None
            entry["parts"].append(
                {"key": problem.key(part), "prompt": part.prompt, "points": part.points, "kind": kind}
            )
    return list(merged.values())


def reference_answers(problem_set: ProblemSet, student: str | None) -> dict[str, Any]:
    return {key: to_json(answer.kind, answer.value) for key, answer in problem_set.solve(student).items()}


def max_score(problem_set: ProblemSet) -> float:
    return float(sum(part.points for part in problem_set.parts().values()))
