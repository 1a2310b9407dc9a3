"""The hostile suite's service: a real ``grader serve`` on SQLite, started under a cap on its
address space so that a regression (a set file or an answer that makes it allocate without
bound) fails a test with a refusal to allocate instead of taking the machine down, and with
what an attacker's victims do measured around each attack: a student of another course
submitting and ``/health`` being asked, over and over, while the attack is served.

SQLite is the backend where one slow request hurts most (one writer at a time), so it is the
one attacked here; the PostgreSQL paths share every check the attacks meet.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from harness.local_http import LOCAL
from harness.server import ServerProcess, free_port

from live_service import new_account
from migrated import migrated_sqlite

#: The server's address space (``prlimit --as``): far above what it needs (about 1 GiB of mostly
#: reserved, untouched mappings: libraries, thread stacks), far below what any attack found asked for.
ADDRESS_SPACE_CAP = 3 * 2**30
#: What the server may keep resident through the whole suite, every attack included.
PEAK_RESIDENT_BOUND = 600 * 2**20
#: One bystander's request may wait this long while an attack is served (a hang guard: the
#: figures are in the closing note and the benchmarks, not asserted to the millisecond).
BYSTANDER_PATIENCE = 10.0
#: An attack's reply comes within this (again a guard against hangs, not a timing test).
ATTACK_PATIENCE = 30.0

BYSTANDER_ANSWERS = {"ex4.conv1_params": "3640"}  # conv-pool-basics: 3·3·10·40 + 40


@dataclass
class Hostile:
    """The running service, an attacker who runs a course of their own, and a bystander course
    with a student whose submissions must keep being stored whatever the attacker sends."""

    server: ServerProcess
    admin: str
    honest: str
    attacker: str
    attacker_course: str
    bystander_course: str
    bystander: str
    bystander_assignment: str

    @property
    def url(self) -> str:
        return self.server.base_url

    def request(self, method: str, path: str, token: str | None, **kwargs: Any) -> httpx.Response:
        headers = {**kwargs.pop("headers", {}), **({"Authorization": f"Bearer {token}"} if token else {})}
        timeout = kwargs.pop("timeout", ATTACK_PATIENCE)
        return LOCAL.request(method, f"{self.url}{path}", headers=headers, timeout=timeout, **kwargs)

    def api(self, method: str, path: str, token: str | None = None, **kwargs: Any) -> httpx.Response:
        return self.request(method, f"/api/v1{path}", token or self.attacker, **kwargs)

    def upload(self, text: str) -> httpx.Response:
        """A set file sent to the attacker's own course."""
        return self.api(
            "POST",
            f"/courses/{self.attacker_course}/problem-sets",
            content=text.encode(),
            headers={"Content-Type": "application/yaml"},
        )

    def enrol(self, course: str, member_id: str, token: str | None = None, role: str = "student") -> dict[str, Any]:
        body = {"members": [{"id": member_id, "name": member_id.title(), "role": role}]}
        response = self.api("POST", f"/courses/{course}/members", token, json=body)
        assert response.status_code == 200, response.text
        return dict(response.json()["members"][0])

    def peak_resident(self) -> int:
        """The server's peak resident memory so far (``VmHWM``), in bytes."""
        for line in Path(f"/proc/{self.server.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
        raise AssertionError("no VmHWM for the server process")

    def alive(self) -> bool:
        return self.server.process is not None and self.server.process.poll() is None


@dataclass
class Watch:
    """What the bystanders saw while an attack was served."""

    submissions: list[tuple[int, float]] = field(default_factory=list)
    health: list[tuple[int, float]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def assert_unharmed(self) -> None:
        assert not self.errors, self.errors
        assert self.submissions and self.health, "the bystanders made no request"
        assert {status for status, _ in self.submissions} == {201}, self.submissions
        assert {status for status, _ in self.health} == {200}, self.health
        slowest = max(seconds for _, seconds in self.submissions + self.health)
        assert slowest < BYSTANDER_PATIENCE, f"a bystander waited {slowest:.1f} s"


@contextmanager
def bystanders(hostile: Hostile) -> Iterator[Watch]:
    """A student of another course submitting, and ``/health`` asked, in a loop while the block runs
    (at least one of each, after the block's attack has started)."""
    watch, stop = Watch(), threading.Event()

    def timed(call: Any) -> tuple[int, float]:
        started = time.monotonic()
        response = call()
        return response.status_code, time.monotonic() - started

    def submitting() -> None:
        path = f"/courses/{hostile.bystander_course}/assignments/{hostile.bystander_assignment}/submissions"
        with httpx.Client(timeout=BYSTANDER_PATIENCE * 3) as client:
            url = f"{hostile.url}/api/v1{path}"
            headers = {"Authorization": f"Bearer {hostile.bystander}"}
            while True:
                try:
                    watch.submissions.append(
                        timed(lambda: client.post(url, json={"answers": BYSTANDER_ANSWERS}, headers=headers))
                    )
                except httpx.HTTPError as error:
                    watch.errors.append(f"submission: {error!r}")
                if stop.wait(0.05) and watch.submissions:
                    return

    def checking() -> None:
        with httpx.Client(timeout=BYSTANDER_PATIENCE * 3) as client:
            while True:
                try:
                    watch.health.append(timed(lambda: client.get(f"{hostile.url}/health")))
                except httpx.HTTPError as error:
                    watch.errors.append(f"health: {error!r}")
                if stop.wait(0.05) and watch.health:
                    return

    threads = [threading.Thread(target=submitting, daemon=True), threading.Thread(target=checking, daemon=True)]
    for thread in threads:
        thread.start()
    try:
        yield watch
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=BYSTANDER_PATIENCE * 4)


@contextmanager
def hostile_service(workdir: Path) -> Iterator[Hostile]:
    """The service under its cap, with the admin, the attacker's and the honest course; on leaving,
    fails if the server died or kept more than :data:`PEAK_RESIDENT_BOUND` at its peak."""
    database_url = migrated_sqlite(workdir / "grader.db")
    admin = new_account(database_url, "admin", "The Admin")
    attacker = new_account(database_url, "instructor", "Mallory")
    honest = new_account(database_url, "instructor", "Ada Lovelace")
    server = ServerProcess.grader_serve(database_url, port=free_port(), workdir=workdir, MALLOC_ARENA_MAX="2")
    # the cap applies to the server and everything it starts
    server.command = ["prlimit", f"--as={ADDRESS_SPACE_CAP}", "--", *server.command]
    with server:
        server.wait_healthy()
        for token, course in ((attacker, "mallory101"), (honest, "cnn101")):
            made = LOCAL.post(
                f"{server.base_url}/api/v1/courses",
                json={"id": course, "title": course},
                headers={"Authorization": f"Bearer {token}"},
                timeout=30,
            )
            assert made.status_code == 201, made.text
        found = Hostile(server, admin, honest, attacker, "mallory101", "cnn101", "", "hw1")
        found.bystander = str(found.enrol("cnn101", "bystander", honest)["token"])
        made = found.api(
            "POST", "/courses/cnn101/assignments", honest, json={"id": "hw1", "problem_set": "conv-pool-basics"}
        )
        assert made.status_code == 201, made.text
        yield found
        assert found.alive(), f"the server died:\n{server.output()[-4000:]}"
        assert found.peak_resident() < PEAK_RESIDENT_BOUND, f"peak resident {found.peak_resident() / 2**20:.0f} MiB"
