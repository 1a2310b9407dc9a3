"""Database slots: a request holds one of :attr:`api.kit.config.Settings.db_slots` while it uses the
database (its session, from :func:`api.deps.get_session`), so that no more requests use it at once
than the connection pool serves without waiting.

A request that computes with nothing to ask the database (grading, checking a set file) gives its
connection and its slot back meanwhile (:func:`connection_released`): however long the work, other
requests, ``/health`` included, do not wait for it, nor does SQLite's write lock stay taken.

The slots are shared by the event loop, where a request takes its slot before its session, and the
worker threads, where a request gives it back and takes it again around its work: both sides only
take a lock, so giving back and taking again cost microseconds, not two trips through the event
loop (a thread waits only when every slot is in use).

A read whose caller asked to wait for its result (``?wait=``: a student following their code) is
*patient*: it takes a slot after the other requests waiting, though never more than
:data:`PATIENCE` seconds after them. At a deadline a student's ``POST`` is then acknowledged
before the reads of the students who submitted before them, who wait for their code anyway: beside
busy processes, the slowest submissions waited 0.35 to 0.48 s for a slot behind those reads.
"""

from __future__ import annotations

import asyncio
import math
import threading
import time
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from types import TracebackType

from anyio.lowlevel import RunVar
from sqlalchemy.orm import Session

from api.kit.config import DB_CONCURRENCY

#: ``Session.info`` key of the request's :class:`Slot`.
SLOT = "grader_database_slot"
#: Requests computing off the database at once per process (the rest compute holding their slot).
#: With DB_CONCURRENCY, well below the 40 threads of anyio's default threadpool (see :func:`connection_released`).
COMPUTING = 8
#: Seconds a patient request waits for a slot behind the others before it goes first.
PATIENCE = 1.0
_computing = threading.BoundedSemaphore(COMPUTING)


@dataclass(eq=False)
class _Task:
    """A task of the event loop waiting for a slot."""

    loop: asyncio.AbstractEventLoop
    future: asyncio.Future[None]
    since: float = field(default_factory=time.monotonic)
    granted: bool = False


@dataclass(eq=False)
class _Thread:
    """A worker thread waiting to take its slot again: released when it is given one."""

    lock: threading.Lock = field(default_factory=threading.Lock)


class Slots:
    """``size`` slots: taken in the event loop (:meth:`acquire`) or in a worker thread
    (:meth:`acquire_in_thread`), given back from either (:meth:`release`). A slot given back goes
    first to a thread waiting to take its slot again (a request that has its work done, to finish),
    then to the tasks in the order they came, the patient ones after the others (unless the first
    has waited :data:`PATIENCE` seconds)."""

    def __init__(self, size: int) -> None:
        self._free = size  # (while some are free, nobody waits)
        self._lock = threading.Lock()
        self._threads: deque[_Thread] = deque()
        self._tasks: deque[_Task] = deque()
        self._patient: deque[_Task] = deque()

    async def acquire(self, *, patient: bool = False) -> None:
        """In the event loop; ``patient``: behind the other tasks, up to :data:`PATIENCE` seconds."""
        queue = self._patient if patient else self._tasks
        with self._lock:
            if self._free:
                self._free -= 1
                return
            loop = asyncio.get_running_loop()
            waiter = _Task(loop, loop.create_future())
            queue.append(waiter)
        try:
            await waiter.future
        except BaseException:
            with self._lock:
                if not waiter.granted:
                    queue.remove(waiter)
                    raise
            self.release()  # given one as it was cancelled: pass it on
            raise

    def acquire_in_thread(self) -> None:
        """In a worker thread, never in the event loop's (it waits there when no slot is free)."""
        with self._lock:
            if self._free:
                self._free -= 1
                return
            waiter = _Thread()
            waiter.lock.acquire()
            self._threads.append(waiter)
        waiter.lock.acquire()  # until release() hands this thread the slot

    def release(self) -> None:
        """From the event loop or any thread."""
        with self._lock:
            if self._threads:
                self._threads.popleft().lock.release()
                return
            while waiter := self._next_task():
                try:
                    waiter.loop.call_soon_threadsafe(_wake, waiter.future)
                except RuntimeError:  # its loop is closed: nobody waits there any more
                    continue
                waiter.granted = True
                return
            self._free += 1

    def _next_task(self) -> _Task | None:
        """The task whose turn it is (under the lock): the first patient one once it has waited
        :data:`PATIENCE` seconds or nobody else waits, else the first of the others."""
        if self._patient and (not self._tasks or time.monotonic() - self._patient[0].since >= PATIENCE):
            return self._patient.popleft()
        return self._tasks.popleft() if self._tasks else None

    async def __aenter__(self) -> None:
        await self.acquire()

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.release()


def _wake(future: asyncio.Future[None]) -> None:
    if not future.done():  # (a cancelled waiter passes its slot on itself)
        future.set_result(None)


