"""A big course as a term has it, written straight into the database (the API would grade each
submission on arrival: minutes for what a bulk INSERT does in seconds), for the benchmark of a
course's views (``bench/course_views.py``) and the tests that count their statements.

Every student answers the quiz of ``examples/pooled-quiz.yaml`` (their own problems drawn from its
pools, their own numbers, a choice part) at every assignment, a first attempt with mistakes and a
second an hour later; the assignments cycle through the terms the views count differently (a
per-hour penalty with the due date between the attempts, feedback held back and extensions; the
best attempt where lateness takes nothing off; the last attempt after a per-day penalty; a late
factor), in two categories. Each attempt is graded as the service grades it, once per student
(the assignments share one secret, so each student has the same draw and numbers in every one).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from string import ascii_lowercase
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from api.assignments.draws import own_set
from api.assignments.service import variant_of
from api.courses.service import create_course
from api.models import Assignment, Course, CourseSet, Extension, Role, SetVersion, Submission
from api.users.service import Caller, create_user
from grader.engine import grade_submission
from harness.regrade import bulk_insert, enrol
from problems.loader import parse_set, version_of
from problems.render import to_text
from problems.sets import ProblemSet

SET_FILE = Path(__file__).resolve().parents[1] / "examples" / "pooled-quiz.yaml"
CATEGORIES = [{"name": "homework", "weight": 60, "drop_lowest": 1}, {"name": "exams", "weight": 40, "drop_lowest": 0}]
#: The terms the assignments cycle through, the first with every rule the counting reads.
TERMS: tuple[dict[str, Any], ...] = (
    {"late_penalty": {"per_hour": 10, "floor": 50}, "feedback": "correctness", "category": "exams"},
    {},
    {"grade_policy": "last", "late_penalty": {"per_day": 20}},
    {"late_penalty": {"factor": 0.5}, "feedback": "score"},
)
#: Every this many students has an extension (past their second attempt) of each assignment with a due date.
EXTENDED_EVERY = 10


@dataclass(frozen=True)
class Term:
    course: str
    assignments: list[str]
    #: The course's owner and an API token of theirs.
    owner: str
    token: str
    #: One of its students (the first).
    student: str


def answers(problem_set: ProblemSet, variant: str | None, n: int, attempt: int) -> dict[str, Any]:
    """Student ``n``'s answers at ``attempt`` to their own set: right, but for mistakes of kinds
    that depend on ``n`` (a first attempt has more)."""
    first = attempt == 1
    given: dict[str, Any] = {}
    for key, answer in problem_set.solve(variant).items():
        text = to_text(answer.kind, answer.value)
        if key.endswith(".shape") and (n % 2 == 0 if first else n % 7 == 0):
            height, width = answer.value
            text = f"{height + 1} × {width}"  # (off by one)
        elif not key.endswith(".shape") and first and n % 5 == 0:
            text = to_text(answer.kind, answer.value + 1)
        given[key] = text
    for key, part in problem_set.choice().items():
        letters = {option.correct: ascii_lowercase[place] for place, option in enumerate(part.choices)}
        given[key] = letters[not (first and n % 3 == 0)]  # (the file's letters, as they are stored)
    return given


def store_term(engine: Engine, *, students: int, assignments: int, attempts: int = 2) -> Term:
    """A course of ``students``, each with ``attempts`` graded submissions at each of ``assignments``."""
    tag = uuid.uuid4().hex[:8]
    text = SET_FILE.read_text(encoding="utf-8")
    problem_set = parse_set(text)
    version = version_of(text)
    start = datetime.now(UTC) - timedelta(days=7)
    due = start + timedelta(minutes=30)  # (between a student's attempts, an hour apart)
    secret = uuid.uuid4().hex
    with Session(engine) as session, session.begin():
        owner = create_user(session, name="Owner", role=Role.INSTRUCTOR, user_id=f"owner-{tag}")
        course = create_course(
            session, course_id=f"c-{tag}", title="A term", owner=Caller(owner.user.id, Role.INSTRUCTOR)
        )
        session.get_one(Course, course.id).categories = CATEGORIES
        if session.get(SetVersion, version) is None:  # (another course may have it)
            session.add(SetVersion(version=version, set_id=problem_set.id, text=text))
            session.flush()
        session.add(CourseSet(course_id=course.id, set_id=problem_set.id, version=version, uploaded_by=owner.user.id))
        made = []
        for n in range(assignments):
            terms = dict(TERMS[n % len(TERMS)])
            dated = terms.get("late_penalty") is not None
            aid = f"a{n}"
            session.add(
                Assignment(
                    course_id=course.id,
                    id=aid,
                    problem_set=problem_set.id,
                    title=f"Quiz {n + 1}",
                    set_version=version,
                    variant_secret=secret,
                    due_at=due if dated else None,
                    **terms,
                )
            )
            made.append((aid, dated))
        ids = [f"s{n:04d}-{tag}" for n in range(students)]
        enrol(session, course.id, ids, at=start)
        session.flush()
        graded = [
            _graded(problem_set, session.get_one(Assignment, (course.id, made[0][0])), student, n, attempts)
            for n, student in enumerate(ids)
        ]
        for aid, dated in made:
            rows = [
                {
                    "course_id": course.id,
                    "assignment_id": aid,
                    "student_id": student,
                    "attempt": attempt,
                    "request_hash": "0" * 64,
                    "submitted_at": start + timedelta(hours=attempt - 1),
                    "graded_at": start + timedelta(hours=attempt - 1),
                    "set_version": version,
                    "late": dated and attempt > 1,
                    **grade,
                }
                for student, theirs in zip(ids, graded, strict=True)
                for attempt, grade in enumerate(theirs, start=1)
            ]
            bulk_insert(session, Submission, rows)
            if dated:
                extended = [
                    {
                        "course_id": course.id,
                        "assignment_id": aid,
                        "student_id": student,
                        "due_at": start + timedelta(hours=attempts),
                        "granted_at": start,
                    }
                    for student in ids[::EXTENDED_EVERY]
                ]
                bulk_insert(session, Extension, extended)
        course_id, owner_id, token = course.id, owner.user.id, owner.token
    assert token is not None
    return Term(course_id, [aid for aid, _ in made], owner_id, token, ids[0])


def _graded(
    problem_set: ProblemSet, assignment: Assignment, student: str, n: int, attempts: int
) -> list[dict[str, Any]]:
    """The columns of student ``n``'s graded attempts, as the service stores them."""
    own = own_set(problem_set, assignment, student)
    variant = variant_of(own, assignment, student)
    made = []
    for attempt in range(1, attempts + 1):
        given = answers(own, variant, n, min(attempt, 2))
        grade = grade_submission(own, given, student=variant)
        made.append(
            {
                "answers": given,
                "parts": grade.parts_json(),
                "score": grade.score,
                "max_score": grade.max_score,
                "variant": variant,
            }
        )
    return made
