"""A deadline burst through the service: N students (300) each submit the four-part
``numpy-convolution`` homework (one file answering its four code parts) within a few seconds (10),
at evenly spread times, then follow their submission until no part waits or runs, as the
assignment page does: one request that waits for the result (``?wait=``), asked again if it comes
back still waiting. Each student has a client (and connections) of their own, as each browser
does: one client shared by 300 students spent most of this process's time sorting requests onto
its connections, and its requests waited up to 12 s there before being sent. A probe asks
``/health`` every 0.5 s throughout, one request at a time, from a process of its own, as a load
balancer does.

The students (and the probe) are 300 other machines; here they share the service's cores, so they
run in a process of their own, leading its own session, ahead of the rest where this process may
(root: the session's niceness -10): otherwise a reply read late because the students' side waited
for a core would count as the service's delay. Printed too, how late the students' event loop woke
for a timer (``students' loop late``): what of a latency may still be the students' side's own.

On SQLite ``grader serve`` runs the code itself; on PostgreSQL it runs beside one
``grader worker --queue code`` at its defaults (one sandbox per core), or with ``--workers N
--cores-per-worker C`` beside N of them, each held to C cores of its own (``taskset``: the worker and
its sandboxes, as N hosts of C cores would be; the service, PostgreSQL and the students share every
core), to measure how the last result scales with code workers. C may be a part of a core (0.5: a
CPU quota), so that on a machine of few cores the workers leave the service cores they do not use,
as workers on hosts of their own would. Printed per database: the last
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
import contextlib
import multiprocessing
import os
import ssl
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
from sandbox.cgroups import ROOT, own_paths

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
    lag: list[float] = field(default_factory=list)  # the students' event loop, late by this much
    ahead: str = ""  # how the students' side was scheduled


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
    tls = ssl.create_default_context()  # (one for all: each client would load the CA bundle again, 50 ms each)
    async with AsyncExitStack() as stack:
        clients = [
            await stack.enter_async_context(
                httpx.AsyncClient(
                    base_url=base_url, timeout=120, headers={"Authorization": f"Bearer {token}"}, verify=tls
                )
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
        watching = asyncio.create_task(watch_lag(burst.lag))
        await asyncio.gather(
            *(student(client, n, start + seconds * n / len(crowd), burst) for n, client in enumerate(crowd))
        )
        watching.cancel()
        stop.set()
        burst.health = received.recv()
        prober.join()
    return burst


async def watch_lag(lag: list[float], every: float = 0.01) -> None:
    """How late the students' event loop wakes for a timer due every ``every`` s: a reply read late
    by this process is counted in a request's latency, though the service had sent it."""
    while True:
        due = time.monotonic() + every
        await asyncio.sleep(every)
        lag.append(time.monotonic() - due)


#: The niceness the students' side takes where it may (root): -10, about nine times the weight of
#: a process at the default 0.
AHEAD_NICENESS = -10


def run_ahead() -> str:
    """Leads a session of its own and schedules it ahead of the machine's other work where this
    process may: the 300 students are 300 other machines, and here they share the service's cores;
    a reply read late because the students' side waited for a core (beside the busy processes of
    ``--beside-load``) would be counted as the service's delay. Returns how it ran."""
    os.setsid()
    try:  # (the process's own niceness, and its session's where the kernel has autogroups)
        os.setpriority(os.PRIO_PROCESS, 0, AHEAD_NICENESS)
        with contextlib.suppress(OSError):
            Path("/proc/self/autogroup").write_text(str(AHEAD_NICENESS))
    except OSError as error:  # (without CAP_SYS_NICE: at the default)
        return f"students at the default priority ({error.strerror})"
    return f"students at niceness {AHEAD_NICENESS}"


def students(base_url: str, tokens: list[str], seconds: float, sent: Connection) -> None:
    """The students' side, in a process of its own (``run_ahead``); its burst is sent back."""
    ahead = run_ahead()
    burst = asyncio.run(run_burst(base_url, tokens, seconds))
    burst.ahead = ahead
    sent.send(burst)


def students_side(base_url: str, tokens: list[str], seconds: float) -> Burst:
    """:func:`run_burst` from a process of its own, run ahead of the service (:func:`run_ahead`)."""
    context = multiprocessing.get_context("spawn")
    received, sent = context.Pipe(duplex=False)
    side = context.Process(target=students, args=(base_url, tokens, seconds, sent))
    side.start()
    sent.close()
    try:
        burst: Burst = received.recv()
    except EOFError:
        side.join()
        raise SystemExit(f"the students' side ended without a result (exit code {side.exitcode})") from None
    side.join()
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
    ``cores`` cores of its own (without them, one worker at its defaults, on every core). Whole
    cores are the worker's alone (``taskset``); a part of a core (0.5) is a CPU quota
    (:func:`cpu_quota`) on any core, so that on a small machine the workers can be held to less
    than its cores and leave the service cores of its own, as hosts apart from the service's would."""

    count: int
    cores: float

    @property
    def whole(self) -> bool:
        return self.cores == int(self.cores)

    @property
    def concurrency(self) -> int:
        """Sandboxes per worker: one per core it has, at least one."""
        return max(1, int(self.cores))

    def cpus(self, number: int) -> list[int]:
        """The cores worker ``number`` is held to: the next ``cores`` of those this process may use
        (none where it is held to a part of a core: any)."""
        if not self.whole:
            return []
        usable, cores = sorted(os.sched_getaffinity(0)), int(self.cores)
        return usable[number * cores : (number + 1) * cores]

    def __str__(self) -> str:
        workers, cores = ("worker" if self.count == 1 else "workers"), ("core" if self.cores <= 1 else "cores")
        return f"{self.count} code {workers} of {self.cores:g} {cores}"


