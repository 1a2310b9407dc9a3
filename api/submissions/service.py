"""Submissions: graded on arrival, stored atomically, numbered exactly, safe to retry.

**Attempt numbers.** The number is computed inside the INSERT
(``(SELECT coalesce(max(attempt), 0) + 1 ...)``) and ``(assignment, student, attempt)`` is
unique. Two concurrent submissions that compute the same number cannot both be stored: the
loser's ``INSERT ... ON CONFLICT DO NOTHING`` returns no row (PostgreSQL first waits for the
winner to commit) and is computed again. Numbers are therefore dense and unique, and a number
above ``max_attempts`` is deleted again and refused (409): the limit holds exactly, by the
database, without a read-then-write race. (``ON CONFLICT`` rather than a savepoint around a
failing INSERT: the savepoint cost two more round trips on every submission.)

**Unreadable answers.** A submission with an answer that cannot be read (an ``invalid`` part)
or a key the assignment does not have is refused with 422 and stored nowhere: it uses no
attempt, and the detail says which keys and how each answer was read, so the student can fix
the typo (``/preview`` shows the same without submitting). Blank answers are fine (``unanswered``).

**Idempotency.** ``(student, Idempotency-Key)`` is unique and the row keeps a SHA-256 of the
request (assignment and answers). A retry with the same key and request returns the stored
submission; the same key with a different request is refused (422).

**Locking.** Reading and grading happen before the write begins (:func:`api.db.begin_write`),
so on SQLite simultaneous submissions grade in parallel and queue only for the INSERT.

**Regrades** move the current grade into ``earlier_grades`` before replacing it.
"""

from __future__ import annotations

import functools
import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import bindparam, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, selectinload
from sqlalchemy.orm.attributes import set_committed_value

from api.assignments.service import is_late, variant_of
from api.db import begin_write
from api.errors import Conflict, Unprocessable
from api.models import Assignment, EarlierGrade, Submission, User
from grader.engine import grade_submission, preview_submission
from grader.results import PreviewedPart
from problems.sets import ProblemSet

#: Rounds of "number taken, count again" before giving up (each round means another submission
#: of the same student committed meanwhile, so this is far more than a limit can need).
MAX_NUMBERING_ROUNDS = 200


@dataclass(frozen=True)
class Stored:
    submission: Submission
    replayed: bool


