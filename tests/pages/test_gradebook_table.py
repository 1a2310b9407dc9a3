"""Sorting the gradebook table: every row kept, in order by the column, empty cells last either way,
ties in the gradebook's order."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from api.kit.errors import Unprocessable
from api.pages.staff.gradebook_table import column_named, columns, sort_rows


def row(student: str, score: float | None, *, part: float | None = None, extension: dict | None = None) -> dict:
    return {
        "student": student,
        "name": student.upper(),
        "attempts": 0 if score is None else 1,
        "attempt": None if score is None else 1,
        "days_late": None if score is None else 0,
        "score": score,
        "parts": {} if score is None else {"q1": part},
        "extension": extension,
    }


scores = st.lists(st.one_of(st.none(), st.sampled_from([0.0, 0.5, 1.0, 2.0])), max_size=12)


@given(scores, st.sampled_from(["asc", "desc"]))
def test_sorting_by_score_keeps_every_row_orders_them_and_puts_the_empty_last(values, order) -> None:
    rows = [row(f"s{i:02}", score) for i, score in enumerate(values)]
    done = sort_rows(rows, column_named(columns(["q1"]), "score"), order)
    assert sorted(r["student"] for r in done) == [r["student"] for r in rows]
    shown = [r["score"] for r in done]
    filled = [s for s in shown if s is not None]
    assert filled == sorted(filled, reverse=order == "desc")
    assert shown == filled + [None] * (len(shown) - len(filled))
    # ties keep the gradebook's order (by student id)
    for score in set(filled):
        tied = [r["student"] for r in done if r["score"] == score]
        assert tied == sorted(tied)


def test_extensions_sort_by_due_date_then_limit_and_the_unextended_last() -> None:
    early = {"due_at": datetime(2030, 1, 1, tzinfo=UTC), "max_attempts": None}
    late = {"due_at": datetime(2030, 6, 1, tzinfo=UTC), "max_attempts": 2}
    limit = {"due_at": None, "max_attempts": 5}
    rows = [
        row("a", 1, extension=None),
        row("b", 1, extension=limit),
        row("c", 1, extension=late),
        row("d", 1, extension=early),
    ]
    column = column_named(columns([]), "extension")
    assert [r["student"] for r in sort_rows(rows, column, "asc")] == ["d", "c", "b", "a"]
    assert [r["student"] for r in sort_rows(rows, column, "desc")] == ["b", "c", "d", "a"]


def test_a_keys_column_sorts_by_that_keys_score_and_names_are_compared_without_case() -> None:
    rows = [row("b", 2, part=0.0), row("A", 1, part=1.0), row("c", None)]
    table = columns(["q1"])
    assert [r["student"] for r in sort_rows(rows, column_named(table, "key:q1"), "desc")] == ["A", "b", "c"]
    assert [r["student"] for r in sort_rows(rows, column_named(table, "name"), "asc")] == ["A", "b", "c"]


def test_an_unknown_column_names_the_known_ones() -> None:
    with pytest.raises(Unprocessable, match=r"sort by one of student, name, .*key:q1"):
        column_named(columns(["q1"]), "key:q2")
