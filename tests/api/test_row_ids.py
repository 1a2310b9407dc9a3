"""A number in a path that no row can have (past the database's integer, negative, zero) is an id
that does not exist, on every route that takes one, API and pages alike: never a 500 from the
database refusing the number."""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.dependencies.models import Dependant

from factories import Course, make_instructor
from page_client import Browser

#: Past PostgreSQL's integer, past a signed 64-bit integer, past an unsigned one, and below 1.
NUMBERS = (2**31, 2**63, 2**64, 0, -1)


def path_params(dependant: Dependant) -> list[Any]:
    """A route's path parameters, its dependencies' included."""
    return [*dependant.path_params, *(p for sub in dependant.dependencies for p in path_params(sub))]


def numbered_routes(app: Any) -> list[tuple[str, str, set[str]]]:
    """(method, path, names of its integer path parameters) of every route with one."""
    found = []
    for included in app.routes:
        for context in getattr(included, "effective_route_contexts", lambda: [])():
            if context.dependant is None:
                continue
            numbered = {p.name for p in path_params(context.dependant) if p.field_info.annotation is int}
            found += [(method, context.path, numbered) for method in sorted(context.methods or ()) if numbered]
    return found


def concrete(template: str, values: dict[str, str]) -> str:
    """The path with these values for its parameters (any other: an answer key)."""
    return re.sub(r"\{(\w+)(:\w+)?\}", lambda m: values.get(m.group(1), "ex4.conv1_params"), template)


def test_every_numbered_route_answers_an_impossible_number_as_unknown(app, client, engine) -> None:
    routes = numbered_routes(app)
    assert {path for _, path, _ in routes} >= {
        "/api/v1/submissions/{submission_id}",
        "/account/tokens/{token_id}/revoke",
    }
    course = Course(client, make_instructor(engine))
    assignment = course.assignment()
    browser = Browser(app).signed_in(course.instructor["Authorization"].removeprefix("Bearer "))
    browser.get("/account")
    for method, template, numbered in routes:
        for number in NUMBERS:
            values = {"course_id": course.id, "assignment_id": assignment, **dict.fromkeys(numbered, str(number))}
            path = concrete(template, values)
            if template.startswith("/api/"):
                answer = client.request(method, path, headers=course.instructor)
            else:
                answer = browser.client.request(method, path, data={"csrf": browser.csrf} if method == "POST" else None)
            assert answer.status_code in (404, 422), (method, path, answer.status_code, answer.text[:300])


@pytest.mark.parametrize("number", NUMBERS)
def test_revoking_an_impossible_token_is_a_404(client, engine, number: int) -> None:
    instructor = {"Authorization": f"Bearer {make_instructor(engine)}"}
    answer = client.delete(f"/api/v1/account/tokens/{number}", headers=instructor)
    assert answer.status_code == 404 and "no token" in answer.json()["detail"]
