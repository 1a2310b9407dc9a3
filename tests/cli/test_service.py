"""``grader db upgrade``, ``grader users create``, ``grader users token`` and ``grader serve`` (uvicorn
itself replaced by a recorder)."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from typing import Any

import pytest
import uvicorn
from fastapi.testclient import TestClient
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from api.app import create_app
from api.demo.code import CODE_SETS
from api.demo.course import EXAM
from api.jobs.queue import CODE_TASK
from api.kit.config import Settings
from api.kit.logs import uvicorn_log_config
from api.models import Assignment, CodeRun, Submission, User
from cli.app import app as cli

from factories import auth, unique

runner = CliRunner()


@pytest.fixture
def empty_database(backend, request, tmp_path) -> str:
    """An existing but unmigrated database."""
    if backend == "sqlite":
        return f"sqlite:///{tmp_path / 'empty.db'}"
    server = request.getfixturevalue("pg_server")
    name = unique("e")
    request.addfinalizer(lambda: server.drop_database(name))
    return server.create_database(name)


@pytest.fixture
def uvicorn_calls(monkeypatch) -> Iterator[list[dict[str, Any]]]:
    """uvicorn.run's calls, each with the public address and the demo flag its worker processes would
    read; ``serve`` sets them in this process's environment, put back as they were afterwards."""
    calls: list[dict[str, Any]] = []

    def run(target: str, **options: Any) -> None:
        calls.append(
            {
                "target": target,
                **options,
                "public_url": os.environ.get("GRADER_PUBLIC_URL"),
                "demo": os.environ.get("GRADER_DEMO"),
            }
        )

    monkeypatch.setattr(uvicorn, "run", run)
    before = {name: os.environ.pop(name, None) for name in ("GRADER_PUBLIC_URL", "GRADER_DEMO")}
    yield calls
    for name, value in before.items():
        os.environ.pop(name, None)
        if value is not None:
            os.environ[name] = value


def test_db_upgrade_migrates_and_is_idempotent(empty_database) -> None:
    first = runner.invoke(cli, ["db", "upgrade"], env={"DATABASE_URL": empty_database})
    assert first.exit_code == 0, first.output
    assert "(was empty)" in first.output
    again = runner.invoke(cli, ["db", "upgrade"], env={"DATABASE_URL": empty_database})
    assert again.exit_code == 0 and "was" not in again.output


def test_users_create_prints_a_working_token(empty_database, shared_bank) -> None:
    runner.invoke(cli, ["db", "upgrade"], env={"DATABASE_URL": empty_database})
    result = runner.invoke(
        cli,
        ["users", "create", "--role", "instructor", "--name", "Ada Lovelace", "--json"],
        env={"DATABASE_URL": empty_database},
    )
    assert result.exit_code == 0, result.output
    created = json.loads(result.stdout)
    assert created["id"] == "ada-lovelace" and len(created["token"]) >= 40
    app = create_app(Settings(database_url=empty_database), bank=shared_bank)
    client = TestClient(app)
    opened = client.post("/api/v1/courses", json={"id": "c1", "title": "Mine"}, headers=auth(created["token"]))
    assert opened.status_code == 201, opened.text  # an instructor account creates courses
    app.state.engine.dispose()
    taken = runner.invoke(
        cli,
        ["users", "create", "--role", "student", "--name", "X", "--id", "ada-lovelace"],
        env={"DATABASE_URL": empty_database},
    )
    assert taken.exit_code == 1 and "already" in taken.output
    plain = runner.invoke(
        cli, ["users", "create", "--role", "student", "--name", "Ada Lovelace"], env={"DATABASE_URL": empty_database}
    )
    assert plain.exit_code == 0 and "ada-lovelace-2" in plain.output and "token" in plain.output
    assert "The id 'ada-lovelace' is taken" in plain.output  # said, not silently renamed


