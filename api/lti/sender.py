"""The background job that drains the outbox of grade passback (:func:`api.lti.ags.send_due`).

On SQLite the service runs it itself: :class:`ScoreSender`, a thread per process that sends what
is due every :data:`EVERY` seconds, and at once when woken. On PostgreSQL ``grader worker`` runs
it, as a procrastinate periodic task (:mod:`api.jobs.queue`). Rows are leased as they are taken
(:func:`api.lti.ags._claimed`), so senders in several processes never send a row twice at once.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

log = logging.getLogger("grader.lti")

#: Seconds between two rounds.
EVERY = 15.0


class ScoreSender:
    def __init__(self, send: Callable[[], object], *, every: float = EVERY) -> None:
        self._send = send
        self._every = every
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
            self._wake.wait(self._every)
            self._wake.clear()
