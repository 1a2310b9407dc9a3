"""The similarity report started by itself at an assignment's close, on both backends: one round of
the service's time-keeper (the work its thread runs) starts the report of an assignment that has
closed, once, so that staff find it done; an assignment still open, or with a single student, is
left alone; a report staff asked for after the close is not made twice.

The written answers are stored as submissions: the submit path is not what is tested here."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from api.models import Job
from tests.api.test_similarity_written import COPIED, SET, _store, honest

from factories import Course, finished_job, make_instructor


def _jobs(app: Any, assignment: str) -> list[int]:
    with Session(app.state.engine) as session:
        return list(session.scalars(select(Job.id).where(Job.assignment_id == assignment, Job.kind == "similarity")))


def _assignment(app: Any, course: Course, *, closes: datetime, students: int) -> str:
    """An assignment closing at ``closes``, answered by ``students`` (two of them copying)."""
    assignment = course.assignment(SET, due_at=(closes - timedelta(hours=1)).isoformat(), closes_at=closes.isoformat())
    for i, (sid, _) in enumerate(course.students(students)):
        _store(app, course, assignment, sid, f"{honest(i)} {COPIED}" if i < 2 else honest(i))
    return assignment


@pytest.fixture(scope="module")
def closed(app: Any, course: Course) -> dict[str, str]:
    now = datetime.now(UTC)
    return {
        "closed": _assignment(app, course, closes=now - timedelta(minutes=5), students=4),
        "open": _assignment(app, course, closes=now + timedelta(days=1), students=4),
        "alone": _assignment(app, course, closes=now - timedelta(minutes=5), students=1),
    }


def test_a_closed_assignment_gets_its_report_once(app: Any, course: Course, closed: dict[str, str]) -> None:
    keeper = app.state.time_keeper
    keeper.work()  # (a round of the time-keeper's thread)
    (job,) = _jobs(app, closed["closed"])
    assert finished_job(course.client, job, course.instructor)["status"] == "done"
    report = course.client.get(
        f"{course.path}/assignments/{closed['closed']}/similarity", headers=course.instructor
    ).json()
    assert report["status"] == "done" and report["students"] == 4 and report["pairs"][0]["written"]
    assert not _jobs(app, closed["open"]) and not _jobs(app, closed["alone"])
    keeper.work()
    assert _jobs(app, closed["closed"]) == [job]  # (once)


def test_a_report_asked_after_the_close_is_not_made_twice(app: Any, course: Course) -> None:
    assignment = _assignment(app, course, closes=datetime.now(UTC) - timedelta(minutes=1), students=3)
    path = f"{course.path}/assignments/{assignment}/similarity"
    started = course.client.post(path, json={}, headers=course.instructor)
    assert started.status_code == 202, started.text
    finished_job(course.client, started.json()["job"], course.instructor)
    app.state.time_keeper.work()
    with Session(app.state.engine) as session:
        count = session.scalar(select(func.count()).where(Job.assignment_id == assignment, Job.kind == "similarity"))
    assert count == 1


def test_the_sweep_compares_only_references_the_asker_still_staffs(
    app: Any, client: Any, engine: Engine, course: Course
) -> None:
    """A TA asks for a report against last term's assignment in another course they staffed; they
    leave that course; at the close, the report the sweep starts compares nothing of it."""
    past = Course(client, make_instructor(engine))
    past_assignment = past.assignment(SET)
    for i, (sid, _) in enumerate(past.students(2)):
        _store(app, past, past_assignment, sid, honest(i + 10))
    ta, ta_headers = past.member("ta")
    course.enrol([{"id": ta, "name": "A ta", "role": "ta"}])
    closes = datetime.now(UTC) + timedelta(hours=2)
    assignment = _assignment(app, course, closes=closes, students=3)
    path = f"{course.path}/assignments/{assignment}/similarity"
    reference = {"course": past.id, "assignment": past_assignment}
    asked = client.post(path, json={"references": [reference]}, headers=ta_headers)
    assert asked.status_code == 202, asked.text
    finished_job(client, asked.json()["job"], ta_headers)
    assert client.get(path, headers=ta_headers).json()["references"] == [reference]
    assert client.delete(f"{past.path}/members/{ta}", headers=past.instructor).status_code == 204
    ended = datetime.now(UTC)  # (after the report it asked for)
    closed = client.patch(
        f"{course.path}/assignments/{assignment}",
        json={"due_at": (ended - timedelta(hours=1)).isoformat(), "closes_at": ended.isoformat()},
        headers=course.instructor,
    )
    assert closed.status_code == 200, closed.text
    app.state.time_keeper.work()
    asked_job, swept = sorted(_jobs(app, assignment))
    assert asked_job == asked.json()["job"]
    assert finished_job(client, swept, course.instructor)["status"] == "done"
    report = client.get(path, headers=course.instructor).json()
    assert report["references"] == [] and report["students"] == 3
    assert not any(past.id in student for pair in report["pairs"] for student in pair["students"])