def test_users_token_replaces_the_tokens_of_an_instructor_or_a_student(empty_database, shared_bank) -> None:
    env = {"DATABASE_URL": empty_database}
    runner.invoke(cli, ["db", "upgrade"], env=env)
    created = {}
    for role, name in (("instructor", "Ada"), ("student", "Alan")):
        result = runner.invoke(cli, ["users", "create", "--role", role, "--name", name, "--json"], env=env)
        assert result.exit_code == 0, result.output
        created[role] = json.loads(result.stdout)
    replaced = runner.invoke(cli, ["users", "token", "ada", "--json"], env=env)
    assert replaced.exit_code == 0, replaced.output
    new = json.loads(replaced.stdout)
    assert new["id"] == "ada" and len(new["token"]) >= 40 and new["token"] != created["instructor"]["token"]
    plain = runner.invoke(cli, ["users", "token", "alan"], env=env)
    assert plain.exit_code == 0 and "student alan" in plain.stdout
    student_token = re.search(r"token \(shown once\): (\S{40,})$", plain.stdout, re.MULTILINE).group(1)

    app = create_app(Settings(database_url=empty_database), bank=shared_bank)
    client = TestClient(app)
    for token, status in (
        (new["token"], 200),
        (created["instructor"]["token"], 401),
        (student_token, 200),
        (created["student"]["token"], 401),
    ):
        assert client.get("/api/v1/courses", headers=auth(token)).status_code == status
    app.state.engine.dispose()

    unknown = runner.invoke(cli, ["users", "token", "nobody"], env=env)
    assert unknown.exit_code == 1 and "No account 'nobody'" in unknown.output
    invalid = runner.invoke(cli, ["users", "token", "has space"], env=env)
    assert invalid.exit_code == 2 and "Invalid value" in invalid.output


@pytest.mark.only_backend("postgresql")  # SQLite is the embedded database, migrated by serve itself
def test_a_named_database_must_be_migrated_first(backend, empty_database, uvicorn_calls) -> None:
    result = runner.invoke(cli, ["serve"], env={"DATABASE_URL": empty_database})
    assert result.exit_code == 1 and "grader db upgrade" in result.output
    assert uvicorn_calls == []


@pytest.mark.only_backend("sqlite")  # the embedded default is SQLite
def test_serve_on_the_embedded_default_migrates_and_runs_uvicorn(backend, tmp_path, monkeypatch, uvicorn_calls) -> None:
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(cli, ["serve", "--port", "8123", "--workers", "2"], env={"DATABASE_URL": None})
    assert result.exit_code == 0, result.output
    assert (tmp_path / "grader.db").exists()
    (call,) = uvicorn_calls
    assert (call["target"], call["factory"], call["port"], call["workers"]) == (
        "api.app:create_app_from_env",
        True,
        8123,
        2,
    )
    assert call["log_config"] == uvicorn_log_config()  # the access log drops query strings (tokens)
    # links (in mail, to an LMS) point where the browser on this machine reaches the service
    assert call["public_url"] == "http://127.0.0.1:8123"


@pytest.mark.only_backend("sqlite")
@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.0.2.7", "grader.internal"])
def test_serve_on_another_interface_needs_its_public_address(
    backend, tmp_path, monkeypatch, uvicorn_calls, host
) -> None:
    """Links are never made from a request's Host header, so off the loopback interface the
    operator says where people reach the service, or it does not start."""
    monkeypatch.chdir(tmp_path)
    refused = runner.invoke(cli, ["serve", "--host", host], env={"DATABASE_URL": None})
    assert refused.exit_code == 2 and "GRADER_PUBLIC_URL is not set" in refused.output, refused.output
    assert uvicorn_calls == []
    public = "https://grader.example.edu"
    started = runner.invoke(cli, ["serve", "--host", host], env={"DATABASE_URL": None, "GRADER_PUBLIC_URL": public})
    assert started.exit_code == 0, started.output
    assert [call["public_url"] for call in uvicorn_calls] == [public]


@pytest.mark.only_backend("sqlite")
def test_serve_on_loopback_keeps_a_configured_public_address(backend, tmp_path, monkeypatch, uvicorn_calls) -> None:
    monkeypatch.chdir(tmp_path)
    env = {"DATABASE_URL": None, "GRADER_PUBLIC_URL": "https://grader.example.edu"}
    assert runner.invoke(cli, ["serve", "--host", "::1"], env=env).exit_code == 0
    assert runner.invoke(cli, ["serve", "--host", "::1"], env={"DATABASE_URL": None}).exit_code == 0
    assert [call["public_url"] for call in uvicorn_calls] == ["https://grader.example.edu", "http://[::1]:8000"]


