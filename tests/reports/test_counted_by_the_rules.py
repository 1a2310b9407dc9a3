"""An assignment's gradebook (JSON, CSV, Canvas), its statistics (over all attempts and over the
counted ones) and the course gradebook read only what may count from the database (each student's
highest score or last attempt where the rules allow, the counted attempt's parts alone) and keep
each student's draw and each wrong answer's meaning once per process: on a course with every rule
in play (a quiz drawn from pools with each student's own numbers, feedback held back, per-hour,
per-day and factor penalties with due dates between the attempts, extensions, the best and the
last attempt counted, two categories), each says what the rules say of every stored attempt read
whole, on both databases."""

from __future__ import annotations

import csv
import dataclasses
import io
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from string import ascii_lowercase
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pooled_course import SET, pooled_course
from sqlalchemy import Engine, update
from sqlalchemy.orm import Session

from api.assignments.draws import own_set
from api.assignments.service import extensions
from api.models import Assignment, Submission
from api.reports import service
from api.submissions.service import list_submissions
from api.terms.counted import counted_attempt
from api.terms.rows import with_extension
from harness.regrade import store_for_regrade
from problems.loader import parse_set

from factories import Course
from page_client import Browser

CATEGORIES = [{"name": "homework", "weight": 60, "drop_lowest": 1}, {"name": "exams", "weight": 40}]
#: (the assignment's terms, whether its due date falls between the attempts, who is extended and to when)
TERMS: list[tuple[dict[str, Any], bool, str | None]] = [
    # the later better attempt loses 30% an hour, but not the first student's (extended past it)
    ({"late_penalty": {"per_hour": 30}, "feedback": "correctness", "category": "exams"}, True, "later"),
    ({}, False, None),  # the best attempt, nothing taken off: each student's highest score as stored
    ({"grade_policy": "last", "late_penalty": {"per_day": 20}}, True, None),
    # no due date, but the first student's extension gives them one, between their attempts
    ({"late_penalty": {"factor": 0.5}, "feedback": "none"}, False, "between"),
    ({"grade_policy": "last", "feedback": "score"}, False, None),
]
#: Each student's first attempt: what it gets wrong (the second gets everything right); the fourth
#: student stops after the first, the fifth never submits.
MISTAKES = [("choice",), ("shape",), ("pooling", "shape"), ("choice", "shape")]


def answers(course: Course, aid: str, student: str, mistakes: tuple[str, ...]) -> dict[str, Any]:
    """The student's right answers, but for ``mistakes``: the choice's other option, a shape a
    row and a column too big, a pooling of the wrong size."""
    given = course.right_answers(aid, student)
    for key, value in given.items():
        if key == "intro.learns" and "choice" in mistakes:
            given[key] = ascii_lowercase[1] if value == "a" else "a"
        elif key.endswith(".shape") and "shape" in mistakes:
            height, width = value  # (as staff read the reference: [H, W])
            given[key] = f"{height + 1} × {width + 1}"
            mistakes = tuple(m for m in mistakes if m != "shape")  # (one shape only)
        elif key.endswith((".max", ".avg")) and "pooling" in mistakes:
            given[key] = "[[0]]"  # (too small)
    return given


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


@pytest.fixture(scope="module")
def term(client: TestClient, engine: Engine) -> tuple[Course, list[str], list[str]]:
    course = pooled_course(client, engine)
    assert client.patch(course.path, json={"categories": CATEGORIES}, headers=course.instructor).status_code == 200
    students = course.students(5)
    made = []
    for fields, due_between, extended in TERMS:
        aid = course.assignment(problem_set="pooled-quiz", **fields)
        made.append(aid)
        for (student, headers), mistakes in zip(students, MISTAKES, strict=False):
            assert course.submit(aid, headers, answers(course, aid, student, mistakes)).status_code == 201
        between = _iso(datetime.now(UTC))
        for student, headers in students[:3]:
            assert course.submit(aid, headers, answers(course, aid, student, ())).status_code == 201
        if due_between:
            patched = client.patch(
                f"{course.path}/assignments/{aid}", json={"due_at": between}, headers=course.instructor
            )
            assert patched.status_code == 200, patched.text
        if extended is not None:
            due = between if extended == "between" else _iso(datetime.now(UTC) + timedelta(days=1))
            granted = client.put(
                f"{course.path}/assignments/{aid}/extensions/{students[0][0]}",
                json={"due_at": due},
                headers=course.instructor,
            )
            assert granted.status_code == 200, granted.text
    return course, made, [student for student, _ in students]


