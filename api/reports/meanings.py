"""What the wrong answers to a randomized set mean (:class:`grader.comparison.meaning.WrongAnswers`),
each worked out once per process: a meaning depends only on the set's version, the key, the
student's variant and the answer as read, and working one out solves the student's variant (a
millisecond a problem), which the statistics of a big course would do for a thousand students at
every view."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any

from grader.comparison.meaning import Meaning, WrongAnswers
from problems.sets import ProblemSet

#: Meanings kept, a few hundred bytes each: every wrong answer of a big course's term.
MEANINGS_KEPT = 100_000
_kept: dict[tuple[str, str, str | None, str], Meaning] = {}
_lock = threading.Lock()


class Meanings:
    """The meanings of wrong answers to ``problem_set``, as :class:`WrongAnswers` gives them."""

    def __init__(self, problem_set: ProblemSet) -> None:
        self.version = problem_set.version
        self.wrong = WrongAnswers(problem_set)

    def meaning(self, key: str, part: Mapping[str, Any], variant: str | None) -> Meaning:
        shown = part.get("read_as")
        if part.get("misconception") or not isinstance(shown, str) or not self.version:  # (nothing to solve)
            return self.wrong.meaning(key, part, variant)
        memo = (self.version, key, variant, shown)
        found = _kept.get(memo)
        if found is None:
            found = self.wrong.meaning(key, part, variant)
            with _lock:
                while len(_kept) >= MEANINGS_KEPT:
                    del _kept[next(iter(_kept))]
                _kept[memo] = found
        return found
