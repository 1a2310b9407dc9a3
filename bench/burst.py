"""A deadline burst through the service: N students (300) each submit the four-part
``numpy-convolution`` homework (one file answering its four code parts) within a few seconds (10),
at evenly spread times, then follow their submission until no part waits or runs, as the
assignment page does: one request that waits for the result (``?wait=``), asked again if it comes
back still waiting. Each student has a client (and connections) of their own, as each browser
does: one client shared by 300 students spent most of this process's time sorting requests onto
its connections, and its requests waited up to 12 s there before being sent. A probe asks
``/health`` every 0.5 s throughout, one request at a time, from a process of its own, as a load
balancer does.

On SQLite ``grader serve`` runs the code itself; on PostgreSQL it runs beside one
``grader worker --queue code`` at its defaults (one sandbox per core), or with ``--workers N
--cores-per-worker C`` beside N of them, each held to C cores of its own (``taskset``: the worker and
its sandboxes, as N hosts of C cores would be; the service, PostgreSQL and the students share every
core), to measure how the last result scales with code workers. Printed per database: the last
result after the first POST, submit → result latency (from the 201 to the reply that holds the
result), the POSTs' own latency, ``/health``'s, and whether every
submission was stored once and graded as expected (every 4th has three named mistakes): nothing
lost, nothing graded twice.

``--beside-load N`` runs the same beside N busy processes (each a session of its own, at the
default priority, as other users' work on a shared machine is): the issue's "loaded" figures use
twice the cores.

Run: ``make bench`` (or ``python -m bench.burst --students N --seconds S [--beside-load N]``;
``python -m bench.burst --database postgresql --workers 2 --cores-per-worker 1`` for two one-core
code workers).
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import AsyncExitStack, ExitStack, contextmanager
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from multiprocessing.synchronize import Event as EventType
from pathlib import Path

import httpx

from bench.code import grader_cli, set_up
from bench.homework import KEYS, submission
from harness.postgres import PostgresServer, find_bin_dir
from harness.server import ServerProcess, WorkerProcess, free_port, server_env

COURSE, ASSIGNMENT = "burst", "hw"
#: Seconds a request for the result may wait for it, as the assignment page's (``?wait=``).
WAIT_SECONDS = 20
HEALTH_EVERY = 0.5
WAITING = ("queued", "running")


@dataclass
class Burst:
    """What one burst measured."""

    first_post: float = 0.0
    posts: list[float] = field(default_factory=list)
    results: list[float] = field(default_factory=list)  # 201 → result
    done_at: list[float] = field(default_factory=list)
    health: list[float] = field(default_factory=list)
    wrong: list[str] = field(default_factory=list)
    submission_ids: list[int] = field(default_factory=list)


async def student(client: httpx.AsyncClient, number: int, at: float, burst: Burst) -> None:
    """Submit at ``at`` (monotonic) from the student's own ``client``, then poll until every part is graded."""
    await asyncio.sleep(max(0.0, at - time.monotonic()))
    path = f"/api/v1/courses/{COURSE}/assignments/{ASSIGNMENT}/submissions"
    began = time.monotonic()
    sent = await client.post(path, json={"answers": dict.fromkeys(KEYS, submission(number))})
    accepted = time.monotonic()
    burst.posts.append(accepted - began)
    if sent.status_code != 201:
        burst.wrong.append(f"student {number}: POST {sent.status_code} {sent.text[:200]}")
        return
    made = sent.json()
    burst.submission_ids.append(made["id"])
    while True:
        try:
            seen = await client.get(f"/api/v1/submissions/{made['id']}?wait={WAIT_SECONDS}")
        except httpx.TransportError:
            continue  # (a request lost to a closing keep-alive connection is asked again)
        parts = seen.json()["parts"]
        if not any(part["status"] in WAITING for part in parts.values()):
            break
    burst.results.append(time.monotonic() - accepted)
    burst.done_at.append(time.monotonic())
    statuses = {key: parts[key]["status"] for key in KEYS}
    if statuses != expected(number):
        burst.wrong.append(f"student {number}: {statuses}")


def expected(number: int) -> dict[str, str]:
    """How each part of submission ``number`` grades: every 4th has three named mistakes
    (``bench.homework.submission``), which leave only ``pool.backward`` right."""
    if number % 4 == 3:
        return {key: "correct" if key == "pool.backward" else "incorrect" for key in KEYS}
    return dict.fromkeys(KEYS, "correct")


