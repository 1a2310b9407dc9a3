"""The demo course of ``grader serve --demo``: one instructor, three students, one assignment per
built-in problem set. Loading it again creates nothing twice; it re-issues the demo accounts'
tokens (tokens are stored only as hashes, so the old ones cannot be shown again) and puts a dropped
demo student back on the roster."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session

from api.assignments.service import create_assignment
from api.errors import Conflict
from api.models import Assignment, GradePolicy, Release, Role, User
from api.users.service import issue_token, revoke_tokens
from problems.sets import ProblemSet

INSTRUCTOR = ("demo-instructor", "Demo Instructor")
STUDENTS = (("alice", "Alice Example"), ("bob", "Bob Example"), ("carol", "Carol Example"))


@dataclass(frozen=True)
class DemoCourse:
    tokens: dict[str, str]
    assignments: list[str]


def load_demo(session: Session, *, bank: dict[str, ProblemSet], now: datetime | None = None) -> DemoCourse:
    now = now or datetime.now(UTC)
    tokens: dict[str, str] = {}
    for (user_id, name), role in [(INSTRUCTOR, Role.INSTRUCTOR)] + [(s, Role.STUDENT) for s in STUDENTS]:
        user = session.get(User, user_id)
        if user is not None and (user.role != role or user.email != f"{user_id}@example.edu"):
            raise Conflict(f"The account {user_id!r} exists and is not a demo account; --demo leaves it alone.")
        if user is None:
            user = User(id=user_id, name=name, role=role.value, email=f"{user_id}@example.edu")
            session.add(user)
            session.flush()
        user.on_roster = True  # a demo student dropped meanwhile is back
        revoke_tokens(session, user=user)
        tokens[user_id] = issue_token(session, user=user)
    for set_id, problem_set in bank.items():
        if session.get(Assignment, set_id) is None:
            create_assignment(
                session,
                bank=bank,
                created_by=INSTRUCTOR[0],
                assignment_id=set_id,
                problem_set=set_id,
                title=problem_set.title,
                due_at=now + timedelta(days=14),
                max_attempts=5,
                release_answers=Release.AFTER_DUE.value,
                grade_policy=GradePolicy.BEST.value,
            )
    return DemoCourse(tokens, sorted(bank))
