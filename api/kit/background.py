"""A background thread of a service process that does one job in rounds: at its start, when woken
(a request has committed work for it), when the job says its next work falls due, and every so
often regardless (work another process queued, retries come due). The mail outbox and the LMS's
score outbox each have one (:mod:`api.signin.mail_runner`, :mod:`api.lti.sender`)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime

#: The shortest pause between two rounds: work due at once that a round left (past its batch, or
#: for want of something only an operator can fix) waits this long rather than spin.
AT_LEAST = 1.0


class Rounds:
    def __init__(
        self,
        work: Callable[[], object],
        *,
        name: str,
        every: float,
        due: Callable[[], datetime | None] | None = None,
        log: logging.Logger,
    ) -> None:
        """``every``: seconds between two rounds at most; ``due``: when the next work falls due, if
        sooner (read after each round)."""
        self.work = work
        self.every = every
        self._name, self._due, self._log = name, due, log
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._stopping.clear()
        self._thread = threading.Thread(target=self._run, name=self._name, daemon=True)
        self._thread.start()

    def wake(self) -> None:
        self._wake.set()

    def stop(self, timeout: float = 10.0) -> None:
        self._stopping.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def _run(self) -> None:
        while not self._stopping.is_set():
            self._wake.clear()
            try:
                self.work()
            except Exception:  # the database away for a moment, say: the next round tries again
                self._log.exception("a round of %s failed", self._name)
            self._wake.wait(self._pause())

    def _pause(self) -> float:
        try:
            due = self._due() if self._due is not None else None
        except Exception:  # the database away: the regular round will look again
            self._log.exception("%s could not read when its next work is due", self._name)
            return self.every
        if due is None:
            return self.every
        return min(self.every, max(AT_LEAST, (due - datetime.now(UTC)).total_seconds()))
