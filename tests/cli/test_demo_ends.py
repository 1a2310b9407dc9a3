"""The demo's accounts end with the demo: ``grader serve --demo`` prints their tokens for anyone at
the terminal (the demo instructor's owns a course); started again without ``--demo`` on the same
database, the one-click sign-in is gone, and so are those tokens, their page sessions and sign-in
links; a real account keeps its own, and ``--demo`` brings the demo back."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from typing import Any

import pytest
import uvicorn
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from api.app import create_app
from api.kit.config import Settings
from cli.app import app as cli

from factories import auth, unique
from page_client import Browser

runner = CliRunner()
COURSES = "/api/v1/courses/demo/assignments"


@pytest.fixture
def database(backend: str, request: pytest.FixtureRequest, tmp_path: Any) -> str:
    """A migrated database of this test's own."""
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path / 'demo.db'}"
    else:
        server = request.getfixturevalue("pg_server")
        name = unique("d")
        request.addfinalizer(lambda: server.drop_database(name))
        url = server.create_database(name)
    assert runner.invoke(cli, ["db", "upgrade"], env={"DATABASE_URL": url}).exit_code == 0
    return url


@pytest.fixture
def no_uvicorn(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """``serve`` up to the start of uvicorn, which does nothing; the environment it sets put back."""
    monkeypatch.setattr(uvicorn, "run", lambda target, **options: None)
    before = {name: os.environ.pop(name, None) for name in ("GRADER_PUBLIC_URL", "GRADER_DEMO")}
    yield
    for name, value in before.items():
        os.environ.pop(name, None)
        if value is not None:
            os.environ[name] = value


def _serve(database: str, *flags: str) -> str:
    result = runner.invoke(cli, ["serve", *flags], env={"DATABASE_URL": database})
    assert result.exit_code == 0, result.output
    return result.stdout


def _tokens(output: str) -> dict[str, str]:
    return dict(re.findall(r"^\s+(\S+)\s+(\S{40,})$", output, re.MULTILINE))


def _service(database: str, shared_bank: Any, *, demo: bool) -> Any:
    return create_app(Settings(database_url=database, demo=demo), bank=shared_bank)


def test_a_start_without_demo_revokes_the_demo_accounts_tokens(database, no_uvicorn, shared_bank) -> None:
    real = runner.invoke(
        cli, ["users", "create", "--role", "instructor", "--name", "Ada", "--json"], env={"DATABASE_URL": database}
    )
    assert real.exit_code == 0, real.output
    real_token = re.search(r'"token": "([^"]+)"', real.stdout).group(1)
    tokens = _tokens(_serve(database, "--demo"))
    assert set(tokens) == {"demo-instructor", "demo-ta", "alice", "bob", "carol"}

    demo_app = _service(database, shared_bank, demo=True)
    try:
        client = TestClient(demo_app)
        assert client.get(COURSES, headers=auth(tokens["demo-instructor"])).status_code == 200
        browser = Browser(demo_app).signed_in(tokens["alice"])  # a page session opened with the token
        assert browser.get("/courses/demo").status_code == 200
        assert "Demo: sign in with one click" in TestClient(demo_app).get("/").text
    finally:
        demo_app.state.engine.dispose()

    ended = _serve(database)
    assert "the demo's accounts can no longer sign in" in ended and "demo-instructor" in ended

    plain = _service(database, shared_bank, demo=False)
    try:
        client = TestClient(plain)
        for user, token in tokens.items():
            assert client.get(COURSES, headers=auth(token)).status_code == 401, user
        # the page session opened with alice's token ended with it
        same_browser = TestClient(plain, cookies=dict(browser.client.cookies), follow_redirects=False)
        assert same_browser.get("/courses/demo").status_code in (303, 401)
        # the one-click sign-in is off: neither offered nor accepted
        assert "Demo: sign in with one click" not in client.get("/").text
        clicked = client.post("/demo/sign-in", data={"account": "demo-instructor"})
        assert clicked.status_code == 404
        # a real account keeps its token
        assert client.get("/api/v1/courses", headers=auth(real_token)).status_code == 200
    finally:
        plain.state.engine.dispose()

    # a second start without --demo has nothing to end and says nothing of it
    assert "the demo's accounts" not in _serve(database)
    # --demo brings the demo back, with new tokens
    again = _tokens(_serve(database, "--demo"))
    back = _service(database, shared_bank, demo=True)
    try:
        assert TestClient(back).get(COURSES, headers=auth(again["demo-instructor"])).status_code == 200
    finally:
        back.state.engine.dispose()