_database_slots: RunVar[Slots] = RunVar("grader_database_slots")


def database_slots(size: int = DB_CONCURRENCY) -> Slots:
    """The event loop's slots (its tasks wait on futures of that loop): ``size`` of them where the
    loop has none yet (the process's :attr:`api.kit.config.Settings.db_slots`)."""
    try:
        return _database_slots.get()
    except LookupError:
        slots = Slots(size)
        _database_slots.set(slots)
        return slots


class Slot:
    """One request's hold on a slot: taken in the event loop, given back from anywhere, once; taken
    again in the worker thread that gave it back. One thread at a time uses it (the request's)."""

    def __init__(self, slots: Slots, *, patient: bool = False) -> None:
        self.slots = slots
        self.patient = patient  # (taken in the event loop behind the others: Slots.acquire)
        self.held = False

    async def take(self) -> None:
        if not self.held:
            await self.slots.acquire(patient=self.patient)
            self.held = True

    def take_in_thread(self) -> None:
        if not self.held:
            self.slots.acquire_in_thread()
            self.held = True

    def give_back(self) -> None:
        if self.held:
            self.held = False
            self.slots.release()


class _Lender:
    """Gives back, on their behalf, the slots of requests still computing past their time
    (:func:`connection_released` with ``keep_slot_for``): one daemon thread per process, awake only
    while some request computes. A request that ends its work in time changes nothing but a dict."""

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._lent: dict[Slot, float] = {}  # the slot of each request computing: when to give it back
        self._given_back: set[Slot] = set()  # given back: the request takes it again as its work ends
        self._thread: threading.Thread | None = None
        self._wakes_at = math.inf  # when the thread looks at the slots next

    def lend(self, slot: Slot, seconds: float) -> None:
        with self._changed:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="grader-slot-lender", daemon=True)
                self._thread.start()
            due = self._lent[slot] = time.monotonic() + seconds
            if due < self._wakes_at:  # (usually the thread wakes sooner already: no hand-over)
                self._changed.notify()

    def end(self, slot: Slot) -> None:
        """In the request's thread as its work ends: the slot taken again if it was given back."""
        with self._changed:
            if self._lent.pop(slot, None) is not None or slot not in self._given_back:
                return  # done in time, or computed holding its slot
            self._given_back.remove(slot)
        try:
            slot.take_in_thread()
        finally:
            _computing.release()

    def _run(self) -> None:
        with self._changed:
            while True:
                now = time.monotonic()
                for slot in [slot for slot, due in self._lent.items() if due <= now]:
                    del self._lent[slot]
                    # (past COMPUTING requests off the database, this one computes holding its slot)
                    if _computing.acquire(blocking=False):
                        slot.give_back()  # under the lock: end() then sees it given back, and takes it again
                        self._given_back.add(slot)
                self._wakes_at = min(self._lent.values(), default=math.inf)
                self._changed.wait(None if self._wakes_at == math.inf else self._wakes_at - now)


_lender = _Lender()


@contextmanager
def connection_released(session: Session, *, slot_too: bool = False, keep_slot_for: float = 0.0) -> Iterator[None]:
    """Gives the request's connection back while the block computes, in the worker thread the
    request runs in. Call it before the request writes anything (it ends the transaction, an empty
    commit, which also frees SQLite's write lock), and do not use the session inside.

    ``slot_too`` gives the request's slot back as well, for work whose time depends on what the
    caller sent or on the set (grading answers, checking a set file): the block may take as long
    as its budgets allow while others use the database. With ``keep_slot_for`` (seconds), the slot
    is given back only if the block still runs then: the busiest request, submitting, grades in a
    millisecond or two, and handing its slot to another request and waiting for one again cost it
    about 15% more CPU (``bench/service.py``), while no grading holds a slot much longer than that.

    Taking the slot again waits in this thread, so at most :data:`COMPUTING` requests compute off
    the database at once; one more computes holding its slot rather than wait for a turn. Slot
    holders thus never wait for anything a slot-waiter holds, and with ``COMPUTING`` plus the slots
    below the threadpool's size they always find a thread: nobody waits forever. A session outside
    a request (no slot) just ends its transaction."""
    if session.new or session.dirty or session.deleted:
        raise RuntimeError("connection_released with unflushed changes: call it before writing")
    session.commit()
    slot: Slot | None = session.info.get(SLOT)
    if slot_too and slot is not None and slot.held and keep_slot_for > 0:
        _lender.lend(slot, keep_slot_for)
        try:
            yield
        finally:
            _lender.end(slot)
        return
    if not slot_too or slot is None or not _computing.acquire(blocking=False):
        yield
        return
    try:
        slot.give_back()
        try:
            yield
        finally:
            slot.take_in_thread()
    finally:
        _computing.release()
