"""The demo course of ``grader serve --demo``: course ``demo`` with one instructor (its owner), one
TA, three students and one assignment per built-in problem set. Loading it again creates nothing
twice; it re-issues the demo accounts' tokens (tokens are stored only as hashes, so the old ones
cannot be shown again) and brings back a demo member dropped meanwhile."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session

from api.assignments.service import create_assignment
from api.db import upsert
from api.errors import Conflict
from api.library import Library, Sets
from api.models import Assignment, Course, CourseRole, GradePolicy, Membership, Release, Role, User
from api.users.service import issue_token, revoke_tokens

COURSE = ("demo", "Demo course: convolutional networks")
INSTRUCTOR = ("demo-instructor", "Demo Instructor")
TA = ("demo-ta", "Demo Assistant")
STUDENTS = (("alice", "Alice Example"), ("bob", "Bob Example"), ("carol", "Carol Example"))
#: (account, its account role, its role in the demo course)
PEOPLE = [
    (INSTRUCTOR, Role.INSTRUCTOR, CourseRole.OWNER),
    (TA, Role.STUDENT, CourseRole.TA),
    *((student, Role.STUDENT, CourseRole.STUDENT) for student in STUDENTS),
]


@dataclass(frozen=True)
class DemoCourse:
    course: str
    tokens: dict[str, str]
    assignments: list[str]


def load_demo(session: Session, *, library: Library, now: datetime | None = None) -> DemoCourse:
    now = now or datetime.now(UTC)
    course_id, title = COURSE
    tokens: dict[str, str] = {}
    for (user_id, name), role, _ in PEOPLE:
        user = session.get(User, user_id)
        if user is not None and (user.role != role or user.email != f"{user_id}@example.edu"):
            raise Conflict(f"The account {user_id!r} exists and is not a demo account; --demo leaves it alone.")
        if user is None:
            user = User(id=user_id, name=name, role=role.value, email=f"{user_id}@example.edu")
            session.add(user)
            session.flush()
        revoke_tokens(session, user=user)
        tokens[user_id] = issue_token(session, user=user)
    course = session.get(Course, course_id)
    if course is None:
        session.add(Course(id=course_id, title=title, created_by=INSTRUCTOR[0]))
        session.flush()
    elif course.created_by != INSTRUCTOR[0]:
        raise Conflict(f"The course {course_id!r} exists and is not the demo course; --demo leaves it alone.")
    for (user_id, _), _, course_role in PEOPLE:
        upsert(
            session,
            Membership,
            {"course_id": course_id, "user_id": user_id, "role": course_role.value},
            keys=("course_id", "user_id"),
        )
    sets, bank = Sets(library, session), library.built_in()
    for set_id, problem_set in bank.items():
        if session.get(Assignment, (course_id, set_id)) is None:
            sets.pin(problem_set)
            create_assignment(
                session,
                problem_set=problem_set,
                course_id=course_id,
                created_by=INSTRUCTOR[0],
                assignment_id=set_id,
                title=problem_set.title,
                due_at=now + timedelta(days=14),
                max_attempts=5,
                release_answers=Release.AFTER_DUE.value,
                grade_policy=GradePolicy.BEST.value,
                late_penalty={"per_day": 10.0, "floor": 50.0},
            )
    return DemoCourse(course_id, tokens, sorted(bank))
