"""The container's entrypoint, run as-is (``sh docker/entrypoint.sh``) since no Docker engine runs
here: it waits for the database, migrates it and execs ``grader serve``, which then serves a real
request flow on PostgreSQL over TCP and stops cleanly on SIGTERM (what ``docker stop`` sends)."""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from harness.postgres import PostgresServer, find_bin_dir
from harness.server import REPOSITORY, VENV_BIN, ServerProcess, free_port, server_env

ENTRYPOINT = REPOSITORY / "docker" / "entrypoint.sh"
#: Each worker process made slower to start than uvicorn's own health check allows (5 s): they must
#: be waited for, not killed and replaced (on a loaded machine that was a loop: a two-worker service
#: took 64 s to answer, each worker started nine times). A ``sitecustomize`` on the path sleeps in
#: every process multiprocessing spawns, before the worker can answer its supervisor.
SLOW_WORKER_START = """
import sys, time
if "--multiprocessing-fork" in sys.argv:
    time.sleep(8)
"""


@pytest.fixture(scope="module")
def postgres_tcp() -> Iterator[PostgresServer]:
    """A fresh PostgreSQL cluster listening on a loopback TCP port, as a database container would."""
    if find_bin_dir() is None:  # a failure, not a skip: CI must prove the entrypoint on PostgreSQL
        pytest.fail("PostgreSQL 15 binaries are needed (apt-get install postgresql-15)")
    server = PostgresServer(tcp_port=free_port()).start()
    try:
        yield server
    finally:
        server.stop()


def plain_url(server: PostgresServer, database: str) -> str:
    """The URL as an operator writes it (``postgresql://``; the service picks psycopg 3 itself)."""
    return f"postgresql://postgres@127.0.0.1:{server.port}/{database}"


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_entrypoint_migrates_serves_and_stops_on_sigterm(postgres_tcp: PostgresServer, tmp_path: Path) -> None:
    postgres_tcp.create_database("deployed")  # empty: the entrypoint must migrate it
    url = plain_url(postgres_tcp, "deployed")
    port = free_port()
    # as docker-compose.yml sets it: the image listens on 0.0.0.0, where serve needs its public address
    site = tmp_path / "site"
    site.mkdir()
    (site / "sitecustomize.py").write_text(SLOW_WORKER_START)
    env = server_env(DATABASE_URL=url, PORT=str(port), WORKERS="2", GRADER_PUBLIC_URL=f"http://127.0.0.1:{port}")
    env["PYTHONPATH"] = str(site)
    server = ServerProcess(["sh", str(ENTRYPOINT)], port=port, env=env, cwd=tmp_path, log=tmp_path / "server.log")
    with server:
        assert server.wait_healthy(timeout=180) == {"status": "ok", "database": "ok"}
        # exec: the shell became the server, so the container's signals reach uvicorn directly
        command_line = Path(f"/proc/{server.pid}/cmdline").read_bytes().split(b"\0")
        assert b"serve" in command_line and not command_line[0].endswith(b"sh"), command_line

        created = subprocess.run(
            [str(VENV_BIN / "grader"), "users", "create", "--role", "instructor", "--name", "Ada Lovelace", "--json"],
            env=server_env(DATABASE_URL=url),
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert created.returncode == 0, created.stderr
        instructor = auth(json.loads(created.stdout)["token"])

        with httpx.Client(base_url=server.base_url, timeout=30) as client:
            opened = client.post("/api/v1/courses", json={"id": "cnn", "title": "CNNs"}, headers=instructor)
            assert opened.status_code == 201, opened.text
            path = "/api/v1/courses/cnn"
            made = client.post(
                f"{path}/assignments", json={"id": "hw1", "problem_set": "conv-pool-basics"}, headers=instructor
            )
            assert made.status_code == 201, made.text
            roster = client.post(
                f"{path}/members", json={"members": [{"id": "alice", "name": "Alice"}]}, headers=instructor
            )
            assert roster.status_code == 200, roster.text
            alice = auth(roster.json()["members"][0]["token"])
            # one right answer and one that omits the bias (the demo's example)
            answers = {"ex4.conv1_params": "3640", "ex5.params": "1800"}
            submitted = client.post(f"{path}/assignments/hw1/submissions", json={"answers": answers}, headers=alice)
            assert submitted.status_code == 201, submitted.text
            body = submitted.json()
            assert body["attempt"] == 1 and body["parts"]["ex4.conv1_params"]["status"] == "correct"
            assert body["parts"]["ex5.params"]["status"] != "correct"
            listed = client.get(f"{path}/assignments/hw1/submissions", headers=instructor)
            assert [s["id"] for s in listed.json()] == [body["id"]]

        started = time.monotonic()
        assert server.terminate(timeout=30) == 0, server.output()
        deadline = time.monotonic() + 10
        while server.group_alive() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not server.group_alive(), "a worker process outlived the server"
        assert time.monotonic() - started < 30
    log = server.output()
    assert "database at" in log  # grader db upgrade ran before serving
    assert "died" not in log and log.count("Started server process") == 2, log  # each worker started once


def test_entrypoint_gives_up_on_an_unreachable_database_with_a_clear_message(tmp_path: Path) -> None:
    closed = free_port()  # nothing listens there
    env = server_env(DATABASE_URL=f"postgresql://grader@127.0.0.1:{closed}/grader", DB_WAIT_ATTEMPTS="2")
    started = time.monotonic()
    done = subprocess.run(
        ["sh", str(ENTRYPOINT)], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 1
    assert "database not ready (attempt 1 of 2)" in done.stderr
    assert "after 2 attempts; giving up" in done.stderr
    assert "Connection refused" in done.stderr  # grader's own reason is shown, not swallowed
    assert time.monotonic() - started < 30


def test_entrypoint_needs_a_database_url(tmp_path: Path) -> None:
    done = subprocess.run(
        ["sh", str(ENTRYPOINT)], env=server_env(), cwd=tmp_path, capture_output=True, text=True, timeout=30, check=False
    )
    assert done.returncode != 0 and "DATABASE_URL must name the database" in done.stderr


def test_entrypoint_does_not_retry_an_invalid_configuration(tmp_path: Path) -> None:
    env = server_env(DATABASE_URL="postgresql://x@127.0.0.1/x", GRADER_DB_POOL_SIZE="0")
    done = subprocess.run(
        ["sh", str(ENTRYPOINT)], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=30, check=False
    )
    assert done.returncode == 2 and "not retrying" in done.stderr and "attempt" not in done.stderr
