"""``grader serve`` on PostgreSQL refuses to start when the replicas' connection pools cannot all
fit the server's connections (:mod:`api.kit.budget`), and starts when they just fit.

The tests' PostgreSQL allows 300 connections, 3 of them kept for superusers: 297. With the
default pool (10 + 20 overflow) a process may hold 30, so 9 replicas of one worker need 270, plus
the connections reserved for everything else."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from api.kit.budget import ConnectionBudget
from api.kit.config import Settings
from harness.postgres import PostgresServer
from harness.server import VENV_BIN, ServerProcess, free_port, server_env

from factories import unique


@pytest.fixture(scope="module")
def database_url(pg_server: PostgresServer) -> str:
    return pg_server.create_database(unique("budget"), template="grader_template")


def test_the_budget_counts_every_process_of_every_replica() -> None:
    settings = Settings(
        database_url="postgresql://x@db/x", replicas=10, db_pool_size=4, db_max_overflow=0, db_reserved_connections=20
    )
    server = {"max_connections": 200, "superuser_reserved_connections": 3, "reserved_connections": 2}
    budget = ConnectionBudget.of(settings, workers=4, server=server)
    assert (budget.needed, budget.available, budget.fits) == (10 * 4 * 4 + 20, 195, True)
    too_many = ConnectionBudget.of(settings, workers=5, server=server)
    assert (too_many.needed, too_many.fits) == (220, False)
    assert "10 replicas (GRADER_REPLICAS) × 5 workers" in too_many.explain()


def test_serve_refuses_to_start_past_the_budget(database_url: str, tmp_path: Path) -> None:
    env = server_env(DATABASE_URL=database_url, GRADER_REPLICAS="9", GRADER_DB_RESERVED_CONNECTIONS="28")
    done = subprocess.run(
        [str(VENV_BIN / "grader"), "serve", "--port", str(free_port())],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 1, done.stderr
    message = " ".join(done.stderr.split())
    assert "Too many database connections" in message
    assert "= 298 connections; PostgreSQL allows 297 (300 max_connections − 3 kept for superusers)" in message


def test_serve_starts_when_the_budget_just_fits(database_url: str, tmp_path: Path) -> None:
    server = ServerProcess.grader_serve(
        database_url, port=free_port(), workdir=tmp_path, GRADER_REPLICAS="9", GRADER_DB_RESERVED_CONNECTIONS="27"
    )
    with server:
        assert server.wait_healthy(timeout=60) == {"status": "ok", "database": "ok"}
