"""Waiting for a submission's code results without asking again and again: a reader that asks for a
submission with ``wait`` (``GET /submissions/{id}?wait=S``, and the page's result fragment) is
answered when its code parts are graded, or after ``S`` seconds, in one request rather than one a
second. At a deadline, 300 students polling every second made most of the service's work (about
9 ms of the process's time a poll, 20 polls a submission), and the more it fell behind the more
they asked.

One watch per process: while anyone waits, it asks the database every :data:`EVERY` seconds, in
one statement, which of the awaited submissions still have a code run queued or running (the row
goes in the transaction that writes the results); the others' readers are woken. That works
whoever grades the code (this process's runner process on SQLite, ``grader worker`` processes on
PostgreSQL); this process's runner also wakes them as it writes, over its pipe (:meth:`ResultWatch.written`).
The statement holds a database slot, like any request's, and no connection between checks.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Collection
from typing import cast

from sqlalchemy import Engine, Table, select
from starlette.concurrency import run_in_threadpool

from api.kit.slots import Slot, database_slots
from api.models import CodeRun

log = logging.getLogger("grader.code")

CODE_RUNS = cast(Table, CodeRun.__table__)
#: Seconds between two looks at the awaited submissions (a result is seen this much later, at most).
EVERY = 0.25
#: The longest a reader may wait, in seconds: under the timeouts of proxies and browsers (60 s).
MAX_WAIT = 20.0
#: Submissions asked about in one statement (well under any database's limit on bound values).
CHUNK = 500


class ResultWatch:
    """Wakes the readers waiting for submissions whose code is graded (:meth:`graded`)."""

    def __init__(self, engine: Engine, *, slots: int, every: float = EVERY) -> None:
        """``slots``: the process's database slots (:attr:`api.kit.config.Settings.db_slots`), one of
        which each look takes."""
        self.engine = engine
        self.slots = slots
        self.every = every
        self._waiting: dict[int, set[asyncio.Event]] = {}
        self._task: asyncio.Task[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    async def graded(self, submission_id: int, *, within: float) -> bool:
        """Returns when no code run of the submission is queued or running (True), or after
        ``within`` seconds (False)."""
        self._loop = loop = asyncio.get_running_loop()
        event = asyncio.Event()
        self._waiting.setdefault(submission_id, set()).add(event)
        if self._task is None or self._task.done() or self._task.get_loop() is not loop:
            self._task = loop.create_task(self._look(), name="grader-result-watch")
        try:
            async with asyncio.timeout(within):
                await event.wait()
            return True
        except TimeoutError:
            return False
        finally:
            events = self._waiting.get(submission_id)
            if events is not None:
                events.discard(event)
                if not events:
                    del self._waiting[submission_id]

    def written(self, submission_id: int) -> None:
        """This process wrote the submission's results (from any thread): its readers are woken now
        rather than at the next look."""
        loop = self._loop
        if loop is not None and not loop.is_closed() and submission_id in self._waiting:
            loop.call_soon_threadsafe(self._wake, [submission_id])

    def _wake(self, submission_ids: Collection[int]) -> None:
        for submission_id in submission_ids:
            for event in self._waiting.get(submission_id, ()):
                event.set()

    async def _look(self) -> None:
        """While anyone waits: every :attr:`every` seconds, wake the readers of graded submissions."""
        while self._waiting:
            await asyncio.sleep(self.every)
            awaited = list(self._waiting)
            if not awaited:
                break
            try:
                running = await _still_running(self.engine, awaited, self.slots)
            except Exception:  # (the database away: the readers wait out their time, and ask again)
                log.warning("could not look at the code runs awaited", exc_info=True)
                continue
            self._wake([submission_id for submission_id in awaited if submission_id not in running])


async def _still_running(engine: Engine, submission_ids: list[int], slots: int) -> set[int]:
    """Those of ``submission_ids`` with a code run queued or running, read in one statement."""
    slot = Slot(database_slots(slots))
    await slot.take()
    try:
        return await run_in_threadpool(_running_now, engine, submission_ids)
    finally:
        slot.give_back()


def _running_now(engine: Engine, submission_ids: list[int]) -> set[int]:
    found: set[int] = set()
    with engine.connect() as connection:
        for start in range(0, len(submission_ids), CHUNK):
            chosen = submission_ids[start : start + CHUNK]
            rows = connection.execute(select(CODE_RUNS.c.submission_id).where(CODE_RUNS.c.submission_id.in_(chosen)))
            found.update(row.submission_id for row in rows)
    return found


#: What a runner calls as it writes a submission's results (:meth:`ResultWatch.written`).
Written = Callable[[int], None]
