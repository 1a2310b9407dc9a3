"""The background job that drains the outbox of grade passback (:func:`api.lti.ags.send_due`)
and sends the line items their moved dates (:func:`api.lti.item_dates.send_dates`): one round
does both (:func:`send_round`).

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
from datetime import UTC, datetime

import httpx
from sqlalchemy.orm import Session

from api.kit.background import Rounds
from api.lti import ags, item_dates

log = logging.getLogger("grader.lti")

#: Seconds between two rounds, at most.
EVERY = 15.0


class ScoreSender(Rounds):
    def __init__(
        self, send: Callable[[], object], *, every: float = EVERY, due: Callable[[], datetime | None] | None = None
    ) -> None:
        """``due``: when the next row waiting for a retry is due (:func:`api.lti.ags.next_due`)."""
        super().__init__(send, name="grader-lti-scores", every=every, due=due, log=log)


def send_round(
    sessions: Callable[[], Session],
    http: httpx.Client,
    *,
    kek: str | None,
    now: datetime | None = None,
    reads: Callable[[], Session] | None = None,
) -> dict[str, dict[str, int]]:
    """The scores due, then the line items' dates due: how many of each were sent, put back to
    retry, failed."""
    now = now or datetime.now(UTC)
    scores = ags.send_due(sessions, http, kek=kek, now=now, reads=reads)
    dates = item_dates.send_dates(sessions, http, kek=kek, now=now, reads=reads)
    return {"scores": scores, "dates": dates}


def next_due(db: Session) -> datetime | None:
    """When the earliest score or line item waiting for a retry is due; None if none waits."""
    due = [moment for moment in (ags.next_due(db), item_dates.next_dates_due(db)) if moment is not None]
    return min(due, default=None)
