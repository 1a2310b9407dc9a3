"""Assignments: creation, who sees what, statements of one variant, answer release."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, fields
from datetime import UTC, datetime
from typing import Any, Protocol

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from api.db import is_unique_violation, upsert
from api.errors import Conflict, NotFound
from api.ids import may_exist
from api.lti.outbox import record_score, record_scores
from api.models import Assignment, CourseRole, Extension, Membership, Practice, Release, Submission
from problems.parts import WrittenPart
from problems.render import to_json
from problems.sets import ProblemSet
from problems.solutions import solutions
from problems.variants import variant_key


def create_assignment(
    session: Session,
    *,
    problem_set: ProblemSet,
    course_id: str,
    created_by: str | None,
    assignment_id: str,
    title: str | None,
    due_at: datetime | None,
    max_attempts: int | None,
    release_answers: str,
    grade_policy: str,
    late_penalty: dict[str, Any] | None = None,
    practice: str = Practice.AFTER_DUE.value,
) -> Assignment:
    if session.get(Assignment, (course_id, assignment_id)) is not None:
        raise Conflict(f"There is already an assignment {assignment_id!r} in course {course_id!r}.")
    if due_at is not None and due_at.tzinfo is None:
        due_at = due_at.replace(tzinfo=UTC)
    assignment = Assignment(
        course_id=course_id,
        id=assignment_id,
        problem_set=problem_set.id,
        set_version=problem_set.version,
        title=title or problem_set.title,
        due_at=due_at,
        max_attempts=max_attempts,
        release_answers=release_answers,
        grade_policy=grade_policy,
        created_by=created_by,
        variant_secret=secrets.token_urlsafe(24),
        late_penalty=late_penalty,
        practice=practice,
    )
    session.add(assignment)
    try:
        session.flush()
    except IntegrityError as error:
        # created by a simultaneous request after the look-up above (PostgreSQL: this INSERT waited
        # for that request's commit); SQLite's write lock serializes such requests
        if is_unique_violation(error):
            raise Conflict(f"There is already an assignment {assignment_id!r} in course {course_id!r}.") from None
        raise
    return assignment


#: What ``PATCH`` may change besides the set (see :func:`update_assignment`).
CHANGEABLE = ("title", "due_at", "max_attempts", "release_answers", "grade_policy", "late_penalty", "practice")


def update_assignment(
    session: Session,
    *,
    course_id: str,
    assignment_id: str,
    changes: dict[str, Any],
    problem_set: ProblemSet | None = None,
) -> Assignment:
    """Applies ``changes`` (any of :data:`CHANGEABLE`; None clears a due date, limit or penalty),
    and pins ``problem_set`` (its version). Another version of the same set may be pinned at any
    time (then a regrade moves the stored grades to it); another set only while nothing is
    submitted. The row is locked, so two changes at once are applied one after the other."""
    assignment = session.get(Assignment, (course_id, assignment_id), with_for_update=True)
    if assignment is None:
        raise NotFound(f"No assignment {assignment_id!r} in course {course_id!r}.")
    if problem_set is not None:
        if problem_set.id != assignment.problem_set and _submitted(session, assignment):
            raise Conflict(
                f"Assignment {assignment_id!r} has submissions graded against {assignment.problem_set!r}; "
                "it can move to another version of that set, not to another set (create a new assignment instead)."
            )
        assignment.problem_set, assignment.set_version = problem_set.id, problem_set.version
    for name, value in changes.items():
        if name not in CHANGEABLE:
            raise ValueError(name)
        setattr(assignment, name, value)
    session.flush()
    if COUNTING.intersection(changes):  # every student's counted score may change: to their LMS (LTI)
        submitted = session.scalars(
            select(Submission.student_id)
            .where(Submission.course_id == course_id, Submission.assignment_id == assignment_id)
            .distinct()
        ).all()
        record_scores(session, course_id=course_id, assignment_id=assignment_id, student_ids=submitted)
    return assignment


#: The assignment's fields that decide which attempt counts and its penalty.
COUNTING = frozenset({"due_at", "late_penalty", "grade_policy"})


def _submitted(session: Session, assignment: Assignment) -> bool:
    found = session.scalar(
        select(Submission.id)
        .where(Submission.course_id == assignment.course_id, Submission.assignment_id == assignment.id)
        .limit(1)
    )
    return found is not None


def set_extension(
    session: Session,
    *,
    assignment: Terms,
    student_id: str,
    due_at: datetime | None,
    max_attempts: int | None,
    granted_by: str,
) -> ExtensionRow:
    """One student's own due date and attempt limit (None: the assignment's), replacing any earlier
    extension. The student must be a student of the course."""
    require_student(session, course_id=assignment.course_id, student_id=student_id)
    values = {
        "course_id": assignment.course_id,
        "assignment_id": assignment.id,
        "student_id": student_id,
        "due_at": due_at,
        "max_attempts": max_attempts,
        "granted_by": granted_by,
        "granted_at": datetime.now(UTC),
    }
    # one statement, so that two grants at once leave the later one rather than a unique violation
    upsert(session, Extension, values, keys=("course_id", "assignment_id", "student_id"))
    # a new due date may change the late penalty: the score goes to the student's LMS (LTI)
    record_score(session, course_id=assignment.course_id, assignment_id=assignment.id, student_id=student_id)
    return ExtensionRow(due_at, max_attempts)


def require_student(session: Session, *, course_id: str, student_id: str) -> None:
    """:class:`NotFound` unless ``student_id`` is a student of the course."""
    membership = session.get(Membership, (course_id, student_id)) if may_exist(student_id) else None
    if membership is None or membership.role != CourseRole.STUDENT:
        raise NotFound(f"No student {student_id!r} in course {course_id!r}.")


def drop_extension(session: Session, *, assignment: Terms, student_id: str) -> None:
    extension = session.get(Extension, (assignment.course_id, assignment.id, student_id))
    if extension is None:
        raise NotFound(f"Student {student_id!r} has no extension of assignment {assignment.id!r}.")
    session.delete(extension)
    session.flush()
    record_score(session, course_id=assignment.course_id, assignment_id=assignment.id, student_id=student_id)


def extensions(session: Session, *, assignment: Terms) -> dict[str, ExtensionRow]:
    """Every extension of the assignment, by student."""
    rows = session.execute(
        select(Extension.student_id, Extension.due_at, Extension.max_attempts).where(
            Extension.course_id == assignment.course_id, Extension.assignment_id == assignment.id
        )
    )
    return {student: ExtensionRow(due_at, limit) for student, due_at, limit in rows}


class Terms(Protocol):
    """An assignment as the endpoints read it: an :class:`Assignment` row has these, and so has the
    :class:`AssignmentRow` read with the caller (:func:`api.deps.get_current_user`)."""

    @property
    def course_id(self) -> str: ...
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
    def created_by(self) -> str | None: ...
    @property
    def created_at(self) -> datetime: ...
    @property
    def variant_secret(self) -> str | None: ...
    @property
    def late_penalty(self) -> dict[str, Any] | None: ...
    @property
    def set_version(self) -> str | None: ...
    @property
    def practice(self) -> str: ...
    @property
    def grades_released_at(self) -> datetime | None: ...


@dataclass(frozen=True, slots=True)
class AssignmentRow:
    """An assignment's columns as plain values: read by every request about an assignment, where
    an ORM object cost more to build than the query that found it (``bench/service.py``)."""

    course_id: str
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
    late_penalty: dict[str, Any] | None
    set_version: str | None
    practice: str
    grades_released_at: datetime | None


@dataclass(frozen=True, slots=True)
class ExtensionRow:
    """One student's own due date and attempt limit (None: the assignment's)."""

    due_at: datetime | None
    max_attempts: int | None


_ROW_FIELDS = tuple(field.name for field in fields(AssignmentRow))


def with_extension(assignment: Terms, extension: ExtensionRow | None) -> Terms:
    """The assignment's terms for a student with ``extension``: its due date and limit where set."""
    if extension is None:
        return assignment
    terms = {name: getattr(assignment, name) for name in _ROW_FIELDS}
    terms["due_at"] = extension.due_at or assignment.due_at
    terms["max_attempts"] = extension.max_attempts or assignment.max_attempts
    return AssignmentRow(**terms)


