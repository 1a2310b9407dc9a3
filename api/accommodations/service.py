"""Defining a course's accommodations and giving them to students. Each change moves the terms of
every assignment for the students concerned, so, as an extension does, it may move the release of
held-back scores (the close for everyone) and their counted scores (the late penalty): both follow."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from api.kit import score_changes
from api.kit.db import upsert
from api.kit.errors import Conflict, NotFound, Unprocessable
from api.models import Accommodation, Assignment, CourseRole, Membership, StudentAccommodation
from api.terms.accommodations import read_labels
from api.terms.allowance import Label
from api.terms.releases import release_moved

#: A label's name: as an id (letters, digits and ``._@-``), so it needs no quoting in a URL or in
#: a roster's ``accommodations`` cell, whose names are separated by ``;``.
NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]{0,63}")
#: What a roster cell separates names with.
SEPARATOR = ";"


def check_name(name: str) -> str:
    if NAME.fullmatch(name) is None:
        raise Unprocessable(
            f"{name[:80]!r} cannot name an accommodation: 1 to 64 letters, digits and `._@-`, starting with a "
            "letter or digit."
        )
    return name


def put_accommodation(
    session: Session,
    *,
    course_id: str,
    name: str,
    time_multiplier: float | None,
    extra_minutes: int | None,
    extra_days: int | None,
    extra_attempts: int | None,
    by: str,
) -> Label:
    """Creates or replaces the course's accommodation ``name``; its holders' terms change at once."""
    check_name(name)
    values = {
        "course_id": course_id,
        "name": name,
        "time_multiplier": time_multiplier,
        "extra_minutes": extra_minutes,
        "extra_days": extra_days,
        "extra_attempts": extra_attempts,
        "updated_by": by,
        "updated_at": datetime.now(UTC),
    }
    upsert(session, Accommodation, values, keys=("course_id", "name"))
    _terms_moved(session, course_id=course_id, students=holders(session, course_id=course_id).get(name, []))
    return Label(name, time_multiplier, extra_minutes, extra_days, extra_attempts)


def delete_accommodation(session: Session, *, course_id: str, name: str) -> None:
    """Removes the accommodation and every student's holding of it."""
    row = session.get(Accommodation, (course_id, name)) if NAME.fullmatch(name) else None
    if row is None:
        raise NotFound(f"No accommodation {name!r} in course {course_id!r}.")
    students = holders(session, course_id=course_id).get(name, [])
    session.execute(
        delete(StudentAccommodation).where(
            StudentAccommodation.course_id == course_id, StudentAccommodation.name == name
        )
    )
    session.delete(row)
    _terms_moved(session, course_id=course_id, students=students)


def holders(session: Session, *, course_id: str) -> dict[str, list[str]]:
    """The students holding each accommodation, by name (students by id)."""
    rows = session.execute(
        select(StudentAccommodation.name, StudentAccommodation.student_id)
        .where(StudentAccommodation.course_id == course_id)
        .order_by(StudentAccommodation.name, StudentAccommodation.student_id)
    )
    held: dict[str, list[str]] = {}
    for name, student in rows:
        held.setdefault(name, []).append(student)
    return held


def unknown_names(session: Session, *, course_id: str, names: Iterable[str]) -> list[str]:
    """The names among ``names`` that are not accommodations of the course."""
    known = {label.name for label in read_labels(session, course_id=course_id)}
    return sorted(set(names) - known)


def unknown_message(course_id: str, unknown: Sequence[str], known: Iterable[str]) -> str:
    listed = ", ".join(sorted(known)) or "none yet"
    return (
        f"No accommodation {', '.join(map(repr, unknown))} in course {course_id!r} (its accommodations: {listed}); "
        "define it first (PUT .../accommodations/NAME, or the course's accommodations page)."
    )


def set_student_accommodations(
    session: Session, *, course_id: str, student_id: str, names: Sequence[str], moved: bool = True
) -> list[str]:
    """The student now holds exactly ``names`` (none: ``[]``), each an accommodation of the course;
    :class:`NotFound` unless they are a student of it, or naming the unknown ones."""
    membership = session.get(Membership, (course_id, student_id))
    if membership is None or membership.role != CourseRole.STUDENT:
        raise NotFound(f"No student {student_id!r} in course {course_id!r}.")
    wanted = sorted(set(names))
    unknown = unknown_names(session, course_id=course_id, names=wanted)
    if unknown:
        known = [label.name for label in read_labels(session, course_id=course_id)]
        raise NotFound(unknown_message(course_id, unknown, known))
    session.execute(
        delete(StudentAccommodation).where(
            StudentAccommodation.course_id == course_id, StudentAccommodation.student_id == student_id
        )
    )
    session.add_all(StudentAccommodation(course_id=course_id, student_id=student_id, name=name) for name in wanted)
    if moved:
        _terms_moved(session, course_id=course_id, students=[student_id])
    return wanted


def _terms_moved(session: Session, *, course_id: str, students: Sequence[str]) -> None:
    """The terms of every assignment changed for ``students``: the release of held-back scores may
    move (the close for everyone), and their counted scores go to their LMS (the late penalty)."""
    session.flush()
    assignments = session.scalars(select(Assignment).where(Assignment.course_id == course_id)).all()
    for assignment in assignments:
        release_moved(session, assignment, sent=False)
        if students:
            score_changes.changed_for(
                session, course_id=course_id, assignment_id=assignment.id, student_ids=list(students)
            )


def import_holdings(
    session: Session, *, course_id: str, members: Sequence[tuple[str, str, Sequence[str] | None]]
) -> None:
    """A roster's ``accommodations`` of each member (id, role, names; None: unchanged), after the
    import made them members: :class:`Conflict` (the roster and the course disagree) naming the
    members whose names the course does not define, or who are not students, before anything is set."""
    given = [(member, role, names) for member, role, names in members if names is not None]
    if not given:
        return
    known = {label.name for label in read_labels(session, course_id=course_id)}
    problems = [
        f"{member!r}: {unknown_message(course_id, sorted(set(names) - known), known)}"
        for member, _, names in given
        if set(names) - known
    ]
    problems += [
        f"{member!r} is imported as {role}: only students hold accommodations."
        for member, role, names in given
        if names and role != CourseRole.STUDENT
    ]
    if problems:
        raise Conflict(" ".join(problems))
    for member, _, names in given:
        set_student_accommodations(session, course_id=course_id, student_id=member, names=names, moved=False)
    _terms_moved(session, course_id=course_id, students=[member for member, _, _ in given])
