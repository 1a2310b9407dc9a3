"""The background job that drains the outbox of grade passback (:func:`api.lti.ags.send_due`).

On SQLite the service runs it itself: :class:`ScoreSender`, a thread per process that sends what
is due at once when woken (a transaction that wrote scores has committed), when a retry's
back-off ends, and every :data:`EVERY` seconds regardless. On PostgreSQL ``grader worker`` runs
it, as a procrastinate task: deferred as scores commit, scheduled for a retry's back-off, and
periodic (:mod:`api.jobs.queue`). Rows are leased as they are taken
(:func:`api.lti.ags._claimed`), so senders in several processes never send a row twice at once.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime

log = logging.getLogger("grader.lti")

#: Seconds between two rounds, at most; and at least (rows due at once that a round left, past
#: its batch or for want of a key, wait this long rather than spin).
EVERY = 15.0
AT_LEAST = 1.0


class ScoreSender:
    def __init__(
        self, send: Callable[[], object], *, every: float = EVERY, due: Callable[[], datetime | None] | None = None
    ) -> None:
        """``due``: when the next row waiting for a retry is due (:func:`api.lti.ags.next_due`)."""
        self._send = send
        self._every = every
        self._due = due
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._stopping.clear()
        self._thread = threading.Thread(target=self._work, name="grader-lti-scores", daemon=True)
        self._thread.start()

    def wake(self) -> None:
        self._wake.set()

    def stop(self, timeout: float = 10.0) -> None:
        self._stopping.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def _work(self) -> None:
        while not self._stopping.is_set():
            try:
                self._send()
            except Exception:  # a round that failed (the database away, no key yet): the next one tries again
                log.exception("sending LTI scores failed")
            self._wake.wait(self._pause())
            self._wake.clear()

    def _pause(self) -> float:
        """Seconds until the next round: :data:`EVERY`, or less when a retry is due sooner."""
        try:
            due = self._due() if self._due is not None else None
        except Exception:  # the database away: the regular round will look again
            log.exception("reading when LTI scores are due failed")
            return self._every
        if due is None:
            return self._every
        return min(self._every, max(AT_LEAST, (due - datetime.now(UTC)).total_seconds()))