def is_late(assignment: Terms, at: datetime) -> bool:
    return assignment.due_at is not None and at > assignment.due_at


def references_shown(terms: Terms, *, staff: bool, now: datetime | None = None) -> bool:
    """The one rule for showing reference answers, in the REST API, the pages and every export:
    staff always see them; a student under their own ``terms`` (the assignment with their
    extension, :func:`with_extension`: a student who may still submit must not see them because
    the general due date has passed) once :func:`answers_released` says so."""
    return staff or answers_released(terms, now)


def answers_released(assignment: Terms, now: datetime | None = None) -> bool:
    """``immediately``: always; ``after_due``: once the due date has passed (never without one); ``never``: never.
    For a student, ``assignment`` is their own terms (see :func:`references_shown`)."""
    now = now or datetime.now(UTC)
    if assignment.release_answers == Release.IMMEDIATELY:
        return True
    if assignment.release_answers == Release.AFTER_DUE:
        return assignment.due_at is not None and now >= assignment.due_at
    return False


def practice_open(terms: Terms, *, randomized: bool, now: datetime | None = None) -> bool:
    """Whether a student may practise under their own ``terms`` (extension included): ``always``;
    ``after_due`` once their due date has passed (never without one); ``never``: never. A set that
    is not ``randomized`` has one variant, the graded one, and practice shows its worked
    solutions: there it opens only with the answers (:func:`answers_released`), whatever
    ``practice`` says, or it would hand them to students who can still submit."""
    now = now or datetime.now(UTC)
    if not randomized and not answers_released(terms, now):
        return False
    if terms.practice == Practice.ALWAYS:
        return True
    if terms.practice == Practice.AFTER_DUE:
        return terms.due_at is not None and now >= terms.due_at
    return False


