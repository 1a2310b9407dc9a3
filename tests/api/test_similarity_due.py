"""The similarity report started by itself at an assignment's close, on both backends: one round of
the service's time-keeper (the work its thread runs) starts the report of an assignment that has
closed, once, so that staff find it done; an assignment still open, or with a single student, is
left alone; a report staff asked for after the close is not made twice.

The written answers are stored as submissions: the submit path is not what is tested here."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from api.models import Job
from tests.api.test_similarity_written import COPIED, SET, _store, honest

from factories import Course, finished_job


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
