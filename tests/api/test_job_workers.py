"""``grader worker`` processes on a real PostgreSQL: a regrade of 20,000 stored submissions, its
worker SIGKILLed midway, finishes on the other worker with every submission regraded exactly once
and progress that never goes back."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select, text
from sqlalchemy.orm import Session

from api.jobs.queue import TASK
from api.models import EarlierGrade, JobItem, Submission
from harness.regrade import store_for_regrade
from harness.server import WorkerProcess, server_env

from factories import auth

SUBMISSIONS = 20_000
#: Short, so that the killed worker's job is taken back within seconds.
HEARTBEAT, STALLED_AFTER = 0.5, 3.0

pytestmark = pytest.mark.only_backend("postgresql")


def _progress(client, job_id: int, headers: dict[str, str]) -> dict:
    response = client.get(f"/api/v1/jobs/{job_id}", headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def test_a_regrade_survives_the_sigkill_of_its_worker(backend, client, engine, database_url, tmp_path: Path) -> None:
    stored = store_for_regrade(engine, submissions=SUBMISSIONS)
    headers = auth(stored.token)
    workers = [
        WorkerProcess.grader_worker(database_url, workdir=tmp_path, heartbeat=HEARTBEAT, stalled_after=STALLED_AFTER)
        for _ in range(2)
    ]
    seen: list[int] = []

    def poll(job_id: int) -> dict:
        job = _progress(client, job_id, headers)
        seen.append(job["done"])
        return job

    try:
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.wait_ready()
        response = client.post(f"/api/v1/courses/{stored.course}/assignments/a0/regrade", headers=headers)
        assert response.status_code == 202, response.text
        job_id = response.json()["job"]
        deadline = time.monotonic() + 60
        while poll(job_id)["done"] == 0:  # until a worker is at it
            assert time.monotonic() < deadline, [w.output() for w in workers]
            time.sleep(0.05)
        (holder,) = [w for w in workers if f"Starting job {TASK}[" in w.output()]
        (other,) = [w for w in workers if w is not holder]
        job = poll(job_id)
        assert 0 < job["done"] < SUBMISSIONS, f"the worker finished before it could be killed: {job}"
        holder.kill()  # SIGKILL, mid-chunk: its transaction is rolled back, its heartbeat stops
        killed_at = job["done"]
        deadline = time.monotonic() + 120
        while (job := poll(job_id))["status"] not in ("done", "failed"):
            assert time.monotonic() < deadline, f"not done after 120 s: {job}\n{other.output()}"
            time.sleep(0.1)
        # The task marks the job done before it returns; the queue records its end after that, so the
        # surviving worker is left running until then (killed at once, it missed it in one CI run).
        while _queue_status(engine, job_id) not in ("succeeded", "failed"):
            assert time.monotonic() < deadline, f"the queue never recorded the end\n{other.output()}"
            time.sleep(0.05)
    finally:
        for worker in workers:
            worker.kill()

    assert job["status"] == "done", job
    assert job["done"] == job["total"] == job["changed"] == SUBMISSIONS
    assert seen == sorted(seen) and seen[-1] == SUBMISSIONS, "progress went back"
    assert any(killed_at < done < SUBMISSIONS for done in seen), "no progress seen after the kill"
    assert "back in the queue" in other.output(), other.output()
    with Session(engine) as session:
        markers = session.scalar(select(func.count()).select_from(JobItem).where(JobItem.job_id == job_id))
        per_submission = session.execute(
            select(func.count(), func.count(func.distinct(EarlierGrade.submission_id))).where(
                EarlierGrade.job_id == job_id
            )
        ).one()
        versions = dict(
            session.execute(
                select(Submission.set_version, func.count())
                .where(Submission.course_id == stored.course)
                .group_by(Submission.set_version)
            ).all()
        )
        queued = session.execute(
            text("SELECT status, attempts FROM procrastinate_jobs WHERE args->>'job_id' = :id"), {"id": str(job_id)}
        ).one()
    assert markers == SUBMISSIONS
    assert tuple(per_submission) == (SUBMISSIONS, SUBMISSIONS)  # one earlier grade each: regraded exactly once
    assert versions == {stored.new_version: SUBMISSIONS}
    assert tuple(queued) == ("succeeded", 2)  # two runs: the killed one, and the one that resumed it


def test_grader_worker_refuses_sqlite(tmp_path: Path) -> None:
    import subprocess

    from harness.server import VENV_BIN

    done = subprocess.run(
        [str(VENV_BIN / "grader"), "worker"],
        env=server_env(DATABASE_URL=f"sqlite:///{tmp_path / 'grader.db'}"),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert "on SQLite, grader serve runs them itself" in done.stderr


def test_grader_worker_stops_on_sigterm(backend, database_url, tmp_path: Path) -> None:
    """What ``docker stop`` sends: the worker leaves the queue and exits 0."""
    worker = WorkerProcess.grader_worker(
        database_url, workdir=tmp_path, heartbeat=HEARTBEAT, stalled_after=STALLED_AFTER
    )
    with worker:
        worker.wait_ready()
        # by default one job (one warm sandbox) per core this process may use
        assert f"worker ready (concurrency {len(os.sched_getaffinity(0))}," in worker.output()
        deadline = time.monotonic() + 30
        while "Starting worker" not in worker.output():
            assert time.monotonic() < deadline, worker.output()
            time.sleep(0.05)
        assert worker.terminate() == 0, worker.output()
    assert "Stopped worker" in worker.output()


def _queue_status(engine: Engine, job_id: int) -> str:
    """The status of the job's task in procrastinate's queue."""
    with Session(engine) as session:
        return session.execute(
            text("SELECT status FROM procrastinate_jobs WHERE args->>'job_id' = :id"), {"id": str(job_id)}
        ).scalar_one()
