"""Service throughput: graded-and-stored submissions per second through the real stack
(``grader serve --workers 2`` on a throwaway PostgreSQL over loopback TCP), with p50/p99 latency,
next to the ``/health`` rate at the same concurrency (the cost of a request that does nothing but
touch the database). Targets: at least 500 submissions/s and at least 0.3 of the /health rate.

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
from problems.loader import load_bank
from problems.render import to_json
from tests.api.pgserver import PostgresServer, find_bin_dir
from tests.api.serverproc import VENV_BIN, ServerProcess, free_port, server_env

SET_ID = "rgb-convolution"
STUDENTS_PER_CLIENT = 4
CLIENT = "raw-socket HTTP/1.1 keep-alive client (asyncio{loop}), one connection per client"


def generate_answers(count: int, seed: int = 11) -> list[dict[str, Any]]:
    """``count`` submissions of every part: 60% right in some student style, 40% wrong; all readable."""
    rng = random.Random(seed)
    problem_set = load_bank()[SET_ID]
    answers = {k: to_json(a.kind, a.value) for k, a in problem_set.solve().items()}
    right = {k: styles(v) for k, v in answers.items()}
    submissions = []
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


async def client_loop(port: int, requests: list[bytes], stop_at: float, tally: Tally, offset: int) -> None:
    """Send ``requests`` round-robin on one keep-alive connection until ``stop_at``."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    index = offset
    try:
        while time.perf_counter() < stop_at:
            started = time.perf_counter()
            writer.write(requests[index % len(requests)])
            index += 1
            status_line = await reader.readuntil(b"\r\n")
            headers = await reader.readuntil(b"\r\n\r\n")
            length = 0
            for line in headers.split(b"\r\n"):
                if line[:15].lower() == b"content-length:":
                    length = int(line[15:])
            await reader.readexactly(length)
            tally.latencies.append(time.perf_counter() - started)
            status = int(status_line[9:12])
            tally.statuses[status] = tally.statuses.get(status, 0) + 1
    finally:
        writer.close()


async def run_load(port: int, per_client: list[list[bytes]], seconds: float) -> tuple[Tally, float]:
    tally = Tally()
    started = time.perf_counter()
    stop_at = started + seconds
    await asyncio.gather(*(client_loop(port, reqs, stop_at, tally, i) for i, reqs in enumerate(per_client)))
    return tally, time.perf_counter() - started


def load(port: int, per_client: list[list[bytes]], seconds: float) -> tuple[Tally, float]:
    return asyncio.run(run_load(port, per_client, seconds))


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


def grader_cli(*args: str, env: dict[str, str]) -> str:
    done = subprocess.run([str(VENV_BIN / "grader"), *args], env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"grader {' '.join(args)} failed:\n{done.stdout}{done.stderr}")
    return done.stdout


def set_up_course(base_url: str, env: dict[str, str], clients: int) -> list[str]:
    """An instructor (from the CLI), an unlimited assignment and the students; the students' tokens."""
    instructor = json.loads(grader_cli("users", "create", "--role", "instructor", "--name", "Bench", "--json", env=env))
    headers = {"Authorization": f"Bearer {instructor['token']}"}
    with httpx.Client(base_url=base_url, headers=headers, timeout=60) as client:
        made = client.post("/api/v1/assignments", json={"id": "bench", "problem_set": SET_ID})
        made.raise_for_status()
        roster = [{"id": f"s{i:04d}", "name": f"Student {i}"} for i in range(clients * STUDENTS_PER_CLIENT)]
        imported = client.post("/api/v1/students", json={"students": roster})
        imported.raise_for_status()
        return [s["token"] for s in imported.json()["students"]]


def report(name: str, tally: Tally, seconds: float, expected: int) -> float:
    done = tally.statuses.get(expected, 0)
    rate = done / seconds
    others = {s: n for s, n in tally.statuses.items() if s != expected}
    p50, p99 = percentile(tally.latencies, 0.50) * 1000, percentile(tally.latencies, 0.99) * 1000
    line = f"{name}: {done:,} in {seconds:.1f} s = {rate:,.0f}/s; p50 {p50:.1f} ms, p99 {p99:.1f} ms"
    print(line + (f"; OTHER STATUSES {others}" if others else ""), flush=True)
    return rate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=10.0, help="measured time of each phase")
    parser.add_argument("--warmup", type=float, default=3.0)
    parser.add_argument("--clients", type=int, default=32)
    args = parser.parse_args()
    if find_bin_dir() is None:
        raise SystemExit("PostgreSQL is not installed (set GRADER_PG_BIN): the service benchmark needs it")
    loop = event_loop_name()

    with tempfile.TemporaryDirectory(prefix="grader-bench-") as folder, PostgresServer(tcp_port=free_port()) as pg:
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
            path = "/api/v1/assignments/bench/submissions"
            per_client = [
                [
                    request_bytes("POST", path, tokens[c * STUDENTS_PER_CLIENT + j % STUDENTS_PER_CLIENT], body)
                    for j, body in enumerate(bodies[c::7] + bodies[: c + 1])
                ]
                for c in range(args.clients)
            ]
            health = [[request_bytes("GET", "/health")] for _ in range(args.clients)]
            print(
                f"service benchmark: grader serve --workers 2 on PostgreSQL (loopback TCP), "
                f"{os.cpu_count()} CPUs shared with the client; {args.clients} concurrent clients; "
                f"{SET_ID}, 10 answered parts per submission; {args.seconds:.0f} s per phase",
                flush=True,
            )
            print("client: " + CLIENT.format(loop=loop), flush=True)
            load(port, per_client, args.warmup)
            load(port, health, min(args.warmup, 1.0))
            tally, seconds = load(port, per_client, args.seconds)
            submissions = report("submissions (201, graded and stored)", tally, seconds, 201)
            tally, seconds = load(port, health, args.seconds)
            health_rate = report("/health", tally, seconds, 200)
            ratio = submissions / health_rate if health_rate else 0.0
            print(
                f"submissions/s: {submissions:,.0f} (target >= 500); /health rate: {health_rate:,.0f}/s; "
                f"ratio: {ratio:.2f} (target >= 0.30)",
                flush=True,
            )
            status = server.terminate()
            if status != 0:
                print(f"server exited with {status}:\n{server.output()[-2000:]}", file=sys.stderr)


if __name__ == "__main__":
    main()
