"""Code parts through the REST API, on both backends, with the real sandbox: ``POST .../submissions``
answers 201 at once with the code part ``queued``, and ``GET /submissions/{id}`` shows the result
once a runner wrote it (on SQLite the service's own threads; on PostgreSQL a ``grader worker
--queue code`` process); tests filtered per reader; an idempotent retry queues nothing more; a bad
code answer refused with a sentence and no attempt used; a worker SIGKILLed mid-run loses nothing."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from api.jobs.queue import CODE_TASK
from api.kit.priority import GRADING_NICENESS
from api.models import CodeRun, Submission
from harness.server import WorkerProcess
from harness.student_code import CONV_FORWARD
from tests.api import processes

from factories import Course, finished_check, finished_job, unique, until

SET = "numpy-convolution"
KEY = "conv.forward"

#: A plain conv_forward, as a student writes it (a cross-correlation, as PyTorch's).
RIGHT = CONV_FORWARD
#: The same, leaving out the bias.
NO_BIAS = RIGHT.replace(" + b\n", "\n")
#: Slow to load (longer than a worker takes to be killed and seen dead), then right.
SLOW = "import time\ntime.sleep(6)\n" + RIGHT

HEARTBEAT, STALLED_AFTER = 0.5, 3.0
#: The procrastinate jobs of a task for one submission.
JOBS_OF = text(
    "SELECT status, attempts FROM procrastinate_jobs WHERE task_name = :task AND args->>'submission_id' = :id"
)


@pytest.fixture(scope="module")
def code_runner(backend, app, database_url, tmp_path_factory) -> Iterator[list[WorkerProcess]]:
    """What runs code for the module's app: its own threads (SQLite), or a ``grader worker --queue
    code`` process (PostgreSQL), handed to the test to kill."""
    if backend == "sqlite":
        app.state.jobs.start()
        try:
            yield []
        finally:
            app.state.jobs.stop()
        return
    workdir = tmp_path_factory.mktemp("workers")
    worker = WorkerProcess.grader_worker(
        database_url, workdir=workdir, heartbeat=HEARTBEAT, stalled_after=STALLED_AFTER, queues=("code",)
    )
    workers = [worker]
    try:
        worker.start()
        worker.wait_ready()
        yield workers
    finally:
        for each in workers:
            each.kill()


def _get(course: Course, submission_id: int, headers: dict[str, str]) -> dict[str, Any]:
    response = course.client.get(f"/api/v1/submissions/{submission_id}", headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def _until(course: Course, submission_id: int, headers: dict[str, str], done, timeout: float = 90.0) -> dict:
    """The submission as ``headers``' caller reads it, once ``done`` says so of it; the statuses seen."""
    deadline = time.monotonic() + timeout
    while not done(found := _get(course, submission_id, headers)):
        assert time.monotonic() < deadline, f"not there after {timeout} s: {found['parts'][KEY]}"
        time.sleep(0.05)
    return found


def _graded(found: dict[str, Any]) -> bool:
    return found["parts"][KEY]["status"] not in ("queued", "running")


def test_a_code_submission_answers_201_queued_then_shows_its_result(code_runner, course) -> None:
    aid = course.assignment(problem_set=SET)
    _, headers = course.student()
    response = course.submit(aid, headers, {KEY: RIGHT})
    assert response.status_code == 201, response.text
    made = response.json()
    assert made["parts"][KEY]["status"] == "queued"
    assert made["parts"][KEY]["score"] is None
    assert KEY in made["awaiting_parts"]
    found = _until(course, made["id"], headers, _graded)
    part = found["parts"][KEY]
    assert part["status"] == "correct", part
    assert part["score"] == part["max_score"] > 0
    assert part["tests"] and all(test["status"] == "correct" for test in part["tests"])
    assert found["score"] == made["score"] + part["max_score"]
    assert KEY not in found["awaiting_parts"]


