"""A course with an assignment of choice parts (the set of ``tests/problems/test_choice_parts.py``:
``q1.most`` one pick of three, its right one the file's first, shuffled per student; ``q2.learn``
several picks, all or nothing, in the file's order), for the API and page tests."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.problems.test_choice_parts import SET

from factories import Course, make_instructor

MOST, LEARN, SHAPE, WHY = "q1.most", "q2.learn", "q1.shape", "q2.why"
#: ``q1.most``'s options by text: the right one (the file's ``a``), and the pooling layer (``b``), a named mistake.
RIGHT, POOLING = "conv1: 3×3×3×16 + 16", "the pooling layer"


def choice_course(client: TestClient, engine: Any, **fields: Any) -> tuple[Course, str]:
    course = Course(client, make_instructor(engine))
    uploaded = client.post(
        f"{course.path}/problem-sets",
        content=SET.encode(),
        headers={**course.instructor, "Content-Type": "application/yaml"},
    )
    assert uploaded.status_code == 201, uploaded.text
    return course, course.assignment(problem_set="picks", **fields)


def parts_of(detail: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The part statements of ``GET .../assignments/A``, by key."""
    return {part["key"]: part for problem in detail["problems"] for part in problem["parts"]}


def letters_of(detail: dict[str, Any], key: str) -> dict[str, str]:
    """A choice part's options as the reader of ``GET .../assignments/A`` names them: text → id."""
    return {option["text"]: option["id"] for option in parts_of(detail)[key]["choices"]}
