"""What each request of a deadline costs the service's process: its CPU time per request, one
request at a time, by kind (a code ``POST`` of the four-part homework, a read of a graded
submission, the same read with ``?wait=``, ``/health``), on the service as an operator starts it.

Beside other work the service's process gets a share of a core, not a core (the operator's
guide, "Requests first"): whether a deadline's requests queue depends on what each costs it, which
this measures apart from the database's and the code worker's time. CPU time of the process, read
from ``/proc`` before and after each kind's requests (the code worker is a process of its own on
PostgreSQL; on SQLite the code runner is a child, not counted).

Run: ``python -m bench.request_cost [--database sqlite|postgresql|both] [--requests 300]``.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import httpx

from bench.burst import ASSIGNMENT, COURSE, service
from bench.code import set_up
from bench.homework import KEYS, submission
from harness.postgres import find_bin_dir

TICKS = os.sysconf("SC_CLK_TCK")
#: Seconds the service is left alone before and after each kind's requests: the work a request
#: leaves behind (the commit's after-hooks, a response still being written) is counted with it.
SETTLE = 0.3


def cpu_seconds(pid: int) -> float:
    """User and system CPU time of the process (not its children)."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat[stat.rindex(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def measure(pid: int, count: int, request: Callable[[int], None]) -> tuple[float, float]:
    """Milliseconds of the process's CPU and of wall time per request, ``count`` requests in turn."""
    time.sleep(SETTLE)
    cpu, wall = cpu_seconds(pid), time.monotonic()
    for number in range(count):
        request(number)
    wall = time.monotonic() - wall
    time.sleep(SETTLE)
    return 1000 * (cpu_seconds(pid) - cpu) / count, 1000 * wall / count


def costs(database: str, count: int) -> list[tuple[str, float, float]]:
    """Each kind's CPU and wall milliseconds per request on ``database``."""
    with tempfile.TemporaryDirectory() as workdir, service(database, Path(workdir)) as (server, env):
        pid = server.pid
        _, tokens = set_up(server.base_url, env, Path(workdir), count + 1, course=COURSE, assignment=ASSIGNMENT)
        clients = [
            httpx.Client(base_url=server.base_url, headers={"Authorization": f"Bearer {token}"}, timeout=60)
            for token in tokens
        ]
        path = f"/api/v1/courses/{COURSE}/assignments/{ASSIGNMENT}/submissions"
        ids: list[int] = []

        def post(number: int) -> None:
            made = clients[number].post(path, json={"answers": dict.fromkeys(KEYS, submission(number))})
            made.raise_for_status()
            ids.append(made.json()["id"])

        def read(number: int, *, wait: bool = False) -> None:
            query = "?wait=20" if wait else ""
            clients[number].get(f"/api/v1/submissions/{ids[number]}{query}").raise_for_status()

        def health(number: int) -> None:
            clients[number].get("/health").raise_for_status()

        try:
            # one first, by a student of its own: the service's first submission compiles and warms
            # what the rest reuse
            post(count)
            clients[count].get(f"/api/v1/submissions/{ids.pop()}?wait=20").raise_for_status()
            rows = [("code POST (4 parts)", *measure(pid, count, post))]
            for number in range(count):  # every one graded before they are read (not measured)
                read(number, wait=True)
            rows.append(("read of a graded submission", *measure(pid, count, read)))
            rows.append(("the same read with ?wait=20", *measure(pid, count, lambda number: read(number, wait=True))))
            rows.append(("/health", *measure(pid, count, health)))
        finally:
            for client in clients:
                client.close()
        return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--requests", type=int, default=300, help="Requests of each kind (default 300).")
    options = parser.parse_args()
    databases = ["sqlite", "postgresql"] if options.database == "both" else [options.database]
    if "postgresql" in databases and find_bin_dir() is None:
        print("(no PostgreSQL here: SQLite only)")
        databases.remove("postgresql")
    print(f"\n## The service process's CPU per request, one at a time ({options.requests} of each kind)\n")
    print("| database | request | CPU per request | wall per request |")
    print("| --- | --- | ---: | ---: |")
    for database in databases:
        for kind, cpu, wall in costs(database, options.requests):
            print(f"| {database} | {kind} | {cpu:.2f} ms | {wall:.1f} ms |")


if __name__ == "__main__":
    main()
