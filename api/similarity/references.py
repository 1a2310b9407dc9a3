"""Past terms' submissions as references of a similarity report: staff name earlier assignments (of
this course or another they staff) when they ask for it; each student's latest submission to them
is compared against the class and never paired with another reference, and a pair with one says
so (``reference``). A course the caller does not staff is not told to exist (404), as an
assignment it does not hold.

A reference's parts are read by the report's part keys: a past term given the same problem set
answers the same keys. Its submissions are fingerprinted when the report is computed, not kept
in the index: they belong to another assignment's report.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import cast

from sqlalchemy import Table, func, select
from sqlalchemy.orm import Session

from api.access import member_of
from api.kit.errors import NotFound, Unprocessable
from api.models import Assignment, Submission
from api.terms.rows import Terms
from api.users.service import Caller

SUBMISSIONS, ASSIGNMENTS = (cast(Table, m.__table__) for m in (Submission, Assignment))

#: Earlier assignments a report may name.
MAX_REFERENCES = 5
#: Students of all references together, at most.
MAX_REFERENCE_STUDENTS = 5000


def checked_references(
    session: Session, *, assignment: Terms, caller: Caller, named: Sequence[Mapping[str, str | None]] | None
) -> list[dict[str, str]] | None:
    """The references as stored (``{"course", "assignment"}``, the course this one's if not given),
    each an assignment of a course the caller staffs (else 404: nothing is told of another course)
    and not the report's own (422)."""
    if not named:
        return None
    found: list[dict[str, str]] = []
    for reference in named:
        course_id = reference.get("course") or assignment.course_id
        assignment_id = str(reference["assignment"])
        member = member_of(session, caller, course_id)
        held = session.scalar(
            select(func.count())
            .select_from(ASSIGNMENTS)
            .where(ASSIGNMENTS.c.course_id == course_id, ASSIGNMENTS.c.id == assignment_id)
        )
        if member is None or not member.is_staff or not held:
            raise NotFound(f"No assignment {assignment_id} in a course you staff named {course_id}.")
        if (course_id, assignment_id) == (assignment.course_id, assignment.id):
            raise Unprocessable("The report's own assignment cannot be its reference: name an earlier one.")
        if {"course": course_id, "assignment": assignment_id} not in found:
            found.append({"course": course_id, "assignment": assignment_id})
    return found


def reference_name(course_id: str, assignment_id: str, student: str) -> str:
    """How a reference's submission is named in the report: its course, assignment and student."""
    return f"{course_id}/{assignment_id}/{student}"


def latest_of_references(session: Session, references: Sequence[Mapping[str, str]] | None) -> dict[int, str]:
    """Each student's latest submission to each reference: id → its name (:func:`reference_name`)."""
    found: dict[int, str] = {}
    for reference in references or ():
        latest = (
            select(func.max(SUBMISSIONS.c.id).label("id"), SUBMISSIONS.c.student_id)
            .where(
                SUBMISSIONS.c.course_id == reference["course"], SUBMISSIONS.c.assignment_id == reference["assignment"]
            )
            .group_by(SUBMISSIONS.c.student_id)
        )
        for row in session.execute(latest):
            found[int(row.id)] = reference_name(reference["course"], reference["assignment"], str(row.student_id))
    return found


def mark_references(pairs: Sequence[dict[str, object]], names: set[str]) -> None:
    """Each pair with a reference in it says which (``reference``: its name; None for two students)."""
    for pair in pairs:
        students = cast(list[str], pair["students"])
        pair["reference"] = next((student for student in students if student in names), None)