def probe(base_url: str, ready: EventType, stop: EventType, latencies: Connection) -> None:
    """``/health`` every :data:`HEALTH_EVERY` s until ``stop``, one request at a time, from a process
        of its own (as a load balancer is: the students' event loop delays none of its requests);
        the latencies are sent back at the end (inf for a request that failed). ``ready`` once the first
    is answered."""
    seen: list[float] = []
    with httpx.Client(base_url=base_url, timeout=60) as client:
        while not stop.is_set():
            began = time.monotonic()
            try:
                client.get("/health").raise_for_status()
                seen.append(time.monotonic() - began)
            except httpx.HTTPError:
                seen.append(float("inf"))
            ready.set()
            stop.wait(max(0.0, HEALTH_EVERY - (time.monotonic() - began)))
    latencies.send(seen)


async def run_burst(base_url: str, tokens: list[str], seconds: float) -> Burst:
    burst = Burst()
    async with AsyncExitStack() as stack:
        clients = [
            await stack.enter_async_context(
                httpx.AsyncClient(base_url=base_url, timeout=120, headers={"Authorization": f"Bearer {token}"})
            )
            for token in tokens
        ]
        warm = Burst()  # the warm-up student (the sandboxes start here), not counted
        await student(clients[-1], 10_000, time.monotonic(), warm)  # (a right one: 10,000 % 4 == 0)
        if warm.wrong:
            raise SystemExit(f"the warm-up submission was not graded right: {warm.wrong}")
        context = multiprocessing.get_context("spawn")
        ready, stop, (received, sent) = context.Event(), context.Event(), context.Pipe(duplex=False)
        prober = context.Process(target=probe, args=(base_url, ready, stop, sent), daemon=True)
        prober.start()
        if not await asyncio.to_thread(ready.wait, 120):
            raise SystemExit("the /health probe did not start")
        start = time.monotonic() + 0.5
        burst.first_post = start
        crowd = clients[:-1]
        await asyncio.gather(
            *(student(client, n, start + seconds * n / len(crowd), burst) for n, client in enumerate(crowd))
        )
        stop.set()
        burst.health = received.recv()
        prober.join()
    return burst


def stored_once(base_url: str, token: str, burst: Burst, students: int) -> str:
    """Each student's submission stored once: the assignment's submissions, as its instructor sees them."""
    with httpx.Client(base_url=base_url, headers={"Authorization": f"Bearer {token}"}, timeout=60) as client:
        found = client.get(f"/api/v1/courses/{COURSE}/assignments/{ASSIGNMENT}/submissions")
        found.raise_for_status()
        items = found.json()
    by_student: dict[str, int] = {}
    for row in items:
        by_student[row["student"]] = by_student.get(row["student"], 0) + 1
    twice = [who for who, count in by_student.items() if count > 1 and who != f"s{students:03d}"]
    counted = sum(count for who, count in by_student.items() if who != f"s{students:03d}")
    return f"{counted} stored, {len(twice)} twice"


@dataclass(frozen=True)
class Workers:
    """The code workers beside the service on PostgreSQL: ``count`` of them, each held to
    ``cores`` cores of its own (without them, one worker at its defaults, on every core)."""

    count: int
    cores: int

    def cpus(self, number: int) -> list[int]:
        """The cores worker ``number`` is held to: the next ``cores`` of those this process may use."""
        usable = sorted(os.sched_getaffinity(0))
        return usable[number * self.cores : (number + 1) * self.cores]

    def __str__(self) -> str:
        workers, cores = ("worker" if self.count == 1 else "workers"), ("core" if self.cores == 1 else "cores")
        return f"{self.count} code {workers} of {self.cores} {cores}"


@contextmanager
def service(
    database: str, workdir: Path, workers: Workers | None = None
) -> Iterator[tuple[ServerProcess, dict[str, str]]]:
    """``grader serve`` on ``database`` (and on PostgreSQL a code worker at its defaults, or ``workers``)."""
    if database == "sqlite":
        url = f"sqlite:///{workdir / 'grader.db'}"
        with ServerProcess.grader_serve(url, port=free_port(), workdir=workdir) as server:
            server.wait_healthy()
            yield server, server_env(DATABASE_URL=url)
        return
    with PostgresServer(tcp_port=free_port(), durable=True) as pg:
        pg.create_database("burst")
        url = f"postgresql://postgres@127.0.0.1:{pg.port}/burst"
        grader_cli("db", "upgrade", env=server_env(DATABASE_URL=url), cwd=workdir)
        with ServerProcess.grader_serve(url, port=free_port(), workdir=workdir) as server, ExitStack() as stack:
            server.wait_healthy()
            code_workers = (
                [WorkerProcess.grader_worker(url, workdir=workdir, queues=("code",))]
                if workers is None
                else [
                    WorkerProcess.grader_worker(
                        url, workdir=workdir, queues=("code",), concurrency=workers.cores, cpus=workers.cpus(number)
                    )
                    for number in range(workers.count)
                ]
            )
            for worker in code_workers:
                stack.enter_context(worker)
            for worker in code_workers:
                worker.wait_ready()
            yield server, server_env(DATABASE_URL=url)