#: The period of a CPU quota, in microseconds (the kernel's default).
QUOTA_PERIOD = 100_000


@contextmanager
def cpu_quota(name: str, cores: float) -> Iterator[Path]:
    """A cgroup whose processes (and their sandboxes' groups, made under it) together use at most
    ``cores`` cores: v1's ``cpu.cfs_quota_us`` or v2's ``cpu.max``, beside this process's own group.
    Removed at the end, once its processes have ended."""
    own, quota = own_paths(), round(cores * QUOTA_PERIOD)
    v1 = "cpu" in own  # (a hierarchy per controller; else v2, where this group delegates its cpu controller)
    group = ROOT / ("cpu" if v1 else "") / own.get("cpu" if v1 else "", "/").lstrip("/") / name
    group.mkdir()
    try:
        if v1:
            (group / "cpu.cfs_period_us").write_text(str(QUOTA_PERIOD))
            (group / "cpu.cfs_quota_us").write_text(str(quota))
        else:
            (group / "cpu.max").write_text(f"{quota} {QUOTA_PERIOD}")
    except OSError:
        group.rmdir()
        raise
    try:
        yield group
    finally:
        for child in sorted(group.rglob("*"), key=lambda path: len(path.parts), reverse=True):
            if child.is_dir():
                child.rmdir()
        group.rmdir()


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
            if workers is None:
                code_workers = [WorkerProcess.grader_worker(url, workdir=workdir, queues=("code",))]
            else:
                quotas = [
                    None
                    if workers.whole
                    else stack.enter_context(cpu_quota(f"bench-burst-{os.getpid()}-{n}", workers.cores))
                    for n in range(workers.count)
                ]
                code_workers = [
                    WorkerProcess.grader_worker(
                        url,
                        workdir=workdir,
                        queues=("code",),
                        concurrency=workers.concurrency,
                        cpus=workers.cpus(number),
                        cpu_group=quota,
                    )
                    for number, quota in enumerate(quotas)
                ]
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
    parser.add_argument(
        "--cores-per-worker",
        type=float,
        default=1,
        help="With --workers: each one's cores (a part of one, as 0.5, is a CPU quota on any core).",
    )
    options = parser.parse_args()
    workers = _workers(parser, options)
    databases = ["sqlite", "postgresql"] if options.database == "both" else [options.database]
    if workers is not None and not workers.whole:
        try:
            with cpu_quota(f"bench-{os.getpid()}-probe", workers.cores):
                pass
        except OSError as error:  # (not root, or no cpu controller to write: nothing to measure)
            print(f"(no CPU quota can be set here, {error}: the burst beside {workers} is left out)")
            return
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
        "| /health p50 / p99 / max | stored | graded as expected | students' loop late p99 / max |"
    )
    print("| --- | ---: | ---: | ---: | ---: | --- | ---: | ---: |")
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
            burst = students_side(server.base_url, tokens, options.seconds)
            stored = stored_once(server.base_url, instructor, burst, options.students)
        last = max(burst.done_at) - burst.first_post if burst.done_at else float("nan")
        right = options.students - len(burst.wrong)
        label = f"{database}, {workers}" if workers is not None and database == "postgresql" else database
        print(
            f"| {label} | {last:.1f} s | {statistics.median(burst.results):.2f} / "
            f"{percentile(burst.results, 0.99):.2f} s | {statistics.median(burst.posts):.2f} / "
            f"{percentile(burst.posts, 0.99):.2f} s | {statistics.median(burst.health):.3f} / "
            f"{percentile(burst.health, 0.99):.3f} / {max(burst.health):.3f} s | {stored} | "
            f"{right} of {options.students} | {percentile(burst.lag, 0.99):.3f} / {max(burst.lag):.3f} s |"
        )
        for line in burst.wrong[:5]:
            print(f"  {line}")
    print(f"\n({burst.ahead}: the students' side is a process of its own, run ahead of the rest)")


def _workers(parser: argparse.ArgumentParser, options: argparse.Namespace) -> Workers | None:
    """The code workers asked for, or None (one at its defaults); the parser's error where they
    are not PostgreSQL's alone or need more cores than this process may use."""
    if options.workers is None:
        return None
    if options.database != "postgresql":
        parser.error("--workers runs code workers beside PostgreSQL: give --database postgresql")
    if options.workers < 1 or options.cores_per_worker <= 0:
        parser.error("--workers is 1 or more, --cores-per-worker more than 0")
    if options.cores_per_worker > 1 and options.cores_per_worker != int(options.cores_per_worker):
        parser.error("--cores-per-worker is a whole number of cores, or a part of one (as 0.5)")
    usable = len(os.sched_getaffinity(0))
    if options.workers * options.cores_per_worker > usable:
        asked = Workers(options.workers, options.cores_per_worker)
        parser.error(f"{asked} each need {asked.count * asked.cores} cores of their own; this process may use {usable}")
    return Workers(options.workers, options.cores_per_worker)


if __name__ == "__main__":
    main()
