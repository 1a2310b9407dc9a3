"""An instructor's set check runs off the students' path, on both backends: while two uploads of a
solution that sleeps in every test are checked, a student of another course has a quick submission
graded within its usual time, again and again.

The attack this answers: an upload checked its solution on three draws inside the request, in the
sandboxes students' code is graded in, so two such uploads held both of a small service's sandboxes
for minutes, and another course's 0.5 s grading waited 21 s, then 69 s. Here each check runs in a
sandbox of its own (SQLite: the service's check runner; PostgreSQL: the check lane of a ``grader
worker`` whose code queue has a single slot), and stops at this module's budget of 12 s.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from api.kit.config import Settings
from harness.server import WorkerProcess
from harness.student_code import CONV_FORWARD

from factories import Course, finished_check, make_instructor, unique
from set_texts import sleeping_set

YAML = {"Content-Type": "application/yaml"}
SET, KEY = "numpy-convolution", "conv.forward"
#: Sandbox seconds a check may use here: far less than the sleeping solution's 120 s on its draws.
CHECK_SECONDS = 12
#: A bystander's grading may take this long, or so many times its usual time, whichever is more: a
#: generous bound against a machine's load, far below what a held sandbox costs (a run of the
#: sleeping solution is 40 s).
PATIENCE = 10.0
USUAL_TIMES = 4
#: Gradings of the bystander that must start and end while a check runs.
BESIDE = 3


@pytest.fixture(scope="module")
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"set_check_seconds": float(CHECK_SECONDS)})


@pytest.fixture(scope="module")
def runners(backend, app, database_url, tmp_path_factory) -> Iterator[None]:
    """What runs code and checks for the module's app: its own threads (SQLite), or one ``grader
    worker`` of every queue whose code queue has one slot (PostgreSQL)."""
    if backend == "sqlite":
        app.state.jobs.start()
        try:
            yield
        finally:
            app.state.jobs.stop()
        return
    worker = WorkerProcess.grader_worker(
        database_url,
        workdir=tmp_path_factory.mktemp("workers"),
        concurrency=1,
        env={"GRADER_SET_CHECK_SECONDS": str(CHECK_SECONDS)},
    )
    try:
        worker.start()
        worker.wait_ready()
        yield
    finally:
        worker.kill()


def _graded_in(course: Course, aid: str, headers: dict[str, str]) -> float:
    """Seconds from a right answer's submission to its code part's result (failing past a minute)."""
    started = time.monotonic()
    made = course.submit(aid, headers, {KEY: CONV_FORWARD})
    assert made.status_code == 201, made.text
    while True:  # (the service answers a ?wait= read as soon as the result is written)
        read = course.client.get(f"/api/v1/submissions/{made.json()['id']}?wait=10", headers=headers)
        part = read.json()["parts"][KEY]
        if part["status"] not in ("queued", "running"):
            assert part["status"] == "correct", part
            return time.monotonic() - started
        assert time.monotonic() - started < 60, "a quick submission not graded within a minute"


class Upload:
    """An upload sent from a thread of its own (the request may take as long as its check did)."""

    def __init__(self, course: Course) -> None:
        self.course, self.set_id = course, unique("sleepy-")
        self.reply: httpx.Response | None = None
        self.thread = threading.Thread(target=self._send, daemon=True)
        self.thread.start()

    def _send(self) -> None:
        text = sleeping_set(self.set_id, seconds=8, tests=5)  # (40 s a draw)
        headers = {**YAML, **self.course.instructor}
        self.reply = self.course.client.post(f"{self.course.path}/problem-sets", content=text.encode(), headers=headers)

    def checking(self) -> bool:
        """Its check is under way: inside the request still, or its job running."""
        if self.reply is None:
            return self.thread.is_alive()
        assert self.reply.status_code == 202, self.reply.text
        path = f"{self.course.path}/problem-sets/{self.set_id}"
        return bool(self.course.client.get(path, headers=self.course.instructor).json()["check"]["status"] == "running")


def test_a_set_check_of_a_sleeping_solution_leaves_another_courses_grading_on_time(
    runners: None, client: Any, engine: Any
) -> None:
    bystander = Course(client, make_instructor(engine))
    aid = bystander.assignment(problem_set=SET)
    _, headers = bystander.student()
    usual = max(_graded_in(bystander, aid, headers) for _ in range(2))
    bound = max(PATIENCE, USUAL_TIMES * usual)

    uploads = [Upload(Course(client, make_instructor(engine))) for _ in range(2)]
    beside, took = 0, []
    deadline = time.monotonic() + 120
    while beside < BESIDE:
        assert time.monotonic() < deadline, f"only {beside} gradings beside a running check: {took}"
        before = any(upload.checking() for upload in uploads)
        took.append(_graded_in(bystander, aid, headers))
        assert took[-1] < bound, f"a quick grading took {took[-1]:.1f} s beside a set check (usually {usual:.1f} s)"
        beside += before and any(upload.checking() for upload in uploads)

    for upload in uploads:  # each check stopped at its budget, saying why
        upload.thread.join(timeout=60)
        assert upload.reply is not None and upload.reply.status_code == 202
        found = upload.reply.json()
        check = finished_check(client, upload.course.path, found["id"], found["version"], upload.course.instructor)
        (issue,) = check["check"]["issues"]
        assert f"it had used the {CHECK_SECONDS} s of sandbox time a set check may use" in issue["message"]
