"""The thread that writes when tokens were last used (:class:`api.users.tokens.TokenUses`)."""

from __future__ import annotations

import logging
import threading

from sqlalchemy import Engine

from api.users.tokens import TokenUses

log = logging.getLogger("grader.tokens")

#: How often what requests noted is written.
FLUSH_SECONDS = 15.0


class UseRecorder:
    def __init__(self, uses: TokenUses, engine: Engine, *, every: float = FLUSH_SECONDS) -> None:
        self.uses, self.engine, self.every = uses, engine, every
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._stopping.clear()
        self._thread = threading.Thread(target=self._work, name="grader-token-uses", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Stops, writing what is left."""
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def _work(self) -> None:
        while True:
            stopping = self._stopping.wait(self.every)
            try:
                self.uses.flush(self.engine)
            except Exception:  # the database away for a moment: the next round writes them
                log.exception("could not record when tokens were last used")
            if stopping:
                return
