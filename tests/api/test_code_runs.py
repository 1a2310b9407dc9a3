"""The code job (:func:`api.code_runs.run.run_code`) on both backends, with a stand-in grader of
code parts (the engine's own is exercised end to end in ``test_code_submissions.py``): the part
shown ``running`` while graded, the results written once however often the run is run, nothing
written by a run whose submission was queued again for another version, the score summed again
and announced, a run given up on after it killed its runner too often, the service's runner
resuming at its start a run a restart interrupted, and a run the sandbox failed (before the
student's module loaded) charged no sandbox time."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.code_runs.budget import used
from api.code_runs.grading import sandboxed
from api.code_runs.local import LocalCodeRunner
from api.code_runs.queueing import queue_run
from api.code_runs.run import MAX_RUNS, CodeRuntime, run_code
from api.code_runs.sandboxes import Sandboxes
from api.kit import score_changes
from api.kit.db import make_sessionmaker, writer
from api.models import CodeRun, Submission
from grader.code import SANDBOX_FAILED
from harness.student_code import CONV_FORWARD
from tests.sandbox.probes import LIMITS, require_bwrap

from factories import Course

QUEUED = {
    "score": None,
    "max_score": 3.0,
    "status": "queued",
    "feedback": "Waiting for the sandbox.",
    "misconception": None,
    "read_as": None,
    "tolerance": None,
    "follow_through": False,
}
NUMERIC = {**QUEUED, "score": 1.0, "max_score": 1.0, "status": "correct", "feedback": "Correct."}


def _graded(score: float) -> dict[str, Any]:
    return {
        **QUEUED,
        "score": score,
        "status": "correct" if score == 3.0 else "partial",
        "feedback": "Tests run.",
        "tests": [
            {
                "name": "small",
                "status": "correct",
                "score": score,
                "max_score": 3.0,
                "feedback": "",
                "misconception": None,
                "visibility": "visible",
            }
        ],
    }


def _stored(app: Any, course: Course) -> tuple[int, str]:
    """A submission of a code part stored queued, beside a numeric part graded 1/1, as a submit
    stores it (the row and its run in one transaction): (id, set version)."""
    aid = course.assignment()
    student, _ = course.student()
    version = app.state.library.built_in()["conv-pool-basics"].version
    now = datetime.now(UTC)
    with Session(writer(app.state.engine)) as session, session.begin():
        submission = Submission(
            course_id=course.id,
            assignment_id=aid,
            student_id=student,
            attempt=1,
            answers={"code.forward": "def f(): ...", "q1.params": "448"},
            parts={"code.forward": QUEUED, "q1.params": NUMERIC},
            score=1.0,
            max_score=4.0,
            set_version=version,
            submitted_at=now,
            graded_at=now,
        )
        session.add(submission)
        session.flush()
        queue_run(session, submission_id=submission.id, set_version=version, defer=_no_worker(session))
        return submission.id, version


def _no_worker(session: Session) -> Any:
    """On PostgreSQL the run's job is deferred to a worker; these tests run the job code themselves."""
    return None if session.get_bind().dialect.name == "sqlite" else (lambda _session, _id, _placed: None)


def _runtime(app: Any, grade: Callable[..., dict[str, dict[str, Any]]]) -> CodeRuntime:
    return CodeRuntime(make_sessionmaker(writer(app.state.engine)), app.state.library, grade)


def _submission(app: Any, submission_id: int) -> Submission:
    with Session(app.state.engine) as session:
        found = session.get(Submission, submission_id)
        assert found is not None
        return found


def _run_row(app: Any, submission_id: int) -> CodeRun | None:
    with Session(app.state.engine) as session:
        return session.get(CodeRun, submission_id)


def test_a_run_shows_running_while_graded_then_writes_the_result_and_the_new_score(app, course) -> None:
    submission_id, _ = _stored(app, course)
    seen: list[str] = []

    def grade(problem_set, answers, variant) -> dict[str, dict[str, Any]]:
        seen.append(_submission(app, submission_id).parts["code.forward"]["status"])  # (read from the database)
        assert answers["code.forward"] == "def f(): ..."
        return {"code.forward": _graded(2.0)}

    assert run_code(_runtime(app, grade), submission_id) == "written"
    assert seen == ["running"]
    stored = _submission(app, submission_id)
    assert stored.parts["code.forward"]["status"] == "partial"
    assert stored.parts["code.forward"]["tests"][0]["name"] == "small"
    assert stored.parts["q1.params"] == NUMERIC
    assert (stored.score, stored.max_score) == (3.0, 4.0)
    assert _run_row(app, submission_id) is None


def test_a_run_run_again_writes_nothing_more(app, course) -> None:
    submission_id, _ = _stored(app, course)
    calls = []

    def grade(problem_set, answers, variant):
        calls.append(1)
        return {"code.forward": _graded(3.0)}

    runtime = _runtime(app, grade)
    assert run_code(runtime, submission_id) == "written"
    graded_at = _submission(app, submission_id).graded_at
    assert run_code(runtime, submission_id) == "gone"
    assert len(calls) == 1
    assert _submission(app, submission_id).graded_at == graded_at


def test_two_runners_of_one_run_at_once_write_it_once(app, course) -> None:
    """Both grade (each claimed the row before the other wrote); only one write finds the row."""
    submission_id, _ = _stored(app, course)
    both_graded = threading.Barrier(2, timeout=30)

    def grade(problem_set, answers, variant):
        both_graded.wait()
        return {"code.forward": _graded(3.0)}

    runtime = _runtime(app, grade)
    outcomes: list[str] = []
    runners = [threading.Thread(target=lambda: outcomes.append(run_code(runtime, submission_id))) for _ in range(2)]
    for runner in runners:
        runner.start()
    for runner in runners:
        runner.join(60)
    assert sorted(outcomes) == ["superseded", "written"]
    assert _submission(app, submission_id).score == 4.0


