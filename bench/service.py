"""Service throughput: graded-and-stored submissions per second through the real stack
(``grader serve --workers 2`` on a throwaway PostgreSQL over loopback TCP, with PostgreSQL's default
durability: every commit flushed to disk, unlike the tests' cluster), with p50/p99 latency,
next to the ``/health`` rate at the same concurrency (the cost of a request that does nothing but
touch the database), and next to the floor (``../shared/bench/floorapp.py``: the same stack finding
the caller by token hash and storing the answers in one committed INSERT, nothing else), run
beside it on the same database with the same client, tokens and bodies, the phases alternated in
each round. Targets: at least 0.4 of the floor, p99 under 100 ms.

Each submission answers the 10 parts of ``rgb-convolution``: right answers typed the ways students
type them, wrong ones, all readable (so all are stored), unlimited attempts. The load generator
shares the machine's cores with the server, so it is as cheap as a client can be in Python:
pre-encoded requests written on raw keep-alive HTTP/1.1 connections (asyncio, uvloop when installed).

Run: ``make bench`` (or ``python -m bench.service --seconds 10 --clients 32``).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from bench.grading import styles, wrong
from grader.engine import preview_submission
from harness.postgres import PostgresServer, find_bin_dir
from harness.server import VENV_BIN, ServerProcess, free_port, server_env
from problems.loader import load_bank
from problems.render import to_json

SET_ID = "rgb-convolution"
COURSE = "bench"
STUDENTS_PER_CLIENT = 4
CLIENT = "raw-socket HTTP/1.1 keep-alive client (asyncio{loop}), one connection per client"


def generate_answers(count: int, seed: int = 11) -> list[dict[str, Any]]:
    """``count`` submissions of every part: 60% right in some student style, 40% wrong; all readable."""
    rng = random.Random(seed)
    problem_set = load_bank()[SET_ID]
    answers = {k: to_json(a.kind, a.value) for k, a in problem_set.solve().items()}
    right = {k: styles(v) for k, v in answers.items()}
    submissions: list[dict[str, Any]] = []
    while len(submissions) < count:
        typed = {k: rng.choice(right[k]) if rng.random() < 0.6 else wrong(v, rng) for k, v in answers.items()}
        parts, unknown = preview_submission(problem_set, typed, student="bench")
        if not unknown and all(p.readable for p in parts.values()):
            submissions.append(typed)
    return submissions


def request_bytes(method: str, path: str, token: str | None = None, body: bytes = b"") -> bytes:
    head = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1"]
    if token:
        head.append(f"Authorization: Bearer {token}")
    if body:
        head += ["Content-Type: application/json", f"Content-Length: {len(body)}"]
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body


@dataclass
class Tally:
    latencies: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)


Connection = tuple[asyncio.StreamReader, asyncio.StreamWriter]


async def exchange(connection: Connection, request: bytes) -> int:
    """Send one request and read its response; the status."""
    reader, writer = connection
    writer.write(request)
    status_line = await reader.readuntil(b"\r\n")
    headers = await reader.readuntil(b"\r\n\r\n")
    length = 0
    for line in headers.split(b"\r\n"):
        if line[:15].lower() == b"content-length:":
            length = int(line[15:])
    await reader.readexactly(length)
    return int(status_line[9:12])


async def open_one(port: int) -> Connection:
    connection = await asyncio.open_connection("127.0.0.1", port)
    await exchange(connection, request_bytes("GET", "/health"))
    return connection


async def connect(server: ServerProcess, clients: int) -> tuple[list[Connection], list[int]]:
    """One keep-alive connection per client, spread evenly over the uvicorn workers; the spread.

    Which worker accepts a connection is up to the workers' race for the shared socket, and a burst
    of 32 connects tends to land on one worker (asyncio accepts a whole backlog per wake-up), which
    would then serve the whole run while the other idles. Students do not share 32 long-lived
    connections; so, where /proc shows who holds what, a connection on the busiest worker is
    re-opened until the workers differ by at most one (bounded).
    """
    connections = [await open_one(server.port) for _ in range(clients)]
    for _ in range(20 * clients):
        owners = connection_owners(server.pid, server.port)
        holders = [owners.get(c[1].get_extra_info("sockname")[1]) for c in connections]
        if None in holders:
            break  # no /proc: leave the spread as it came
        counts = {w: holders.count(w) for w in set(holders) | set(worker_pids(server.pid))}
        busiest = max(counts, key=counts.__getitem__)
        if max(counts.values()) - min(counts.values()) <= 1:
            return connections, sorted(counts.values(), reverse=True)
        index = holders.index(busiest)
        connections[index][1].close()
        connections[index] = await open_one(server.port)
    owners = connection_owners(server.pid, server.port)
    holders = [owners.get(c[1].get_extra_info("sockname")[1]) for c in connections]
    return connections, sorted((holders.count(w) for w in set(holders) if w is not None), reverse=True)


async def client_loop(connection: Connection, requests: list[bytes], stop_at: float, tally: Tally, offset: int) -> None:
    """Send ``requests`` round-robin on one keep-alive connection until ``stop_at``."""
    index = offset
    while time.perf_counter() < stop_at:
        started = time.perf_counter()
        status = await exchange(connection, requests[index % len(requests)])
        index += 1
        tally.latencies.append(time.perf_counter() - started)
        tally.statuses[status] = tally.statuses.get(status, 0) + 1


async def run_load(connections: list[Connection], per_client: list[list[bytes]], seconds: float) -> tuple[Tally, float]:
    tally = Tally()
    started = time.perf_counter()
    stop_at = started + seconds
    await asyncio.gather(
        *(
            client_loop(c, reqs, stop_at, tally, i)
            for i, (c, reqs) in enumerate(zip(connections, per_client, strict=True))
        )
    )
    return tally, time.perf_counter() - started


def worker_pids(server_pid: int) -> list[int]:
    """uvicorn's worker processes (spawned children; not multiprocessing's resource tracker)."""
    try:
        children = Path(f"/proc/{server_pid}/task/{server_pid}/children").read_text().split()
        return [int(c) for c in children if b"spawn_main" in Path(f"/proc/{c}/cmdline").read_bytes()]
    except OSError:
        return []


def connection_owners(server_pid: int, port: int) -> dict[int, int]:
    """Client port → the worker process holding the server's end (Linux /proc; {} if unknown)."""
    try:
        by_inode: dict[str, int] = {}
        for table in ("/proc/net/tcp", "/proc/net/tcp6"):
            for line in Path(table).read_text().splitlines()[1:]:
                fields = line.split()
                local, remote = fields[1].rsplit(":", 1)[1], fields[2].rsplit(":", 1)[1]
                if int(local, 16) == port and fields[3] == "01":  # the server's end, ESTABLISHED
                    by_inode[fields[9]] = int(remote, 16)
        owners = {}
        for worker in worker_pids(server_pid):
            for fd in Path(f"/proc/{worker}/fd").iterdir():
                link = os.readlink(fd)
                if link.startswith("socket:[") and link[8:-1] in by_inode:
                    owners[by_inode[link[8:-1]]] = worker
        return owners
    except OSError:
        return {}


