"""Assignments: creation, statements per variant, and when reference answers are shown."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from api.assignments.schemas import ProblemStatement
from api.assignments.service import statements
from problems.variants import variant_key

from factories import unique


def test_problem_sets_lists_the_bank(client, course, shared_bank) -> None:
    response = client.get(f"{course.path}/problem-sets", headers=course.instructor)
    assert response.status_code == 200
    listed = {s["id"]: s for s in response.json()}
    assert set(listed) == set(shared_bank.sets())
    assert listed["conv-pool-basics"]["keys"][0] == "ex1.output"


def test_create_and_read_an_assignment(client, course) -> None:
    due = datetime(2031, 1, 2, 3, 4, tzinfo=UTC)
    aid = course.assignment("fc-vs-conv", title="HW", due_at=due.isoformat(), max_attempts=3)
    response = client.get(f"{course.path}/assignments/{aid}", headers=course.instructor)
    body = response.json()
    assert response.status_code == 200
    assert (body["title"], body["max_attempts"], body["release_answers"], body["grade_policy"]) == (
        "HW",
        3,
        "after_close",  # the default: answers once the assignment is closed for everyone
        "best",
    )
    assert datetime.fromisoformat(body["due_at"]) == due
    assert body["problems"] and body["reference"]
    assert body["max_score"] == sum(p["points"] for problem in body["problems"] for p in problem["parts"])
    assert aid in [a["id"] for a in client.get(f"{course.path}/assignments", headers=course.instructor).json()]


def test_naive_due_date_is_utc(client, course) -> None:
    aid = course.assignment(due_at="2030-05-06T07:08:09")
    body = client.get(f"{course.path}/assignments/{aid}", headers=course.instructor).json()
    assert datetime.fromisoformat(body["due_at"]) == datetime(2030, 5, 6, 7, 8, 9, tzinfo=UTC)


@pytest.mark.parametrize(
    "body",
    [
        {"problem_set": "no-such-set"},
        {"problem_set": "fc-vs-conv", "max_attempts": 0},
        {"problem_set": "fc-vs-conv", "release_answers": "sometimes"},
        {"problem_set": "fc-vs-conv", "due_at": "tomorrow"},
        {"problem_set": "fc-vs-conv", "grade_policy": "worst"},
        {"problem_set": "fc-vs-conv", "surprise": True},
        {"problem_set": ["fc-vs-conv"]},
    ],
)
def test_create_refuses_bad_fields(client, course, body) -> None:
    response = client.post(f"{course.path}/assignments", json={"id": unique("a"), **body}, headers=course.instructor)
    assert response.status_code == 422
    assert response.json()["detail"]


def test_duplicate_id_is_a_conflict(client, course) -> None:
    aid = course.assignment()
    again = {"id": aid, "problem_set": "fc-vs-conv"}
    assert client.post(f"{course.path}/assignments", json=again, headers=course.instructor).status_code == 409


def test_students_see_their_own_variant_of_a_randomized_set(client, course) -> None:
    aid = course.assignment("conv-arithmetic")
    (first, first_headers), (second, second_headers) = course.students(2)
    mine = client.get(f"{course.path}/assignments/{aid}", headers=first_headers).json()
    theirs = client.get(f"{course.path}/assignments/{aid}", headers=second_headers).json()
    secret = client.get(f"{course.path}/assignments/{aid}", headers=course.instructor).json()["variant_secret"]
    assert secret and mine["variant_secret"] is None  # instructors see the secret, students do not
    assert mine["variant"] == variant_key(student=first, secret=secret)
    assert theirs["variant"] == variant_key(student=second, secret=secret)
    assert mine["problems"] != theirs["problems"]
    assert mine["reference"] is None
    assert mine["attempts_used"] == 0
    # the instructor can look at a student's variant, with its reference answers
    as_instructor = client.get(f"{course.path}/assignments/{aid}?student={first}", headers=course.instructor).json()
    assert as_instructor["problems"] == mine["problems"] and as_instructor["reference"]
    assert client.get(f"{course.path}/assignments/{aid}?student={second}", headers=first_headers).status_code == 403
    assert client.get(f"{course.path}/assignments/{aid}?student=nobody", headers=course.instructor).status_code == 404


def test_nobody_recomputes_a_students_variant_from_the_student_id_alone(client, course, shared_bank) -> None:
    """Variants are drawn with the assignment's secret: offline, the student id alone gives other
    numbers, and the secret (which instructors can read) gives the service's."""
    aid = course.assignment("conv-arithmetic")
    student, headers = course.student()
    mine = client.get(f"{course.path}/assignments/{aid}", headers=headers).json()
    secret = client.get(f"{course.path}/assignments/{aid}", headers=course.instructor).json()["variant_secret"]
    problem_set = shared_bank.sets()["conv-arithmetic"]
    from_id = _as_sent(statements(problem_set, variant_key(student=student)))
    with_secret = _as_sent(statements(problem_set, variant_key(student=student, secret=secret)))
    assert mine["problems"] == with_secret and mine["problems"] != from_id


def _as_sent(problems: list[dict]) -> list[dict]:
    """Statements as the API sends them (every field of its schema, unset ones null)."""
    return [ProblemStatement.model_validate(problem).model_dump(mode="json") for problem in problems]


@pytest.mark.parametrize(
    ("release", "due_in_days", "shown"),
    [
        ("never", -1, False),
        ("immediately", 7, True),
        ("after_close", 7, False),  # not yet due, nor closed
        ("after_close", -1, False),  # past the due date, never closes: late work accepted
        ("after_close", None, False),  # no due date, no close
    ],
)
def test_reference_answers_follow_the_release_rule(client, course, release, due_in_days, shown) -> None:
    """(The full table, with closes and extensions, is ``test_release.py``'s.)"""
    fields = {"release_answers": release}
    if due_in_days is not None:
        fields["due_at"] = (datetime.now(UTC) + timedelta(days=due_in_days)).isoformat()
    aid = course.assignment(**fields)
    _, headers = course.student()
    body = client.get(f"{course.path}/assignments/{aid}", headers=headers).json()
    assert body["answers_released"] is shown
    assert (body["reference"] is not None) is shown
    submitted = course.submit(aid, headers, {"ex3.max": "[[9, 7], [8, 6]]"})
    assert submitted.status_code == 201
    assert (submitted.json()["reference"] is not None) is shown
    assert submitted.json()["late"] is (due_in_days is not None and due_in_days < 0)
