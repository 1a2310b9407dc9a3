"""A course with an assignment of written parts (the set of ``tests/problems/test_written_parts.py``),
and the REST calls of grading by hand, for the API and page tests."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.problems.test_written_parts import SET

from factories import Course, make_instructor

WHY, SHAPE, COMPARE = "q1.why", "q1.shape", "q2.compare"


def written_course(client: TestClient, engine: Any, **fields: Any) -> tuple[Course, str]:
    course = Course(client, make_instructor(engine))
    uploaded = client.post(
        f"{course.path}/problem-sets",
        content=SET.encode(),
        headers={**course.instructor, "Content-Type": "application/yaml"},
    )
    assert uploaded.status_code == 201, uploaded.text
    return course, course.assignment(problem_set="words", **fields)


def queue_of(course: Course, aid: str, key: str = WHY, headers: dict[str, str] | None = None) -> Any:
    response = course.client.get(f"{course.path}/assignments/{aid}/grading/{key}", headers=headers or course.instructor)
    assert response.status_code == 200, response.text
    return response.json()


def grade(
    course: Course, submission: int, items: list[int], *, version: int | None = None, key: str = WHY, **body: Any
) -> Any:
    headers = {**course.instructor, **({"If-Match": f'"{version}"'} if version is not None else {})}
    return course.client.put(
        f"/api/v1/submissions/{submission}/parts/{key}/grading", json={"items": items, **body}, headers=headers
    )