def test_serve_demo_loads_the_course_once_and_prints_working_tokens(empty_database, uvicorn_calls, shared_bank) -> None:
    env = {"DATABASE_URL": empty_database}
    assert runner.invoke(cli, ["db", "upgrade"], env=env).exit_code == 0
    first = runner.invoke(cli, ["serve", "--demo"], env=env)
    second = runner.invoke(cli, ["serve", "--demo"], env=env)
    assert first.exit_code == second.exit_code == 0, first.output + second.output
    assert "curl" in second.stdout and "/api/v1/courses/demo/assignments/" in second.stdout
    tokens = dict(re.findall(r"^\s+(\S+)\s+(\S{40,})$", second.stdout, re.MULTILINE))
    assert set(tokens) == {"demo-instructor", "demo-ta", "alice", "bob", "carol"}

    app = create_app(Settings(database_url=empty_database), bank=shared_bank)
    with Session(app.state.engine) as session:
        assert session.scalar(select(func.count()).select_from(User)) == 5
        # an assignment per built-in set, and the timed exam
        assert session.scalar(select(func.count()).select_from(Assignment)) == len([*shared_bank.sets(), EXAM[0]])
        # the demo's code, queued once (the second load adds none); on PostgreSQL each run's job is
        # deferred for a code worker, as the service defers it
        code = select(Submission.id).where(Submission.assignment_id.in_(CODE_SETS))
        code_ids = list(session.scalars(code))
        assert len(code_ids) == 3 + 2  # numpy-convolution's three students, seed-code-tasks' two
        runs = session.scalars(select(CodeRun.status).where(CodeRun.submission_id.in_(code_ids)))
        assert sorted(runs) == ["queued"] * 5
        if not Settings(database_url=empty_database).is_sqlite:
            jobs = text("SELECT args->>'submission_id' FROM procrastinate_jobs WHERE task_name = :task")
            deferred = session.scalars(jobs, {"task": CODE_TASK})
            assert sorted(int(submission) for submission in deferred) == sorted(code_ids)
    client = TestClient(app)
    # the printed curl example works as printed
    command = next(line for line in second.stdout.splitlines() if "-X POST" in line)
    url = re.search(r"http://[^/]+(/\S+)", command).group(1)
    body = json.loads(re.search(r"-d '(.*)'$", command).group(1))
    response = client.post(url, json=body, headers=auth(tokens["alice"]))
    assert response.status_code == 201, response.text
    # tokens of the first run were replaced
    old = dict(re.findall(r"^\s+(\S+)\s+(\S{40,})$", first.stdout, re.MULTILINE))
    assert client.get("/api/v1/courses/demo/assignments", headers=auth(old["alice"])).status_code == 401
    assert client.get("/api/v1/courses/demo/assignments", headers=auth(tokens["alice"])).status_code == 200
    assert len(uvicorn_calls) == 2
    # its worker processes are told they run the demo (one-click sign-in: api.pages.accounts.demo)
    assert [call["demo"] for call in uvicorn_calls] == ["1", "1"]
    assert "sign in as a demo account with one click" in second.stdout
    app.state.engine.dispose()


@pytest.mark.only_backend("sqlite")
def test_serve_without_demo_never_runs_the_demo(backend, tmp_path, monkeypatch, uvicorn_calls) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("GRADER_DEMO", "1")  # left over from anywhere: only --demo runs the demo
    assert runner.invoke(cli, ["serve"], env={"DATABASE_URL": None}).exit_code == 0
    assert [call["demo"] for call in uvicorn_calls] == [None]


def test_bad_configuration_is_reported(uvicorn_calls) -> None:
    result = runner.invoke(cli, ["serve"], env={"GRADER_MAX_BODY_BYTES": "tiny"})
    assert result.exit_code == 2 and "Invalid configuration" in result.output


def test_demo_leaves_a_real_account_with_a_demo_id_alone(empty_database, uvicorn_calls) -> None:
    env = {"DATABASE_URL": empty_database}
    assert runner.invoke(cli, ["db", "upgrade"], env=env).exit_code == 0
    real = runner.invoke(cli, ["users", "create", "--role", "student", "--name", "Alice", "--id", "alice"], env=env)
    assert real.exit_code == 0
    result = runner.invoke(cli, ["serve", "--demo"], env=env)
    assert result.exit_code == 1 and "not a demo account" in result.output
    assert uvicorn_calls == []
