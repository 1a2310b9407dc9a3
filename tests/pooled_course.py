"""A course with the set of ``examples/pooled-quiz.yaml`` uploaded (`intro`, one of three pooling
problems, two of four size problems, shuffled per student), for the API and page tests of pools."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from factories import Course, make_instructor

SET = (Path(__file__).parents[1] / "examples" / "pooled-quiz.yaml").read_text(encoding="utf-8")
EVERY = ["intro", "max2", "max3", "avg2", "s1", "s2", "s3", "s4"]
POOLS = ({"max2", "max3", "avg2"}, {"s1", "s2", "s3", "s4"})


def pooled_course(client: TestClient, engine: Any) -> Course:
    """A new course with the pooled set uploaded (assignments of it: ``problem_set="pooled-quiz"``)."""
    course = Course(client, make_instructor(engine))
    uploaded = client.post(
        f"{course.path}/problem-sets",
        content=SET.encode(),
        headers={**course.instructor, "Content-Type": "application/yaml"},
    )
    assert uploaded.status_code == 201, uploaded.text
    return course


def read_detail(course: Course, aid: str, headers: dict[str, str], query: str = "") -> dict[str, Any]:
    """``GET .../assignments/A`` as ``headers`` read it."""
    response = course.client.get(f"{course.path}/assignments/{aid}{query}", headers=headers)
    assert response.status_code == 200, response.text
    return dict(response.json())


def problem_ids(detail: dict[str, Any]) -> list[str]:
    return [problem["id"] for problem in detail["problems"]]


def part_keys(detail: dict[str, Any]) -> list[str]:
    return [part["key"] for problem in detail["problems"] for part in problem["parts"]]