def by_the_rules(engine: Engine, course_id: str, aid: str) -> dict[str, dict[str, Any]]:
    """Each student's gradebook row as the rules count it from every stored attempt, read whole
    (:func:`api.terms.counted.counted_attempt` under their extension)."""
    problem_set = parse_set(SET)
    with Session(engine) as session:
        assignment = session.get_one(Assignment, (course_id, aid))
        extended = extensions(session, assignment=assignment)
        stored = defaultdict(list)
        for submission in list_submissions(session, assignment=assignment):
            stored[submission.student_id].append(submission)
        rows = {}
        for student, attempts in stored.items():
            found = counted_attempt(attempts, with_extension(assignment, extended.get(student)))
            assert found is not None
            chosen, late = found
            own = own_set(problem_set, assignment, student)
            held = set(own.answer_keys())
            rows[student] = {
                "attempts": len(attempts),
                "attempt": chosen.attempt,
                "submission": chosen.id,
                "late": late.late,
                "days_late": late.days_late,
                "penalty": late.factor,
                "raw_score": chosen.score,
                "score": late.applied(chosen.score),
                "max_score": chosen.max_score,
                "problems": own.problem_ids(),
                "parts": {
                    key: chosen.parts.get(key, {}).get("score") for key in problem_set.answer_keys() if key in held
                },
            }
        return rows


def test_every_view_counts_what_the_rules_count(app: Any, client: TestClient, engine: Engine, term) -> None:
    course, made, students = term
    staff = Browser(app).signed_in(course.instructor["Authorization"].removeprefix("Bearer "))
    idle = students[4]
    course_book = client.get(f"{course.path}/gradebook", headers=course.instructor).json()
    course_scores = {row["id"]: row["scores"] for row in course_book["students"]}
    for aid in made:
        path = f"{course.path}/assignments/{aid}"
        expected = by_the_rules(engine, course.id, aid)
        book = client.get(f"{path}/gradebook", headers=course.instructor).json()
        rows = {row["student"]: row for row in book["students"]}
        assert list(rows) == sorted(students)
        for student, row in expected.items():
            assert {field: rows[student][field] for field in row} == row, (aid, student)
        assert (rows[idle]["attempts"], rows[idle]["score"], rows[idle]["parts"]) == (0, None, {})
        assert (
            rows[idle]["problems"] == own_set(parse_set(SET), _assignment(engine, course.id, aid), idle).problem_ids()
        )
        table = list(
            csv.DictReader(
                io.StringIO(client.get(f"{path}/gradebook?format=csv", headers=course.instructor).text.lstrip("\ufeff"))
            )
        )
        assert {line["student"]: (line["attempt"], line["score"]) for line in table} == {
            student: (_cell(expected.get(student, {}).get("attempt")), _cell(expected.get(student, {}).get("score")))
            for student in students
        }
        canvas = list(
            csv.reader(io.StringIO(client.get(f"{path}/gradebook?format=canvas", headers=course.instructor).text))
        )
        assert {line[2]: line[5] for line in canvas[2:]} == {
            student: _cell(expected.get(student, {}).get("score")) for student in students
        }
        assert {student: course_scores[student][aid] for student in students} == {
            student: expected.get(student, {}).get("score") for student in students
        }
        for attempts in ("all", "counted"):
            stats = client.get(f"{path}/stats?attempts={attempts}", headers=course.instructor).json()
            assert stats == _stats_by_the_rules(engine, course.id, aid, counted=attempts == "counted"), (aid, attempts)
            wrong = {found["answer"] for entry in stats["keys"].values() for found in entry["commonest_wrong_answers"]}
            if attempts == "all":  # (grouped by what they mean against each student's own numbers)
                assert {"off by one (reference + 1)", "matrix too small (fewer rows or columns)"} <= wrong, wrong
        for attempts in ("all", "counted"):  # the page's histogram: the counted scores
            page = staff.get(f"/courses/{course.id}/assignments/{aid}/stats?attempts={attempts}")
            assert page.status_code == 200 and f"Counted scores of {len(expected)} students" in page.text
            assert "1 student has not submitted." in page.text
    # the cases are what they claim: a later attempt lost to the earlier one under the per-hour
    # penalty, but not for the extended student; the last attempt counted whatever it scored
    first, second, third, fourth = (by_the_rules(engine, course.id, aid) for aid in made[:4])
    assert (first[students[0]]["attempt"], first[students[0]]["penalty"]) == (2, 1.0)
    assert (first[students[1]]["attempt"], first[students[1]]["score"]) == (1, 4.0)
    assert (first[students[2]]["attempt"], first[students[2]]["penalty"]) == (2, 0.7)
    assert second[students[1]]["score"] == 5.0
    assert (third[students[1]]["attempt"], third[students[1]]["penalty"]) == (2, 0.8)
    assert (fourth[students[0]]["attempt"], fourth[students[1]]["attempt"]) == (1, 2)


