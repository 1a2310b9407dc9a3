"""``/health`` answers without a database slot: at a deadline every slot may be held for seconds by
students' submissions, and a load balancer's check that queued behind them would drop a busy,
healthy instance (:mod:`api.kit.health`)."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import httpx

from api.kit.config import DB_CONCURRENCY
from api.kit.slots import database_slots

#: A hang guard: the check waits for no slot, so it answers in milliseconds; held slots used to
#: make it wait for as long as they were held (here: until the test lets them go, never). A bound,
#: not what is tested: 10 s was passed once in a make test beside stress-ng (load average 10 on 2
#: cores).
PATIENCE = 60.0


def test_health_answers_while_every_database_slot_is_held(app: Any) -> None:
    async def checked() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test", timeout=PATIENCE * 2) as client:
            slots = database_slots()
            for _ in range(DB_CONCURRENCY):
                await slots.acquire()
            try:
                return [await asyncio.wait_for(client.get("/health"), PATIENCE) for _ in range(20)]
            finally:
                for _ in range(DB_CONCURRENCY):
                    slots.release()

    responses = asyncio.run(checked())
    assert {response.status_code for response in responses} == {200}
    assert responses[-1].json() == {"status": "ok", "database": "ok"}


def test_many_health_checks_share_one_probe_and_its_connection(app: Any) -> None:
    """Checks asked at once are answered by one probe on the checker's own connection, never the
    request pool's: the pool is not even touched."""
    engine = app.state.engine
    before = engine.pool.checkedout()

    async def checked() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test", timeout=PATIENCE) as client:
            return await asyncio.gather(*(client.get("/health") for _ in range(32)))

    responses = asyncio.run(checked())
    assert {response.status_code for response in responses} == {200}
    assert engine.pool.checkedout() == before


def test_a_check_that_stops_waiting_leaves_the_probe_to_the_others(monkeypatch: Any) -> None:
    """A check that gives up on a slow probe (its timeout) answers unavailable; a check asked while
    that probe still runs waits for it too, and gets its answer: the first one's giving up did not
    cancel the probe they share (it did once: the second then raised, a 500)."""
    from sqlalchemy import create_engine

    from api.kit import health

    database = threading.Event()
    asked = threading.Event()

    def slow(self: health.DatabaseHealth) -> bool:
        asked.set()
        return database.wait(30)

    monkeypatch.setattr(health.DatabaseHealth, "_select_one", slow)
    checker = health.DatabaseHealth(create_engine("sqlite://"))

    async def checked() -> tuple[bool, bool]:
        monkeypatch.setattr(health, "TIMEOUT_SECONDS", 0.05)
        gave_up = await checker.answers()  # the probe waits for the database: this check gives up
        monkeypatch.setattr(health, "TIMEOUT_SECONDS", 30.0)
        second = asyncio.ensure_future(checker.answers())  # the same probe, still running
        await asyncio.to_thread(asked.wait, 30)
        database.set()
        return gave_up, await second

    try:
        assert asyncio.run(checked()) == (False, True)
    finally:
        database.set()
        checker.close()
