"""Each account's share of a process's grading work: the doors that read and grade answers without
using an attempt (previews, practice, submissions refused as unreadable, an assignment page showing
how the answers are read) have no limit of their own, and every answer may be as large as the size
limits allow, so one account could otherwise keep the process's one core busy for everybody.

Per account and per process, :class:`GradingBudget` lets :data:`AT_ONCE` grading run at a time
(another waits up to :data:`WAIT` for its turn), and charges each the CPU time its thread spent
(``time.thread_time``: the work itself, not the time waiting for the interpreter lock or the
database; and the CPU time of the processes it waited for to compile a code answer,
:func:`sandbox.syntax.children_cpu`; less the full collections of the process's garbage that its
allocations happened to set off, :func:`full_collections`) to a token bucket of :data:`BURST` seconds refilled at
:data:`REFILL` seconds per second. A grading starts while the bucket holds something, and may leave
it owing; past either limit the request is refused with :class:`api.kit.errors.TooManyRequests` (429,
``Retry-After``) before anything is read, and the caller's next requests are refused before their
bodies are even received (:mod:`api.gate`).

One at a time and a small refill, because every grading thread takes the interpreter lock from the
event loop, which then waits for it at each piece of every body it receives: with one student
sending the largest answers from 32 connections (``tests/hostile/test_caller_budgets.py``, beside
another test process as CI runs them), two of their gradings at once or a refill of 0.2 s a second
let ``/health`` wait up to 1.7 to 2.2 s; one at a time, 0.1 s a second and the gate, 0.1 to 0.6 s.

An honest student never meets these: the assignment page's live preview asks at most once per
answer per 300 ms of a pause in typing (``hx-trigger="input changed delay:300ms"``) and reads one
answer in well under 2 ms, a few percent of the refill, and two of its requests that cross wait for
each other a millisecond at most; checking or submitting a whole assignment takes 1 to 15 ms, a
practice variant's first grading with its worked solutions up to about 100 ms (1 s for the largest
built-in set, ``classic-architectures``, when nobody graded it since the process started). The
largest answers the size limits accept take 0.5 to 1 s per request: two of those, then one every 5
to 10 seconds.

The state is one small entry per account that graded lately, at most :data:`ACCOUNTS` of them
(least recently used first out); an entry idle long enough to be full again is dropped as soon as
it is the oldest, since it is then the same as none. The callers refused lately are as many at
most.
"""

from __future__ import annotations

import gc
import hashlib
import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from api.kit.errors import TooManyRequests
from sandbox import syntax

#: Gradings of one account running at once, per process.
AT_ONCE = 1
#: CPU seconds of grading an account may spend in a burst, per process.
BURST = 1.5
#: CPU seconds of grading an account gets back per second: a fifth of the process's core at most,
#: in the long run, for one account.
REFILL = 0.1
#: Seconds a grading waits for its turn when the account's others are running (one waits at most):
#: a student's requests that cross are graded in turn, a flood of them refused.
WAIT = 0.5
#: Accounts remembered per process (an entry is a few dozen bytes).
ACCOUNTS = 10_000
#: CPU seconds short of the burst at which a bucket counts as full (sums of floats round).
FULL_ENOUGH = 1e-9


_collecting = threading.local()


def _on_collection(phase: str, info: dict[str, int]) -> None:
    """A ``gc.callbacks`` hook: the CPU time of each full collection, added to its thread's."""
    if info.get("generation") != 2:
        return
    if phase == "start":
        _collecting.began = time.thread_time()
    elif (began := getattr(_collecting, "began", None)) is not None:
        _collecting.spent = full_collections() + time.thread_time() - began
        _collecting.began = None


def full_collections() -> float:
    """CPU seconds this thread spent in full collections since the budget began watching them
    (:func:`watch_full_collections`). A full collection walks every object of the process, so its
    cost is the process's heap, not the work of the request whose allocation set it off: one of 9
    million objects takes 0.8 s of CPU here, more on a loaded machine, enough to leave an honest
    student's next request refused. The younger generations' collections stay charged: they walk
    what was allocated lately, mostly by the request itself."""
    return float(getattr(_collecting, "spent", 0.0))


def watch_full_collections() -> None:
    """Start counting :func:`full_collections` (once per process)."""
    if _on_collection not in gc.callbacks:
        gc.callbacks.append(_on_collection)


def _work() -> float:
    """The calling thread's grading work so far: see the module."""
    return time.thread_time() + syntax.children_cpu() - full_collections()


#: The credential of the request being served (its bearer token or session cookie), set by
#: :class:`api.gate.GradingGate`: a refusal notes its digest, so the caller's next requests can be
#: refused before they are read. None outside a request through a grading door.
CALLER: ContextVar[str | None] = ContextVar("grader_caller", default=None)


@dataclass(slots=True)
class _Account:
    level: float  # CPU seconds the account may still spend; below zero, what it owes
    at: float  # when ``level`` was last brought up to date (``clock``)
    running: int = 0
    waiting: int = 0


