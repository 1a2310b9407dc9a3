"""The problem bank as the service sees it: loaded once, reloaded when a set file changes.

Every request asks :meth:`Bank.sets`, which compares the set files' sizes and modification times
(a few ``stat`` calls) with those it loaded, at most once per ``check_every`` seconds (the service
uses one second: the check cost more than some requests); after an edit every worker process picks
up the new version by itself (assignments keep the version they pinned until moved to it). A set
file that does not load is left out and reported once, in a sentence: the service starts without it.
"""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path

from problems.loader import BUILT_IN, SetFileError, load_set
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
        self._by_file: dict[str, ProblemSet] = {}
        self._sets = preloaded if preloaded is not None else self._load()

    def _load(self) -> dict[str, ProblemSet]:
        """Every set file that loads, by set id. One that does not is logged; its last good version
        is kept if there was one, else it is left out."""
        sets: dict[str, ProblemSet] = {}
        loaded: dict[str, ProblemSet] = {}
        for path in sorted(self.folder.glob("*.yaml")):
            try:
                problem_set = load_set(path)
            except (SetFileError, OSError, UnicodeDecodeError) as error:
                kept = self._by_file.get(path.name)
                what = "its last good version is kept" if kept else "it is left out of the library"
                log.error("the set file %s does not load (%s): %s", path.name, what, error)
                if kept is None:
                    continue
                problem_set = kept
            loaded[path.name] = problem_set
            if problem_set.id in sets:
                log.error("the set file %s is left out: its id %r is already used", path.name, problem_set.id)
                continue
            sets[problem_set.id] = problem_set
        self._by_file = loaded
        return sets

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
                self._sets = self._load()
                self._stamp = stamp
        return self._sets
