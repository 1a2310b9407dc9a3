"""Every kind of response carries the security headers of its kind (:mod:`api.kit.headers`): the API's
(personal, so never stored, and nothing in it runs), the pages', ``/docs``'s own policy, and the
public files' (cacheable); a header a response set itself is kept."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from api.deps import get_session
from api.kit import headers, migrate
from api.kit.config import Settings
from api.kit.db import make_engine
from api.pages.kit import assets
from harness.regrade import store_for_regrade
from harness.server import ServerProcess, free_port

from factories import Course, auth, unique

pytestmark = pytest.mark.only_backend("sqlite")  # the headers do not depend on the database


def assert_headers(response: httpx.Response, expected: dict[str, str]) -> None:
    for name, value in expected.items():
        assert response.headers.get(name) == value, (response.request.method, response.request.url, name)


@pytest.fixture
def crashing(app: Any) -> Iterator[None]:
    """Every request that opens a session fails with an error no handler expects (a bug): a 500."""

    async def broken() -> None:
        raise RuntimeError("a bug")

    app.dependency_overrides[get_session] = broken
    yield
    del app.dependency_overrides[get_session]


def test_every_api_response_is_not_to_be_stored_and_runs_nothing(client: TestClient, course: Course) -> None:
    assignment = course.assignment()
    gradebook = f"{course.path}/assignments/{assignment}/gradebook"
    new = {"id": unique("a"), "problem_set": "conv-pool-basics"}
    responses = {
        200: client.get(f"{course.path}/assignments", headers=course.instructor),
        201: client.post(f"{course.path}/assignments", json=new, headers=course.instructor),
        401: client.get(f"{course.path}/assignments"),
        404: client.get("/api/v1/courses/nowhere/assignments", headers=course.instructor),
        405: client.put(f"{course.path}/assignments", headers=course.instructor),
        422: client.post(f"{course.path}/assignments", json={}, headers=course.instructor),
        413: client.post(f"{course.path}/assignments", content=b"x" * 70_000, headers=course.instructor),
    }
    for status, response in responses.items():
        assert response.status_code == status, response.text
        assert_headers(response, headers.API)
    for export, kind in (("csv", "text/csv"), ("canvas", "text/csv")):
        response = client.get(gradebook, params={"format": export}, headers=course.instructor)
        assert response.status_code == 200 and kind in response.headers["content-type"]
        assert_headers(response, headers.API)
    assert headers.API["Cache-Control"] == "no-store" and headers.API["Pragma"] == "no-cache"
    assert headers.API["Content-Security-Policy"] == "default-src 'none'; frame-ancestors 'none'"


def test_an_unexpected_error_carries_the_headers_too(client: TestClient, course: Course, crashing: None) -> None:
    """Starlette sends the 500 from outside every middleware: its handler adds them."""
    api = client.get(f"{course.path}/assignments", headers=course.instructor)
    assert api.status_code == 500 and api.json() == {"detail": "Internal error; it has been logged."}
    assert_headers(api, headers.API)
    assert api.headers["connection"] == "close"  # uvicorn closes it: a client must not send on it again
    page = client.get(f"/courses/{course.id}")
    assert page.status_code == 500
    assert_headers(page, headers.PAGES)


def test_after_an_unexpected_error_a_keep_alive_client_gets_its_next_answer(tmp_path: Path) -> None:
    """On ``grader serve``, which closes the connection of a 500 once it is sent (Starlette raises
    the error again, and uvicorn closes): the 500 says so, and the client's next request goes on a
    new connection rather than meeting a reset. The 500 comes from a stored row the service cannot
    read, written into its database by hand."""
    url = f"sqlite:///{tmp_path / 'grader.db'}"
    engine = make_engine(Settings(database_url=migrate.upgrade_database(url)))
    stored = store_for_regrade(engine, submissions=2, attempts=1)
    with engine.begin() as connection:
        connection.execute(text('UPDATE submissions SET parts = \'{"q1.params": {"score": 1}}\''))
    engine.dispose()
    path = f"/api/v1/courses/{stored.course}/assignments/{stored.assignments[0]}/submissions"
    with (
        ServerProcess.grader_serve(url, port=free_port(), workdir=tmp_path) as server,
        httpx.Client(base_url=server.base_url, headers=auth(stored.token), timeout=30) as client,
    ):
        server.wait_healthy()
        answers = [client.get(path) for _ in range(5)]
    assert [answer.status_code for answer in answers] == [500] * 5
    assert all(answer.headers["connection"] == "close" for answer in answers)


def test_pages_have_their_policy_and_are_not_stored(client: TestClient, course: Course) -> None:
    responses = [
        client.get("/"),  # the sign-in form
        client.get(f"/courses/{course.id}", follow_redirects=False),  # 303 to sign in
        client.get("/nowhere"),  # 404
        client.post("/sign-in", content=b"x" * 70_000),  # 413
    ]
    assert [r.status_code for r in responses] == [200, 303, 404, 413]
    for response in responses:
        assert_headers(response, headers.PAGES)
    assert "frame-ancestors 'none'" in headers.PAGES["Content-Security-Policy"]


def test_the_docs_have_a_policy_for_swagger_ui_without_inline_script(client: TestClient) -> None:
    docs = client.get("/docs")
    assert docs.status_code == 200
    assert_headers(docs, headers.DOCS)
    policy = dict(d.split(" ", 1) for d in docs.headers["content-security-policy"].split("; "))
    assert policy["default-src"] == "'none'" and policy["script-src"] == "'self'"  # no inline script
    assert policy["style-src"] == "'self' 'unsafe-inline'" and policy["img-src"] == "'self' data:"
    assert policy["connect-src"] == "'self'" and policy["frame-ancestors"] == "'none'"


def test_public_files_may_be_cached_and_run_nothing(client: TestClient) -> None:
    """The static files keep their year-long cache; the OpenAPI document is the same for everyone."""
    asset = client.get(assets.asset_url("docs.js"))
    assert asset.status_code == 200
    assert_headers(asset, {**headers.PUBLIC, "Cache-Control": assets.CACHE_CONTROL})
    document = client.get("/openapi.json")
    assert document.status_code == 200
    assert_headers(document, headers.PUBLIC)
    for response in (asset, document):
        assert "pragma" not in response.headers
    assert "cache-control" not in document.headers


def test_health_is_never_stored(client: TestClient) -> None:
    """Not personal, but a cached answer would hide an outage."""
    health = client.get("/health")
    assert health.status_code == 200
    assert_headers(health, headers.API)


def test_a_header_the_response_set_itself_is_kept() -> None:
    def own(_request: Any) -> PlainTextResponse:
        return PlainTextResponse("x", headers={"Cache-Control": "max-age=60", "Content-Security-Policy": "sandbox"})

    app = headers.SecurityHeaders(Starlette(routes=[Route("/api/v1/own", own)]))
    response = TestClient(app).get("/api/v1/own")
    assert (
        response.headers["cache-control"] == "max-age=60" and response.headers["content-security-policy"] == "sandbox"
    )
    assert_headers(response, {name: headers.API[name] for name in ("Pragma", "X-Frame-Options", "Referrer-Policy")})
    assert [name for name, _ in response.headers.raw].count(b"cache-control") == 1