def test_code_is_judged_apart_from_the_service_at_a_lower_priority(code_runner, course) -> None:
    # at a deadline the service's requests come before the judging: it runs in a process other than
    # the service's (a code worker on PostgreSQL, the service's judging processes on SQLite), niced
    aid = course.assignment(problem_set=SET)
    _, headers = course.student()
    made = course.submit(aid, headers, {KEY: RIGHT})
    assert made.status_code == 201, made.text
    assert _until(course, made.json()["id"], headers, _graded)["parts"][KEY]["status"] == "correct"
    if code_runner:  # PostgreSQL: the worker, which leads its session, lowers its autogroup's weight too
        pid = code_runner[0].process.pid
        assert processes.stat(pid)[2] == GRADING_NICENESS
        assert Path(f"/proc/{pid}/autogroup").read_text().split()[-1] == str(GRADING_NICENESS)
    else:
        # (the service's process may hold a sandbox of its own: the instructors' set checks')
        judges = [pid for pid in processes.judging_processes() if pid != os.getpid()]
        assert judges
        assert {processes.stat(judge)[2] for judge in judges} == {GRADING_NICENESS}
    assert os.getpriority(os.PRIO_PROCESS, 0) < GRADING_NICENESS


@pytest.mark.only_backend("postgresql")
def test_a_code_worker_is_ready_with_its_judges_and_their_sandboxes_started(database_url, tmp_path) -> None:
    # a worker added at a deadline (an autoscaler's new host) judges its first submissions as fast
    # as the next ones: before it says it is ready, each judging process runs, its sandbox started
    with WorkerProcess.grader_worker(database_url, workdir=tmp_path, queues=("code",), concurrency=2) as worker:
        worker.wait_ready()
        assert worker.process is not None
        under = processes.descendants(worker.process.pid)
        judges = {
            parent
            for name, parent, _ in under.values()
            if name == "bwrap" and parent in under and under[parent][0] != "bwrap"  # (bwrap forks a bwrap)
        }
        assert len(judges) == 2, under
        assert {processes.stat(judge)[2] for judge in judges} == {GRADING_NICENESS}


def test_a_reader_that_waits_is_answered_with_the_result_in_one_request(code_runner, course) -> None:
    """``?wait=S``: one request, answered once the code is graded, rather than a poll a second. The
    module sleeps 6 s as it loads, so the result cannot be there when the request is made."""
    aid = course.assignment(problem_set=SET)
    _, headers = course.student()
    made = course.submit(aid, headers, {KEY: SLOW}).json()
    assert made["parts"][KEY]["status"] == "queued"
    found = {}
    for _ in range(10):  # (a loaded machine may take longer than one wait: each request waits its 20 s)
        found = course.client.get(f"/api/v1/submissions/{made['id']}?wait=20", headers=headers).json()
        if _graded(found):
            break
    part = found["parts"][KEY]
    assert part["status"] == "correct", part
    assert found == _get(course, made["id"], headers)  # the same reply as a plain read


def test_a_wait_ends_at_its_time_with_the_code_still_waiting(code_runner, course) -> None:
    aid = course.assignment(problem_set=SET)
    _, headers = course.student()
    made = course.submit(aid, headers, {KEY: SLOW}).json()
    began = time.monotonic()
    found = course.client.get(f"/api/v1/submissions/{made['id']}?wait=0.5", headers=headers).json()
    assert found["parts"][KEY]["status"] in ("queued", "running")  # (it sleeps 6 s first)
    assert time.monotonic() - began < 5.5
    _until(course, made["id"], headers, _graded)


@pytest.mark.parametrize("wait", ["-1", "20.5", "soon"])
def test_a_wait_out_of_bounds_is_refused_with_a_sentence(code_runner, course, wait: str) -> None:
    aid = course.assignment(problem_set=SET)
    _, headers = course.student()
    made = course.submit(aid, headers, {KEY: RIGHT}).json()
    response = course.client.get(f"/api/v1/submissions/{made['id']}?wait={wait}", headers=headers)
    assert response.status_code == 422, response.text
    assert "wait" in response.text


def test_another_students_wait_is_refused_before_it_waits(code_runner, course) -> None:
    aid = course.assignment(problem_set=SET)
    _, headers = course.student()
    _, other = course.student()
    made = course.submit(aid, headers, {KEY: SLOW}).json()
    began = time.monotonic()
    response = course.client.get(f"/api/v1/submissions/{made['id']}?wait=20", headers=other)
    assert response.status_code == 403, response.text
    assert time.monotonic() - began < 15  # (refused at once, not after its wait: a generous bound)
    _until(course, made["id"], headers, _graded)


