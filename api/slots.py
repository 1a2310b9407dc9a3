"""Database slots: a request holds one of :data:`api.config.DB_CONCURRENCY` while it uses the
database (its session, from :func:`api.deps.get_session`), so that no more requests use it at once
than the connection pool serves without waiting.

A request that computes with nothing to ask the database (grading, checking a set file) gives its
connection back meanwhile, and for work that may take seconds its slot too
(:func:`connection_released`): the work is bounded by its own budgets, yet other requests,
``/health`` included, must not wait for it, nor SQLite's write lock stay taken.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

import anyio
import anyio.from_thread
from anyio.lowlevel import RunVar
from sqlalchemy.orm import Session

from api.config import DB_CONCURRENCY

_database_slots: RunVar[anyio.Semaphore] = RunVar("grader_database_slots")
#: ``Session.info`` key of the request's :class:`Slot`.
SLOT = "grader_database_slot"
#: Requests computing off the database at once per process (the rest compute holding their slot).
#: With DB_CONCURRENCY, well below the 40 threads of anyio's default threadpool (see :func:`connection_released`).
COMPUTING = 8
_computing = threading.BoundedSemaphore(COMPUTING)


def database_slots() -> anyio.Semaphore:
    """The event loop's slots (anyio primitives belong to the loop that made them)."""
    try:
        return _database_slots.get()
    except LookupError:
        slots = anyio.Semaphore(DB_CONCURRENCY)
        _database_slots.set(slots)
        return slots


class Slot:
    """One request's hold on a slot: taken in the event loop, given back from anywhere, once."""

    def __init__(self, slots: anyio.Semaphore) -> None:
        self.slots = slots
        self.held = False

    async def take(self) -> None:
        if not self.held:
            await self.slots.acquire()
            self.held = True

    def give_back(self) -> None:
        """In the event loop."""
        if self.held:
            self.held = False
            self.slots.release()


@contextmanager
def connection_released(session: Session, *, slot_too: bool = False) -> Iterator[None]:
    """Gives the request's connection back while the block computes, in the worker thread the
    request runs in. Call it before the request writes anything (it ends the transaction, an empty
    commit, which also frees SQLite's write lock), and do not use the session inside.

    ``slot_too`` gives the request's slot back as well, for work that may take seconds (checking a
    set file). Not for grading a submission: the engine's budgets keep it to milliseconds, and the
    two trips through the event loop cost more than that (``bench/service.py``: 825 → 575
    submissions/s).

    Taking the slot again waits in this thread, so at most :data:`COMPUTING` requests compute off
    the database at once; one more computes holding its slot rather than wait for a turn. Slot
    holders thus never wait for anything a slot-waiter holds, and with ``COMPUTING`` plus the slots
    below the threadpool's size they always find a thread: nobody waits forever. A session outside
    a request (no slot) just ends its transaction."""
    if session.new or session.dirty or session.deleted:
        raise RuntimeError("connection_released with unflushed changes: call it before writing")
    session.commit()
    slot: Slot | None = session.info.get(SLOT)
    if not slot_too or slot is None or not _computing.acquire(blocking=False):
        yield
        return
    try:
        anyio.from_thread.run_sync(slot.give_back)
        try:
            yield
        finally:
            anyio.from_thread.run(slot.take)
    finally:
        _computing.release()
