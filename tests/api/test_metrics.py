"""``GET /metrics`` (:mod:`api.kit.metrics`): Prometheus's text format for instructor and admin
tokens; submissions and refusals counted as they happen; the queues read from the database, the
same from any process; and a real ``grader serve`` of two processes on a metrics port of its own,
whose scrape sums both processes' counts and shows the code it graded in its latency histogram."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from api.jobs.queue import CHECK_QUEUE, CODE_QUEUE, QUEUE
from api.models import CodeRun, Job, Role, Submission
from api.operations.queues import queue_figures
from harness.server import ServerProcess, free_port
from harness.student_code import CONV_FORWARD

from factories import Course, auth, make_account, make_instructor, until
from migrated import migrated_sqlite

RIGHT = {"ex4.conv1_params": "3640"}  # conv-pool-basics


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of a scrape by name and labels."""
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def scraped(client: Any, headers: dict[str, str]) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = client.get("/metrics", headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    return samples(response.text)


def test_only_instructor_and_admin_tokens_read_them(client, engine) -> None:
    course = Course(client, make_instructor(engine))
    _, student = course.student()
    assert client.get("/metrics").status_code == 401
    refused = client.get("/metrics", headers=student)
    assert refused.status_code == 403 and "metrics" in refused.json()["detail"]
    assert scraped(client, course.instructor)
    assert scraped(client, auth(make_account(engine, role=Role.ADMIN, name="Ops")))


def test_a_submission_and_a_refusal_are_counted(client, engine) -> None:
    course = Course(client, make_instructor(engine))
    assignment = course.assignment()
    _, student = course.student()
    before = scraped(client, course.instructor)
    assert course.submit(assignment, student, RIGHT).status_code == 201
    assert course.submit("no-such-assignment", student, RIGHT).status_code == 404
    after = scraped(client, course.instructor)
    assert after[("grader_submissions_total", ())] == before.get(("grader_submissions_total", ()), 0) + 1
    refusal = ("grader_refusals_total", (("reason", "not_found"),))
    assert after[refusal] == before.get(refusal, 0) + 1
    for queue in (CODE_QUEUE, QUEUE, CHECK_QUEUE):  # the queues, read from the database, are there on every scrape
        assert ("grader_queue_jobs", (("queue", queue),)) in after
        assert ("grader_queue_oldest_seconds", (("queue", queue),)) in after


def test_the_queues_are_what_the_database_holds(client, engine) -> None:
    """Code runs waiting or running, and jobs, each with the age of the oldest waiting (read in the
    transaction that made them, so no runner takes them meanwhile)."""
    course = Course(client, make_instructor(engine))
    assignment = course.assignment()
    students = course.students(3)
    for _, headers in students:
        assert course.submit(assignment, headers, RIGHT).status_code == 201
    now = datetime.now(UTC)
    with Session(engine) as db:
        ids = db.scalars(
            select(Submission.id).where(Submission.course_id == course.id, Submission.assignment_id == assignment)
        ).all()
        empty = queue_figures(db, now=now)
        for age, (submission_id, (student, _)) in zip((30, 10, 5), zip(ids, students, strict=True), strict=True):
            status = "running" if age == 5 else "queued"
            queued_at = now - timedelta(seconds=age)
            db.add(
                CodeRun(
                    submission_id=submission_id,
                    set_version="v",
                    status=status,
                    runs=0,
                    queued_at=queued_at,
                    student_id=student,
                    turn=0,
                )
            )
        db.add(
            Job(
                kind="regrade",
                course_id=course.id,
                assignment_id=assignment,
                status="queued",
                created_at=now - timedelta(seconds=7),
            )
        )
        db.add(Job(kind="set_check", course_id=course.id, status="queued", created_at=now - timedelta(seconds=12)))
        db.flush()
        found = queue_figures(db, now=now)
        db.rollback()
    assert found[CODE_QUEUE][0] == empty[CODE_QUEUE][0] + 3
    assert found[CODE_QUEUE][1] >= 30  # the oldest waiting one; a running one is not waiting
    assert found[QUEUE][0] == empty[QUEUE][0] + 1 and found[QUEUE][1] >= 7
    assert found[CHECK_QUEUE][0] == empty[CHECK_QUEUE][0] + 1 and found[CHECK_QUEUE][1] >= 12  # a queue of its own


def test_a_service_of_two_processes_sums_them_on_its_metrics_port(tmp_path: Path) -> None:
    """``grader serve --workers 2`` with ``GRADER_METRICS_PORT``: every acknowledged submission is
    counted once whichever process took it, and a code submission graded by the service's own
    runner (SQLite) shows in the graded count and the latency histogram."""
    url = migrated_sqlite(tmp_path / "grader.db")
    engine = create_engine(url)
    instructor = make_instructor(engine)
    engine.dispose()
    port, metrics_port = free_port(), free_port()
    server = ServerProcess.grader_serve(
        url, port=port, workdir=tmp_path, workers=2, GRADER_METRICS_PORT=str(metrics_port)
    )
    with server, httpx.Client(base_url=server.base_url, timeout=60) as http:
        server.wait_healthy()
        course = Course(http, instructor)  # type: ignore[arg-type]  (an httpx client speaks as TestClient does)
        assignment = course.assignment()
        code = course.assignment("numpy-convolution")
        students = course.students(8)
        for _, headers in students:
            assert course.submit(assignment, headers, RIGHT).status_code == 201
        sent = course.submit(code, students[0][1], {"conv.forward": CONV_FORWARD})
        assert sent.status_code == 201, sent.text
        for _ in range(10):  # (each read waits up to 20 s for the result: a generous bound in all)
            graded = http.get(f"/api/v1/submissions/{sent.json()['id']}?wait=20", headers=students[0][1])
            assert graded.status_code == 200, graded.text
            if graded.json()["parts"]["conv.forward"]["status"] not in ("queued", "running"):
                break
        assert graded.json()["parts"]["conv.forward"]["status"] == "correct", graded.text

        # (the other process may have taken the same run and still be running it: SQLite's runners
        # may both take a row, and one writes its result; its sandbox is busy until its run ends.
        # Each service process hears its runner's figures from the runner's process, a moment
        # after the runner wrote its results)
        def idle() -> dict[tuple[str, tuple[tuple[str, str], ...]], float] | None:
            found = samples(httpx.get(f"http://127.0.0.1:{metrics_port}/metrics", timeout=30).text)
            heard = found.get(("grader_graded_total", (("outcome", "written"),)), 0) >= 1
            return found if heard and found[("grader_sandboxes_busy", ())] == 0 else None

        figures = until(idle, timeout=60, what="the run counted, and no sandbox busy, once the result is written")
    assert figures[("grader_submissions_total", ())] == 9
    assert figures[("grader_graded_total", (("outcome", "written"),))] == 1
    assert figures[("grader_grading_seconds_count", ())] == 1
    assert figures[("grader_sandboxes_busy", ())] == 0
    assert figures[("grader_queue_jobs", (("queue", CODE_QUEUE),))] == 0
