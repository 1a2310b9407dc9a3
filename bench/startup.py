"""Start-up: how long the service and the command line take to be ready, the median of a few
runs each. Every test that starts a real ``grader`` process, a deploy's rolling restart and a
crashed worker coming back wait this long.

- ``import api.app``: the service's modules in a fresh interpreter;
- ``grader --help``: the command line's;
- ``grader users create``: a command that opens the database (a migrated SQLite file);
- ``grader serve`` → healthy: from the command to the first ``/health`` that answers 200 (SQLite,
  migrated beforehand, as a restart finds it), and that first ``/health``'s own time;
- ``grader worker --queue code`` → ready: from the command to its "worker ready" line (PostgreSQL,
  its sandbox checked at start), when PostgreSQL is installed.

The load average is printed beside the figures: on a shared machine they are only comparable at a
similar load.

Run: ``make bench`` (or ``python -m bench.startup --rounds 3``).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

import httpx

from api.kit import migrate
from harness.postgres import PostgresServer, find_bin_dir
from harness.server import VENV_BIN, ServerProcess, WorkerProcess, free_port, server_env

ROUNDS = 3
#: How often a start is looked at: finer than the tests' 0.1 s, so the figures are not rounded to it.
POLL_SECONDS = 0.01
TIMEOUT_SECONDS = 120.0


def timed_command(*command: str, env: dict[str, str], cwd: Path) -> float:
    """Seconds from starting ``command`` to its exit (which must be 0)."""
    started = time.monotonic()
    done = subprocess.run(command, env=env, cwd=cwd, capture_output=True, text=True, check=False)
    seconds = time.monotonic() - started
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{done.stdout}{done.stderr}")
    return seconds


def serve_to_healthy(database_url: str, folder: Path) -> tuple[float, float]:
    """Seconds from ``grader serve`` to its first 200 on ``/health``, and that request's own seconds."""
    with ServerProcess.grader_serve(database_url, port=free_port(), workdir=folder) as server:
        started = time.monotonic()
        with httpx.Client(timeout=30) as client:
            while time.monotonic() - started < TIMEOUT_SECONDS:
                if server.process is not None and server.process.poll() is not None:
                    raise SystemExit(f"grader serve exited:\n{server.output()}")
                asked = time.monotonic()
                try:
                    response = client.get(f"{server.base_url}/health")
                except httpx.TransportError:
                    time.sleep(POLL_SECONDS)
                    continue
                if response.status_code == 200:
                    answered = time.monotonic()
                    return answered - started, answered - asked
                time.sleep(POLL_SECONDS)
    raise SystemExit(f"grader serve not healthy within {TIMEOUT_SECONDS} s")


def worker_to_ready(database_url: str, folder: Path) -> float:
    """Seconds from ``grader worker --queue code`` to its "worker ready" line."""
    with WorkerProcess.grader_worker(database_url, workdir=folder, queues=["code"]) as worker:
        started = time.monotonic()
        worker.wait_ready(timeout=TIMEOUT_SECONDS)
        return time.monotonic() - started


def median_of(rounds: int, measure: Callable[[], float]) -> tuple[float, list[float]]:
    runs = [measure() for _ in range(rounds)]
    return statistics.median(runs), runs


def line(name: str, median: float, runs: list[float]) -> None:
    print(f"  {name:<34} {median:6.2f} s   (runs: {', '.join(f'{run:.2f}' for run in runs)})", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=ROUNDS)
    rounds = parser.parse_args().rounds
    load = Path("/proc/loadavg").read_text().split()[:3] if Path("/proc/loadavg").exists() else ["?"]
    print(f"Start-up, median of {rounds} (load average {' '.join(load)}, {os.cpu_count()} cores):", flush=True)
    with tempfile.TemporaryDirectory(prefix="grader-startup-") as temporary:
        folder = Path(temporary)
        database_url = migrate.upgrade_database(f"sqlite:///{folder / 'grader.db'}")
        env = server_env(DATABASE_URL=database_url)
        python, grader = sys.executable, str(VENV_BIN / "grader")
        commands: dict[str, tuple[str, ...]] = {
            "import api.app": (python, "-c", "import api.app"),
            "grader --help": (grader, "--help"),
            "grader users create": (grader, "users", "create", "--role", "instructor", "--name", "Bench", "--json"),
        }
        for name, command in commands.items():
            line(name, *median_of(rounds, partial(timed_command, *command, env=env, cwd=folder)))
        starts = [serve_to_healthy(database_url, folder) for _ in range(rounds)]
        line("grader serve → healthy (SQLite)", statistics.median(s for s, _ in starts), [s for s, _ in starts])
        line("  its first /health", statistics.median(h for _, h in starts), [h for _, h in starts])
        if find_bin_dir() is None:
            print("  grader worker --queue code → ready: PostgreSQL is not installed", flush=True)
            return
        with PostgresServer() as postgres:
            worker_url = migrate.upgrade_database(postgres.create_database("startup"))
            ready = median_of(rounds, lambda: worker_to_ready(worker_url, folder))
            line("grader worker --queue code → ready", *ready)


if __name__ == "__main__":
    main()
