"""The per-account budget of grading work (:mod:`api.kit.quotas`), on a clock and a CPU meter the tests
move by hand: gradings at once, the bucket's charge, refill and debt, accounts apart, and a memory
that stays bounded however many accounts come."""

from __future__ import annotations

import gc
import threading
import time
from contextlib import ExitStack

import pytest

from api.kit.errors import TooManyRequests
from api.kit.quotas import GradingBudget


class Meter:
    """Wall time and CPU time, advanced by the test."""

    def __init__(self) -> None:
        self.now = 0.0
        self.cpu = 0.0

    def clock(self) -> float:
        return self.now

    def work(self) -> float:
        return self.cpu


def budget(meter: Meter, **limits: float) -> GradingBudget:
    settings = {"at_once": 2, "burst": 3.0, "refill": 0.2, "wait": 0.0, **limits}
    return GradingBudget(
        at_once=int(settings["at_once"]),
        burst=settings["burst"],
        refill=settings["refill"],
        accounts=int(limits.get("accounts", 100)),
        wait=settings["wait"],
        clock=meter.clock,
        work=meter.work,
    )


def grade(limits: GradingBudget, meter: Meter, account: str, seconds: float) -> None:
    """One grading of ``account`` that spends ``seconds`` of CPU."""
    with limits.spend(account):
        meter.cpu += seconds


def test_at_most_two_gradings_of_an_account_at_once() -> None:
    meter = Meter()
    limits = budget(meter)
    with ExitStack() as running:
        running.enter_context(limits.spend("ada"))
        running.enter_context(limits.spend("ada"))
        with pytest.raises(TooManyRequests) as refused:
            running.enter_context(limits.spend("ada"))
        assert refused.value.retry_after == 1
        assert str(refused.value.detail).startswith("Too much grading at once for this account: 2 of its requests")
        with limits.spend("grace"):  # another account is not held back
            pass
    with limits.spend("ada"):  # both done: room again
        pass


def test_the_cpu_spent_is_charged_and_past_the_burst_the_account_waits_for_the_refill() -> None:
    meter = Meter()
    limits = budget(meter)
    grade(limits, meter, "ada", 1.0)
    grade(limits, meter, "ada", 1.5)
    grade(limits, meter, "ada", 1.0)  # starts with 0.5 left, ends owing 0.5
    with pytest.raises(TooManyRequests) as refused:
        grade(limits, meter, "ada", 0.01)
    assert refused.value.retry_after == 3  # 0.5 owed at 0.2 a second: 2.5 s, rounded up
    assert refused.value.detail == "Too much grading asked for lately by this account: retry in 3 seconds."
    meter.now += 2.0
    with pytest.raises(TooManyRequests) as again:
        grade(limits, meter, "ada", 0.01)
    assert again.value.retry_after == 1  # 0.1 still owed
    meter.now += 1.0
    grade(limits, meter, "ada", 0.01)  # 0.1 in the bucket


def test_the_bucket_refills_up_to_the_burst_only() -> None:
    meter = Meter()
    limits = budget(meter)
    grade(limits, meter, "ada", 2.9)
    meter.now += 3600.0  # an hour idle fills the bucket, no more
    grade(limits, meter, "ada", 3.1)  # 3.0 in the bucket: it may start, and owes 0.1
    with pytest.raises(TooManyRequests):
        grade(limits, meter, "ada", 0.01)


def test_a_grading_that_fails_is_charged_too() -> None:
    meter = Meter()
    limits = budget(meter)
    with pytest.raises(ZeroDivisionError), limits.spend("ada"):
        meter.cpu += 3.5
        raise ZeroDivisionError
    with pytest.raises(TooManyRequests):
        grade(limits, meter, "ada", 0.01)
    grade(limits, meter, "grace", 0.01)


def test_a_refusal_spends_nothing_and_holds_no_place() -> None:
    meter = Meter()
    limits = budget(meter, at_once=1)
    with limits.spend("ada"):
        for _ in range(5):
            with pytest.raises(TooManyRequests):
                grade(limits, meter, "ada", 1.0)
    grade(limits, meter, "ada", 0.5)  # one at a time again, and the bucket untouched by the refusals
    grade(limits, meter, "ada", 2.0)


def test_the_accounts_remembered_stay_bounded() -> None:
    meter = Meter()
    limits = budget(meter, accounts=3)
    for number in range(50):
        grade(limits, meter, f"student-{number}", 3.5)  # each owes: nothing to forget early
        assert limits.remembered() <= 3
    # the newest are remembered, with what they owe; the oldest were forgotten
    with pytest.raises(TooManyRequests):
        grade(limits, meter, "student-49", 0.1)
    grade(limits, meter, "student-0", 0.1)


