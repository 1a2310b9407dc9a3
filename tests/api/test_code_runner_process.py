"""The SQLite service's code runner runs in a process of its own (:mod:`api.jobs.code_runner_process`),
so that its claiming and writing never hold the interpreter the students' requests need: started
with the service (and grading the code waiting from before), never before it nor after its stop;
at the service's priority (it holds SQLite's write lock), its judging
processes under it; started again, losing nothing (nor leaving its sandbox counted busy), when it
is killed mid-run; gone, with its judging processes, when the service stops."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from typing import Any

import pytest
from prometheus_client import REGISTRY
from sqlalchemy.orm import Session

from api.kit.priority import GRADING_NICENESS
from api.models import CodeRun
from harness.student_code import CONV_FORWARD
from tests.api import processes

from factories import Course, until

pytestmark = pytest.mark.only_backend("sqlite")

SET = "numpy-convolution"
KEY = "conv.forward"
#: Slow to load (longer than the runner takes to be killed and started again), then right.
SLOW = "import time\ntime.sleep(4)\n" + CONV_FORWARD


@pytest.fixture
def jobs(app: Any) -> Iterator[Any]:
    """The app's runners started, as at the service's start, and stopped after the test."""
    app.state.jobs.start()
    try:
        yield app.state.jobs
    finally:
        app.state.jobs.stop()


def _part(course: Course, submission_id: int, headers: dict[str, str]) -> dict[str, Any]:
    response = course.client.get(f"/api/v1/submissions/{submission_id}", headers=headers)
    assert response.status_code == 200, response.text
    return response.json()["parts"][KEY]


def _graded(course: Course, submission_id: int, headers: dict[str, str]) -> dict[str, Any]:
    return until(
        lambda: (part := _part(course, submission_id, headers))["status"] not in ("queued", "running") and part,
        timeout=90,
        what=f"submission {submission_id} graded",
    )


def _until_running(course: Course, submission_id: int, headers: dict[str, str]) -> None:
    until(lambda: _part(course, submission_id, headers)["status"] == "running", timeout=90, what="running")


def _gone(pids: set[int]) -> bool:
    return not any(processes.running(pid) for pid in pids)


def test_code_is_graded_by_a_runner_process_started_with_the_service(jobs, course) -> None:
    runner = jobs.code_runner
    started = runner.pid  # (before any code: the first is graded as fast as the next)
    assert started is not None
    aid = course.assignment(problem_set=SET)
    _, headers = course.student()
    made = course.submit(aid, headers, {KEY: CONV_FORWARD})
    assert made.status_code == 201, made.text
    assert _graded(course, made.json()["id"], headers)["status"] == "correct"
    pid = runner.pid
    assert pid == started != os.getpid()
    _, parent, niceness = processes.stat(pid) or ("", 0, 0)
    assert parent == os.getpid()
    assert niceness == os.getpriority(os.PRIO_PROCESS, 0) < GRADING_NICENESS  # (it holds the write lock)
    under = processes.descendants(pid)
    judges = [judge for judge in processes.judging_processes() if judge in under]
    assert judges and {processes.stat(judge)[2] for judge in judges} == {GRADING_NICENESS}  # type: ignore[index]
    assert runner.pid == pid  # (the next run is the same runner's)
    again = course.submit(aid, headers, {KEY: CONV_FORWARD})
    assert _graded(course, again.json()["id"], headers)["status"] == "correct"
    assert runner.pid == pid

    jobs.stop()
    assert runner.pid is None
    until(lambda: _gone({pid, *under}), timeout=30, what="the runner and its judging processes ended")


def test_a_runner_killed_mid_run_is_started_again_and_loses_nothing(jobs, course, engine) -> None:
    runner = jobs.code_runner
    aid = course.assignment(problem_set=SET)
    _, headers = course.student()
    for _ in range(3):
        made = course.submit(aid, headers, {KEY: SLOW}).json()
        _until_running(course, made["id"], headers)
        killed = runner.pid
        assert killed is not None
        os.kill(killed, signal.SIGKILL)  # while the code sleeps in the sandbox: nothing written yet
        if _part(course, made["id"], headers)["status"] == "running":
            break
        # on a loaded machine the run may end before its runner is killed: that tried nothing, try again
    else:
        pytest.fail("three runs ended before their runner could be killed")
    part = _graded(course, made["id"], headers)
    assert part["status"] == "correct", part
    assert runner.pid not in (None, killed)
    with Session(engine) as session:
        assert session.get(CodeRun, made["id"]) is None
    # the service's figures: the killed runner's sandbox no longer counted busy
    busy = lambda: REGISTRY.get_sample_value("grader_sandboxes_busy") == 0  # noqa: E731
    until(busy, timeout=30, what="no sandbox counted busy")


def test_a_service_starting_with_code_waiting_starts_its_runner(app, jobs, course) -> None:
    jobs.stop()  # (a service down: what is submitted now waits for the next start)
    assert jobs.code_runner.pid is None
    aid = course.assignment(problem_set=SET)
    _, headers = course.student()
    made = course.submit(aid, headers, {KEY: CONV_FORWARD})
    assert made.status_code == 201, made.text
    assert jobs.code_runner.pid is None
    assert _part(course, made.json()["id"], headers)["status"] == "queued"
    jobs.start()
    assert jobs.code_runner.pid is not None
    assert _graded(course, made.json()["id"], headers)["status"] == "correct"
