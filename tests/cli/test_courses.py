"""``grader courses create``: an admin makes a course for an existing instructor or admin account,
on the database ``DATABASE_URL`` names; the owner's token then runs it through the API."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from api.app import create_app
from api.kit.config import Settings
from api.kit.db import make_engine
from api.models import Course
from cli.app import app as cli

from factories import auth, unique

runner = CliRunner()


def _account(env: dict[str, str], role: str) -> dict[str, str]:
    user_id = unique(role[0])
    made = runner.invoke(cli, ["users", "create", "--role", role, "--name", "N", "--id", user_id, "--json"], env=env)
    assert made.exit_code == 0, made.output
    return dict(json.loads(made.stdout))


@pytest.fixture
def env(own_database: str) -> dict[str, str]:
    return {"DATABASE_URL": own_database}


def test_a_course_is_made_for_its_owner_who_then_runs_it(env: dict[str, str], shared_bank: Any) -> None:
    owner = _account(env, "instructor")
    course_id = unique("c")
    made = runner.invoke(
        cli,
        [
            *("courses", "create", course_id, "--title", "Convolutional networks", "--owner", owner["id"]),
            *("--time-zone", "America/Chicago", "--json"),
        ],
        env=env,
    )
    assert made.exit_code == 0, made.output
    assert json.loads(made.stdout) == {
        "id": course_id,
        "title": "Convolutional networks",
        "owner": owner["id"],
        "time_zone": "America/Chicago",
    }
    app = create_app(Settings(database_url=env["DATABASE_URL"]), bank=shared_bank)
    try:
        client = TestClient(app)
        read = client.get(f"/api/v1/courses/{course_id}", headers=auth(owner["token"])).json()
        assert (read["role"], read["time_zone"]) == ("owner", "America/Chicago")
        roster = {"members": [{"id": unique("s"), "name": "Ada"}]}
        imported = client.post(f"/api/v1/courses/{course_id}/members", json=roster, headers=auth(owner["token"]))
        assert imported.status_code == 200
    finally:
        app.state.engine.dispose()


def test_an_admin_may_own_one_and_the_zone_is_utc_unless_given(env: dict[str, str]) -> None:
    admin = _account(env, "admin")
    course_id = unique("c")
    made = runner.invoke(cli, ["courses", "create", course_id, "--title", "Nets", "--owner", admin["id"]], env=env)
    assert made.exit_code == 0, made.output
    assert made.stdout.strip() == f"created course {course_id} (Nets), owned by {admin['id']}, dates in UTC"


@pytest.mark.parametrize(
    ("arguments", "code", "words"),
    [
        # values the API would refuse: exit 2, nothing asked of the database
        (["--time-zone", "Mars/Olympus_Mons"], 2, "'Mars/Olympus_Mons' is not a time zone"),
        (["--time-zone", "localtime"], 2, "'localtime' is not a time zone"),
        (["--time-zone", "america/chicago"], 2, "did you mean America/Chicago?"),
        (["--title", "  "], 2, "at least 1 character"),
        (["--id", "has space"], 2, "should match pattern"),
        # refusals of the service: exit 1 with its sentence
        (["--owner", "nobody"], 1, "No account 'nobody'."),
        (["--owner", "STUDENT"], 1, "is a student account; a course is owned by an instructor or admin account"),
        (["--id", "new"], 1, "is the address of the page that creates courses"),
        (["--id", "TAKEN"], 1, "There is already a course"),
    ],
)
def test_what_cannot_be_a_course_is_refused_with_a_reason(
    env: dict[str, str], arguments: list[str], code: int, words: str
) -> None:
    owner, student = _account(env, "instructor"), _account(env, "student")
    taken = unique("c")
    first = runner.invoke(cli, ["courses", "create", taken, "--title", "T", "--owner", owner["id"]], env=env)
    assert first.exit_code == 0, first.output
    given = {"--id": unique("c"), "--title": "Nets", "--owner": owner["id"]}
    for name, value in zip(arguments[::2], arguments[1::2], strict=True):
        given[name] = {"STUDENT": student["id"], "TAKEN": taken}.get(value, value)
    command = ["courses", "create", given.pop("--id"), *(part for item in given.items() for part in item)]
    refused = runner.invoke(cli, command, env=env)
    assert refused.exit_code == code, refused.output
    assert words in refused.output
    engine = make_engine(Settings(database_url=env["DATABASE_URL"]))
    try:
        with Session(engine) as session:
            titles = set(session.scalars(select(Course.title)))
    finally:
        engine.dispose()
    assert titles == {"T"}  # the course made first, and nothing of the refused command


def test_the_help_says_what_it_does() -> None:
    shown = runner.invoke(cli, ["courses", "create", "--help"])
    assert shown.exit_code == 0
    for words in ("--title", "--owner", "--time-zone", "America/Chicago", "instructor or admin account"):
        assert words in shown.output