def busy_jiffies() -> int:
    """CPU time the whole machine spent busy so far (Linux /proc/stat; clock ticks)."""
    user, nice, system, _idle, _iowait, irq, softirq, steal = map(int, Path("/proc/stat").read_text().split()[1:9])
    return user + nice + system + irq + softirq + steal


def _ticks(pid: int | str) -> int:
    """CPU time (user + system) of one process so far, in clock ticks; OSError if it is gone."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def process_jiffies() -> int:
    """CPU time charged to the processes alive now (clock ticks)."""
    total = 0
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                total += _ticks(entry.name)
            except (OSError, ValueError):
                continue
    return total


def tree_jiffies(roots: list[int]) -> int:
    """CPU time of these processes and all their descendants (clock ticks)."""
    total, pending, seen = 0, list(roots), set()
    while pending:
        pid = pending.pop()
        if pid in seen:
            continue
        seen.add(pid)
        try:
            total += _ticks(pid)
            pending += [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
        except (OSError, ValueError):
            continue
    return total


class OtherLoad:
    """Where the machine's CPU went besides the bench's processes (server, PostgreSQL, client):
    to other processes, which take cores from the server, and to no process alive at the end: the
    kernel, and processes that ended meanwhile (PostgreSQL backends of connections opened and
    closed; the per-request CPU figures miss their time)."""

    def __init__(self, roots: list[int]) -> None:
        self.roots = roots
        try:
            self.start: tuple[int, int, int] | None = (busy_jiffies(), process_jiffies(), tree_jiffies(roots))
        except OSError:
            self.start = None

    def shares(self) -> str:
        if self.start is None:
            return "unknown"
        try:
            busy, processes, ours = busy_jiffies(), process_jiffies(), tree_jiffies(self.roots)
        except OSError:
            return "unknown"
        elapsed = (time.monotonic() - self.started_at) * os.sysconf("SC_CLK_TCK") * (os.cpu_count() or 1)
        other = max(0.0, (processes - self.start[1] - (ours - self.start[2])) / elapsed)
        uncharged = max(0.0, (busy - self.start[0] - (processes - self.start[1])) / elapsed)
        return f"other processes {other:.0%}, no live process (the kernel, processes that ended) {uncharged:.0%}"

    def __enter__(self) -> OtherLoad:
        self.started_at = time.monotonic()
        return self

    def __exit__(self, *_: object) -> None:
        pass


def event_loop_name() -> str:
    try:
        import uvloop
    except ImportError:
        return ""
    asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    return ", uvloop"


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def postmaster_pid(server: PostgresServer) -> int:
    return int((server.data / "postmaster.pid").read_text().split()[0])


def grader_cli(*args: str, env: dict[str, str]) -> str:
    done = subprocess.run([str(VENV_BIN / "grader"), *args], env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"grader {' '.join(args)} failed:\n{done.stdout}{done.stderr}")
    return done.stdout


def set_up_course(base_url: str, env: dict[str, str], clients: int) -> list[str]:
    """An instructor (from the CLI), their course, an unlimited assignment and the students; the
    students' tokens."""
    instructor = json.loads(grader_cli("users", "create", "--role", "instructor", "--name", "Bench", "--json", env=env))
    headers = {"Authorization": f"Bearer {instructor['token']}"}
    with httpx.Client(base_url=base_url, headers=headers, timeout=60) as client:
        client.post("/api/v1/courses", json={"id": COURSE, "title": "Bench"}).raise_for_status()
        made = client.post(f"/api/v1/courses/{COURSE}/assignments", json={"id": "bench", "problem_set": SET_ID})
        made.raise_for_status()
        roster = [{"id": f"s{i:04d}", "name": f"Student {i}"} for i in range(clients * STUDENTS_PER_CLIENT)]
        imported = client.post(f"/api/v1/courses/{COURSE}/members", json={"members": roster})
        imported.raise_for_status()
        return [s["token"] for s in imported.json()["members"]]