class GradingBudget:
    """The per-account limits of one process (see the module). Thread-safe: gradings run in the
    request threads. A grading that finds the account's others running waits up to ``wait``
    seconds for its turn (one such at a time per account), so that two requests of a student that
    cross (a retry, a double click) are both served. ``clock`` and ``work`` are injectable for
    tests (the bucket's time and the calling thread's CPU time)."""

    def __init__(
        self,
        *,
        at_once: int = AT_ONCE,
        burst: float = BURST,
        refill: float = REFILL,
        accounts: int = ACCOUNTS,
        wait: float = WAIT,
        clock: Callable[[], float] = time.monotonic,
        work: Callable[[], float] = _work,
    ) -> None:
        self.at_once, self.burst, self.refill, self.accounts, self.wait = at_once, burst, refill, accounts, wait
        if work is _work:
            watch_full_collections()
        self._clock, self._work = clock, work
        self._entries: OrderedDict[str, _Account] = OrderedDict()
        #: The account of each caller refused lately (see :meth:`refusal`), as many at most.
        self._callers: OrderedDict[str, str] = OrderedDict()
        self._lock = threading.Lock()
        self._turn = threading.Condition(self._lock)  # a grading ended

    @contextmanager
    def spend(self, account: str) -> Iterator[None]:
        """The block is one grading of ``account``'s, charged its thread's CPU time; raises
        :class:`TooManyRequests` instead of entering when the account is past either limit."""
        self._start(account)
        started = self._work()
        try:
            yield
        finally:
            self._finish(account, self._work() - started)

    def remembered(self) -> int:
        """How many accounts the budget holds an entry for."""
        with self._lock:
            return len(self._entries)

    def refusal(self, credential: str) -> TooManyRequests | None:
        """What a grading of the account whose request with ``credential`` (as :data:`CALLER`
        holds it) was refused would be refused with now, if it still would: so that its next
        requests are refused before their bodies are read (:mod:`api.gate`). None for a credential
        never refused, or no longer."""
        if not self._callers:  # (nobody refused lately: the usual case, decided without a digest)
            return None
        caller = _digest(credential)
        with self._lock:
            account = self._callers.get(caller)
            entry = None if account is None else self._entries.get(account)
            if entry is not None:
                self._refilled(entry, self._clock())
                refused = self._refused(entry)
                if refused is not None:
                    return refused
            self._callers.pop(caller, None)
            return None

    def _start(self, account: str) -> None:
        until = time.monotonic() + self.wait
        with self._lock:
            while True:
                now = self._clock()
                entry = self._entries.get(account)
                if entry is None:
                    entry = self._entries[account] = _Account(self.burst, now)
                else:
                    self._refilled(entry, now)
                    self._entries.move_to_end(account)
                refused = self._refused(entry)
                left = until - time.monotonic()
                if refused is None or entry.running < self.at_once or entry.waiting or left <= 0:
                    break
                entry.waiting += 1  # (the entry stays while it waits: see _forget_old)
                self._turn.wait(left)
                entry.waiting -= 1
            if refused is not None:
                if (credential := CALLER.get()) is not None:
                    caller = _digest(credential)
                    self._callers[caller] = account
                    self._callers.move_to_end(caller)
                    while len(self._callers) > self.accounts:
                        self._callers.popitem(last=False)
                raise refused
            entry.running += 1
            self._forget_old(now)

    def _refused(self, entry: _Account) -> TooManyRequests | None:
        if entry.running >= self.at_once:
            running = "another of its requests is" if entry.running == 1 else f"{entry.running} of its requests are"
            return TooManyRequests(
                f"Too much grading at once for this account: {running} being graded; retry in a second.",
                retry_after=1,
            )
        if entry.level <= 0:
            wait = max(1, math.ceil(-entry.level / self.refill))
            seconds = "a second" if wait == 1 else f"{wait} seconds"
            return TooManyRequests(
                f"Too much grading asked for lately by this account: retry in {seconds}.", retry_after=wait
            )
        return None

    def _finish(self, account: str, spent: float) -> None:
        with self._lock:
            entry = self._entries[account]  # (a running entry is never dropped)
            self._refilled(entry, self._clock())
            entry.level -= max(0.0, spent)
            entry.running -= 1
            if entry.waiting:
                self._turn.notify_all()

    def _refilled(self, entry: _Account, now: float) -> None:
        entry.level = min(self.burst, entry.level + (now - entry.at) * self.refill)
        entry.at = now

    def _forget_old(self, now: float) -> None:
        """Drops the oldest entries while there are too many, or while the oldest is idle and full
        again (then the same as none). A running entry stays: at most a thread's worth of them.
        Each entry dropped was added once, so the walk costs O(1) per grading on average."""
        excess = len(self._entries) - self.accounts
        dropped = []
        for account, entry in self._entries.items():
            if entry.running or entry.waiting:
                continue
            if excess <= 0 and entry.level + (now - entry.at) * self.refill < self.burst - FULL_ENOUGH:
                break
            dropped.append(account)
            excess -= 1
        for account in dropped:
            del self._entries[account]


def _digest(credential: str) -> str:
    """A credential as the budget keeps it: not the secret itself."""
    return hashlib.sha256(credential.encode("utf-8", "surrogatepass")).hexdigest()