def _assignment(engine: Engine, course_id: str, aid: str) -> Assignment:
    with Session(engine, expire_on_commit=False) as session:
        return session.get_one(Assignment, (course_id, aid))


def _cell(value: Any) -> str:
    """A value as the CSV writes it."""
    return str(service.spreadsheet_cell(value))


def _stats_by_the_rules(engine: Engine, course_id: str, aid: str, *, counted: bool) -> dict[str, Any]:
    """The statistics of every stored attempt read whole, each wrong answer's meaning worked out
    afresh (the set under no version: nothing kept from an earlier reading)."""
    problem_set = parse_set(SET)
    with Session(engine) as session:
        assignment = session.get_one(Assignment, (course_id, aid))
        return service.statistics(
            session,
            assignment=assignment,
            keys=problem_set.answer_keys(),
            counted=counted,
            problem_set=dataclasses.replace(problem_set, version=""),
            attempts=list_submissions(session, assignment=assignment),  # type: ignore[arg-type]
        )


def test_scores_equal_to_six_decimals_count_the_earlier_attempt(client: TestClient, engine: Engine) -> None:
    """The rules compare scores rounded to 6 decimals, the earliest of equal ones counting: where
    the database gives each student's highest score, an earlier attempt a hair below it is still
    read, and counts."""
    stored = store_for_regrade(engine, submissions=2, attempts=2)  # one student, two attempts
    aid = stored.assignments[0]
    with Session(engine) as session, session.begin():
        for attempt, score in ((1, 0.3), (2, 0.1 + 0.2)):  # (0.30000000000000004)
            session.execute(
                update(Submission)
                .where(Submission.course_id == stored.course, Submission.attempt == attempt)
                .values(score=score)
            )
    headers = {"Authorization": f"Bearer {stored.token}"}
    path = f"/api/v1/courses/{stored.course}/assignments/{aid}/gradebook"
    (row,) = client.get(path, headers=headers).json()["students"]
    assert (row["attempt"], row["raw_score"], row["score"]) == (1, 0.3, 0.3)
    canvas = list(csv.reader(io.StringIO(client.get(f"{path}?format=canvas", headers=headers).text)))
    assert canvas[2][5] == "0.3"
