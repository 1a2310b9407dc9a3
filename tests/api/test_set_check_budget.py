"""A set check's wall budget, per check and per instructor, on both backends: a check of a solution
that sleeps in every test is stopped once it has used its own seconds and fails saying why; an
instructor whose budget runs out has their check stopped with that reason, and their next upload
refused (429, ``Retry-After``) with nothing stored, while another instructor uploads as before; each
check counts for an hour from its start. The budgets here are a few seconds
(``GRADER_SET_CHECK_SECONDS``, and ``GRADER_SET_CHECK_INSTRUCTOR_SECONDS`` in a second service)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from api.app import create_app
from api.kit.config import Settings
from api.kit.db import writer
from api.models import Job, Role
from api.set_checks.budget import instructor_budget
from api.set_checks.limits import CheckLimits
from api.users.service import create_user

from factories import Course, finished_check, make_instructor, set_file, unique
from set_texts import sleeping_set

YAML = {"Content-Type": "application/yaml"}
#: Sandbox seconds one check may use, and one instructor's checks per hour, in this module.
PER_CHECK, PER_INSTRUCTOR = 2.0, 3.0


@pytest.fixture(scope="module")
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"set_check_seconds": PER_CHECK})


@pytest.fixture
def stingy(app: Any, settings: Settings, shared_bank: Any) -> Iterator[TestClient]:
    """A second service over the module's database whose instructors' checks get a few seconds an
    hour in all (each check may use the default 300)."""
    stingy_settings = settings.model_copy(
        update={"set_check_seconds": 300.0, "set_check_instructor_seconds": PER_INSTRUCTOR}
    )
    application = create_app(stingy_settings, bank=shared_bank)
    try:
        yield TestClient(application, raise_server_exceptions=False)
    finally:
        application.state.jobs.stop()
        application.state.engine.dispose()


def _upload(course: Course, set_id: str):
    text = sleeping_set(set_id, seconds=1, tests=3)  # (9 runs of 3 s on its 3 draws: far past the budget)
    return course.client.post(
        f"{course.path}/problem-sets", content=text.encode(), headers={**YAML, **course.instructor}
    )


def _checked(course: Course, reply) -> dict:
    found = reply.json()
    return finished_check(course.client, course.path, found["id"], found["version"], course.instructor)["check"]


def test_a_check_is_stopped_once_it_has_used_its_seconds_and_fails_saying_why(client, engine) -> None:
    course = Course(client, make_instructor(engine))
    reply = _upload(course, unique("slow-"))
    assert reply.status_code == 202, reply.text
    check = _checked(course, reply)
    assert check["status"] == "failed", check
    (issue,) = check["issues"]
    assert issue["message"].startswith("the check was stopped: it had used the 2 s of sandbox time a set check may use")
    assert "GRADER_SET_CHECK_SECONDS" in issue["message"] and issue["line"] is None
    assert PER_CHECK <= check["seconds"] < 20  # (stopped, not run to its end: 27 s)
    assert check["done"] < check["total"]


def test_an_instructor_past_their_checks_budget_is_stopped_then_refused(stingy, engine) -> None:
    course = Course(stingy, make_instructor(engine))
    first = _upload(course, unique("slow-"))
    assert first.status_code == 202, first.text
    check = _checked(course, first)
    (issue,) = check["issues"]
    assert issue["message"].startswith("the check was stopped: your set checks have used their 3 s of sandbox time")
    assert "for 60 minutes; some is back at " in issue["message"] and "upload the file again then" in issue["message"]

    set_id = unique("slow-")
    refused = _upload(course, set_id)
    assert refused.status_code == 429, refused.text
    detail = refused.json()["detail"]
    assert detail.startswith("Not stored: your set checks have used their 3 s of sandbox time for 60 minutes")
    assert 3500 <= int(refused.headers["Retry-After"]) <= 3600  # (when the first check leaves the window)
    assert stingy.get(f"{course.path}/problem-sets/{set_id}", headers=course.instructor).status_code == 404
    # a set without code needs no check: stored as before
    plain = stingy.post(
        f"{course.path}/problem-sets",
        content=set_file(unique("plain-")).encode(),
        headers={**YAML, **course.instructor},
    )
    assert plain.status_code == 201, plain.text

    # another instructor's budget is their own
    other = Course(stingy, make_instructor(engine))
    theirs = _upload(other, unique("slow-"))
    assert theirs.status_code == 202, theirs.text
    assert "your set checks have used their 3 s" in _checked(other, theirs)["issues"][0]["message"]


def test_the_window_rolls_each_check_counting_from_its_start(engine) -> None:
    """Checks counted for an hour from their start (a running one for all it may use); what is left,
    and when some is back: once the oldest counted checks have left the window."""
    now = datetime.now(UTC)
    limits = CheckLimits(seconds=300, instructor_seconds=1200, window=timedelta(minutes=60))
    user_id = unique("i")
    with Session(writer(engine)) as db, db.begin():
        create_user(db, name="Prof", role=Role.INSTRUCTOR, user_id=user_id)
        for minutes_ago, seconds, allowed in ((70, 900, 900), (50, 600, 600), (20, None, 500), (5, 200, 300)):
            db.add(
                Job(
                    kind="set_check",
                    course_id="c",
                    created_by=user_id,
                    status="done" if seconds is not None else "running",
                    started_at=now - timedelta(minutes=minutes_ago),
                    allowed_seconds=allowed,
                    seconds=seconds,
                )
            )
    with Session(engine) as db:
        budget = instructor_budget(db, user_id=user_id, limits=limits, now=now)
        # 600 + 500 (running: all it may use) + 200 = 1300 of 1200; the one 70 minutes old no longer counts
        assert budget.left == 0
        assert budget.renews_at == now + timedelta(minutes=10)  # the 600 s leaves: 700 of 1200
        later = instructor_budget(db, user_id=user_id, limits=limits, now=now + timedelta(minutes=11))
        assert later.left == 1200 - 700
