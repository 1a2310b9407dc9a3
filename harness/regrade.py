"""Many stored submissions waiting for a regrade, written straight into the database (the API would
grade each on arrival: minutes for what a bulk INSERT does in seconds), for the tests and the
benchmark of regrade jobs.

A course with its own small set in two versions; assignments pinned to the second, whose stored
submissions were all graded against the first: a regrade changes every one of them.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import Engine, Table, insert
from sqlalchemy.orm import Session

from api.courses.service import create_course
from api.models import Assignment, CourseSet, Membership, Role, SetVersion, Submission, User
from api.users.service import Caller, create_user
from grader.engine import grade_submission
from problems.loader import parse_set, version_of

ROWS_PER_INSERT = 5000


def set_text(
    set_id: str,
    out_channels: int,
    *,
    title: str = "A set to regrade",
    source: str = "written for the regrade benchmark",
) -> str:
    """A set of one convolution, whose parameter count depends on ``out_channels`` (the tests'
    course sets are this file too: ``tests/factories.set_file``)."""
    return f"""id: {set_id}
title: {title}
source: {source}
problems:
  - id: q1
    title: One convolution
    text: A 3×3 convolution with {out_channels} filters on a 32×32×3 input, padding 1.
    type: network
    input: [32, 32, 3]
    layers:
      - {{kind: conv, name: conv1, out_channels: {out_channels}, kernel: 3, padding: 1}}
    parts:
      - {{key: params, quantity: params.conv1, prompt: The layer's parameters.}}
      - {{key: shape, quantity: shape.conv1, prompt: Its output shape (H×W×C).}}
"""


@dataclass(frozen=True)
class Stored:
    course: str
    assignments: list[str]
    #: The course's owner (who may start regrades and read their jobs), and an API token of theirs.
    owner: str
    token: str
    old_version: str
    new_version: str
    submissions: int
    #: One of its students (the first).
    student: str


def store_for_regrade(engine: Engine, *, submissions: int, assignments: int = 1, attempts: int = 10) -> Stored:
    """``submissions`` per assignment, ``attempts`` per student, graded against the old version."""
    tag = uuid.uuid4().hex[:8]
    set_id = f"bench-{tag}"
    old, new = set_text(set_id, 16), set_text(set_id, 32)
    old_version, new_version = version_of(old), version_of(new)
    now = datetime.now(UTC)
    with Session(engine) as session, session.begin():
        owner = create_user(session, name="Owner", role=Role.INSTRUCTOR, user_id=f"owner-{tag}")
        course = create_course(
            session, course_id=f"c-{tag}", title="Regrade", owner=Caller(owner.user.id, Role.INSTRUCTOR)
        )
        for version, text in ((old_version, old), (new_version, new)):
            session.add(SetVersion(version=version, set_id=set_id, text=text))
            session.flush()
            session.add(CourseSet(course_id=course.id, set_id=set_id, version=version, uploaded_by=owner.user.id))
        names = [f"a{i}" for i in range(assignments)]
        for name in names:
            session.add(
                Assignment(course_id=course.id, id=name, problem_set=set_id, title=name, set_version=new_version)
            )
        students = [f"s{i}-{tag}" for i in range(-(-submissions // attempts))]
        enrol(session, course.id, students, at=now)
        session.flush()
        right_for_old = {"q1.params": "448", "q1.shape": "32x32x16"}
        graded = grade_submission(parse_set(old), right_for_old)  # stored as the service stores it
        parts = graded.parts_json()
        assert graded.score == 2.0, parts
        for name in names:
            rows: list[dict[str, Any]] = []
            for n in range(submissions):
                student, attempt = students[n // attempts], n % attempts + 1
                rows.append(
                    {
                        "course_id": course.id,
                        "assignment_id": name,
                        "student_id": student,
                        "attempt": attempt,
                        "request_hash": "0" * 64,
                        "answers": right_for_old,
                        "parts": parts,
                        "score": graded.score,
                        "max_score": graded.max_score,
                        "set_version": old_version,
                        "submitted_at": now,
                        "graded_at": now,
                        "late": False,
                    }
                )
            bulk_insert(session, Submission, rows)
        course_id, owner_id, token = course.id, owner.user.id, owner.token
    assert token is not None
    return Stored(course_id, names, owner_id, token, old_version, new_version, submissions, students[0])


def enrol(session: Session, course_id: str, students: list[str], *, at: datetime) -> None:
    """New student accounts named by their ids, members of the course."""
    bulk_insert(session, User, [{"id": s, "name": s, "role": "student", "created_at": at} for s in students])
    bulk_insert(
        session,
        Membership,
        [{"course_id": course_id, "user_id": s, "role": "student", "joined_at": at} for s in students],
    )


def bulk_insert(session: Session, model: type[Any], rows: list[dict[str, Any]]) -> None:
    """``rows`` of ``model``'s table, a few thousand to a statement."""
    table = cast(Table, model.__table__)
    for start in range(0, len(rows), ROWS_PER_INSERT):
        session.execute(insert(table), rows[start : start + ROWS_PER_INSERT])