def fingerprint(assignment_id: str, answers: dict[str, Any]) -> str:
    canonical = json.dumps({"assignment": assignment_id, "answers": answers}, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8", "surrogatepass")).hexdigest()


def preview(
    problem_set: ProblemSet, answers: dict[str, Any], *, student: str
) -> tuple[dict[str, PreviewedPart], list[str], list[str]]:
    """Parts as read, the unreadable keys and the unknown keys."""
    parts, unknown = preview_submission(problem_set, answers, student=student)
    unreadable = [key for key, part in parts.items() if part.answered and not part.readable]
    return parts, unreadable, list(unknown)


def _replay(session: Session, *, student: User, key: str, request_hash: str) -> Stored | None:
    existing = session.scalar(
        select(Submission).where(Submission.student_id == student.id, Submission.idempotency_key == key)
    )
    if existing is None:
        return None
    if existing.request_hash != request_hash:
        raise Unprocessable(
            f"The Idempotency-Key {key!r} was already used for a different request (submission {existing.id}); "
            "use a new key for new answers."
        )
    return Stored(existing, replayed=True)


def submit(
    session: Session,
    *,
    problem_set: ProblemSet,
    assignment: Assignment,
    student: User,
    answers: dict[str, Any],
    idempotency_key: str | None = None,
    now: datetime | None = None,
) -> Stored:
    request_hash = fingerprint(assignment.id, answers)
    if idempotency_key is not None:
        replay = _replay(session, student=student, key=idempotency_key, request_hash=request_hash)
        if replay is not None:
            return replay

    if assignment.max_attempts is not None and _used(session, assignment, student) >= assignment.max_attempts:
        # a shortcut that saves grading; the INSERT below is what enforces the limit
        raise Conflict(_limit_message(assignment))

    parts, unreadable, unknown = preview(problem_set, answers, student=student.id)
    if unreadable or unknown:
        raise Unprocessable(_refusal(parts, unreadable, unknown, problem_set))
    graded = grade_submission(problem_set, answers, student=student.id)

    now = now or datetime.now(UTC)
    values = {
        "assignment_id": assignment.id,
        "student_id": student.id,
        "idempotency_key": idempotency_key,
        "request_hash": request_hash,
        "answers": answers,
        "parts": {key: part.to_json() for key, part in graded.parts.items()},
        "score": graded.score,
        "max_score": graded.max_score,
        "set_version": problem_set.version,
        "variant": variant_of(problem_set, student.id),
        "submitted_at": now,
        "graded_at": now,
        "late": is_late(assignment, now),
    }
    begin_write(session)
    insert_unless_taken = _insert_unless_taken(session.get_bind().dialect.name, tuple(values))
    parameters = {f"new_{name}": value for name, value in values.items()}
    for _ in range(MAX_NUMBERING_ROUNDS):
        submission = session.scalar(insert_unless_taken, parameters)
        if submission is None:
            # Another submission of this student took the number (or this idempotency key) first.
            if idempotency_key is not None:
                replay = _replay(session, student=student, key=idempotency_key, request_hash=request_hash)
                if replay is not None:
                    return replay
            continue
        if assignment.max_attempts is not None and submission.attempt > assignment.max_attempts:
            session.delete(submission)
            session.flush()
            raise Conflict(_limit_message(assignment))
        set_committed_value(submission, "earlier_grades", [])  # new: nothing to load
        return Stored(submission, replayed=False)
    raise Conflict("Too many simultaneous submissions; please retry.")


@functools.cache
def _insert_unless_taken(dialect: str, names: tuple[str, ...]) -> Any:
    """``INSERT ... ON CONFLICT DO NOTHING RETURNING *``: a taken attempt number or idempotency key
    yields no row. The attempt is ``max + 1`` of the student's attempts, computed in the statement.

    Built once, with a bound parameter ``new_<column>`` per value: a statement built per request
    with the answers inline costs more to build and to key for the compiled cache than the INSERT.
    """
    columns = Submission.__table__.c
    bound = {name: bindparam(f"new_{name}", type_=columns[name].type) for name in names}
    next_attempt = (
        select(func.coalesce(func.max(Submission.attempt), 0) + 1)
        .where(Submission.assignment_id == bound["assignment_id"], Submission.student_id == bound["student_id"])
        .scalar_subquery()
    )
    match dialect:
        case "postgresql":
            statement = postgresql.insert(Submission)
        case "sqlite":
            statement = sqlite.insert(Submission)
        case _:
            raise NotImplementedError(f"no INSERT ... ON CONFLICT for {dialect}")
    return statement.values(attempt=next_attempt, **bound).on_conflict_do_nothing().returning(Submission)


def _used(session: Session, assignment: Assignment, student: User) -> int:
    return (
        session.scalar(
            select(func.count())
            .select_from(Submission)
            .where(Submission.assignment_id == assignment.id, Submission.student_id == student.id)
        )
        or 0
    )


def _limit_message(assignment: Assignment) -> str:
    return f"All {assignment.max_attempts} attempts of assignment {assignment.id!r} are used."


def _refusal(
    parts: dict[str, PreviewedPart], unreadable: list[str], unknown: list[str], problem_set: ProblemSet
) -> dict[str, Any]:
    problems = []
    if unreadable:
        problems.append(f"{len(unreadable)} answer(s) could not be read: {', '.join(unreadable)}")
    if unknown:
        problems.append(f"the assignment has no key(s) {', '.join(unknown)}")
    return {
        "message": "Not submitted (no attempt used): " + "; ".join(problems) + ".",
        "unreadable": {key: parts[key].reason for key in unreadable},
        "unknown_keys": unknown,
        "known_keys": problem_set.answer_keys() if unknown else [],
        "parts": {key: part.to_json() for key, part in parts.items()},
    }


def list_submissions(session: Session, *, assignment: Assignment, student: str | None = None) -> list[Submission]:
    query = (
        select(Submission)
        .where(Submission.assignment_id == assignment.id)
        .options(selectinload(Submission.earlier_grades))
        .order_by(Submission.student_id, Submission.attempt)
    )
    if student is not None:
        query = query.where(Submission.student_id == student)
    return list(session.scalars(query))


def regrade(session: Session, *, problem_set: ProblemSet, assignment: Assignment) -> tuple[int, int]:
    """Every stored submission against the current set; returns (submissions, changed)."""
    now = datetime.now(UTC)
    total = changed = 0
    for submission in list_submissions(session, assignment=assignment):
        total += 1
        graded = grade_submission(problem_set, submission.answers, student=submission.student_id)
        parts = {key: part.to_json() for key, part in graded.parts.items()}
        if parts == submission.parts and problem_set.version == submission.set_version:
            continue
        changed += 1
        submission.earlier_grades.append(
            EarlierGrade(
                parts=submission.parts,
                score=submission.score,
                max_score=submission.max_score,
                set_version=submission.set_version,
                graded_at=submission.graded_at,
                replaced_at=now,
                note="regrade",
            )
        )
        submission.parts = parts
        submission.score = graded.score
        submission.max_score = graded.max_score
        submission.set_version = problem_set.version
        submission.variant = variant_of(problem_set, submission.student_id)
        submission.graded_at = now
    session.flush()
    return total, changed
