"""No token sent in a query string, nor the secret a path holds (a sign-in link, an LTI launch, a
dynamic-registration URL), reaches the access log: the filter on uvicorn's access records, every
route with a secret in its path, and a real ``grader serve`` whose log is read."""

from __future__ import annotations

import logging
import re

import httpx
import pytest
from uvicorn.logging import AccessFormatter

from api.kit.logs import OMITTED, REDACTED, KeepSecretsOut, uvicorn_log_config
from harness.server import ServerProcess, free_port

SECRET = "tok-9Qh2Lk0v3ZsX8wPa1rN7uYbE5cD4fG6jH0iK2mL3nO4"


def access_record(full_path: str) -> logging.LogRecord:
    """A record as uvicorn's HTTP protocols log one."""
    return logging.LogRecord(
        name="uvicorn.access",
        level=logging.INFO,
        pathname=__file__,
        lineno=1,
        msg='%s - "%s %s HTTP/%s" %d',
        args=("127.0.0.1:50000", "GET", full_path, "1.1", 200),
        exc_info=None,
    )


@pytest.mark.parametrize(
    "query",
    [f"token={SECRET}", f"access_token={SECRET}", f"student=s1&api_key={SECRET}", SECRET, f"format={SECRET}&x=1"],
)
def test_the_query_string_is_dropped_whatever_holds_the_token(query: str) -> None:
    record = access_record(f"/api/v1/courses/c1/assignments/hw1/gradebook?{query}")
    assert KeepSecretsOut().filter(record) is True  # the line is kept, only shortened
    line = AccessFormatter(fmt='%(client_addr)s - "%(request_line)s" %(status_code)s', use_colors=False).format(record)
    assert SECRET not in line
    assert line == f'127.0.0.1:50000 - "GET /api/v1/courses/c1/assignments/hw1/gradebook{OMITTED} HTTP/1.1" 200 OK'


def test_paths_without_a_query_and_other_records_are_left_alone() -> None:
    record = access_record("/api/v1/courses/c1/assignments")
    KeepSecretsOut().filter(record)
    assert record.getMessage() == '127.0.0.1:50000 - "GET /api/v1/courses/c1/assignments HTTP/1.1" 200'
    other = logging.LogRecord("uvicorn.access", logging.INFO, __file__, 1, "%s?%s", ("a", "b"), None)
    KeepSecretsOut().filter(other)
    assert other.getMessage() == "a?b"


#: Path parameters that are secrets: whoever holds one is let in (a session opened, a platform registered).
SECRET_PARAMETERS = {"token", "launch_id"}


def test_every_secret_a_path_holds_is_kept_out(app) -> None:
    every = [
        context
        for included in app.routes
        if hasattr(included, "effective_route_contexts")  # the routers, as FastAPI includes them
        for context in included.effective_route_contexts()
    ]
    assert {"/courses/{course_id}", "/api/v1/courses", "/lti/login"} <= {c.path for c in every}  # pages, API, LTI
    routes = [context.path for context in every if SECRET_PARAMETERS & set(context.param_convertors)]
    assert {path.split("{")[0] for path in routes} == {"/signin/", "/lti/continue/", "/lti/register/"}, routes
    for path in routes:
        concrete = re.sub(r"\{[^}]+\}", SECRET, path)
        for full_path in (concrete, concrete + "?open=1"):
            record = access_record(full_path)
            KeepSecretsOut().filter(record)
            assert SECRET not in record.getMessage() and REDACTED in record.getMessage(), full_path
    # an ordinary path, and an account's token id (not a secret), are kept as they are
    record = access_record("/account/tokens/123/revoke")
    KeepSecretsOut().filter(record)
    assert "/account/tokens/123/revoke HTTP" in record.getMessage()


def test_the_log_config_is_uvicorns_with_the_filter_on_the_access_logger() -> None:
    config = uvicorn_log_config()
    assert config["loggers"]["uvicorn.access"]["filters"] == ["keep_secrets_out"]
    assert config["filters"]["keep_secrets_out"]["()"] == "api.kit.logs.KeepSecretsOut"
    assert config["handlers"]["access"]["formatter"] == "access"  # uvicorn's own lines otherwise


@pytest.mark.only_backend("sqlite")  # the log does not depend on the database
def test_a_real_server_logs_no_query_string(backend, database_url, tmp_path) -> None:
    with ServerProcess.grader_serve(database_url, port=free_port(), workdir=tmp_path) as server:
        server.wait_healthy()
        assert httpx.get(f"{server.base_url}/health?token={SECRET}").status_code == 200
        assert httpx.get(f"{server.base_url}/api/v1/courses/c1/assignments?access_token={SECRET}").status_code == 401
        assert httpx.get(f"{server.base_url}/signin/{SECRET}").status_code == 404  # no such link
        server.terminate()
        output = server.output()
    assert SECRET not in output
    assert f'"GET /health{OMITTED} HTTP/1.1" 200' in output
    assert f'"GET /api/v1/courses/c1/assignments{OMITTED} HTTP/1.1" 401' in output
    assert f'"GET /signin/{REDACTED} HTTP/1.1" 404' in output