def report(name: str, tally: Tally, seconds: float, expected: int) -> float:
    done = tally.statuses.get(expected, 0)
    rate = done / seconds
    others = {s: n for s, n in tally.statuses.items() if s != expected}
    p50, p99 = percentile(tally.latencies, 0.50) * 1000, percentile(tally.latencies, 0.99) * 1000
    line = f"{name}: {done:,} in {seconds:.1f} s = {rate:,.0f}/s; p50 {p50:.1f} ms, p99 {p99:.1f} ms"
    print(line + (f"; OTHER STATUSES {others}" if others else ""), flush=True)
    return rate


@dataclass
class Floor:
    """The floor app running, and its requests (the service's bodies and tokens, to ``/submit``)."""

    server: ServerProcess
    requests: list[list[bytes]]
    connections: list[Connection] = field(default_factory=list)


async def measure(
    server: ServerProcess,
    per_client: list[list[bytes]],
    health: list[list[bytes]],
    *,
    seconds: float,
    warmup: float,
    rounds_count: int,
    postgres: list[int],
    floor: Floor | None = None,
) -> tuple[float, float, float | None]:
    """Warm up, then per round the submissions phase, the floor's phase (when there is a floor) and
    the /health phase: the medians of the three rates."""
    if floor is not None:  # (warmed up first: its connections are then opened afresh for each phase)
        floor.connections, floor_spread = await connect(floor.server, len(per_client))
        print(f"floor connections per worker: {' / '.join(map(str, floor_spread)) or 'unknown'}", flush=True)
        await run_load(floor.connections, floor.requests, warmup)
        close(floor.connections)
    connections, spread = await connect(server, len(per_client))
    print(f"connections per worker: {' / '.join(map(str, spread)) or 'unknown'}", flush=True)
    floor_rates: list[float] = []
    try:
        await run_load(connections, per_client, warmup)
        await run_load(connections, health, min(warmup, 1.0))
        rounds = []
        for number in range(1, rounds_count + 1):
            with OtherLoad([os.getpid(), server.pid, *postgres]) as other:
                cpu, database = tree_jiffies([server.pid]), tree_jiffies(postgres)
                tally, elapsed = await run_load(connections, per_client, seconds)
                cpu, spent = tree_jiffies([server.pid]), tree_jiffies([server.pid]) - cpu
                database = tree_jiffies(postgres) - database
                submissions = report(f"round {number}: submissions (201, graded and stored)", tally, elapsed, 201)
                print(
                    f"round {number}: CPU per submission: service {_per_request(spent, tally)}, "
                    f"PostgreSQL {_per_request(database, tally)}",
                    flush=True,
                )
                if floor is not None:  # (uvicorn closes a connection idle for 5 s: each phase opens its own)
                    floor.connections, _ = await connect(floor.server, len(per_client))
                    floor_cpu, database = tree_jiffies([floor.server.pid]), tree_jiffies(postgres)
                    floor_tally, elapsed = await run_load(floor.connections, floor.requests, seconds)
                    floor_spent = tree_jiffies([floor.server.pid]) - floor_cpu
                    database = tree_jiffies(postgres) - database
                    close(floor.connections)
                    close(connections)
                    connections, _ = await connect(server, len(per_client))
                    floor_rates.append(report(f"round {number}: floor (201, stored)", floor_tally, elapsed, 201))
                    print(
                        f"round {number}: floor CPU per submission: {_per_request(floor_spent, floor_tally)}, "
                        f"PostgreSQL {_per_request(database, floor_tally)}",
                        flush=True,
                    )
                    if floor_rates[-1]:
                        print(f"round {number}: ratio to the floor {submissions / floor_rates[-1]:.2f}", flush=True)
                    cpu = tree_jiffies([server.pid])
                health_tally, elapsed = await run_load(connections, health, seconds)
                spent = tree_jiffies([server.pid]) - cpu
                health_rate = report(f"round {number}: /health", health_tally, elapsed, 200)
                print(f"round {number}: service CPU per /health: {_per_request(spent, health_tally)}", flush=True)
                print(f"round {number}: machine CPU besides the bench's processes: {other.shares()}", flush=True)
                if health_rate:
                    print(f"round {number}: ratio {submissions / health_rate:.2f}", flush=True)
            rounds.append((submissions, health_rate))
    finally:
        close(connections)
    floor_rate = statistics.median(floor_rates) if floor_rates else None
    return statistics.median(r[0] for r in rounds), statistics.median(r[1] for r in rounds), floor_rate


