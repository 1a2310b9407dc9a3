"""The service's own time-keeper: one thread per process that runs the time-up sweep
(:func:`api.timed.sweep.sweep`) as the service starts, then at each clock's end (at the latest
every :data:`POLL_SECONDS`), on SQLite and PostgreSQL alike. Several processes may sweep at once:
the sweep is exactly-once whoever runs it."""

from __future__ import annotations

import logging
import threading
from datetime import UTC, datetime

from api.timed.sweep import TimeUp, sweep

log = logging.getLogger("grader.timed")

#: The longest the keeper sleeps between sweeps: a clock ends while the service sleeps, or an
#: extension or a moved close changes an end; each is handled within this many seconds (and the
#: contract's minute).
POLL_SECONDS = 20.0
#: After a clock's end, the keeper waits this long more, so that a draft saved at the last moment
#: has committed before the sweep reads it.
SETTLE_SECONDS = 1.0


class TimeKeeper:
    def __init__(self, time_up: TimeUp, *, poll: float = POLL_SECONDS) -> None:
        self.time_up = time_up
        self.poll = poll
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """At the service's start: the clocks that ended while it was down are handled first."""
        self._stopping.clear()
        self._thread = threading.Thread(target=self._work, name="grader-time-up", daemon=True)
        self._thread.start()

    def wake(self) -> None:
        """Sweep now (a clock started, whose end may come before the next poll)."""
        self._wake.set()

    def stop(self, timeout: float = 10.0) -> None:
        self._stopping.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def _work(self) -> None:
        while not self._stopping.is_set():
            self._wake.clear()
            wait = self.poll
            try:
                _, upcoming = sweep(self.time_up)
                if upcoming is not None:
                    until = (upcoming - datetime.now(UTC)).total_seconds() + SETTLE_SECONDS
                    wait = max(0.05, min(wait, until))
            except Exception:  # (the database away a moment: the next round tries again)
                log.exception("the time-up sweep failed")
            self._wake.wait(wait)
