"""Small typed factories over the API for the tests: ids, tokens, a course with students and assignments."""

from __future__ import annotations

import asyncio
import dataclasses
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from string import ascii_lowercase
from typing import Any, TypeVar

import httpx
from fastapi.testclient import TestClient
from sqlalchemy import Engine, event
from sqlalchemy.orm import Session

from api.kit.db import writer
from api.models import Role, Submission
from api.users.service import create_user
from harness.regrade import set_text

Outcome = TypeVar("Outcome")


def within(seconds: float, call: Callable[[], Outcome]) -> Outcome:
    """``call()``'s result, failing the test if it takes longer: a request that hangs must fail its
    test, not stall the whole run (the call goes on in a daemon thread, which does not block exit)."""
    outcome: list[Outcome] = []
    worker = threading.Thread(target=lambda: outcome.append(call()), daemon=True)
    worker.start()
    worker.join(timeout=seconds)
    assert not worker.is_alive(), f"still waiting after {seconds} s"
    assert outcome, "the call raised (see the thread's traceback above)"
    return outcome[0]


def until(condition: Callable[[], Any], *, timeout: float, what: str) -> Any:
    """``condition()``'s first true value, asked every 50 ms; failing past ``timeout``, a bound."""
    deadline = time.monotonic() + timeout
    while not (found := condition()):
        assert time.monotonic() < deadline, f"{what}: not so after {timeout} s"
        time.sleep(0.05)
    return found


def graded_row(
    course_id: str,
    assignment_id: str,
    student_id: str,
    answers: dict[str, Any],
    *,
    set_version: str,
    parts: dict[str, Any] | None = None,
    score: float = 0.0,
    max_score: float,
    attempt: int = 1,
) -> Submission:
    """A submission row as grading leaves it, submitted and graded now: for writing a class's answers
    straight to the database where grading each through the service would only slow the test."""
    now = datetime.now(UTC)
    return Submission(
        course_id=course_id,
        assignment_id=assignment_id,
        student_id=student_id,
        attempt=attempt,
        answers=answers,
        parts=parts or {},
        score=score,
        max_score=max_score,
        set_version=set_version,
        submitted_at=now,
        graded_at=now,
    )


def unique(prefix: str) -> str:
    """An id no other test uses, in any process (tests share a database per module)."""
    return f"{prefix}{uuid.uuid4().hex[:12]}"


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


