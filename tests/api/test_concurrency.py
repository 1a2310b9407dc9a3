"""The attempt limit and idempotency hold under simultaneous requests (database constraints,
not read-then-write): 50 submissions at once against a limit of 5, 20 retries of one key."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from typing import Any

import httpx
import pytest
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from api.kit.config import DB_CONCURRENCY
from api.kit.quotas import GradingBudget
from api.models import Submission

from factories import engines_of

RIGHT = {"ex4.conv1_params": "3640"}


@pytest.fixture(autouse=True)
def _one_student_at_once(app: Any) -> None:
    """One student's requests at once are what these tests send: the budget of grading work
    (:mod:`api.kit.quotas`) would answer all but two of them 429, before the database has its say."""
    app.state.grading_budget = GradingBudget(at_once=1000)


async def _together(app: Any, url: str, requests: list[dict[str, Any]]) -> list[httpx.Response]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test", timeout=120) as client:
        return await asyncio.gather(*(client.post(url, **request) for request in requests))


def _stored(engine, assignment: str) -> list[Submission]:
    with Session(engine) as session:
        return list(session.scalars(select(Submission).where(Submission.assignment_id == assignment)))


def test_fifty_simultaneous_submissions_against_a_limit_of_five(app, engine, course) -> None:
    aid = course.assignment(max_attempts=5)
    _, headers = course.student()
    url = f"{course.path}/assignments/{aid}/submissions"
    responses = asyncio.run(_together(app, url, [{"json": {"answers": RIGHT}, "headers": headers}] * 50))
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [201] * 5 + [409] * 45, {r.status_code: r.text for r in responses}
    assert sorted(r.json()["attempt"] for r in responses if r.status_code == 201) == [1, 2, 3, 4, 5]
    assert sorted(s.attempt for s in _stored(engine, aid)) == [1, 2, 3, 4, 5]


def test_twenty_retries_with_one_idempotency_key_store_one_submission(app, engine, course) -> None:
    aid = course.assignment(max_attempts=5)
    _, headers = course.student()
    url = f"{course.path}/assignments/{aid}/submissions"
    request = {"json": {"answers": RIGHT}, "headers": {**headers, "Idempotency-Key": "one-key"}}
    responses = asyncio.run(_together(app, url, [request] * 20))
    assert [r.status_code for r in responses] == [201] * 20, [r.text for r in responses]
    assert len({r.json()["id"] for r in responses}) == 1
    assert [s.attempt for s in _stored(engine, aid)] == [1]


@pytest.mark.only_backend("sqlite")  # SQLite's single write lock
def test_sqlite_reads_and_previews_do_not_wait_for_the_write_lock(backend, database_url, client, course) -> None:
    """GET requests and previews never take SQLite's write lock (``api.kit.db.reads_only``)."""
    aid = course.assignment()
    _, headers = course.student()
    holder = sqlite3.connect(database_url.removeprefix("sqlite:///"), timeout=0, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        started = time.monotonic()
        preview = client.post(f"{course.path}/assignments/{aid}/preview", json={"answers": RIGHT}, headers=headers)
        assert preview.status_code == 200
        listed = client.get(f"{course.path}/assignments/{aid}/submissions", headers=course.instructor)
        assert listed.status_code == 200 and time.monotonic() - started < 5
    finally:
        holder.execute("ROLLBACK")
        holder.close()


def test_simultaneous_requests_hold_at_most_db_concurrency_connections(app, course) -> None:
    """Requests past ``DB_CONCURRENCY`` wait for a slot in the event loop instead of each taking a
    pooled connection (and a worker thread) to wait with: submissions and instructor reads share the
    slots (``api.kit.slots.database_slots``); health checks take none and no pooled connection
    either (``api.kit.health``: unthrottled, they once overflowed the pool)."""
    aid = course.assignment()
    _, headers = course.student()
    in_use, most = 0, 0

    def checked_out(*_: Any) -> None:
        nonlocal in_use, most
        in_use += 1
        most = max(most, in_use)

    def checked_in(*_: Any) -> None:
        nonlocal in_use
        in_use -= 1

    async def mixed() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test", timeout=120) as client:
            submissions = [
                client.post(f"{course.path}/assignments/{aid}/submissions", json={"answers": RIGHT}, headers=headers)
                for _ in range(24)
            ]
            reads = [
                client.get(f"{course.path}/assignments/{aid}/gradebook", headers=course.instructor) for _ in range(8)
            ]
            health = [client.get("/health") for _ in range(16)]
            return await asyncio.gather(*submissions, *reads, *health)

    pools = {engine.pool for engine in engines_of(app)}  # (the one pool they share)
    for pool in pools:
        event.listen(pool, "checkout", checked_out)
        event.listen(pool, "checkin", checked_in)
    try:
        responses = asyncio.run(mixed())
    finally:
        for pool in pools:
            event.remove(pool, "checkout", checked_out)
            event.remove(pool, "checkin", checked_in)
    assert sorted({r.status_code for r in responses}) == [200, 201], [r.text for r in responses if r.status_code >= 300]
    assert 1 < most <= app.state.settings.db_slots == DB_CONCURRENCY
