"""procrastinate keeps every job it ran, and each submission's code run is one: a worker removes
finished jobs' rows once old (a week; a month for failed ones), hourly, as a task of its queue."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import Engine, text

from api.jobs.queue import (
    CLEANUP_TASK,
    KEPT_FAILED_HOURS,
    KEPT_SUCCEEDED_HOURS,
    QUEUE,
    make_queue,
    work,
)
from api.jobs.run import Runtime
from api.kit.db import make_sessionmaker

pytestmark = pytest.mark.only_backend("postgresql")

SET_STATUS = text("UPDATE procrastinate_jobs SET status = CAST(:status AS procrastinate_job_status) WHERE id = :id")
BACKDATE = text("UPDATE procrastinate_events SET at = now() - make_interval(hours => :hours) WHERE job_id = :id")

#: (status, hours since it finished, kept?)
FINISHED = [
    ("succeeded", KEPT_SUCCEEDED_HOURS + 1, False),
    ("succeeded", KEPT_SUCCEEDED_HOURS - 1, True),
    ("cancelled", KEPT_SUCCEEDED_HOURS + 1, False),
    ("failed", KEPT_SUCCEEDED_HOURS + 1, True),
    ("failed", KEPT_FAILED_HOURS + 1, False),
    ("todo", KEPT_FAILED_HOURS + 1, True),  # (never finished: a job waiting is never removed)
]


def test_a_worker_removes_finished_jobs_once_old_and_keeps_the_rest(app, engine: Engine) -> None:
    queue = make_queue(app.state.settings.database_url)
    periodic = {(task.task.name, task.cron) for task in queue.periodic_registry.periodic_tasks.values()}
    assert (CLEANUP_TASK, "17 * * * *") in periodic  # hourly

    @queue.task(name="tests.finished", queue="tests-finished")
    def finished() -> None:
        raise AssertionError("never run: only its row is wanted")

    async def scenario() -> dict[int, bool]:
        async with queue.open_async():
            ids = [await finished.defer_async() for _ in FINISHED]
            with engine.begin() as connection:
                for job_id, (status, hours, _) in zip(ids, FINISHED, strict=True):
                    connection.execute(
                        SET_STATUS,
                        {"status": status, "id": job_id},
                    )
                    connection.execute(
                        BACKDATE,
                        {"hours": hours, "id": job_id},
                    )
            await queue.configure_task(CLEANUP_TASK).defer_async(timestamp=0)
            runtime = Runtime(make_sessionmaker(engine), app.state.library)
            await work(queue, runtime, wait=False, queues=[QUEUE])  # (until its queue is empty)
        return dict(zip(ids, (kept for *_, kept in FINISHED), strict=True))

    expected = asyncio.run(scenario())
    with engine.connect() as connection:
        left = set(
            connection.execute(
                text("SELECT id FROM procrastinate_jobs WHERE id = ANY(:ids)"), {"ids": list(expected)}
            ).scalars()
        )
        cleanup = (
            connection.execute(
                text("SELECT status FROM procrastinate_jobs WHERE task_name = :task"), {"task": CLEANUP_TASK}
            )
            .scalars()
            .all()
        )
    assert left == {job_id for job_id, kept in expected.items() if kept}
    assert "succeeded" in cleanup