def list_assignments(session: Session, *, course_id: str) -> list[Assignment]:
    query = select(Assignment).where(Assignment.course_id == course_id)
    return list(session.scalars(query.order_by(Assignment.created_at, Assignment.id)))


def attempts_used(session: Session, *, course_id: str, student_id: str) -> dict[str, int]:
    """Attempts the student stored so far, by assignment of the course."""
    rows = session.execute(
        select(Submission.assignment_id, func.count())
        .where(Submission.course_id == course_id, Submission.student_id == student_id)
        .group_by(Submission.assignment_id)
    )
    return {assignment_id: count for assignment_id, count in rows}


def student_extensions(session: Session, *, course_id: str, student_id: str) -> dict[str, ExtensionRow]:
    """The student's extensions, by assignment of the course."""
    rows = session.execute(
        select(Extension.assignment_id, Extension.due_at, Extension.max_attempts).where(
            Extension.course_id == course_id, Extension.student_id == student_id
        )
    )
    return {assignment: ExtensionRow(due_at, limit) for assignment, due_at, limit in rows}


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
        for part in problem.in_order():
            key = f"{problem.id}.{part.key}"
            shown = {"key": key, "prompt": part.prompt, "points": part.points}
            if isinstance(part, WrittenPart):
                entry["parts"].append({**shown, "kind": "text", "max_length": part.max_length})
            else:
                kind = solved[key].kind.value if key in solved else None
                entry["parts"].append({**shown, "kind": kind, "max_length": None})
    return list(merged.values())


def reference_answers(problem_set: ProblemSet, student: str | None) -> dict[str, Any]:
    return {key: to_json(answer.kind, answer.value) for key, answer in problem_set.solve(student).items()}


def worked_solutions(problem_set: ProblemSet, student: str | None) -> dict[str, list[dict[str, Any]]]:
    """Per key, the worked steps of the variant (shown under the same rule as the references:
    :func:`references_shown`), from the solvers alone (no mistake is solved for them)."""
    found = solutions(problem_set, student)
    return {key: [step.to_json() for step in steps] for key, steps in found.items()}


def max_score(problem_set: ProblemSet) -> float:
    return problem_set.max_score()