@contextmanager
def busy(processes: int) -> Iterator[None]:
    """``processes`` processes spinning on a core each until the block ends, each in a session of its own."""
    spinning = [
        subprocess.Popen([sys.executable, "-c", "while True: pass"], start_new_session=True) for _ in range(processes)
    ]
    try:
        yield
    finally:
        for process in spinning:
            process.kill()
            process.wait()


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] if ordered else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--students", type=int, default=300)
    parser.add_argument("--seconds", type=float, default=10.0, help="The burst's length.")
    parser.add_argument("--database", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument(
        "--beside-load", type=int, default=0, metavar="N", help="Busy processes running beside it (0: none)."
    )
    parser.add_argument(
        "--workers", type=int, help="PostgreSQL: this many code workers, each held to --cores-per-worker cores."
    )
    parser.add_argument("--cores-per-worker", type=int, default=1, help="With --workers: each one's cores.")
    options = parser.parse_args()
    workers = _workers(parser, options)
    databases = ["sqlite", "postgresql"] if options.database == "both" else [options.database]
    if "postgresql" in databases and find_bin_dir() is None:
        print("(no PostgreSQL here: the burst runs on SQLite only)")
        databases.remove("postgresql")
    print(
        f"\n## A deadline burst: {options.students} students submit the four-part homework within "
        f"{options.seconds:g} s (load average {os.getloadavg()[0]:.1f}, {os.cpu_count()} cores"
        f"{f', beside {options.beside_load} busy processes' if options.beside_load else ''})\n"
    )
    print(
        "| database | last result after the 1st POST | submit → result p50 / p99 | POST p50 / p99 "
        "| /health p50 / p99 / max | stored | graded as expected |"
    )
    print("| --- | ---: | ---: | ---: | ---: | --- | ---: |")
    for database in databases:
        with (
            busy(options.beside_load),
            tempfile.TemporaryDirectory(prefix="bench-burst-") as directory,
            service(database, Path(directory), workers) as (
                server,
                env,
            ),
        ):
            # (one student more: the warm-up's)
            instructor, tokens = set_up(
                server.base_url, env, Path(directory), options.students + 1, course=COURSE, assignment=ASSIGNMENT
            )
            burst = asyncio.run(run_burst(server.base_url, tokens, options.seconds))
            stored = stored_once(server.base_url, instructor, burst, options.students)
        last = max(burst.done_at) - burst.first_post if burst.done_at else float("nan")
        right = options.students - len(burst.wrong)
        label = f"{database}, {workers}" if workers is not None and database == "postgresql" else database
        print(
            f"| {label} | {last:.1f} s | {statistics.median(burst.results):.2f} / "
            f"{percentile(burst.results, 0.99):.2f} s | {statistics.median(burst.posts):.2f} / "
            f"{percentile(burst.posts, 0.99):.2f} s | {statistics.median(burst.health):.3f} / "
            f"{percentile(burst.health, 0.99):.3f} / {max(burst.health):.3f} s | {stored} | "
            f"{right} of {options.students} |"
        )
        for line in burst.wrong[:5]:
            print(f"  {line}")


def _workers(parser: argparse.ArgumentParser, options: argparse.Namespace) -> Workers | None:
    """The code workers asked for, or None (one at its defaults); the parser's error where they
    are not PostgreSQL's alone or need more cores than this process may use."""
    if options.workers is None:
        return None
    if options.database != "postgresql":
        parser.error("--workers runs code workers beside PostgreSQL: give --database postgresql")
    if options.workers < 1 or options.cores_per_worker < 1:
        parser.error("--workers and --cores-per-worker are 1 or more")
    usable = len(os.sched_getaffinity(0))
    if options.workers * options.cores_per_worker > usable:
        asked = Workers(options.workers, options.cores_per_worker)
        parser.error(f"{asked} each need {asked.count * asked.cores} cores of their own; this process may use {usable}")
    return Workers(options.workers, options.cores_per_worker)


if __name__ == "__main__":
    main()
