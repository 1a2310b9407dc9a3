"""Grade passback's latency: from a student's submission committed (its 201 received) to the score
received by the LMS, on SQLite (``grader serve`` sends it itself) and on PostgreSQL (``grader
serve`` and one ``grader worker``).

The LMS is a small HTTP platform in this process: its token endpoint issues a bearer token, its
line item takes scores and notes when each arrives. The students came from it (their LTI accounts,
the linked LMS course and its line item are written to the database before the service starts),
so each submission writes an outbox row that the service must send. Submissions go one at a time,
a fixed pause apart. Then the platform answers 503 for a while, and the bench reports how long
the scores sent meanwhile took to arrive once it answered again (the sender's back-off).

Run: ``make bench`` (or ``python -m bench.lti_passback --submissions N``).
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from api.kit import migrate
from api.kit.config import Settings
from api.kit.db import make_engine
from api.lti import keys, service
from api.models import LtiAccount, LtiContext, LtiLineItem, Membership, Role
from api.users.service import create_user
from harness.postgres import PostgresServer
from harness.server import ServerProcess, WorkerProcess, free_port

ANSWERS = {"ex4.conv1_params": "3640"}  # conv-pool-basics: right for every student
PAUSE = 0.25
CONTEXT = "bench-course"


@dataclass
class Platform:
    """The LMS's side: when each student's score arrived, and whether it is down."""

    port: int
    received: dict[str, float] = field(default_factory=dict)
    down: bool = False
    refused: int = 0

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def _handler(platform: Platform) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            arrived = time.perf_counter()
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            if self.path == "/token":
                self._json(200, {"access_token": "bench", "token_type": "bearer", "expires_in": 3600})
            elif self.path.endswith("/scores"):
                if platform.down:
                    platform.refused += 1
                    self._json(503, {"errors": [{"message": "down for the bench"}]})
                    return
                platform.received.setdefault(json.loads(body)["userId"], arrived)
                self._json(200, {})
            else:
                self._json(404, {})

        def _json(self, status: int, payload: object) -> None:
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *_: object) -> None:
            pass

    return Handler


@contextmanager
def running_platform() -> Iterator[Platform]:
    platform = Platform(free_port())
    server = ThreadingHTTPServer(("127.0.0.1", platform.port), _handler(platform))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield platform
    finally:
        server.shutdown()
        server.server_close()


@dataclass(frozen=True)
class Students:
    tokens: dict[str, str]  # sub -> API token
    owner_token: str


def prepare(engine: Engine, platform: Platform, kek: str, count: int) -> Students:
    """The instructor, the students (from the LMS), the platform, the tool's key."""
    with Session(engine) as db, db.begin():
        keys.ensure_key(db, kek=kek)
        owner = create_user(db, name="Owner", role=Role.INSTRUCTOR, user_id="owner")
        registered = service.register_platform(
            db,
            name="Bench LMS",
            issuer=platform.base,
            client_id="bench",
            auth_url=platform.base + "/auth",
            token_url=platform.base + "/token",
            jwks_url=platform.base + "/jwks",
            deployments=["1"],
        )
        tokens = {}
        for n in range(count):
            student = create_user(db, name=f"Student {n}", role=Role.STUDENT, user_id=f"s{n}")
            db.add(LtiAccount(platform_id=registered.id, sub=f"sub-{n}", user_id=student.user.id))
            tokens[f"sub-{n}"] = student.token or ""
    assert owner.token
    return Students(tokens, owner.token)


def link(engine: Engine, platform: Platform, students: Students, course: str, assignment: str) -> None:
    with Session(engine) as db, db.begin():
        (registered,) = service.platforms(db)
        db.add(LtiContext(platform_id=registered.id, context_id=CONTEXT, course_id=course))
        db.flush()
        db.add(
            LtiLineItem(
                platform_id=registered.id,
                context_id=CONTEXT,
                assignment_id=assignment,
                url=f"{platform.base}/lineitems/1",
            )
        )
        for n in range(len(students.tokens)):
            db.add(Membership(course_id=course, user_id=f"s{n}", role="student"))


