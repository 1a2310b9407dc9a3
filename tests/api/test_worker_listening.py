"""A job deferred while a worker was not listening yet, or while it was fetching, used to wait for
the worker's next poll (5 s): the minute's send task of grade passback, deferred as a worker starts,
then held back every score the service deferred meanwhile (``bench/lti_passback.py``). Now the
worker looks again in both cases (``api.jobs.queue.ListeningConnector``)."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from procrastinate.manager import JobManager
from sqlalchemy import Engine

from api.jobs.queue import QUEUE, ListeningConnector, make_queue, work
from api.jobs.run import Runtime
from api.kit.db import make_sessionmaker

pytestmark = pytest.mark.only_backend("postgresql")

#: How long the worker's LISTEN takes to be in place in the first test; how long its first fetch,
#: having found nothing, takes to return in the second.
LISTEN_DELAY, FETCH_DELAY = 2.0, 1.0
#: The worker's poll (``api.jobs.queue.work``: at most 5 s): the job must run well before it.
POLL = 5.0

Times = dict[str, float]


def _run(app, engine: Engine, monkeypatch, *, fetch_delay: float, ready: Callable[[Times], bool]) -> Times:
    """A worker started, a job deferred once ``ready``: when the worker's first fetch to find nothing
    had queried and returned (``fetch_delay`` later), when the worker said it listens, when
    the job was deferred and when it ran."""
    times: Times = {}
    fetching = JobManager.fetch_job

    async def first_fetch_noted(self: JobManager, queues: Any, worker_id: int) -> Any:
        job = await fetching(self, queues, worker_id)
        if job is None and "queried" not in times:  # (not the minute's send task, deferred as it starts)
            times["queried"] = time.monotonic()
            await asyncio.sleep(fetch_delay)
            times["fetched"] = time.monotonic()
        return job

    monkeypatch.setattr(JobManager, "fetch_job", first_fetch_noted)
    url = app.state.settings.database_url
    queue = make_queue(url, listening=lambda: times.setdefault("listening", time.monotonic()))

    @queue.task(name="tests.ping", queue=QUEUE)
    def ping() -> None:
        times["ran"] = time.monotonic()

    async def scenario() -> None:
        runtime = Runtime(make_sessionmaker(engine), app.state.library)
        started = time.monotonic()
        worker = asyncio.create_task(work(queue, runtime, heartbeat=60.0))
        while not ready(times) and time.monotonic() - started < POLL:
            await asyncio.sleep(0.01)
        await queue.configure_task("tests.ping").defer_async()
        times["deferred"] = time.monotonic()
        while "ran" not in times and time.monotonic() - started < 3 * POLL:
            await asyncio.sleep(0.05)
        worker.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await worker

    asyncio.run(scenario())
    assert {"queried", "fetched", "listening", "ran"} <= times.keys(), times
    return times


def test_a_job_deferred_before_the_worker_listens_runs_once_it_listens(app, engine: Engine, monkeypatch) -> None:
    """The worker's LISTEN 2 s late, its first fetch over: the job notifies nobody."""
    setting_up = ListeningConnector._get_standalone_connection

    @contextlib.asynccontextmanager
    async def slow_to_listen(self: ListeningConnector) -> AsyncIterator[Any]:
        await asyncio.sleep(LISTEN_DELAY)
        async with setting_up(self) as connection:
            yield connection

    monkeypatch.setattr(ListeningConnector, "_get_standalone_connection", slow_to_listen)
    times = _run(app, engine, monkeypatch, fetch_delay=0.0, ready=lambda times: "fetched" in times)
    assert times["fetched"] < times["deferred"] < times["listening"], times
    waited = times["ran"] - times["deferred"]
    assert waited < POLL - 1.5, f"the job waited {waited:.1f} s: for the poll, not for the LISTEN"


def test_a_job_deferred_while_the_worker_fetches_runs_once_the_fetch_ends(app, engine: Engine, monkeypatch) -> None:
    """The worker listening, its first fetch has found nothing and returns 1 s late: the job,
    deferred meanwhile, notifies the worker while it fetches."""
    times = _run(
        app, engine, monkeypatch, fetch_delay=FETCH_DELAY, ready=lambda times: {"queried", "listening"} <= times.keys()
    )
    assert times["queried"] < times["deferred"] < times["fetched"], times
    assert times["listening"] < times["deferred"], times
    waited = times["ran"] - times["deferred"]
    assert waited < POLL - 1.5, f"the job waited {waited:.1f} s: for the poll, not for the fetch"
