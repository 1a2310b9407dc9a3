"""A submission racing the close is either stored before it or refused with 409, never half
stored: the close is checked against the assignment as it is when the row is written (not as it
was when the request began, before grading), and the database orders a change of the close and the
writing of a submission one after the other."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.kit.errors import Conflict
from api.kit.quotas import GradingBudget
from api.library.course_sets import Sets
from api.models import Assignment, Submission
from api.submissions import service
from api.terms.rows import AssignmentRow

from factories import Course, make_instructor

ANSWER = {"ex4.conv1_params": "3640"}
#: How long a test waits for a condition before failing (never slept: waited on).
PATIENCE = 60.0


@pytest.fixture(autouse=True)
def _budget(app: Any) -> None:
    """Students submitting again and again at once: the budget of grading work must not answer 429."""
    app.state.grading_budget = GradingBudget(at_once=1000)


def _stored(engine: Any, assignment: str) -> list[Submission]:
    with Session(engine) as session:
        return list(session.scalars(select(Submission).where(Submission.assignment_id == assignment)))


class GradingGate:
    """Holds every submission in its grading (where no database connection is held) until
    :meth:`open`, counting those held: a change made meanwhile lands between the request's reading
    of the terms and the writing of its row."""

    def __init__(self, grade: Callable[..., Any]) -> None:
        self.grade, self.held = grade, 0
        self.arrived = threading.Condition()
        self.opened = threading.Event()

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        with self.arrived:
            self.held += 1
            self.arrived.notify_all()
        assert self.opened.wait(PATIENCE), "the gate was never opened"
        return self.grade(*args, **kwargs)

    def wait_for(self, count: int) -> None:
        with self.arrived:
            assert self.arrived.wait_for(lambda: self.held >= count, PATIENCE), f"{self.held} of {count} held"

    def open(self) -> None:
        self.opened.set()


def test_a_close_set_while_submissions_are_graded_refuses_them_all_and_stores_none(
    app: Any, client: Any, engine: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    course = Course(client, make_instructor(engine))
    aid = course.assignment(closes_at=(datetime.now(UTC) + timedelta(days=1)).isoformat())  # open
    students = course.students(3)  # (fewer than the database slots: the close's PATCH finds one)
    gate = GradingGate(service.grade_submission)
    monkeypatch.setattr(service, "grade_submission", gate)
    url = f"{course.path}/assignments/{aid}/submissions"
    closed_at = datetime.now(UTC) - timedelta(minutes=1)

    async def race() -> tuple[list[httpx.Response], httpx.Response]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test", timeout=PATIENCE) as http:
            sent = [
                asyncio.create_task(http.post(url, json={"answers": ANSWER}, headers=headers))
                for _, headers in students
            ]
            await asyncio.to_thread(gate.wait_for, len(students))  # all read the terms while open
            closing = await http.patch(
                f"{course.path}/assignments/{aid}",
                json={"closes_at": closed_at.isoformat()},
                headers=course.instructor,
            )
            gate.open()
            return list(await asyncio.gather(*sent)), closing

    responses, closing = asyncio.run(race())
    assert closing.status_code == 200, closing.text
    assert [r.status_code for r in responses] == [409] * len(students), [r.text for r in responses]
    assert all("no submission is accepted after it" in r.json()["detail"] for r in responses)
    assert _stored(engine, aid) == []


def test_submissions_across_the_close_are_stored_before_it_or_refused_never_after(
    app: Any, client: Any, engine: Any
) -> None:
    course = Course(client, make_instructor(engine))
    closes_at = datetime.now(UTC) + timedelta(seconds=1)
    aid = course.assignment(closes_at=closes_at.isoformat())
    students = course.students(3)
    url = f"{course.path}/assignments/{aid}/submissions"

    async def until_refused(headers: dict[str, str], http: httpx.AsyncClient) -> list[httpx.Response]:
        """One student submitting again and again until a submission is refused (the close passes)."""
        answered: list[httpx.Response] = []
        while not answered or answered[-1].status_code == 201:
            answered.append(await http.post(url, json={"answers": ANSWER}, headers=headers))
            assert answered[-1].status_code in (201, 409), answered[-1].text
        return answered

    async def run() -> list[list[httpx.Response]]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test", timeout=PATIENCE) as http:
            return list(await asyncio.gather(*(until_refused(headers, http) for _, headers in students)))

    by_student = asyncio.run(run())
    stored = _stored(engine, aid)
    accepted = [r.json() for answered in by_student for r in answered if r.status_code == 201]
    assert sorted(s.id for s in stored) == sorted(a["id"] for a in accepted)  # a row for each 201, no other
    assert all(s.submitted_at <= closes_at and s.parts and s.max_score > 0 for s in stored)  # whole, before it
    for (student, _), answered in zip(students, by_student, strict=True):
        refused = answered[-1]
        assert refused.status_code == 409 and "no submission is accepted after it" in refused.json()["detail"]
        mine = sorted(s.attempt for s in stored if s.student_id == student)
        assert mine == list(range(1, len(answered)))  # every attempt before the refusal, numbered densely


def test_the_close_in_force_when_the_row_is_written_decides_to_the_microsecond(
    app: Any, client: Any, engine: Any
) -> None:
    """Through the service's clock (``now``), with the terms as a request read them before the
    close was set (none): the statement that writes the row checks the close as stored, the
    student's extension applied, up to and including the close's own moment."""
    course = Course(client, make_instructor(engine))
    close = datetime(2031, 1, 10, 12, tzinfo=UTC)
    aid = course.assignment(due_at=(close - timedelta(days=1)).isoformat())
    (plain, _), (extended, _) = course.students(2)
    granted = client.put(
        f"{course.path}/assignments/{aid}/extensions/{extended}",
        json={"due_at": (close + timedelta(days=2)).isoformat()},  # past the close: their close moves to it
        headers=course.instructor,
    )
    assert granted.status_code == 200, granted.text
    with Session(engine) as session:
        before = AssignmentRow.of(session.get_one(Assignment, (course.id, aid)))  # read while open
    assert before.closes_at is None
    assert client.patch(
        f"{course.path}/assignments/{aid}", json={"closes_at": close.isoformat()}, headers=course.instructor
    ).is_success

    def submitted(student: str, at: datetime) -> int | str:
        with Session(engine) as session:
            problem_set = Sets(app.state.library, session).of(before)
            assert problem_set is not None
            try:
                stored = service.submit(
                    session, problem_set=problem_set, assignment=before, student_id=student, answers=ANSWER, now=at
                )
            except Conflict as refused:
                return refused.detail
            session.commit()
            return stored.submission.attempt

    tick = timedelta(microseconds=1)
    assert submitted(plain, close) == 1  # the close is the last moment accepted
    assert submitted(plain, close + tick) == f"Assignment {aid!r} closed at 2031-01-10 12:00 UTC: " + (
        "no submission is accepted after it (no attempt used)."
    )
    own = close + timedelta(days=2)
    assert submitted(extended, own) == 1
    assert "closed at 2031-01-12 12:00 UTC" in str(submitted(extended, own + tick))
    assert sorted((s.student_id, s.attempt) for s in _stored(engine, aid)) == sorted([(plain, 1), (extended, 1)])
