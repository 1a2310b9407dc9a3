"""Where a submission's time goes: ``grader serve --workers 1`` on a throwaway PostgreSQL under the
service benchmark's load, its worker sampled by py-spy, the samples summed per function.

``--gil`` (the default) keeps only the samples of the thread holding the GIL: the Python work that
competes for the interpreter, which is what bounds a worker's submissions per second. Without it
the waits on PostgreSQL count too. Prints the functions by their own share and by what runs under
them. py-spy must be installed (``pip install py-spy``); it needs ptrace (root in a container).

Run: ``python -m bench.profile_submit [--seconds 12] [--clients 16] [--all-threads]``.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import json
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

from bench.service import (
    COURSE,
    STUDENTS_PER_CLIENT,
    connect,
    generate_answers,
    grader_cli,
    request_bytes,
    run_load,
    set_up_course,
    worker_pids,
)
from harness.postgres import PostgresServer
from harness.server import VENV_BIN, ServerProcess, free_port, server_env

SHOWN = 30


def tidy(frame: str) -> str:
    """``function (file:line)`` → ``function (package/file)``."""
    frame = re.sub(r"\((?:.*/site-packages/|.*/lib/python3\.\d+/|.*?/(?=(?:api|grader|problems)/))", "(", frame)
    return re.sub(r":\d+\)", ")", frame)


def summarize(raw: Path) -> tuple[int, collections.Counter[str], collections.Counter[str]]:
    own: collections.Counter[str] = collections.Counter()
    under: collections.Counter[str] = collections.Counter()
    total = 0
    for line in raw.read_text().splitlines():
        if not line.strip():
            continue
        stack, count = line.rsplit(" ", 1)
        frames = [tidy(f) for f in stack.split(";")]
        total += int(count)
        own[frames[-1]] += int(count)
        for frame in set(frames):
            under[frame] += int(count)
    return total, own, under


async def load_while_sampled(server: ServerProcess, per_client: list[list[bytes]], seconds: float, gil: bool) -> Path:
    connections, _ = await connect(server, len(per_client))
    await run_load(connections, per_client, 3.0)  # warm: the set parsed, the pools full
    (pid,) = worker_pids(server.pid) or [server.pid]
    raw = Path(tempfile.mkdtemp(prefix="grader-profile-")) / "samples.txt"
    spy = shutil.which("py-spy") or str(VENV_BIN / "py-spy")
    command = [spy, "record", "-p", str(pid), "-d", str(int(seconds)), "-r", "200", "-f", "raw", "-o", str(raw)]
    sampling = subprocess.Popen([*command, "--nonblocking", *(["--gil"] if gil else [])])
    tally, elapsed = await run_load(connections, per_client, seconds)
    sampling.wait()
    print(f"{tally.statuses.get(201, 0):,} submissions in {elapsed:.1f} s while sampled", flush=True)
    return raw


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=12.0)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--all-threads", action="store_true", help="count waiting threads too, not only the GIL's")
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder, PostgresServer(tcp_port=free_port(), durable=True) as pg:
        pg.create_database("bench")
        env = server_env(DATABASE_URL=f"postgresql://postgres@127.0.0.1:{pg.port}/bench")
        grader_cli("db", "upgrade", env=env)
        port = free_port()
        command = [str(VENV_BIN / "grader"), "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", "1"]
        server = ServerProcess(command, port=port, env=env, cwd=Path(folder), log=Path(folder) / "server.log")
        with server:
            server.wait_healthy()
            tokens = set_up_course(server.base_url, env, options.clients)
            bodies = [json.dumps({"answers": a}).encode() for a in generate_answers(997)]
            path = f"/api/v1/courses/{COURSE}/assignments/bench/submissions"
            per_client = [
                [
                    request_bytes("POST", path, tokens[c * STUDENTS_PER_CLIENT + j % STUDENTS_PER_CLIENT], body)
                    for j, body in enumerate(bodies[c::7])
                ]
                for c in range(options.clients)
            ]
            raw = asyncio.run(load_while_sampled(server, per_client, options.seconds, not options.all_threads))
    total, own, under = summarize(raw)
    print(f"{total:,} samples ({'all threads' if options.all_threads else 'the GIL holder'})")
    for title, counter in (("own time", own), ("time under", under)):
        print(f"\n{title}:")
        for frame, count in counter.most_common(SHOWN):
            print(f"{100 * count / total:5.1f}%  {frame}")


if __name__ == "__main__":
    main()
