"""A course with a graded assignment and a member of every role, for the tests of the staff pages
(gradebook, statistics): the submissions are made through the REST API, the pages are read by a
:class:`page_client.Browser` signed in as each role."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from factories import Course, make_instructor
from page_client import Browser

#: Three students' answers: all right; the bias left out; the bias left out (typed otherwise) and
#: average pooling for max pooling. Same as tests/api/test_reports.py::test_stats_per_key.
ANSWERS: list[dict[str, Any]] = [
    {"ex4.conv1_params": "3640", "ex3.max": "[[9, 7], [8, 6]]"},
    {"ex4.conv1_params": "3600"},
    {"ex4.conv1_params": "3,600", "ex3.max": "[[4.25, 4.25], [4.25, 3.5]]"},
]


def token(headers: dict[str, str]) -> str:
    return headers["Authorization"].removeprefix("Bearer ")


@dataclass
class StaffCourse:
    app: Any
    client: TestClient
    course: Course
    assignment: str
    students: list[tuple[str, dict[str, str]]]
    tokens: dict[str, str]

    @property
    def page(self) -> str:
        """The assignment's pages' prefix."""
        return f"/courses/{self.course.id}/assignments/{self.assignment}"

    @property
    def api(self) -> str:
        return f"{self.course.path}/assignments/{self.assignment}"

    def browser(self, role: str) -> Browser:
        """Signed in as ``owner``, ``instructor``, ``ta``, ``student`` or ``outsider``."""
        return Browser(self.app).signed_in(self.tokens[role])

    def rest(self, path: str = "", **params: str) -> Any:
        response = self.client.get(self.api + path, params=params, headers=self.course.instructor)
        assert response.status_code == 200, response.text
        return response


def staff_course(app: Any, client: TestClient, engine: Engine, **assignment: Any) -> StaffCourse:
    """One assignment (conv-pool-basics) with :data:`ANSWERS` submitted by three students, a
    fourth student who submitted nothing, a TA, a second instructor, and an outsider (the owner of
    another course)."""
    course = Course(client, make_instructor(engine))
    assignment_id = course.assignment(**assignment)
    students = course.students(4)
    for (_, headers), answers in zip(students, ANSWERS, strict=False):
        submitted = course.submit(assignment_id, headers, answers)
        assert submitted.status_code == 201, submitted.text
    _, ta = course.member("ta")
    _, instructor = course.member("instructor")
    outsider = make_instructor(engine, name="Another course's owner")
    Course(client, outsider)
    tokens = {
        "owner": token(course.instructor),
        "instructor": token(instructor),
        "ta": token(ta),
        "student": token(students[0][1]),
        "outsider": outsider,
    }
    return StaffCourse(app, client, course, assignment_id, students, tokens)
