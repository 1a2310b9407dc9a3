"""An assignment's terms as the services read them, and one student's terms: the assignment with
the student's extension and accommodations applied (:func:`with_extension`), the one place both are."""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any, Protocol

from api.terms.allowance import Allowance


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
    #: A student's terms: what their accommodations gave (:func:`with_extension`; None: none, or the
    #: assignment's own terms). Not a column.
    allowance: Allowance | None = None

    @classmethod
    def of(cls, assignment: Terms) -> AssignmentRow:
        """The plain values of an assignment (an ORM row, say)."""
        return cls(**{name: getattr(assignment, name) for name in _ROW_FIELDS})


@dataclass(frozen=True, slots=True)
class ExtensionRow:
    """One student's own due date, attempt limit and close (None: the assignment's), and the minutes
    added to a timed assignment's limit; and what their accommodations add to every assignment of
    the course (``allowance``: :mod:`api.terms.accommodations` reads it beside the extension)."""

    due_at: datetime | None
    max_attempts: int | None
    closes_at: datetime | None
    extra_minutes: int | None = None
    allowance: Allowance | None = None

    @property
    def granted(self) -> bool:
        """Whether the student has an extension of their own (not only accommodations)."""
        return any(value is not None for value in (self.due_at, self.max_attempts, self.closes_at, self.extra_minutes))


#: An extension's own fields, as stored (the allowance is read beside them).
EXTENSION_COLUMNS = ("due_at", "max_attempts", "closes_at", "extra_minutes")
_ROW_FIELDS = tuple(field.name for field in fields(AssignmentRow) if field.name != "allowance")
_NONE = Allowance()


def with_extension(assignment: Terms, extension: ExtensionRow | None) -> Terms:
    """The assignment's terms for a student with ``extension``: each field the extension sets wins
    (its due date, attempt limit, close, extra minutes); each it leaves to the assignment is the
    assignment's with the student's accommodations applied (``extension.allowance``: the due date and
    close moved by the extra days, the attempt limit raised by the extra attempts, a timed
    assignment's limit multiplied, then the extra minutes added). The close is :func:`own_close`'s."""
    if extension is None:
        return assignment
    allowance = extension.allowance or _NONE
    terms = {name: getattr(assignment, name) for name in _ROW_FIELDS}
    terms["due_at"] = extension.due_at or allowance.moved(assignment.due_at)
    terms["max_attempts"] = extension.max_attempts or allowance.attempts(assignment.max_attempts)
    terms["closes_at"] = own_close(assignment, extension)
    if assignment.time_limit is not None:
        if extension.extra_minutes:
            terms["time_limit"] = assignment.time_limit + extension.extra_minutes
        else:
            terms["time_limit"] = allowance.time_limit(assignment.time_limit)
    return AssignmentRow(**terms, allowance=extension.allowance)


class Closes(Protocol):
    """What a student's close is computed from: the assignment's own close."""

    @property
    def closes_at(self) -> datetime | None: ...


def own_close(assignment: Closes, extension: ExtensionRow | None) -> datetime | None:
    """A student's close: their extension's own; else the assignment's (moved by their
    accommodations' extra days), moved to their extended due date where that is later (an extension
    past the close would otherwise be worth nothing); None: never."""
    if extension is not None and extension.closes_at is not None:
        return extension.closes_at
    close = assignment.closes_at
    if extension is not None and extension.allowance is not None:
        close = extension.allowance.moved(close)
    if close is not None and extension is not None and extension.due_at is not None and extension.due_at > close:
        return extension.due_at
    return close


def allowance_of(terms: Terms) -> Allowance | None:
    """What the student's accommodations gave their ``terms`` (:func:`with_extension`; None: none)."""
    return terms.allowance if isinstance(terms, AssignmentRow) else None
