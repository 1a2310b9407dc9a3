"""An assignment's terms as the services read them, and one student's terms: the assignment with
the student's extension applied (:func:`with_extension`)."""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any, Protocol


class Terms(Protocol):
    """An assignment as the endpoints read it: an :class:`api.models.Assignment` row has these, and
    so has the :class:`AssignmentRow` read with the caller (:func:`api.deps.get_current_user`)."""

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
    @property
    def grades_released_parts(self) -> dict[str, Any] | None: ...
    @property
    def opens_at(self) -> datetime | None: ...
    @property
    def closes_at(self) -> datetime | None: ...
    @property
    def published(self) -> bool: ...
    @property
    def archived_at(self) -> datetime | None: ...
    @property
    def category(self) -> str: ...
    @property
    def grace_minutes(self) -> int: ...
    @property
    def feedback(self) -> str: ...
    @property
    def time_limit(self) -> int | None: ...
    @property
    def access(self) -> dict[str, Any] | None: ...


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
    grades_released_parts: dict[str, Any] | None
    opens_at: datetime | None
    closes_at: datetime | None
    published: bool
    archived_at: datetime | None
    category: str
    grace_minutes: int
    feedback: str
    time_limit: int | None
    #: The exam room's rules as stored (:class:`api.exam_room.rules.AccessRules`).
    access: dict[str, Any] | None

    @classmethod
    def of(cls, assignment: Terms) -> AssignmentRow:
        """The plain values of an assignment (an ORM row, say)."""
        return cls(**{name: getattr(assignment, name) for name in _ROW_FIELDS})


@dataclass(frozen=True, slots=True)
class ExtensionRow:
    """One student's own due date, attempt limit and close (None: the assignment's), and the minutes
    added to a timed assignment's limit."""

    due_at: datetime | None
    max_attempts: int | None
    closes_at: datetime | None
    extra_minutes: int | None = None


_ROW_FIELDS = tuple(field.name for field in fields(AssignmentRow))


def with_extension(assignment: Terms, extension: ExtensionRow | None) -> Terms:
    """The assignment's terms for a student with ``extension``: its due date, limit and close where
    set (the close as :func:`own_close` says), and a timed assignment's minutes with the extra ones."""
    if extension is None:
        return assignment
    terms = {name: getattr(assignment, name) for name in _ROW_FIELDS}
    terms["due_at"] = extension.due_at or assignment.due_at
    terms["max_attempts"] = extension.max_attempts or assignment.max_attempts
    terms["closes_at"] = own_close(assignment, extension)
    if assignment.time_limit is not None and extension.extra_minutes:
        terms["time_limit"] = assignment.time_limit + extension.extra_minutes
    return AssignmentRow(**terms)


class Closes(Protocol):
    """What a student's close is computed from: the assignment's own close."""

    @property
    def closes_at(self) -> datetime | None: ...


def own_close(assignment: Closes, extension: ExtensionRow | None) -> datetime | None:
    """A student's close: their extension's own; else the assignment's, moved to their extended due
    date where that is later (an extension past the close would otherwise be worth nothing);
    None: never."""
    if extension is not None and extension.closes_at is not None:
        return extension.closes_at
    close = assignment.closes_at
    if close is not None and extension is not None and extension.due_at is not None and extension.due_at > close:
        return extension.due_at
    return close
