"""The readers of students' accommodations: each student's :class:`~api.terms.allowance.Allowance`,
and their extensions carrying it (:class:`~api.terms.rows.ExtensionRow`, one for each student
holding a label even without an extension of their own), so that
:func:`api.terms.rows.with_extension` applies both in one place."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.models import Accommodation, Extension, StudentAccommodation
from api.terms.allowance import Allowance, Label, combine
from api.terms.rows import ExtensionRow

_LABEL_COLUMNS = (
    Accommodation.name,
    Accommodation.time_multiplier,
    Accommodation.extra_minutes,
    Accommodation.extra_days,
    Accommodation.extra_attempts,
)


def read_labels(session: Session, *, course_id: str) -> list[Label]:
    """The course's accommodations, by name."""
    rows = session.execute(
        select(*_LABEL_COLUMNS).where(Accommodation.course_id == course_id).order_by(Accommodation.name)
    )
    return [Label(*row) for row in rows]


def read_allowances(session: Session, *, course_id: str, student_id: str | None = None) -> dict[str, Allowance]:
    """Each student's allowance (every student holding a label; or the one ``student_id``), by
    student. One statement."""
    query = (
        select(StudentAccommodation.student_id, *_LABEL_COLUMNS)
        .join(
            Accommodation,
            (Accommodation.course_id == StudentAccommodation.course_id)
            & (Accommodation.name == StudentAccommodation.name),
        )
        .where(StudentAccommodation.course_id == course_id)
    )
    if student_id is not None:
        query = query.where(StudentAccommodation.student_id == student_id)
    held: dict[str, list[Label]] = {}
    for student, name, multiplier, minutes, days, attempts in session.execute(query):
        held.setdefault(student, []).append(Label(name, multiplier, minutes, days, attempts))
    return {student: combine(labels) for student, labels in held.items()}


def with_allowances(
    extensions: Mapping[str, ExtensionRow], allowances: Mapping[str, Allowance]
) -> dict[str, ExtensionRow]:
    """Each student's extension (by student) carrying their allowance, and one for every student
    holding a label without an extension."""
    merged = {student: replace(row, allowance=allowances.get(student)) for student, row in extensions.items()}
    for student, allowance in allowances.items():
        if student not in merged:
            merged[student] = ExtensionRow(None, None, None, allowance=allowance)
    return merged


def allowed(extension: ExtensionRow | None, allowance: Allowance | None) -> ExtensionRow | None:
    """One student's extension carrying their allowance (None: neither)."""
    if allowance is None:
        return extension
    if extension is None:
        return ExtensionRow(None, None, None, allowance=allowance)
    return replace(extension, allowance=allowance)


class StudentTerms:
    """One student's extensions by assignment of the course, each carrying their allowance: ``get``
    gives an assignment without an extension of theirs the allowance alone (None: neither)."""

    def __init__(self, extensions: Mapping[str, ExtensionRow], allowance: Allowance | None) -> None:
        self._extensions = extensions
        self.allowance = allowance

    def get(self, assignment_id: str) -> ExtensionRow | None:
        return allowed(self._extensions.get(assignment_id), self.allowance)


class CourseTerms:
    """Every extension of a course by (assignment, student), each carrying the student's allowance:
    ``get`` gives a student without an extension of an assignment their allowance alone."""

    def __init__(self, extensions: Mapping[tuple[str, str], ExtensionRow], allowances: Mapping[str, Allowance]) -> None:
        self._extensions = extensions
        self.allowances = allowances

    def get(self, key: tuple[str, str]) -> ExtensionRow | None:
        return allowed(self._extensions.get(key), self.allowances.get(key[1]))

    def extends(self, assignment_id: str) -> bool:
        """Whether any student's terms of the assignment differ from its own (an extension of it, or
        an accommodation that moves its dates)."""
        moves = any(allowance.extra_days for allowance in self.allowances.values())
        return moves or any(assignment == assignment_id for assignment, _ in self._extensions)


def own_extension(session: Session, *, course_id: str, assignment_id: str, student_id: str) -> ExtensionRow | None:
    """One student's extension of one assignment carrying their allowance (None: neither)."""
    found = session.get(Extension, (course_id, assignment_id, student_id))
    extension = None
    if found is not None:
        extension = ExtensionRow(found.due_at, found.max_attempts, found.closes_at, found.extra_minutes)
    return allowed(extension, read_allowances(session, course_id=course_id, student_id=student_id).get(student_id))
