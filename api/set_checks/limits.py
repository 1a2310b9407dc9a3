"""What an instructor's set checks may use of the sandbox (defaults: :class:`api.kit.config.Settings`').

An attack showed why a check needs a budget of its own: an upload's check ran each code part's
solution and every declared mistake on three draws inside the request, with no limit but the
sandbox's 10 s a call, so a solution that sleeps 4 s a test held a sandbox 72 s an upload, and the
set's sizes allow days. A check is now stopped past :attr:`CheckLimits.seconds`, and an
instructor's checks together are held to :attr:`CheckLimits.instructor_seconds` per
:attr:`CheckLimits.window` (:mod:`api.set_checks.budget`). The largest built-in set with code
(``seed-code-tasks``, a network trained on digits) takes about 35 s, the others 2 s or less.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from api.kit.config import Settings

#: Set checks one instructor may have queued or running at once: another upload is refused (429)
#: until one is over, so one instructor's flood never stands between another's upload and its check.
QUEUED_PER_INSTRUCTOR = 3
#: Seconds an instructor refused for too many checks at once is told to wait.
QUEUED_RETRY_AFTER = 30


@dataclass(frozen=True)
class CheckLimits:
    #: Sandbox wall seconds one check may use.
    seconds: float = 300.0
    #: Sandbox wall seconds one instructor's checks may use per ``window``.
    instructor_seconds: float = 1200.0
    window: timedelta = timedelta(minutes=60)

    @classmethod
    def of(cls, settings: Settings) -> CheckLimits:
        return cls(
            seconds=settings.set_check_seconds,
            instructor_seconds=settings.set_check_instructor_seconds,
            window=timedelta(minutes=settings.set_check_window_minutes),
        )
