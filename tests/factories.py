"""Small typed factories over the API for the tests: ids, tokens, a course with students and assignments."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from typing import Any, TypeVar

from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from api.models import Role
from api.users.service import create_user

Outcome = TypeVar("Outcome")


def within(seconds: float, call: Callable[[], Outcome]) -> Outcome:
    """``call()``'s result, failing the test if it takes longer: a request that hangs must fail its
    test, not stall the whole run (the call goes on in a daemon thread, which does not block exit)."""
    outcome: list[Outcome] = []
    worker = threading.Thread(target=lambda: outcome.append(call()), daemon=True)
    worker.start()
    worker.join(timeout=seconds)
    assert not worker.is_alive(), f"still waiting after {seconds} s"
    assert outcome, "the call raised (see the thread's traceback above)"
    return outcome[0]


def unique(prefix: str) -> str:
    """An id no other test uses, in any process (tests share a database per module)."""
    return f"{prefix}{uuid.uuid4().hex[:12]}"


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


class Course:
    """Small typed factories over the API: an instructor, students, assignments, submissions."""

    def __init__(self, client: TestClient, instructor_token: str) -> None:
        self.client = client
        self.instructor = auth(instructor_token)

    def students(self, n: int = 1) -> list[tuple[str, dict[str, str]]]:
        roster = [{"id": unique("s"), "name": f"Student {i}"} for i in range(n)]
        response = self.client.post("/api/v1/students", json={"students": roster}, headers=self.instructor)
        assert response.status_code == 200, response.text
        return [(s["id"], auth(s["token"])) for s in response.json()["students"]]

    def student(self) -> tuple[str, dict[str, str]]:
        return self.students(1)[0]

    def assignment(self, problem_set: str = "conv-pool-basics", **fields: Any) -> str:
        assignment_id = unique("a")
        body = {"id": assignment_id, "problem_set": problem_set, **fields}
        response = self.client.post("/api/v1/assignments", json=body, headers=self.instructor)
        assert response.status_code == 201, response.text
        return assignment_id

    def submit(self, assignment: str, headers: dict[str, str], answers: dict[str, Any], **extra: str) -> Any:
        return self.client.post(
            f"/api/v1/assignments/{assignment}/submissions", json={"answers": answers}, headers={**headers, **extra}
        )

    def reference(self, assignment: str, student: str | None = None) -> dict[str, Any]:
        query = f"?student={student}" if student else ""
        response = self.client.get(f"/api/v1/assignments/{assignment}{query}", headers=self.instructor)
        assert response.status_code == 200, response.text
        return response.json()["reference"]


def make_instructor(engine: Engine, name: str = "Prof") -> str:
    with Session(engine) as session, session.begin():
        return create_user(session, name=name, role=Role.INSTRUCTOR, user_id=unique("i")).token or ""