def test_an_account_grading_now_is_never_forgotten() -> None:
    meter = Meter()
    limits = budget(meter, accounts=2, at_once=1)
    with limits.spend("ada"):
        meter.cpu += 2.5
        for number in range(10):
            grade(limits, meter, f"student-{number}", 0.0)  # (the meter is ada's thread's: these spend nothing of it)
        assert limits.remembered() <= 3  # the bound, and the one account grading now
        with pytest.raises(TooManyRequests):  # still known to be grading
            grade(limits, meter, "ada", 0.1)
    # its charge landed: 0.5 left of its burst
    grade(limits, meter, "ada", 1.0)
    with pytest.raises(TooManyRequests):
        grade(limits, meter, "ada", 0.1)


def test_an_idle_account_whose_bucket_is_full_again_is_forgotten() -> None:
    meter = Meter()
    limits = budget(meter)
    for number in range(20):
        grade(limits, meter, f"student-{number}", 0.3)
    assert limits.remembered() == 20
    meter.now += 0.3 / 0.2  # long enough for each to be full again
    grade(limits, meter, "latecomer", 0.1)
    assert limits.remembered() == 1


def test_threads_at_once_are_admitted_as_many_as_allowed() -> None:
    """Sixteen threads of one account ask at once while the admitted ones hold on: exactly two
    are admitted, the others refused, whatever order they come in."""
    limits = GradingBudget(at_once=2, wait=0.0)
    asked, release = threading.Barrier(17), threading.Event()
    admitted: list[bool] = []

    def ask() -> None:
        try:
            with limits.spend("ada"):
                admitted.append(True)
                asked.wait()
                release.wait()
        except TooManyRequests:
            admitted.append(False)
            asked.wait()

    threads = [threading.Thread(target=ask) for _ in range(16)]
    for thread in threads:
        thread.start()
    asked.wait()  # every thread has asked, and the admitted ones are still inside
    assert sorted(admitted) == [False] * 14 + [True] * 2
    release.set()
    for thread in threads:
        thread.join()
    with limits.spend("ada"):
        pass


def test_a_grading_waits_its_turn_behind_the_accounts_other_one() -> None:
    """Two requests of a student that cross are both graded, the second once the first ends; a
    third meanwhile is refused at once (one waits at most)."""
    limits = GradingBudget(at_once=1, wait=60.0)  # (60 s: a hang guard; the turn comes as the first ends)
    first_in, first_out, second_in = threading.Event(), threading.Event(), threading.Event()

    def first() -> None:
        with limits.spend("ada"):
            first_in.set()
            first_out.wait()

    def second() -> None:
        with limits.spend("ada"):
            second_in.set()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    threads[0].start()
    first_in.wait()
    threads[1].start()
    while not _waiting(limits, "ada"):  # (the condition, not a time: the second waits its turn)
        threading.Event().wait(0.001)
    with pytest.raises(TooManyRequests) as third:
        grade(limits, Meter(), "ada", 0.0)
    assert third.value.retry_after == 1 and not second_in.is_set()
    first_out.set()
    for thread in threads:
        thread.join()
    assert second_in.is_set()


def test_a_grading_whose_turn_does_not_come_in_time_is_refused() -> None:
    limits = GradingBudget(at_once=1, wait=0.01)
    with limits.spend("ada"), pytest.raises(TooManyRequests) as refused:  # held until the other gave up
        grade(limits, Meter(), "ada", 0.0)
    assert refused.value.detail.startswith("Too much grading at once for this account: another of its requests is")


def _waiting(limits: GradingBudget, account: str) -> bool:
    with limits._lock:
        entry = limits._entries.get(account)
        return entry is not None and entry.waiting > 0


def test_a_full_collection_set_off_during_a_grading_is_not_charged_to_it() -> None:
    """A full collection walks every object of the process, whoever's allocation set it off: on the
    real CPU meter, a grading is charged its own work, not that walk. The burst here is a fifth of
    the walk at most, so a charged walk would leave the account owing and its next grading refused."""
    limits = GradingBudget(burst=0.01, refill=1e-6, wait=0.0, clock=lambda: 0.0)  # the thread's CPU time
    heap = [[n] for n in range(1_500_000)]  # a heap worth walking
    with limits.spend("ada"):
        began = time.thread_time()
        gc.collect()
        walked = time.thread_time() - began
    assert walked >= 5 * limits.burst, f"the collection took {walked:.3f} s: too little to tell"
    with limits.spend("ada"):  # not refused: the account still has most of its burst
        pass
    del heap
