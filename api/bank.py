"""The problem bank as the service sees it: loaded once, reloaded when a set file changes.

Every request asks :meth:`Bank.sets`, which compares the set files' sizes and modification times
(a few ``stat`` calls) with those it loaded, at most once per ``check_every`` seconds (the service
uses one second: the check cost more than some requests); after an edit every worker process picks
up the new version by itself, and ``POST .../regrade`` regrades against it. A set file that no
longer loads is logged and the last good bank is kept.
"""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path

from problems.loader import BUILT_IN, SetFileError, load_bank
from problems.sets import ProblemSet

log = logging.getLogger("grader.api")


class Bank:
    def __init__(
        self, folder: Path = BUILT_IN, preloaded: dict[str, ProblemSet] | None = None, *, check_every: float = 0.0
    ) -> None:
        self.folder = folder
        self.check_every = check_every
        self._lock = threading.Lock()
        self._stamp = self._files()
        self._checked = time.monotonic()
        self._sets = preloaded if preloaded is not None else load_bank(folder)

    def _files(self) -> tuple[tuple[str, int, int], ...]:
        found = []
        for path in sorted(self.folder.glob("*.yaml")):
            try:
                stat = path.stat()
            except OSError:
                continue
            found.append((path.name, stat.st_size, stat.st_mtime_ns))
        return tuple(found)

    def sets(self) -> dict[str, ProblemSet]:
        now = time.monotonic()
        if now - self._checked < self.check_every:
            return self._sets
        self._checked = now
        stamp = self._files()
        if stamp == self._stamp:
            return self._sets
        with self._lock:
            if stamp != self._stamp:
                try:
                    self._sets = load_bank(self.folder)
                except (SetFileError, OSError) as error:
                    log.error("problem bank not reloaded, keeping the last good one: %s", error)
                self._stamp = stamp
        return self._sets
