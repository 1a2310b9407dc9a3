"""No input produces a 5xx: odd bodies, odd paths, odd headers, and generated answers."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from factories import unique, within

JSON = {"content-type": "application/json"}
KEYS = ["ex1.output", "ex3.max", "ex4.shapes", "ex4.conv1_params", "ex5.params"]


@pytest.fixture(scope="module")
def target(course) -> dict:
    assignment = course.assignment()
    _, headers = course.student()
    return {"url": f"{course.path}/assignments/{assignment}/submissions", "headers": headers, "assignment": assignment}


@pytest.mark.parametrize(
    ("raw", "why"),
    [
        (b"[" * 50_000, "nested past the recursion limit"),
        (b'{"answers": {"ex5.params": ' + b"[" * 20_000 + b"]" * 20_000 + b"}}", "deep answer"),
        (b'{"answers": {"ex5.params": "\xff\xfe"}}', "not UTF-8"),
        (b'{"answers": {"ex5.params": NaN}}', "NaN"),
        (b'{"answers": {"ex5.params": 1e400}}', "overflowing float"),
        (b'{"answers": {"ex5.params": ' + b"9" * 5000 + b"}}", "integer too long to parse"),
        (b'{"answers": {"ex5.params": "\\ud800"}}', "lone surrogate"),
        (b'{"answers": {"ex5.\\u0000": "1"}}', "NUL in a key"),
        (b'{"answers": {"ex5.params": "1\\u0000"}}', "NUL in an answer"),
        (b'{"answers": {"ex5.params": {"a": 1}}}', "object as an answer"),
        (b'{"answers": [1, 2]}', "answers as a list"),
        (b'{"answers": {}, "extra": 1}', "unknown field"),
        (b'"hello"', "a string"),
        (b"", "empty"),
        (b"{", "truncated"),
        (b'{"answers": {"ex5.params": [[[[[[[[1]]]]]]]]}}', "lists nested too deep"),
    ],
)
def test_malformed_bodies_are_422(client, target, raw, why) -> None:
    response = client.post(target["url"], content=raw, headers={**target["headers"], **JSON})
    assert response.status_code == 422, (why, response.text)
    assert response.json()["detail"]


def test_without_a_token_a_malformed_body_is_401_not_422(client, target) -> None:
    """Who is asking is checked before what they sent: an anonymous client learns nothing of the schema."""
    response = client.post(target["url"], content=b'{"answers": [1]}', headers=JSON)
    assert response.status_code == 401, response.text


@pytest.mark.parametrize(
    "answer",
    [
        "9**9**9**9",
        "(" * 5000 + "1" + ")" * 5000,
        "1" * 19_999,
        "9" * 4000,
        True,
        "\\begin{bmatrix}" * 500,
        "H \\times W \\times" * 300,
    ],
)
def test_unreadable_or_huge_answers_are_refused_not_crashed(client, target, answer) -> None:
    response = client.post(target["url"], json={"answers": {"ex5.params": answer}}, headers=target["headers"])
    assert response.status_code == 422, response.text


def test_body_over_the_limit_is_413_by_length_and_by_stream(client, target, settings) -> None:
    big = {"answers": {"ex5.params": "1" * (settings.max_body_bytes + 10)}}
    response = client.post(target["url"], json=big, headers=target["headers"])
    assert response.status_code == 413 and "limit" in response.json()["detail"]

    def chunks():
        for _ in range(settings.max_body_bytes // 1000 + 2):
            yield b"x" * 1000

    streamed = client.post(target["url"], content=chunks(), headers=target["headers"])
    assert streamed.status_code == 413 and streamed.json()["detail"]


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/api/v1/courses/a%00b/assignments", 404),
        ("/api/v1/courses/" + "x" * 3000 + "/assignments", 404),
        ("/api/v1/courses/%C3%A9t%C3%A9/members", 404),
        ("/api/v1/courses/..%2F..%2Fetc/members", 404),
        ("{course}/assignments/a%00b", 404),
        ("{course}/assignments/" + "x" * 3000, 404),
        ("{course}/assignments/%C3%A9t%C3%A9", 404),
        ("{course}/assignments/..%2F..%2Fetc", 404),
        ("/api/v1/submissions/99999999999999999999999", 404),
        ("/api/v1/submissions/-1", 404),
        ("/api/v1/submissions/0", 404),
        ("/api/v1/submissions/abc", 422),
        ("/api/v1/submissions/1.5", 422),
        ("/api/v1/nothing-here", 404),
    ],
)
def test_odd_paths(client, course, target, path, status) -> None:
    response = client.get(path.format(course=course.path), headers=target["headers"])
    assert response.status_code == status, response.text
    assert response.json()["detail"]


@pytest.mark.parametrize(
    "query", ["?student=%00", "?student=" + "x" * 100, "?student=%F0%9F%98%80", "?format=xml", "?student=a&student=b"]
)
def test_odd_queries_as_instructor(client, course, target, query) -> None:
    for path in ("", "/submissions", "/gradebook"):
        response = client.get(
            f"{course.path}/assignments/{target['assignment']}{path}{query}", headers=course.instructor
        )
        assert response.status_code < 500, response.text


@pytest.mark.parametrize(
    "headers",
    [
        {"Authorization": "Bearer"},
        {"Authorization": "Bearer " + "x" * 5000},
        {"Authorization": "Basic dXNlcjpwYXNz"},
        {"Authorization": "bearer \x7f"},
    ],
)
def test_odd_authorization_headers_are_401(client, course, target, headers) -> None:
    assert client.get(f"{course.path}/assignments", headers=headers).status_code == 401


@pytest.mark.parametrize("key", ["x" * 201, "with space", "\x01"])
def test_odd_idempotency_keys_are_422(client, target, key) -> None:
    response = client.post(target["url"], json={"answers": {}}, headers={**target["headers"], "Idempotency-Key": key})
    assert response.status_code == 422


@pytest.mark.parametrize(
    "due", ["0001-01-01T00:00:00+05:00", "9999-12-31T23:59:59-14:00", "2030-02-30T00:00:00Z", "soon"]
)
def test_odd_due_dates_are_422(client, course, due) -> None:
    body = {"id": unique("a"), "problem_set": "fc-vs-conv", "due_at": due}
    assert client.post(f"{course.path}/assignments", json=body, headers=course.instructor).status_code == 422


def test_odd_content_types(client, target) -> None:
    for content, ctype in (
        (b"answers=1", "application/x-www-form-urlencoded"),
        (b"\x00\x01", "application/octet-stream"),
    ):
        response = client.post(target["url"], content=content, headers={**target["headers"], "content-type": ctype})
        assert response.status_code == 422, response.text


answers = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=60),
    lambda inner: st.lists(inner, max_size=5),
    max_leaves=30,
)
keys = st.sampled_from(KEYS) | st.text(min_size=1, max_size=12)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(body=st.dictionaries(keys, answers | st.text(max_size=80), max_size=6))
def test_generated_answers_never_produce_a_5xx(client, target, body) -> None:
    preview = client.post(
        target["url"].replace("/submissions", "/preview"), json={"answers": body}, headers=target["headers"]
    )
    assert preview.status_code in (200, 422), preview.text
    submitted = client.post(target["url"], json={"answers": body}, headers=target["headers"])
    assert submitted.status_code in (201, 422), submitted.text
    if preview.status_code == 200:
        assert (submitted.status_code == 201) is preview.json()["ready"]


@pytest.mark.only_backend("postgresql")
def test_connections_the_database_dropped_are_replaced_without_an_error(client, course, database_url) -> None:
    """After PostgreSQL ends every connection of the service (as a restart does), the next requests
    succeed: each on a new connection after its first read (the caller's token) fails
    (``api.kit.db.first_read``), as pooled connections are not pinged."""
    import psycopg
    from sqlalchemy.engine import make_url

    aid = course.assignment()
    _, headers = course.student()
    assert course.submit(aid, headers, {"ex4.conv1_params": "3640"}).status_code == 201
    assert client.get(f"{course.path}/assignments/{aid}/gradebook", headers=course.instructor).status_code == 200
    url = make_url(database_url)
    with psycopg.connect(
        host=url.query["host"], port=int(url.query["port"]), user=url.username, dbname=url.database, autocommit=True
    ) as admin:
        ended = admin.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        ).fetchone()
    assert ended is not None and ended[0] >= 1  # the service's pool held a connection
    submitted = course.submit(aid, headers, {"ex4.conv1_params": "3600"})
    assert submitted.status_code == 201, submitted.text
    assert submitted.json()["attempt"] == 2
    assert client.get(f"{course.path}/assignments/{aid}/gradebook", headers=course.instructor).status_code == 200
    assert client.get("/health").json() == {"status": "ok", "database": "ok"}


@pytest.mark.only_backend("postgresql")
def test_a_statement_that_waits_too_long_is_a_503_not_a_hang(shared_bank, course, database_url, request) -> None:
    """While something else holds the submissions table (a migration, an administrator), a
    submission waits at most the statement timeout and is told to retry; the slot is freed."""
    import psycopg
    from fastapi.testclient import TestClient
    from sqlalchemy.engine import make_url

    from api.app import create_app
    from api.kit.config import Settings

    aid = course.assignment()
    _, headers = course.student()
    app = create_app(Settings(database_url=database_url, db_statement_timeout_ms=1000), bank=shared_bank)
    request.addfinalizer(app.state.engine.dispose)
    impatient = TestClient(app)
    url = make_url(database_url)
    with psycopg.connect(
        host=url.query["host"], port=int(url.query["port"]), user=url.username, dbname=url.database
    ) as holder:
        holder.execute("LOCK TABLE submissions IN ACCESS EXCLUSIVE MODE")
        response = within(
            30,
            lambda: impatient.post(
                f"{course.path}/assignments/{aid}/submissions",
                json={"answers": {"ex4.conv1_params": "3640"}},
                headers=headers,
            ),
        )
        assert response.status_code == 503, response.text
        holder.rollback()
    assert (
        impatient.post(
            f"{course.path}/assignments/{aid}/submissions",
            json={"answers": {"ex4.conv1_params": "3640"}},
            headers=headers,
        ).status_code
        == 201
    )


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("PUT", "{course}/assignments", "GET, POST"),  # two routes share the path
        ("OPTIONS", "{course}/assignments/hw1/submissions", "GET, POST"),
        ("GET", "{course}/members/s1", "DELETE"),
        ("POST", "{course}/assignments/hw1", "DELETE, GET, PATCH"),
        ("DELETE", "/health", "GET"),
    ],
)
def test_405_names_every_method_of_the_path(client, course, target, method, path, allowed) -> None:
    """The Allow header lists what the path answers: it named only the first route's methods
    (``POST``, for ``GET`` and ``POST /assignments``)."""
    response = client.request(method, path.format(course=course.path), headers=target["headers"])
    assert response.status_code == 405
    assert response.headers["allow"] == allowed
    assert response.json() == {"detail": "Method Not Allowed"}