class Course:
    """A course made over the API by an instructor, with small typed factories: members,
    assignments, submissions. ``path`` is the course's API prefix."""

    def __init__(self, client: TestClient, instructor_token: str, course_id: str | None = None) -> None:
        self.client = client
        self.instructor = auth(instructor_token)
        self.id = course_id or unique("c")
        response = client.post("/api/v1/courses", json={"id": self.id, "title": "A course"}, headers=self.instructor)
        assert response.status_code == 201, response.text
        self.path = f"/api/v1/courses/{self.id}"

    def enrol(self, members: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The roster import's reply, one entry per member (new accounts with their token)."""
        response = self.client.post(f"{self.path}/members", json={"members": members}, headers=self.instructor)
        assert response.status_code == 200, response.text
        return list(response.json()["members"])

    def students(self, n: int = 1) -> list[tuple[str, dict[str, str]]]:
        roster = [{"id": unique("s"), "name": f"Student {i}"} for i in range(n)]
        return [(s["id"], auth(s["token"])) for s in self.enrol(roster)]

    def student(self) -> tuple[str, dict[str, str]]:
        return self.students(1)[0]

    def member(self, role: str) -> tuple[str, dict[str, str]]:
        """A new account with ``role`` (``ta``, ``instructor``, ``student``) in this course."""
        (made,) = self.enrol([{"id": unique(role[0]), "name": f"A {role}", "role": role}])
        return made["id"], auth(made["token"])

    def assignment(self, problem_set: str = "conv-pool-basics", **fields: Any) -> str:
        assignment_id = unique("a")
        body = {"id": assignment_id, "problem_set": problem_set, **fields}
        response = self.client.post(f"{self.path}/assignments", json=body, headers=self.instructor)
        assert response.status_code == 201, response.text
        return assignment_id

    def submit(self, assignment: str, headers: dict[str, str], answers: dict[str, Any], **extra: str) -> Any:
        return self.client.post(
            f"{self.path}/assignments/{assignment}/submissions",
            json={"answers": answers},
            headers={**headers, **extra},
        )

    def reference(self, assignment: str, student: str | None = None) -> dict[str, Any]:
        query = f"?student={student}" if student else ""
        response = self.client.get(f"{self.path}/assignments/{assignment}{query}", headers=self.instructor)
        assert response.status_code == 200, response.text
        return response.json()["reference"]

    def right_answers(self, assignment: str, student: str) -> dict[str, Any]:
        """The answers that score full points as ``student`` sends them: staff's references of their
        variant, a choice part's right options by the student's own letters (their places in the
        order staff see the student is shown, by the file's letters)."""
        response = self.client.get(f"{self.path}/assignments/{assignment}?student={student}", headers=self.instructor)
        assert response.status_code == 200, response.text
        detail = response.json()
        answers = dict(detail["reference"])
        for part in (part for problem in detail["problems"] for part in problem["parts"]):
            if part["kind"] == "choice":
                own = {option["id"]: ascii_lowercase[place] for place, option in enumerate(part["choices"])}
                right = answers[part["key"]]
                answers[part["key"]] = (
                    sorted(own[letter] for letter in right) if isinstance(right, list) else own[right]
                )
        return answers


async def together(app: Any, requests: list[tuple[str, dict[str, Any]]]) -> list[httpx.Response]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test", timeout=120) as client:
        return await asyncio.gather(*(client.post(url, **request) for url, request in requests))


def set_file(set_id: str, *, out_channels: int = 16, title: str = "A course's own set") -> str:
    """A small set file of one conv layer (its parameter count depends on ``out_channels``)."""
    return set_text(set_id, out_channels, title=title, source="written for the tests")


def make_account(engine: Engine, *, role: Role, name: str, user_id: str | None = None) -> str:
    """A new account's token, written as the service writes (on SQLite a transaction that takes the
    write lock as it begins: one that reads first could not wait for a service's background
    writer); its id made from the name unless given, as ``grader users create`` makes it."""
    with Session(writer(engine)) as session, session.begin():
        return create_user(session, name=name, role=role, user_id=user_id).token or ""


def make_instructor(engine: Engine, name: str = "Prof") -> str:
    return make_account(engine, role=Role.INSTRUCTOR, name=name, user_id=unique("i"))


def finished_job(client: TestClient, job_id: int, headers: dict[str, str], *, timeout: float = 60.0) -> dict[str, Any]:
    """The job once it is over, polled through ``GET /api/v1/jobs/{id}``. On SQLite the service runs
    it; on PostgreSQL a procrastinate worker is run here, in this process, until the queue is empty
    (``grader worker`` does the same in its own process: ``tests/api/test_job_workers.py``)."""
    app = client.app
    if app.state.jobs.runner is None:  # type: ignore[attr-defined]
        run_queued_jobs(app)
    return polled(
        lambda: client.get(f"/api/v1/jobs/{job_id}", headers=headers),
        lambda job: job["status"] in ("done", "failed"),
        timeout=timeout,
        what=f"job {job_id}",
    )


def polled(
    read: Callable[[], httpx.Response], over: Callable[[dict[str, Any]], bool], *, timeout: float, what: str
) -> dict[str, Any]:
    """``read()``'s JSON once ``over`` says so of it, asked again every 50 ms (background work has no
    door that answers when it is done); failing with the last answer past ``timeout``, a bound."""
    deadline = time.monotonic() + timeout
    while True:
        response = read()
        assert response.status_code == 200, response.text
        found = dict(response.json())
        if over(found):
            return found
        assert time.monotonic() < deadline, f"{what} not over after {timeout} s: {found}"
        time.sleep(0.05)


def run_queued_jobs(app: Any, *, checks: bool = False) -> None:
    """A procrastinate worker in this process, over the app's PostgreSQL, until the queue is empty;
    with ``checks``, the set checks' queue too, in a sandbox of this process's own."""
    from api.code_runs.sandboxes import Sandboxes
    from api.jobs.queue import CHECK_QUEUE, QUEUE, make_queue, work
    from api.jobs.run import Runtime
    from api.kit.db import make_sessionmaker
    from api.set_checks.limits import CheckLimits
    from api.set_checks.run import CheckRuntime

    runtime = Runtime(
        make_sessionmaker(app.state.engine),
        app.state.library,
        http=lambda: app.state.lti_http,
        lti_key=app.state.settings.lti_key,
        defer_code=app.state.jobs.defer_code,  # (a regrade to a new version queues code parts again)
    )
    settings = app.state.settings
    sandboxes = Sandboxes(size=1, packages=settings.code_packages, counted=False)
    check_runtime = CheckRuntime(runtime.sessions, app.state.library, sandboxes.run, CheckLimits.of(settings))
    try:
        queue = make_queue(settings.database_url)
        if checks:
            asyncio.run(work(queue, runtime, wait=False, queues=[QUEUE, CHECK_QUEUE], check_runtime=check_runtime))
        else:
            asyncio.run(work(queue, runtime, wait=False))
    finally:
        sandboxes.close()


@contextmanager
def checks_held(app: Any) -> Iterator[Callable[[], None]]:
    """Set checks stay queued until the block calls what it is given: on SQLite the service's check
    runner is not woken meanwhile; on PostgreSQL no worker runs checks until :func:`finished_check`."""
    kept = app.state.jobs
    if kept.check_runner is None:
        yield lambda: None
        return
    app.state.jobs = dataclasses.replace(kept, check_runner=None)

    def release() -> None:
        app.state.jobs = kept
        kept.check_runner.wake()

    try:
        yield release
    finally:
        release()


def finished_check(
    client: TestClient, course_path: str, set_id: str, version: str, headers: dict[str, str], *, timeout: float = 120.0
) -> dict[str, Any]:
    """The set's version (``GET .../problem-sets/{set}?version=``) once its check is over. On SQLite
    the service runs it; on PostgreSQL a procrastinate worker is run here, checks' queue included."""
    if client.app.state.jobs.check_runner is None:  # type: ignore[attr-defined]
        run_queued_jobs(client.app, checks=True)
    return polled(
        lambda: client.get(f"{course_path}/problem-sets/{set_id}", params={"version": version}, headers=headers),
        lambda found: found["check"]["status"] in ("passed", "failed"),
        timeout=timeout,
        what=f"the check of {set_id}",
    )


@contextmanager
def counted(*engines: Engine) -> Iterator[list[str]]:
    """The statements sent to the database meanwhile through these engines (and the engines made
    from them with ``execution_options``, whose statements their listeners see too)."""
    statements: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    for engine in engines:
        event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        for engine in engines:
            event.remove(engine, "before_cursor_execute", count)


def engines_of(app: Any) -> tuple[Engine, Engine]:
    """The app's two engines over its one pool: its transactions' and its statements that commit
    alone (:func:`api.kit.db.autocommit`; neither sees the other's statements)."""
    return app.state.engine, app.state.autocommit_engine


#: What a student in debt of grading work is told under the ``costly_grading`` fixture (a 3 s
#: burst, refilled at 0.2 s a second, left 2 s owed by one grading of 5 s).
OWING = "Too much grading asked for lately by this account: retry in 10 seconds."
