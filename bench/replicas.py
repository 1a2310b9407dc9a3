"""Scale-out on one machine: the service's graded-and-stored submissions per second with one and
with two replicas (each a ``grader serve --workers 1`` process, as a container runs it) on one
PostgreSQL database, the load generator spreading its connections over the replicas; then the same
through the repository's reverse proxy (``docker/nginx.conf`` with the machine's nginx, as in
``docker compose``), when nginx is installed.

The same submissions as ``bench/service.py`` (``rgb-convolution``, 10 answered parts, unlimited
attempts); PostgreSQL with its default durability over loopback TCP. One replica is one process,
so on a machine of two cores shared with the client and PostgreSQL, two replicas can at best use
the second core: the figures say what a replica adds, not what a machine of its own would.

Run: ``make bench`` (or ``python -m bench.replicas --seconds 5 --clients 32``).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import tempfile
from dataclasses import dataclass
from pathlib import Path

from bench.service import (
    COURSE,
    STUDENTS_PER_CLIENT,
    Connection,
    Tally,
    event_loop_name,
    exchange,
    generate_answers,
    grader_cli,
    report,
    request_bytes,
    run_load,
    set_up_course,
    tree_jiffies,
)
from harness.postgres import PostgresServer, find_bin_dir
from harness.proxy import NginxProxy, find_nginx
from harness.server import ServerProcess, free_port, server_env

#: One loopback address per replica, all on one port, as containers are.
ADDRESSES = ("127.0.0.2", "127.0.0.3")


def start_replicas(count: int, database_url: str, port: int, folder: Path) -> list[ServerProcess]:
    replicas = [
        ServerProcess.grader_serve(database_url, port=port, workdir=folder, host=host, GRADER_REPLICAS=str(count))
        for host in ADDRESSES[:count]
    ]
    for replica in replicas:
        replica.start()
    for replica in replicas:
        replica.wait_healthy(timeout=90)
    return replicas


async def open_connections(targets: list[tuple[str, int]], clients: int) -> list[Connection]:
    """One keep-alive connection per client, dealt round-robin over ``targets``."""
    connections = []
    for index in range(clients):
        connection = await asyncio.open_connection(*targets[index % len(targets)])
        await exchange(connection, request_bytes("GET", "/health"))
        connections.append(connection)
    return connections


@dataclass(frozen=True)
class Timing:
    seconds: float
    warmup: float
    rounds: int


async def measure(
    name: str, targets: list[tuple[str, int]], per_client: list[list[bytes]], timing: Timing, serving: list[int]
) -> float:
    """The median submissions/s of the rounds (after a warm-up), clients spread over ``targets``;
    each round also gives the CPU time the ``serving`` processes (replicas, proxy) spent per
    submission, steadier than a rate on a shared machine, where other load slows the rate."""
    connections = await open_connections(targets, len(per_client))
    try:
        await run_load(connections, per_client, timing.warmup)
        rates = []
        for number in range(1, timing.rounds + 1):
            cpu = tree_jiffies(serving)
            tally, elapsed = await run_load(connections, per_client, timing.seconds)
            cpu = tree_jiffies(serving) - cpu
            rate = report(f"{name}, round {number}: submissions (201)", tally, elapsed, 201)
            print(
                f"{name}, round {number}: CPU of the replicas and proxy per submission: {cpu_per(cpu, tally)}",
                flush=True,
            )
            rates.append(rate)
    finally:
        for _, writer in connections:
            writer.close()
    return statistics.median(rates)


def cpu_per(jiffies: int, tally: Tally) -> str:
    answered = sum(tally.statuses.values())
    return f"{1000 * jiffies / os.sysconf('SC_CLK_TCK') / answered:.2f} ms" if answered else "unknown"


def measure_replicas(replicas: list[ServerProcess], per_client: list[list[bytes]], timing: Timing) -> dict[str, float]:
    """Submissions/s with the clients spread over ``replicas`` directly, then through nginx (if installed)."""
    label = f"{len(replicas)} replica{'s' if len(replicas) > 1 else ''}"
    direct = [(r.host, r.port) for r in replicas]
    pids = [r.pid for r in replicas]
    rates = {f"{label}, direct": asyncio.run(measure(f"{label}, direct", direct, per_client, timing, pids))}
    if find_nginx() is not None:
        addresses, port = [r.host for r in replicas], replicas[0].port
        with NginxProxy(listen_port=free_port(), replica_addresses=addresses, replica_port=port) as proxy:
            proxied = [("127.0.0.1", proxy.port)]
            assert proxy.process is not None
            rates[f"{label}, through nginx"] = asyncio.run(
                measure(f"{label}, through nginx", proxied, per_client, timing, [*pids, proxy.process.pid])
            )
    return rates


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=5.0, help="measured time of each round")
    parser.add_argument("--warmup", type=float, default=2.0)
    parser.add_argument("--rounds", type=int, default=3, help="rounds per configuration; the median is reported")
    parser.add_argument("--clients", type=int, default=32)
    args = parser.parse_args()
    if find_bin_dir() is None:
        raise SystemExit("PostgreSQL is not installed (set GRADER_PG_BIN): the replicas benchmark needs it")
    loop = event_loop_name()
    timing = Timing(seconds=args.seconds, warmup=args.warmup, rounds=args.rounds)

    with (
        tempfile.TemporaryDirectory(prefix="grader-bench-") as name,
        PostgresServer(tcp_port=free_port(), durable=True) as pg,
    ):
        folder = Path(name)
        pg.create_database("bench")
        url = f"postgresql://postgres@127.0.0.1:{pg.port}/bench"
        env = server_env(DATABASE_URL=url)
        grader_cli("db", "upgrade", env=env)
        port = free_port()
        print(
            f"replicas benchmark: grader serve --workers 1 per replica on PostgreSQL (loopback TCP), "
            f"{os.cpu_count()} CPUs shared with the client; {args.clients} concurrent clients "
            f"(asyncio{loop}, keep-alive); median of {args.rounds} rounds of {args.seconds:.0f} s",
            flush=True,
        )
        bodies = [json.dumps({"answers": a}).encode() for a in generate_answers(997)]
        path = f"/api/v1/courses/{COURSE}/assignments/bench/submissions"
        tokens: list[str] = []
        results: dict[str, float] = {}
        for count in (1, 2):
            replicas = start_replicas(count, url, port, folder)
            try:
                tokens = tokens or set_up_course(replicas[0].base_url, env, args.clients)
                per_client = [
                    [
                        request_bytes("POST", path, tokens[c * STUDENTS_PER_CLIENT + j % STUDENTS_PER_CLIENT], body)
                        for j, body in enumerate(bodies[c::7] + bodies[: c + 1])
                    ]
                    for c in range(args.clients)
                ]
                results.update(measure_replicas(replicas, per_client, timing))
            finally:
                for replica in replicas:
                    replica.kill()
        if find_nginx() is None:
            print("nginx is not installed: the figures through the proxy are left out", flush=True)
        print("submissions/s: " + "; ".join(f"{k}: {v:,.0f}" for k, v in results.items()), flush=True)
        for way in ("direct", "through nginx"):
            one, two = results.get(f"1 replica, {way}"), results.get(f"2 replicas, {way}")
            if one and two:
                print(f"2 replicas / 1 replica ({way}): {two / one:.2f}", flush=True)


if __name__ == "__main__":
    main()
