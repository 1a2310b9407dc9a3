"""No token sent in a query string reaches the access log: the filter on uvicorn's access records,
and a real ``grader serve`` whose log is read."""

from __future__ import annotations

import logging

import httpx
import pytest
from uvicorn.logging import AccessFormatter

from api.logs import OMITTED, DropQueryString, uvicorn_log_config
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
    assert DropQueryString().filter(record) is True  # the line is kept, only shortened
    line = AccessFormatter(fmt='%(client_addr)s - "%(request_line)s" %(status_code)s', use_colors=False).format(record)
    assert SECRET not in line
    assert line == f'127.0.0.1:50000 - "GET /api/v1/courses/c1/assignments/hw1/gradebook{OMITTED} HTTP/1.1" 200 OK'


def test_paths_without_a_query_and_other_records_are_left_alone() -> None:
    record = access_record("/api/v1/courses/c1/assignments")
    DropQueryString().filter(record)
    assert record.getMessage() == '127.0.0.1:50000 - "GET /api/v1/courses/c1/assignments HTTP/1.1" 200'
    other = logging.LogRecord("uvicorn.access", logging.INFO, __file__, 1, "%s?%s", ("a", "b"), None)
    DropQueryString().filter(other)
    assert other.getMessage() == "a?b"


def test_the_log_config_is_uvicorns_with_the_filter_on_the_access_logger() -> None:
    config = uvicorn_log_config()
    assert config["loggers"]["uvicorn.access"]["filters"] == ["drop_query_string"]
    assert config["filters"]["drop_query_string"]["()"] == "api.logs.DropQueryString"
    assert config["handlers"]["access"]["formatter"] == "access"  # uvicorn's own lines otherwise


@pytest.mark.only_backend("sqlite")  # the log does not depend on the database
def test_a_real_server_logs_no_query_string(backend, database_url, tmp_path) -> None:
    with ServerProcess.grader_serve(database_url, port=free_port(), workdir=tmp_path) as server:
        server.wait_healthy()
        assert httpx.get(f"{server.base_url}/health?token={SECRET}").status_code == 200
        assert httpx.get(f"{server.base_url}/api/v1/courses/c1/assignments?access_token={SECRET}").status_code == 401
        server.terminate()
        output = server.output()
    assert SECRET not in output
    assert f'"GET /health{OMITTED} HTTP/1.1" 200' in output
    assert f'"GET /api/v1/courses/c1/assignments{OMITTED} HTTP/1.1" 401' in output
