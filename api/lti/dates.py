"""The due dates an LMS gives at a launch, and what they change here.

The registration asks the LMS for custom parameters (``docs/lti.md``): ``due_at`` =
``$Canvas.assignment.dueAt.iso8601`` (Canvas: the launching student's own due date, the LMS's
extensions included; an instructor's, the latest of all) and ``submission_end_at`` =
``$ResourceLink.submission.endDateTime`` (the resource link's due date, on any platform that fills
it), read in that order. A value the LMS did not expand (``$Canvas...`` sent back as it is: it has
no date for it), or that is not an ISO 8601 date and time, is ignored with a warning in the log: a
launch is never refused for a date. One without an offset is read in the course's time zone.

Each date read is kept (:class:`api.models.LmsDate`) for the staff's line where the LMS's and the
service's differ. Where the course's dates are the LMS's (``dates_from: lms``), a student's date is
their extension's due date here (:func:`api.assignments.service.set_extension`, which the late
flag, the penalty, the close and the LMS's score follow); the extension's other terms stay.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.assignments.service import set_extension
from api.kit.db import upsert
from api.kit.errors import NotFound, Unprocessable
from api.kit.zones import zone_named
from api.lti.claims import CUSTOM_DATES
from api.models import Assignment, Course, CourseRole, DatesFrom, Extension, LmsDate, Membership, User
from api.terms.rows import AssignmentRow

log = logging.getLogger("grader.lti")

#: The longest value read (ISO 8601 with fractions and an offset is about 30 characters).
MAX_CHARS = 64


def read_date(value: Any, zone: ZoneInfo) -> datetime | str | None:
    """The instant (UTC) of a custom parameter's value; a sentence saying why not where it is not
    one; None where it is empty (the LMS sent nothing)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if not isinstance(value, str):
        return f"a {type(value).__name__}, not a date"
    text = value.strip()
    if text.startswith("$"):
        return f"{text[:MAX_CHARS]!r} was not expanded by the LMS (it has no such date)"
    if len(text) > MAX_CHARS or "T" not in text.upper():
        return f"{text[:MAX_CHARS]!r} is not an ISO 8601 date and time"
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return f"{text!r} is not an ISO 8601 date and time"
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone)
    return moment.astimezone(UTC)


def lms_due(custom: Mapping[str, Any], zone: ZoneInfo, *, where: str) -> datetime | None:
    """The due date a launch's custom claim gives, the first readable one of :data:`CUSTOM_DATES`;
    each unreadable one is logged (``where``: the launch it came with) and passed over."""
    for key in CUSTOM_DATES:
        found = read_date(custom.get(key), zone)
        if isinstance(found, str):
            log.warning("LTI launch %s: the custom parameter %s is ignored: %s", where, key, found)
        elif found is not None:
            return found
    return None


def from_launch(
    db: Session,
    *,
    course_id: str,
    assignment_id: str,
    user_id: str,
    student: bool,
    custom: Mapping[str, Any],
    where: str,
    now: datetime | None = None,
) -> datetime | None:
    """Keeps the due date the launch gives (if any) and, for a student of a course whose dates are
    the LMS's, makes it their due date here; returns it."""
    course = db.get(Course, course_id)
    assignment = db.get(Assignment, (course_id, assignment_id))
    if course is None or assignment is None:
        return None
    due = lms_due(custom, zone_named(course.time_zone), where=where)
    if due is None:
        return None
    values = {
        "course_id": course_id,
        "assignment_id": assignment_id,
        "user_id": user_id,
        "due_at": due,
        "seen_at": now or datetime.now(UTC),
    }
    upsert(db, LmsDate, values, keys=("course_id", "assignment_id", "user_id"))
    if student and course.dates_from == DatesFrom.LMS.value:
        _extend(db, assignment, user_id, due, where=where)
    return due


def _extend(db: Session, assignment: Assignment, student_id: str, due: datetime, *, where: str) -> None:
    """The student's due date here made the LMS's, their extension's other terms kept; nothing is
    written where it is theirs already (a launch a minute is no change a minute)."""
    extension = db.get(Extension, (assignment.course_id, assignment.id, student_id))
    current = (extension.due_at if extension is not None else None) or assignment.due_at
    if current == due:
        return
    try:
        set_extension(
            db,
            assignment=AssignmentRow.of(assignment),
            student_id=student_id,
            due_at=due,
            max_attempts=None if extension is None else extension.max_attempts,
            granted_by=None,
            closes_at=None if extension is None else extension.closes_at,
            extra_minutes=None if extension is None else extension.extra_minutes,
        )
    except (NotFound, Unprocessable) as refused:
        log.warning("LTI launch %s: the LMS's due date is not the student's here: %s", where, refused)


@dataclass(frozen=True, slots=True)
class Difference:
    """A due date the LMS gave a user at their latest launch that is not theirs here: a student's
    own (their extension's, else the assignment's), anyone else's the assignment's."""

    assignment_id: str
    user_id: str
    name: str
    student: bool
    lms_due_at: datetime
    due_at: datetime | None
    seen_at: datetime


def differences(db: Session, *, course_id: str) -> list[Difference]:
    """Where the LMS's dates and the service's differ, as the latest launches saw them, by
    assignment and user (one query)."""
    rows = db.execute(
        select(LmsDate, Assignment.due_at, Extension.due_at, Membership.role, User.name)
        .join(Assignment, (Assignment.course_id == LmsDate.course_id) & (Assignment.id == LmsDate.assignment_id))
        .join(User, User.id == LmsDate.user_id)
        .outerjoin(Membership, (Membership.course_id == LmsDate.course_id) & (Membership.user_id == LmsDate.user_id))
        .outerjoin(
            Extension,
            (Extension.course_id == LmsDate.course_id)
            & (Extension.assignment_id == LmsDate.assignment_id)
            & (Extension.student_id == LmsDate.user_id),
        )
        .where(LmsDate.course_id == course_id, Assignment.archived_at.is_(None))
        .order_by(LmsDate.assignment_id, LmsDate.user_id)
    ).all()
    found = []
    for seen, assignment_due, own_due, role, name in rows:
        student = role == CourseRole.STUDENT.value
        here = (own_due or assignment_due) if student else assignment_due
        if here != seen.due_at:
            found.append(Difference(seen.assignment_id, seen.user_id, name, student, seen.due_at, here, seen.seen_at))
    return found
