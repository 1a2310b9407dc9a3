"""The wrong answers' meanings kept per process (``api.reports.meanings``) stay within their bounds:
so many meanings, and so many characters of the answers they are kept by (a matrix may be long)."""

from __future__ import annotations

import pytest

from api.reports import meanings
from grader.comparison.meaning import OTHER


def test_the_oldest_meanings_are_forgotten_past_either_bound(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(meanings, "MEANINGS_KEPT", 3)
    monkeypatch.setattr(meanings, "ANSWERS_KEPT", 10)
    kept = meanings._Kept()
    for answer in ("1", "22", "333"):
        kept.keep(("v", "q1.a", "s", answer), OTHER)
    kept.keep(("v", "q1.a", "s", "4444"), OTHER)  # a fourth meaning: the first goes
    assert [memo[3] for memo in kept.meanings] == ["22", "333", "4444"] and kept.characters == 9
    kept.keep(("v", "q1.a", "s", "55555"), OTHER)  # 14 characters: the two oldest go
    assert [memo[3] for memo in kept.meanings] == ["4444", "55555"] and kept.characters == 9
    kept.keep(("v", "q1.a", "s", "x" * 11), OTHER)  # longer than the bound alone: not kept, nothing forgotten
    assert [memo[3] for memo in kept.meanings] == ["4444", "55555"] and kept.characters == 9
