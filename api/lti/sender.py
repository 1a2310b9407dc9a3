"""The background job that drains the outbox of grade passback (:func:`api.lti.ags.send_due`).

On SQLite the service runs it itself: :class:`ScoreSender`, a thread per process that sends what
is due at once when woken (a transaction that wrote scores has committed), when a retry's
back-off ends, and every :data:`EVERY` seconds regardless. On PostgreSQL ``grader worker`` runs
it, as a procrastinate task: deferred as scores commit, scheduled for a retry's back-off, and
periodic (:mod:`api.jobs.queue`). Rows are leased as they are taken (:func:`api.lti.ags._claimed`),
so senders in several processes never send a row twice at once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from api.kit.background import Rounds

log = logging.getLogger("grader.lti")

#: Seconds between two rounds, at most.
EVERY = 15.0


class ScoreSender(Rounds):
    def __init__(
        self, send: Callable[[], object], *, every: float = EVERY, due: Callable[[], datetime | None] | None = None
    ) -> None:
        """``due``: when the next row waiting for a retry is due (:func:`api.lti.ags.next_due`)."""
        super().__init__(send, name="grader-lti-scores", every=every, due=due, log=log)