def test_a_wrong_module_is_graded_test_by_test_and_its_mistake_named(code_runner, course) -> None:
    aid = course.assignment(problem_set=SET)
    _, headers = course.student()
    made = course.submit(aid, headers, {KEY: NO_BIAS}).json()
    part = _until(course, made["id"], headers, _graded)["parts"][KEY]
    # (a hidden test of whole numbers may draw every bias 0, which the module then passes)
    assert part["status"] in ("incorrect", "partial") and part["score"] < part["max_score"]
    assert [test["status"] for test in part["tests"] if test["visibility"] == "visible"] == ["incorrect"] * 2
    assert any(test.get("misconception") == "bias-omitted" for test in part["tests"]), part["tests"]


def test_students_see_hidden_tests_as_a_count_and_staff_see_every_test(code_runner, course) -> None:
    aid = course.assignment(problem_set=SET)
    _, headers = course.student()
    made = course.submit(aid, headers, {KEY: RIGHT}).json()
    staff_view = _until(course, made["id"], course.instructor, _graded)["parts"][KEY]["tests"]
    student_view = _get(course, made["id"], headers)["parts"][KEY]["tests"]
    withheld = [test for test in staff_view if test["visibility"] != "visible"]
    assert withheld, "the built-in set has tests withheld from students"
    assert all("count" not in test for test in staff_view)
    assert [t["name"] for t in student_view if t["visibility"] == "visible"] == [
        t["name"] for t in staff_view if t["visibility"] == "visible"
    ]
    summaries = [test for test in student_view if "count" in test]
    assert sum(test["count"] for test in summaries) == len(withheld)
    assert not {t["name"] for t in withheld} & {t["name"] for t in student_view}


def test_a_retry_with_its_idempotency_key_returns_the_submission_and_queues_nothing_more(
    code_runner, course, engine
) -> None:
    aid = course.assignment(problem_set=SET)
    _, headers = course.student()
    key = {"Idempotency-Key": unique("k")}
    first = course.submit(aid, headers, {KEY: RIGHT}, **key)
    again = course.submit(aid, headers, {KEY: RIGHT}, **key)
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert again.json()["id"] == first.json()["id"]
    _until(course, first.json()["id"], headers, _graded)
    with Session(engine) as session:
        attempts = session.scalar(select(func.count()).select_from(Submission).where(Submission.assignment_id == aid))
        assert attempts == 1
        if engine.dialect.name == "postgresql":
            jobs = session.execute(JOBS_OF, {"task": CODE_TASK, "id": str(first.json()["id"])}).all()
            assert len(jobs) == 1


def test_a_code_answer_that_cannot_run_is_refused_and_uses_no_attempt(code_runner, course) -> None:
    aid = course.assignment(problem_set=SET, max_attempts=1)
    _, headers = course.student()
    response = course.submit(aid, headers, {KEY: "def conv_forward(x, w, b:\n    return x\n"})
    assert response.status_code == 422, response.text
    detail = response.json()["detail"]
    assert "line 1" in detail["unreadable"][KEY], detail
    too_large = course.submit(aid, headers, {KEY: RIGHT + "#" * (100 * 1024)})
    assert too_large.status_code == 413, too_large.text
    assert isinstance(too_large.json()["detail"], str)
    assert course.submit(aid, headers, {KEY: RIGHT}).status_code == 201  # the one attempt is still there


@pytest.mark.only_backend("postgresql")
def test_a_code_worker_sigkilled_mid_run_loses_nothing(code_runner, course, engine, database_url, tmp_path) -> None:
    aid = course.assignment(problem_set=SET)
    _, headers = course.student()
    for _ in range(3):
        (first,) = code_runner
        made = course.submit(aid, headers, {KEY: SLOW}).json()
        _until(course, made["id"], headers, lambda found: found["parts"][KEY]["status"] == "running")
        first.kill()  # SIGKILL, while the code sleeps in the sandbox: nothing written, the job stalls
        killed_running = _get(course, made["id"], headers)["parts"][KEY]["status"] == "running"
        second = WorkerProcess.grader_worker(
            database_url, workdir=tmp_path, heartbeat=HEARTBEAT, stalled_after=STALLED_AFTER, queues=("code",)
        )
        code_runner[:] = [second]  # (the fixture stops it; the module's later tests use it)
        second.start()
        second.wait_ready()
        if killed_running:
            break
        # on a loaded machine the run may end before its worker is killed: that tried nothing, try again
    else:
        pytest.fail("three runs ended before their worker could be killed")
    part = _until(course, made["id"], headers, _graded)["parts"][KEY]
    assert part["status"] == "correct", part
    assert "back in the queue" in second.output(), second.output()
    with Session(engine) as session:
        assert session.get(CodeRun, made["id"]) is None

    def ended_jobs() -> list[tuple[str, int]]:
        """The submission's code jobs, once none is still marked doing (a moment after its results are written)."""
        with Session(engine) as session:
            runs = [tuple(run) for run in session.execute(JOBS_OF, {"task": CODE_TASK, "id": str(made["id"])})]
        return [] if any(status == "doing" for status, _ in runs) else runs

    runs = until(ended_jobs, timeout=60, what="the job marked done")
    assert runs == [("succeeded", 2)]  # two runs: the killed one, and the one after