def measure(base_url: str, platform: Platform, students: Students, course: str, assignment: str) -> dict[str, float]:
    """Each submission's latency (committed → received), then the outage's."""
    path = f"{base_url}/api/v1/courses/{course}/assignments/{assignment}/submissions"
    subs = list(students.tokens)
    outage = subs[-3:]
    committed: dict[str, float] = {}
    with httpx.Client(timeout=60) as client:
        for sub in subs[: -len(outage)]:
            auth = {"Authorization": f"Bearer {students.tokens[sub]}"}
            response = client.post(path, json={"answers": ANSWERS}, headers=auth)
            committed[sub] = time.perf_counter()
            assert response.status_code == 201, response.text
            time.sleep(PAUSE)
        deadline = time.monotonic() + 120
        while any(s not in platform.received for s in committed) and time.monotonic() < deadline:
            time.sleep(0.01)
        latencies = sorted((platform.received[s] - committed[s]) * 1000 for s in committed if s in platform.received)
        # an outage: the platform refuses for 3 s while three scores change, then answers again
        platform.down = True
        for sub in outage:
            auth = {"Authorization": f"Bearer {students.tokens[sub]}"}
            assert client.post(path, json={"answers": ANSWERS}, headers=auth).status_code == 201
        time.sleep(3)
        platform.down = False
        back = time.perf_counter()
        while any(s not in platform.received for s in outage) and time.monotonic() < deadline + 120:
            time.sleep(0.05)
    after = [(platform.received[s] - back) for s in outage if s in platform.received]
    return {
        "sent": len(latencies),
        "of": len(committed),
        "p50": statistics.median(latencies),
        "p95": latencies[max(0, round(0.95 * len(latencies)) - 1)],
        "max": latencies[-1],
        "refused": platform.refused,
        "outage_arrived": len(after),
        "after_outage_s": max(after) if after else float("nan"),
    }


def run(backend: str, count: int, workdir: Path, server: PostgresServer | None) -> dict[str, float]:
    kek = keys.new_kek()
    url = server.create_database(f"passback_{int(time.time())}") if server else f"sqlite:///{workdir}/passback.db"
    engine = make_engine(Settings(database_url=migrate.upgrade_database(url)))
    with running_platform() as platform:
        students = prepare(engine, platform, kek, count)
        with ServerProcess.grader_serve(url, port=free_port(), workdir=workdir, GRADER_LTI_KEY=kek) as serve:
            serve.wait_healthy()
            owner = {"Authorization": f"Bearer {students.owner_token}"}
            made = httpx.post(f"{serve.base_url}/api/v1/courses", json={"id": "c", "title": "Bench"}, headers=owner)
            assert made.status_code == 201, made.text
            body = {"id": "a", "problem_set": "conv-pool-basics"}
            made = httpx.post(f"{serve.base_url}/api/v1/courses/c/assignments", json=body, headers=owner)
            assert made.status_code == 201, made.text
            link(engine, platform, students, "c", "a")
            worker = None
            if server is not None:
                worker = WorkerProcess.grader_worker(url, workdir=workdir)
                worker.env["GRADER_LTI_KEY"] = kek
                worker.start()
                worker.wait_ready()
            try:
                return measure(serve.base_url, platform, students, "c", "a")
            finally:
                if worker is not None:
                    worker.kill()
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--submissions", type=int, default=40)
    options = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as workdir:
        rows.append(("SQLite, grader serve", run("sqlite", options.submissions, Path(workdir), None)))
        with PostgresServer(durable=True) as server:
            rows.append(
                ("PostgreSQL, grader serve + worker", run("postgresql", options.submissions, Path(workdir), server))
            )
    print(f"\ngrade passback: a submission committed → its score at the LMS ({PAUSE * 1000:.0f} ms apart)")
    print("| backend | sent | p50 ms | p95 ms | max ms | 3 s outage: 503s answered | arrived after it, s |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for name, r in rows:
        print(
            f"| {name} | {r['sent']:.0f}/{r['of']:.0f} | {r['p50']:,.0f} | {r['p95']:,.0f} | {r['max']:,.0f} "
            f"| {r['refused']:.0f} | {r['after_outage_s']:.1f} ({r['outage_arrived']:.0f}/3) |"
        )


if __name__ == "__main__":
    main()
