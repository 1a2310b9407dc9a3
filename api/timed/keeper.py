"""The service's own time-keeper: a background thread per process (:class:`api.kit.background.Rounds`)
that runs the time-up sweep (:func:`api.timed.sweep.sweep`) as the service starts, then at each
clock's end (at the latest every :data:`POLL_SECONDS`), on SQLite and PostgreSQL alike; and, in the
same rounds, sends the scores held back until a close that has passed
(:func:`api.terms.releases.release_due`), and does the other work a close starts (``after``: the
similarity reports, :mod:`api.jobs.similarity_due`). Several processes may sweep at once: each
sweep is exactly-once whoever runs it."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from api.kit.background import Rounds
from api.terms.releases import release_due
from api.timed.sweep import TimeUp, sweep

log = logging.getLogger("grader.timed")

#: The longest the keeper sleeps between sweeps: a clock ends while the service sleeps, or an
#: extension or a moved close changes an end; each is handled within this many seconds (and the
#: contract's minute).
POLL_SECONDS = 20.0
#: After a clock's end, the keeper waits this long more, so that a draft saved at the last moment
#: has committed before the sweep reads it.
SETTLE = timedelta(seconds=1)


class TimeKeeper(Rounds):
    """Started with the service: the clocks that ended while it was down are handled first; woken
    when a clock starts, whose end may come before the next poll."""

    def __init__(
        self, time_up: TimeUp, *, poll: float = POLL_SECONDS, after: Sequence[Callable[[], object]] = ()
    ) -> None:
        self.time_up = time_up
        self.after = tuple(after)
        self._upcoming: datetime | None = None
        super().__init__(self._sweep, name="grader-time-up", every=poll, due=self._next_end, log=log)

    def _sweep(self) -> None:
        try:
            _, self._upcoming = sweep(self.time_up)
        finally:
            marks = release_due(self.time_up.sessions, reads=self.time_up.reads)
            hooks = self.time_up.after_commit()
            for key in marks & hooks.keys():
                hooks[key]()
            for task in self.after:
                try:
                    task()
                except Exception:  # (the sweep's own work goes on whatever a later task does)
                    log.exception("the time-keeper's round: %s failed", getattr(task, "__name__", task))

    def _next_end(self) -> datetime | None:
        return None if self._upcoming is None else self._upcoming + SETTLE