YAML = {"Content-Type": "application/yaml"}
BUILT_IN = Path(__file__).parents[2] / "problems" / "sets" / "numpy-convolution.yaml"


def _own_set(course: Course, set_id: str, *, title: str = "Our convolution in numpy") -> dict[str, Any]:
    """The built-in set uploaded as the course's own (``title`` makes another version), once its check passed."""
    text = BUILT_IN.read_text().replace("id: numpy-convolution", f"id: {set_id}", 1)
    text = text.replace("title: Convolution and pooling in numpy", f"title: {title}", 1)
    reply = course.client.post(
        f"{course.path}/problem-sets", content=text.encode(), headers={**YAML, **course.instructor}
    )
    assert reply.status_code == 202, reply.text
    found = finished_check(course.client, course.path, set_id, reply.json()["version"], course.instructor)
    assert found["check"]["status"] == "passed", found["check"]
    return found


def test_an_uploaded_set_whose_solution_fails_its_tests_fails_its_check_at_the_test(code_runner, course) -> None:
    set_id = unique("set-")
    text = BUILT_IN.read_text().replace("id: numpy-convolution", f"id: {set_id}", 1)
    text = text.replace(
        "out[:, :, i, j] = np.tensordot(window, w, axes=([1, 2, 3], [1, 2, 3])) + b", "out[:, :, i, j] = 0"
    )
    response = course.client.post(
        f"{course.path}/problem-sets", content=text.encode(), headers={**YAML, **course.instructor}
    )
    assert response.status_code == 202, response.text
    found = finished_check(course.client, course.path, set_id, response.json()["version"], course.instructor)
    issues = found["check"]["issues"]
    assert found["check"]["status"] == "failed"
    assert issues and all("the solution fails the test" in issue["message"] for issue in issues), issues
    assert all(issue["line"] for issue in issues)


def test_a_regrade_keeps_code_results_of_its_version_and_runs_the_code_again_for_a_new_one(
    code_runner, course, engine
) -> None:
    set_id = unique("set-")
    first = _own_set(course, set_id)
    aid = course.assignment(problem_set=set_id)
    _, headers = course.student()
    made = course.submit(aid, headers, {KEY: NO_BIAS}).json()
    graded = _until(course, made["id"], headers, _graded)

    kept = course.client.post(f"{course.path}/assignments/{aid}/regrade", headers=course.instructor)
    assert kept.status_code == 202, kept.text
    job = finished_job(course.client, kept.json()["job"], course.instructor)
    assert (job["status"], job["changed"]) == ("done", 0)
    after = _get(course, made["id"], headers)
    assert after["parts"][KEY] == graded["parts"][KEY] and after["graded_at"] == graded["graded_at"]
    with Session(engine) as session:
        assert session.get(CodeRun, made["id"]) is None  # nothing run again

    second = _own_set(course, set_id, title="Our convolution in numpy, again")
    v2 = second["version"]
    moved = course.client.patch(f"{course.path}/assignments/{aid}", json={"version": v2}, headers=course.instructor)
    assert moved.status_code == 200, moved.text
    again = course.client.post(f"{course.path}/assignments/{aid}/regrade", headers=course.instructor)
    job = finished_job(course.client, again.json()["job"], course.instructor)
    assert job["status"] == "done"
    rerun = _until(course, made["id"], headers, _graded)
    assert rerun["set_version"] == v2
    assert rerun["parts"][KEY]["status"] == graded["parts"][KEY]["status"] != "correct"  # (the same tests, drawn alike)
    assert [earlier["set_version"] for earlier in rerun["earlier_grades"]] == [first["version"]]
