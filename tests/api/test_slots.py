"""The database slots (:mod:`api.kit.slots`), shared by the event loop's tasks and the worker threads:
a slot given back goes to a thread taking its slot again first, then to the tasks in turn; a
waiter cancelled passes on a slot it was given; a request's slot is given back while it computes
and taken again after. Each waits on a condition, never on time."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from typing import Any

from api.kit.slots import PATIENCE, SLOT, Slot, Slots, connection_released


async def _until(condition: Callable[[], bool]) -> None:
    """Lets the loop run until ``condition`` holds (checked at each turn)."""
    while not condition():
        await asyncio.sleep(0)


def _waiting_threads(slots: Slots) -> int:
    return len(slots._threads)


def _waiting_tasks(slots: Slots) -> int:
    return len(slots._tasks) + len(slots._patient)


def _free(slots: Slots) -> int:
    return slots._free


def test_a_free_slot_is_taken_at_once_and_a_thread_waits_for_one_given_back() -> None:
    async def scenario() -> None:
        slots = Slots(1)
        await slots.acquire()
        taken = threading.Event()

        def in_thread() -> None:
            slots.acquire_in_thread()
            taken.set()

        thread = threading.Thread(target=in_thread)
        thread.start()
        await _until(lambda: _waiting_threads(slots) == 1)
        assert not taken.is_set()
        slots.release()
        await asyncio.to_thread(thread.join)
        assert taken.is_set() and _free(slots) == 0
        slots.release()
        assert _free(slots) == 1

    asyncio.run(scenario())


def test_a_slot_given_back_goes_to_a_thread_taking_its_slot_again_before_the_tasks() -> None:
    async def scenario() -> None:
        slots = Slots(1)
        await slots.acquire()
        task = asyncio.create_task(slots.acquire())
        await _until(lambda: _waiting_tasks(slots) == 1)
        thread = threading.Thread(target=slots.acquire_in_thread)
        thread.start()
        await _until(lambda: _waiting_threads(slots) == 1)
        slots.release()
        await asyncio.to_thread(thread.join)  # the thread has it
        assert not task.done()
        slots.release()  # (given back from the thread in the service; anywhere will do)
        await task  # then the task
        slots.release()
        assert _free(slots) == 1

    asyncio.run(scenario())


async def _served_in_turn(waiters: list[tuple[object, bool]], *, patience_spent: bool = False) -> list[object]:
    """The order in which ``waiters`` (name, patient), queued one after the other on a single slot
    already taken, are given it as it is given back, once at a time from a worker thread (as a
    request's work ends); ``patience_spent``: the patient ones as if they had waited :data:`PATIENCE`."""
    slots = Slots(1)
    await slots.acquire()
    order: list[object] = []

    async def wait(name: object, patient: bool) -> None:
        await Slot(slots, patient=patient).take()
        order.append(name)

    tasks: list[asyncio.Task[None]] = []
    for name, patient in waiters:
        tasks.append(asyncio.create_task(wait(name, patient)))
        await _until(lambda: _waiting_tasks(slots) == len(tasks))
    if patience_spent:
        for waiter in slots._patient:
            waiter.since -= PATIENCE
    for served in range(len(waiters)):
        await asyncio.to_thread(slots.release)
        await _until(lambda served=served: len(order) == served + 1)  # type: ignore[misc]
    await asyncio.gather(*tasks)
    slots.release()
    assert _free(slots) == 1
    return order


def test_tasks_are_served_in_the_order_they_came_and_a_thread_wakes_them() -> None:
    order = asyncio.run(_served_in_turn([(number, False) for number in range(3)]))
    assert order == [0, 1, 2]


def test_a_waiter_cancelled_before_or_after_its_turn_loses_no_slot() -> None:
    async def scenario() -> None:
        slots = Slots(1)
        await slots.acquire()
        first, second, third = (asyncio.create_task(slots.acquire()) for _ in range(3))
        await _until(lambda: _waiting_tasks(slots) == 3)
        first.cancel()  # before its turn: it leaves the queue
        await asyncio.gather(first, return_exceptions=True)
        assert _waiting_tasks(slots) == 2
        slots.release()  # the turn goes to ``second``...
        second.cancel()  # ...cancelled before it could run: it passes the slot on
        await asyncio.gather(second, return_exceptions=True)
        assert second.cancelled()
        await third
        slots.release()
        assert _free(slots) == 1 and _waiting_tasks(slots) == 0

    asyncio.run(scenario())


def test_a_patient_waiter_is_served_after_the_others_waiting_though_it_came_first() -> None:
    """A reader waiting for its code (``?wait=``) is patient: the submissions that came after it
    are acknowledged first, and it is served as soon as nobody else waits."""
    order = asyncio.run(_served_in_turn([("reader", True), ("post 0", False), ("post 1", False)]))
    assert order == ["post 0", "post 1", "reader"]


def test_a_patient_waiter_goes_first_once_it_has_waited_its_patience() -> None:
    order = asyncio.run(_served_in_turn([("reader", True), ("post", False)], patience_spent=True))
    assert order == ["reader", "post"]


def test_a_patient_waiter_cancelled_before_or_after_its_turn_loses_no_slot() -> None:
    async def scenario() -> None:
        slots = Slots(1)
        await slots.acquire()
        first, second = (asyncio.create_task(slots.acquire(patient=True)) for _ in range(2))
        await _until(lambda: _waiting_tasks(slots) == 2)
        first.cancel()
        await asyncio.gather(first, return_exceptions=True)
        assert _waiting_tasks(slots) == 1
        slots.release()  # the turn goes to ``second``...
        second.cancel()  # ...cancelled before it ran: it passes the slot on, to nobody
        await asyncio.gather(second, return_exceptions=True)
        assert second.cancelled() and _free(slots) == 1 and _waiting_tasks(slots) == 0

    asyncio.run(scenario())


class _Session:
    """What :func:`connection_released` uses of a session: its changes, its commit, its info."""

    new: tuple[Any, ...] = ()
    dirty: tuple[Any, ...] = ()
    deleted: tuple[Any, ...] = ()

    def __init__(self, slot: Slot) -> None:
        self.info = {SLOT: slot}
        self.commits = 0

    def commit(self) -> None:
        self.commits += 1


async def _a_request_holding_its_slot() -> tuple[Slots, Slot, _Session]:
    """One slot in all, taken by a request whose session is :class:`_Session`."""
    slots = Slots(1)
    slot = Slot(slots)
    await slot.take()
    return slots, slot, _Session(slot)


async def _ends_once_the_other_gives_back(
    slots: Slots, slot: Slot, other: Slot, done: threading.Event, thread: threading.Thread
) -> None:
    """Lets the request's computation end while ``other`` holds the only slot: the request waits
    for it, then has its own slot again."""
    done.set()
    await _until(lambda: _waiting_threads(slots) == 1)  # the request waits to finish...
    other.give_back()
    await asyncio.to_thread(thread.join)  # ...and has its slot again
    assert slot.held and _free(slots) == 0
    slot.give_back()
    assert _free(slots) == 1


def test_a_request_computing_gives_its_slot_back_and_takes_it_again() -> None:
    async def scenario() -> None:
        slots, slot, session = await _a_request_holding_its_slot()
        inside, done = threading.Event(), threading.Event()

        def request_thread() -> None:
            with connection_released(session, slot_too=True):  # type: ignore[arg-type]
                inside.set()
                done.wait()

        thread = threading.Thread(target=request_thread)
        thread.start()
        await asyncio.to_thread(inside.wait)
        assert session.commits == 1 and not slot.held
        other = Slot(slots)
        await other.take()  # another request uses the database meanwhile
        await _ends_once_the_other_gives_back(slots, slot, other, done, thread)

    asyncio.run(scenario())


def test_a_request_computing_past_its_time_has_its_slot_given_back_and_takes_it_again() -> None:
    async def scenario() -> None:
        slots, slot, session = await _a_request_holding_its_slot()
        done = threading.Event()

        def request_thread() -> None:
            with connection_released(session, slot_too=True, keep_slot_for=0.001):  # type: ignore[arg-type]
                done.wait()

        thread = threading.Thread(target=request_thread)
        thread.start()
        other = Slot(slots)
        await asyncio.wait_for(other.take(), 60)  # given once the request computed past its time (60: a hang guard)
        await _ends_once_the_other_gives_back(slots, slot, other, done, thread)

    asyncio.run(scenario())


def test_a_request_computing_within_its_time_keeps_its_slot() -> None:
    async def scenario() -> None:
        slots, slot, session = await _a_request_holding_its_slot()
        waiting = asyncio.create_task(Slot(slots).take())
        await _until(lambda: _waiting_tasks(slots) == 1)

        def request_thread() -> None:
            with connection_released(session, slot_too=True, keep_slot_for=3600.0):  # type: ignore[arg-type]
                assert slot.held  # (nobody else could use the database meanwhile)

        await asyncio.to_thread(request_thread)
        assert slot.held and session.commits == 1 and _waiting_tasks(slots) == 1
        slot.give_back()
        await waiting

    asyncio.run(scenario())
