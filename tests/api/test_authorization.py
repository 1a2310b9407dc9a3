"""Every endpoint × every kind of caller → the expected status (and the table covers every route)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from factories import auth, unique

CALLERS = ["none", "bad", "student", "other", "instructor"]
RIGHT = {"ex4.conv1_params": "3640"}


def _roster() -> dict[str, Any]:
    return {"students": [{"id": unique("s"), "name": "New"}]}


def _assignment() -> dict[str, Any]:
    return {"id": unique("a"), "problem_set": "conv-pool-basics"}


def _answers() -> dict[str, Any]:
    return {"answers": RIGHT}


def _none() -> None:
    return None


# (method, path template, body factory, expected status per caller: none, bad, student, other, instructor)
# {a}: an assignment both students can see; {s}: a submission of "student" (not of "other");
# {r}: a student who is none of the callers (replacing a caller's token would revoke it for later rows);
# {d}: another such student, to drop from the roster.
TABLE: list[tuple[str, str, Callable[[], Any], tuple[int, int, int, int, int]]] = [
    # open to anyone
    ("GET", "/health", _none, (200, 200, 200, 200, 200)),
    # instructors only
    ("GET", "/api/v1/problem-sets", _none, (401, 401, 403, 403, 200)),
    ("POST", "/api/v1/students", _roster, (401, 401, 403, 403, 200)),
    ("POST", "/api/v1/students/{r}/token", _none, (401, 401, 403, 403, 200)),
    ("DELETE", "/api/v1/students/{d}", _none, (401, 401, 403, 403, 204)),
    ("POST", "/api/v1/assignments", _assignment, (401, 401, 403, 403, 201)),
    ("GET", "/api/v1/assignments/{a}/gradebook", _none, (401, 401, 403, 403, 200)),
    ("GET", "/api/v1/assignments/{a}/stats", _none, (401, 401, 403, 403, 200)),
    ("POST", "/api/v1/assignments/{a}/regrade", _none, (401, 401, 403, 403, 200)),
    # everyone signed in
    ("GET", "/api/v1/assignments", _none, (401, 401, 200, 200, 200)),
    ("GET", "/api/v1/assignments/{a}", _none, (401, 401, 200, 200, 200)),
    ("GET", "/api/v1/assignments/{a}/submissions", _none, (401, 401, 200, 200, 200)),
    # students only
    ("POST", "/api/v1/assignments/{a}/submissions", _answers, (401, 401, 201, 201, 403)),
    ("POST", "/api/v1/assignments/{a}/preview", _answers, (401, 401, 200, 200, 403)),
    # the owner and instructors
    ("GET", "/api/v1/submissions/{s}", _none, (401, 401, 200, 403, 200)),
]


@pytest.fixture(scope="module")
def world(course) -> dict[str, Any]:
    assignment = course.assignment()
    (_, student), (_, other), (bystander, _), (droppable, _) = course.students(4)
    submission = course.submit(assignment, student, RIGHT).json()["id"]
    headers = {
        "none": {},
        "bad": auth("not-a-token"),
        "student": student,
        "other": other,
        "instructor": course.instructor,
    }
    return {"a": assignment, "s": submission, "r": bystander, "d": droppable, "headers": headers}


@pytest.mark.parametrize(("method", "path", "body", "expected"), TABLE, ids=[f"{m} {p}" for m, p, _, _ in TABLE])
@pytest.mark.parametrize("caller", CALLERS)
def test_status_by_caller(client, world, caller, method, path, body, expected) -> None:
    url = path.format(a=world["a"], s=world["s"], r=world["r"], d=world["d"])
    response = client.request(method, url, json=body(), headers=world["headers"][caller])
    assert response.status_code == expected[CALLERS.index(caller)], response.text
    if response.status_code >= 400:
        assert response.json()["detail"]
    if response.status_code == 401:
        assert response.headers["www-authenticate"] == "Bearer"


@pytest.mark.parametrize("caller", ["student", "instructor"])
@pytest.mark.parametrize(
    ("method", "path"),
    [(m, p) for m, p, _, _ in TABLE if any(f"{{{name}}}" in p for name in "asrd")],
)
def test_unknown_ids_are_404(client, world, caller, method, path) -> None:
    url = path.format(a="no-such-assignment", s="987654321", r="no-such-student", d="no-such-student")
    body = _answers() if method == "POST" else None
    response = client.request(method, url, json=body, headers=world["headers"][caller])
    # a student asking for an instructor's endpoint learns only that it is forbidden
    row = next(r for r in TABLE if r[0] == method and r[1] == path)
    allowed = row[3][CALLERS.index(caller)] < 400
    assert response.status_code == (404 if allowed else 403), response.text


def test_the_table_covers_every_endpoint(app) -> None:
    routes = {(method.upper(), path) for path, item in app.openapi()["paths"].items() for method in item}
    names = {"{a}": "{assignment_id}", "{s}": "{submission_id}", "{r}": "{student_id}", "{d}": "{student_id}"}
    table = set()
    for method, path, _, _ in TABLE:
        for placeholder, name in names.items():
            path = path.replace(placeholder, name)
        table.add((method, path))
    assert routes == table
