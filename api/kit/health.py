"""``/health`` without a database slot: a load balancer asks it every few seconds with a short
timeout, and at a deadline every slot may be held by students' submissions for seconds; an answer
that waits in that queue drops a busy, healthy instance from the balancer mid-deadline.

So the check takes no slot and no pooled connection. One probe at a time per process runs
``SELECT 1`` on a connection of its own (one per process, opened on first use and kept, replaced
when it fails), in a thread of its own; every ``/health`` asked meanwhile waits for that probe's
answer, and a probe younger than :data:`FRESH_SECONDS` is answered again without asking. A probe
that does not answer within :data:`TIMEOUT_SECONDS` is the database unavailable: the caller is told
so at once, while the probe itself finishes or fails in its thread.
"""

from __future__ import annotations

import asyncio
import threading
import time
from concurrent.futures import Future

from sqlalchemy import Connection, Engine, create_engine, text
from sqlalchemy.pool import StaticPool

#: Seconds a probe's answer is reused: health checks from several balancers cost one probe.
FRESH_SECONDS = 0.5
#: Seconds a caller waits for the probe before the database counts as unavailable.
TIMEOUT_SECONDS = 2.0


class DatabaseHealth:
    """Whether the database answers, asked on a connection of the checker's own."""

    def __init__(self, engine: Engine) -> None:
        # the same database and options, one connection of its own kept open: never the request pool's
        self._engine = _own_engine(engine)
        self._lock = threading.Lock()
        self._probe: Future[bool] | None = None
        self._answered_at = 0.0
        self._answer = False
        self._connection: Connection | None = None

    async def answers(self) -> bool:
        """True when the database answered a probe lately or now, within the timeout."""
        with self._lock:
            if self._probe is None and time.monotonic() - self._answered_at < FRESH_SECONDS:
                return self._answer
            if self._probe is None:
                self._probe = Future()
                threading.Thread(target=self._run, args=(self._probe,), name="grader-health", daemon=True).start()
            probe = self._probe
        try:
            # shielded: a caller that stops waiting must not cancel the probe the others wait for
            return await asyncio.wait_for(asyncio.shield(asyncio.wrap_future(probe)), TIMEOUT_SECONDS)
        except TimeoutError:
            return False

    def _run(self, probe: Future[bool]) -> None:
        try:
            answered = self._select_one()
        except Exception:  # (any failure is the answer: unavailable)
            answered = False
        with self._lock:
            self._probe, self._answer, self._answered_at = None, answered, time.monotonic()
        probe.set_result(answered)

    def _select_one(self) -> bool:
        try:
            if self._connection is None:
                self._connection = self._engine.connect()
            self._connection.execute(text("SELECT 1"))
            self._connection.rollback()
            return True
        except Exception:
            if self._connection is not None:
                try:
                    self._connection.invalidate()
                    self._connection.close()
                finally:
                    self._connection = None
            raise

    def close(self) -> None:
        with self._lock:
            if self._connection is not None:
                self._connection.close()
                self._connection = None
        self._engine.dispose()


def _own_engine(engine: Engine) -> Engine:
    """An engine on the same URL with one connection of its own (a static pool), short timeouts."""
    arguments: dict[str, object]
    if engine.dialect.name == "sqlite":
        arguments = {"check_same_thread": False, "timeout": TIMEOUT_SECONDS}
    else:
        arguments = {
            "connect_timeout": int(TIMEOUT_SECONDS),
            "options": f"-c statement_timeout={TIMEOUT_SECONDS * 1000:.0f}",
        }
    return create_engine(engine.url, poolclass=StaticPool, connect_args=arguments)