def close(connections: list[Connection]) -> None:
    for _, writer in connections:
        writer.close()


#: Where the floor app is: ``GRADER_FLOOR_DIR``, else ``shared/bench`` beside the repository.
FLOOR_DIR = Path(os.environ.get("GRADER_FLOOR_DIR") or Path(__file__).resolve().parents[2] / "shared" / "bench")


def start_floor(database_url: str, tokens: list[str], per_client_bodies: list[list[tuple[str, bytes]]]) -> Floor | None:
    """The floor app on ``database_url`` with its two tables and the students' token hashes; None
    (said why) when ``floorapp.py`` is not there."""
    if not (FLOOR_DIR / "floorapp.py").exists():
        print(f"no floor: {FLOOR_DIR / 'floorapp.py'} is not there (GRADER_FLOOR_DIR)", flush=True)
        return None
    import hashlib

    import psycopg

    with psycopg.connect(database_url, autocommit=True) as connection:
        connection.execute("create table floor_users (id text primary key, token_hash text unique)")
        connection.execute(
            "create table floor_subs (id bigserial primary key, student text references floor_users(id), "
            "answers jsonb, parts jsonb, submitted_at timestamptz default now())"
        )
        with connection.cursor() as cursor:
            cursor.executemany(
                "insert into floor_users values (%s, %s)",
                [(f"f{i}", hashlib.sha256(t.encode()).hexdigest()) for i, t in enumerate(tokens)],
            )
    port = free_port()
    command = [sys.executable, "-m", "uvicorn", "floorapp:app", "--workers", "2", "--no-access-log"]
    server = ServerProcess(
        [*command, "--host", "127.0.0.1", "--port", str(port)],
        port=port,
        env=server_env(FLOOR_DB=database_url),
        cwd=FLOOR_DIR,
        log=Path(tempfile.gettempdir()) / f"floor-{port}.log",
    ).start()
    deadline = time.monotonic() + 60
    while True:  # (the floor has no /health: a request without a token answers once it is up)
        try:
            if httpx.post(f"http://127.0.0.1:{port}/submit", json={}, timeout=2).status_code == 422:
                break
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            raise SystemExit(f"the floor app did not start:\n{server.output()[-2000:]}")
        time.sleep(0.2)
    requests = [
        [request_bytes("POST", "/submit", token, body) for token, body in client] for client in per_client_bodies
    ]
    return Floor(server, requests)


