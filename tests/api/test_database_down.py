"""A database that does not answer is a 503 the client may retry, on every endpoint, never a 500."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.kit.config import Settings
from api.kit.errors import DATABASE_UNAVAILABLE

from factories import within

# a port nothing listens on: every connection attempt is refused at once
DOWN = "postgresql://grader@127.0.0.1:9/grader?connect_timeout=2"


@pytest.fixture(scope="module")
def down(shared_bank) -> TestClient:
    return TestClient(create_app(Settings(database_url=DOWN), bank=shared_bank), raise_server_exceptions=False)


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/api/v1/courses/c1/assignments/hw1/submissions", {"answers": {"ex4.conv1_params": "3640"}}),
        ("GET", "/api/v1/courses/c1/assignments", None),
        ("GET", "/api/v1/courses", None),
        ("GET", "/api/v1/courses/c1/assignments/hw1/gradebook", None),
        ("POST", "/api/v1/courses/c1/members", {"members": [{"id": "s1", "name": "A"}]}),
    ],
)
def test_requests_get_503_with_retry_after(down, method, path, body) -> None:
    response = down.request(method, path, json=body, headers={"Authorization": "Bearer some-token"})
    assert response.status_code == 503, response.text
    assert response.json() == {"detail": DATABASE_UNAVAILABLE}
    assert int(response.headers["retry-after"]) > 0


def test_health_says_the_database_is_unavailable(down) -> None:
    response = down.get("/health")
    assert response.status_code == 503
    assert response.headers["retry-after"] == "5"  # like every other 503, as the OpenAPI document says
    assert response.json() == {"status": "degraded", "database": "unavailable"}


def test_a_database_that_never_answers_is_a_503_after_the_connect_timeout(shared_bank, monkeypatch) -> None:
    """A host that accepts the connection and then says nothing (a hung server, a half-open
    network): without a connect timeout the request, and its database slot, would wait forever."""
    import socket
    import time

    from api.kit import db

    monkeypatch.setattr(db, "CONNECT_TIMEOUT_SECONDS", 2)  # libpq's smallest
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(16)  # the kernel completes the handshakes; nobody ever reads or writes
    try:
        url = f"postgresql://grader@127.0.0.1:{silent.getsockname()[1]}/grader"
        client = TestClient(create_app(Settings(database_url=url), bank=shared_bank), raise_server_exceptions=False)
        started = time.monotonic()
        response = within(
            30,
            lambda: client.post(
                "/api/v1/courses/c1/assignments/hw1/submissions",
                json={"answers": {"ex4.conv1_params": "3640"}},
                headers={"Authorization": "Bearer some-token"},
            ),
        )
        assert response.status_code == 503, response.text
        assert time.monotonic() - started < 30
    finally:
        silent.close()
