"""The attack on the code queue, replayed on both backends with the real sandbox: one student's
submissions whose functions only ``time.sleep`` (no CPU for a CPU budget to see) queued beside
another student's right answer, which is graded next rather than after them all; and sleeping code
stopped once its student's sandbox wall time on the assignment is used, the next submission with
code refused (429) until the window ends.

The runners are the hardest case for sharing on PostgreSQL (one ``grader worker --queue code`` of
concurrency 1: one sandbox) and the service's two threads on SQLite. Waits are bounded generously
and nothing is asserted of a duration but its order of magnitude: the tests hold on a loaded machine.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy.orm import Session

from api.code_runs.budget import used
from api.kit.config import Settings
from api.kit.db import writer
from api.models import CodeTime
from harness.server import WorkerProcess
from harness.student_code import CONV_FORWARD

from factories import Course

SET = "numpy-convolution"
KEY = "conv.forward"
QUEUED_AT_MOST = 4
SECONDS = 300.0


def sleepy(nap: float) -> str:
    """The right module, each call of it sleeping ``nap`` seconds first (no CPU used)."""
    return (
        CONV_FORWARD + f"\n\n_right = conv_forward\n\n\ndef conv_forward(*args, **kwargs):\n    import time\n\n"
        f"    time.sleep({nap})\n    return _right(*args, **kwargs)\n"
    )


#: conv.forward makes 5 calls: 5 s a run.
SLEEPY = sleepy(1.0)
#: 40 s a run, unless stopped.
SLEEPIER = sleepy(8.0)
CODE_ENV = {"GRADER_CODE_QUEUED_PER_STUDENT": str(QUEUED_AT_MOST), "GRADER_CODE_SECONDS": str(SECONDS)}


@pytest.fixture(scope="module")
def settings(settings: Settings) -> Settings:
    """The suite's settings, with this module's share of the code queue."""
    return settings.model_copy(update={"code_queued_per_student": QUEUED_AT_MOST, "code_seconds": SECONDS})


@pytest.fixture(scope="module")
def code_runner(backend, app, database_url, tmp_path_factory) -> Iterator[None]:
    """The service's own two threads (SQLite), or one ``grader worker --queue code`` of concurrency
    1 (PostgreSQL), with the module's limits."""
    if backend == "sqlite":
        app.state.jobs.start()
        try:
            yield
        finally:
            app.state.jobs.stop()
        return
    workdir = tmp_path_factory.mktemp("workers")
    worker = WorkerProcess.grader_worker(database_url, workdir=workdir, queues=("code",), concurrency=1)
    worker.env.update(CODE_ENV)
    try:
        worker.start()
        worker.wait_ready()
        yield
    finally:
        worker.kill()


def _part(course: Course, submission_id: int, headers: dict[str, str]) -> dict[str, Any]:
    response = course.client.get(f"/api/v1/submissions/{submission_id}", headers=headers)
    assert response.status_code == 200, response.text
    return response.json()["parts"][KEY]


def _graded(part: dict[str, Any]) -> bool:
    return part["status"] not in ("queued", "running")


def _until_graded(course: Course, submission_id: int, headers: dict[str, str], timeout: float) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while not _graded(part := _part(course, submission_id, headers)):
        assert time.monotonic() < deadline, f"not graded after {timeout} s: {part}"
        time.sleep(0.05)
    return part


def test_a_right_answer_queued_behind_a_students_sleeping_submissions_is_graded_next(code_runner, course) -> None:
    aid = course.assignment(problem_set=SET)
    (_, sleeper), (_, honest) = course.students(2)
    sleeping = []
    for _ in range(QUEUED_AT_MOST):
        made = course.submit(aid, sleeper, {KEY: SLEEPY})
        assert made.status_code == 201, made.text
        sleeping.append(made.json()["id"])
    sent = time.monotonic()
    right = course.submit(aid, honest, {KEY: CONV_FORWARD})
    assert right.status_code == 201, right.text
    part = _until_graded(course, right.json()["id"], honest, timeout=180)
    waited = time.monotonic() - sent
    assert part["status"] == "correct", part
    # first in, first out it would wait for all four sleeping runs (20 s): it waits at most for
    # the one under way as it was queued
    graded_before = [number for number in sleeping if _graded(_part(course, number, sleeper))]
    assert len(graded_before) <= 1, graded_before
    print(f"\nthe right answer graded {waited:.1f} s after it was sent, behind {len(sleeping)} sleeping runs")
    for number in sleeping:  # (then the sleeping runs, one at a time: the module's next test starts clean)
        slept = _until_graded(course, number, sleeper, timeout=300)
        assert any(test["status"] == "correct" for test in slept["tests"]), slept


def test_sleeping_code_is_stopped_when_its_sandbox_time_is_used_and_more_code_refused(
    code_runner, course, engine
) -> None:
    aid = course.assignment(problem_set=SET)
    student, headers = course.student()
    left = 3.0  # (as if the student's earlier runs had used all but 3 s of the budget)
    with Session(writer(engine)) as session, session.begin():
        session.add(
            CodeTime(
                course_id=course.id,
                assignment_id=aid,
                student_id=student,
                window_started_at=datetime.now(UTC),
                seconds=SECONDS - left,
            )
        )
    made = course.submit(aid, headers, {KEY: SLEEPIER})
    assert made.status_code == 201, made.text
    part = _until_graded(course, made.json()["id"], headers, timeout=180)
    stopped = [test for test in part["tests"] if "stopped: your code has used its" in (test.get("feedback") or "")]
    assert stopped, part["tests"]
    assert part["score"] < part["max_score"]
    with Session(engine) as session:
        spent = used(session, course_id=course.id, assignment_id=aid, student_id=student) - (SECONDS - left)
    # stopped after about 3 s, not after the 5 calls' 40 s
    assert left <= spent < 20, spent
    print(f"\nthe sleeping run was charged {spent:.1f} s and stopped, with {left} s left of the budget")
    refused = course.submit(aid, headers, {KEY: SLEEPY})
    assert refused.status_code == 429, refused.text
    assert int(refused.headers["Retry-After"]) > 0
    assert "sandbox time" in refused.json()["detail"]
