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

#: Meanings kept: every wrong answer of a big course's term, a few hundred bytes each beside the
#: answer as read, whose characters count against :data:`ANSWERS_KEPT` (a matrix may be long).
MEANINGS_KEPT = 100_000
ANSWERS_KEPT = 10_000_000

Memo = tuple[str, str, str | None, str]


class _Kept:
    """The meanings kept by (set version, key, variant, answer as read), the oldest forgotten first."""

    def __init__(self) -> None:
        self.meanings: dict[Memo, Meaning] = {}
        self.characters = 0
        self.lock = threading.Lock()

    def keep(self, memo: Memo, meaning: Meaning) -> None:
        if len(memo[3]) > ANSWERS_KEPT:  # (an answer longer than the bound alone: not kept)
            return
        with self.lock:
            while self.meanings and (
                len(self.meanings) >= MEANINGS_KEPT or self.characters + len(memo[3]) > ANSWERS_KEPT
            ):
                oldest = next(iter(self.meanings))
                del self.meanings[oldest]
                self.characters -= len(oldest[3])
            if memo not in self.meanings:
                self.meanings[memo] = meaning
                self.characters += len(memo[3])


_kept = _Kept()


class Meanings:
    """The meanings of wrong answers to ``problem_set``, as :class:`WrongAnswers` gives them."""

    def __init__(self, problem_set: ProblemSet) -> None:
        self.version = problem_set.version
        self.wrong = WrongAnswers(problem_set)

    def meaning(self, key: str, part: Mapping[str, Any], variant: str | None) -> Meaning:
        shown = part.get("read_as")
        if part.get("misconception") or not isinstance(shown, str) or not self.version:
            return self.wrong.meaning(key, part, variant)  # (named already, unread, or a set made in code)
        memo = (self.version, key, variant, shown)
        found = _kept.meanings.get(memo)
        if found is None:
            found = self.wrong.meaning(key, part, variant)
            _kept.keep(memo, found)
        return found