def _per_request(jiffies: int, tally: Tally) -> str:
    """Server CPU (all worker processes) per answered request: steadier than a rate on a shared
    host, where stolen CPU time slows the rate but is not charged to the process."""
    answered = sum(tally.statuses.values())
    if not answered:
        return "unknown"
    return f"{1000 * jiffies / os.sysconf('SC_CLK_TCK') / answered:.2f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=10.0, help="measured time of each phase")
    parser.add_argument("--warmup", type=float, default=3.0)
    parser.add_argument("--rounds", type=int, default=3, help="rounds of both phases; the median is reported")
    parser.add_argument("--clients", type=int, default=32)
    args = parser.parse_args()
    if find_bin_dir() is None:
        raise SystemExit("PostgreSQL is not installed (set GRADER_PG_BIN): the service benchmark needs it")
    loop = event_loop_name()

    with (
        tempfile.TemporaryDirectory(prefix="grader-bench-") as folder,
        PostgresServer(tcp_port=free_port(), durable=True) as pg,
    ):
        pg.create_database("bench")
        env = server_env(DATABASE_URL=f"postgresql://postgres@127.0.0.1:{pg.port}/bench")
        grader_cli("db", "upgrade", env=env)
        port = free_port()
        server = ServerProcess(
            [str(VENV_BIN / "grader"), "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", "2"],
            port=port,
            env=env,
            cwd=Path(folder),
            log=Path(folder) / "server.log",
        )
        with server:
            server.wait_healthy()
            tokens = set_up_course(server.base_url, env, args.clients)
            bodies = [json.dumps({"answers": a}).encode() for a in generate_answers(997)]
            path = f"/api/v1/courses/{COURSE}/assignments/bench/submissions"
            per_client_bodies = [
                [
                    (tokens[c * STUDENTS_PER_CLIENT + j % STUDENTS_PER_CLIENT], body)
                    for j, body in enumerate(bodies[c::7] + bodies[: c + 1])
                ]
                for c in range(args.clients)
            ]
            per_client = [[request_bytes("POST", path, t, b) for t, b in client] for client in per_client_bodies]
            floor = start_floor(f"postgresql://postgres@127.0.0.1:{pg.port}/bench", tokens, per_client_bodies)
            health = [[request_bytes("GET", "/health")] for _ in range(args.clients)]
            print(
                f"service benchmark: grader serve --workers 2 on PostgreSQL (loopback TCP), "
                f"{os.cpu_count()} CPUs shared with the client; {args.clients} concurrent clients; "
                f"{SET_ID}, 10 answered parts per submission; {args.seconds:.0f} s per phase",
                flush=True,
            )
            print("client: " + CLIENT.format(loop=loop), flush=True)
            try:
                submissions, health_rate, floor_rate = asyncio.run(
                    measure(
                        server,
                        per_client,
                        health,
                        seconds=args.seconds,
                        warmup=args.warmup,
                        rounds_count=args.rounds,
                        postgres=[postmaster_pid(pg)],
                        floor=floor,
                    )
                )
            finally:
                if floor is not None:
                    floor.server.terminate()
            ratio = submissions / health_rate if health_rate else 0.0
            print(
                f"median of {args.rounds} rounds: submissions/s: {submissions:,.0f}; "
                f"/health rate: {health_rate:,.0f}/s (ratio {ratio:.2f})",
                flush=True,
            )
            if floor_rate:
                print(
                    f"median of {args.rounds} rounds: floor: {floor_rate:,.0f}/s; "
                    f"ratio to the floor: {submissions / floor_rate:.2f} (target >= 0.40)",
                    flush=True,
                )
            status = server.terminate()
            if status != 0:
                print(f"server exited with {status}:\n{server.output()[-2000:]}", file=sys.stderr)


if __name__ == "__main__":
    main()