def test_a_run_whose_submission_was_queued_again_for_another_version_writes_nothing(app, course) -> None:
    submission_id, _ = _stored(app, course)

    def grade(problem_set, answers, variant):
        with Session(writer(app.state.engine)) as session, session.begin():  # a regrade to a new version, meanwhile
            queue_run(session, submission_id=submission_id, set_version="another", defer=_no_worker(session))
        return {"code.forward": _graded(3.0)}

    assert run_code(_runtime(app, grade), submission_id) == "superseded"
    assert _submission(app, submission_id).score == 1.0
    row = _run_row(app, submission_id)
    assert row is not None and (row.set_version, row.status) == ("another", "queued")


def test_a_changed_score_is_announced_in_the_transaction_of_the_result(app, course) -> None:
    submission_id, _ = _stored(app, course)
    heard: list[tuple[str, str, str]] = []

    class Listener:
        def targets(self, session, *, course_id, student_id):
            return [student_id]

        def one(self, session, *, course_id, assignment_id, student_id, **_: Any) -> int:
            heard.append((course_id, assignment_id, student_id))
            return 1

        def many(self, session, **_: Any) -> int:
            return 0

    score_changes.listen("test-code-runs", Listener())
    try:
        run_code(_runtime(app, lambda *_: {"code.forward": _graded(3.0)}), submission_id)
    finally:
        score_changes._listeners.pop("test-code-runs")
    stored = _submission(app, submission_id)
    assert heard == [(stored.course_id, stored.assignment_id, stored.student_id)]


def test_a_run_that_kept_killing_its_runner_is_given_up_on_with_a_sentence(app, course) -> None:
    submission_id, _ = _stored(app, course)
    with Session(writer(app.state.engine)) as session, session.begin():
        run = session.get(CodeRun, submission_id)
        assert run is not None
        run.runs, run.status = MAX_RUNS, "running"  # (as if it had killed its runner MAX_RUNS times)

    def grade(problem_set, answers, variant):
        raise AssertionError("not graded again")

    assert run_code(_runtime(app, grade), submission_id) == "written"
    part = _submission(app, submission_id).parts["code.forward"]
    assert (part["status"], part["score"], part["max_score"]) == ("invalid", 0.0, 3.0)
    assert f"{MAX_RUNS} times" in part["feedback"]


def test_a_grader_that_fails_leaves_the_part_invalid_not_waiting_forever(app, course) -> None:
    submission_id, _ = _stored(app, course)

    def grade(problem_set, answers, variant):
        raise RuntimeError("a bug of ours")

    assert run_code(_runtime(app, grade), submission_id) == "written"
    part = _submission(app, submission_id).parts["code.forward"]
    assert part["status"] == "invalid" and "grader failed" in part["feedback"]


def test_a_run_the_sandbox_failed_is_not_graded_and_costs_no_sandbox_time(app, course) -> None:
    """Through the real sandbox, whose processes cannot take their limits, so none of the
    student's code runs: the part says the sandbox failed, and the student's budget of sandbox
    time is not charged for the tries. Before, every test was the student's ``error`` and the
    run's time was charged."""
    require_bwrap()
    aid = course.assignment(problem_set="numpy-convolution")
    student, headers = course.student()
    made = course.submit(aid, headers, {"conv.forward": CONV_FORWARD})
    assert made.status_code == 201, made.text
    sandboxes = Sandboxes(limits=replace(LIMITS, open_files=1 << 40))
    try:
        assert run_code(_runtime(app, sandboxed(sandboxes)), made.json()["id"]) == "written"
    finally:
        sandboxes.close()
    part = _submission(app, made.json()["id"]).parts["conv.forward"]
    assert (part["status"], part["score"]) == ("invalid", 0.0)
    assert part["feedback"].startswith(SANDBOX_FAILED), part["feedback"]
    with Session(app.state.engine) as session:
        assert used(session, course_id=course.id, assignment_id=aid, student_id=student) == 0.0


@pytest.mark.only_backend("postgresql")
def test_queueing_code_on_postgresql_without_a_worker_to_carry_it_is_refused(app, course) -> None:
    with Session(app.state.engine) as session, session.begin():
        with pytest.raises(RuntimeError, match="no worker would run it"):
            queue_run(session, submission_id=1, set_version="v", defer=None)
        session.rollback()
    with Session(app.state.engine) as session:
        assert session.scalars(select(CodeRun).where(CodeRun.submission_id == 1)).first() is None


@pytest.mark.only_backend("sqlite")
def test_the_services_runner_resumes_at_start_a_run_a_restart_interrupted(app, course) -> None:
    """A run left ``running`` by a service that died is run again when the next one starts."""
    submission_id, _ = _stored(app, course)
    with Session(writer(app.state.engine)) as session, session.begin():
        run = session.get(CodeRun, submission_id)
        assert run is not None
        run.runs, run.status = 1, "running"  # (its runner died mid-run)
    runner = LocalCodeRunner(_runtime(app, lambda *_: {"code.forward": _graded(3.0)}), threads=2)
    runner.start()
    try:
        deadline = time.monotonic() + 60
        while _run_row(app, submission_id) is not None:
            assert time.monotonic() < deadline, "not resumed"
            time.sleep(0.02)
    finally:
        runner.stop()
    assert _submission(app, submission_id).score == 4.0
