"""Wrong exam passwords counted per student and assignment, so that a password cannot be found by
guessing: an exam password is short (the proctor reads it out), and each guess is otherwise only a
scrypt check. Past :data:`WRONG_GUESSES` wrong ones within :data:`WINDOW` seconds, the student's
next tries are refused (429, ``Retry-After``) before any is checked, until the window ends.

Counted per process (as :mod:`api.kit.quotas` is): with N processes a student gets N times the
guesses, still a handful a minute against the thousands a short password needs.
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict

from api.kit.errors import TooManyRequests

#: Wrong passwords a student may type per assignment within :data:`WINDOW` seconds.
WRONG_GUESSES = 5
WINDOW = 300.0
#: Students and assignments remembered at most (least recently guessed first out).
REMEMBERED = 10_000

Key = tuple[str, str, str]  # course, assignment, student

_lock = threading.Lock()
_wrong: OrderedDict[Key, tuple[float, int]] = OrderedDict()  # key → (window's start, wrong guesses)


def check(key: Key, *, now: float | None = None) -> None:
    """Refuses (:class:`TooManyRequests`) a student who typed too many wrong passwords lately."""
    now = time.monotonic() if now is None else now
    with _lock:
        found = _wrong.get(key)
    if found is None:
        return
    started, count = found
    if now - started >= WINDOW or count < WRONG_GUESSES:
        return
    wait = math.ceil(started + WINDOW - now)
    raise TooManyRequests(
        f"Too many wrong exam passwords on this assignment: try again in {wait} s, "
        "with the password the proctor gives.",
        retry_after=wait,
    )


def wrong(key: Key, *, now: float | None = None) -> None:
    """A wrong password typed."""
    now = time.monotonic() if now is None else now
    with _lock:
        started, count = _wrong.pop(key, (now, 0))
        if now - started >= WINDOW:
            started, count = now, 0
        _wrong[key] = (started, count + 1)
        while len(_wrong) > REMEMBERED:
            _wrong.popitem(last=False)
