"""The course gradebook's arithmetic (:mod:`api.categories.weights`): categories checked with a
reason, drop-lowest by fraction, the weighted total; textbook cases, then properties on random
courses (hypothesis)."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from api.categories.weights import (
    DEFAULT,
    Category,
    Points,
    category_percent,
    problems,
    standing,
    total_percent,
)


@pytest.mark.parametrize(
    ("categories", "reason"),
    [
        # weights that do not add up: the sum is said
        ([Category("hw", 60), Category("exams", 30)], "The weights must add up to 100: 60 + 30 = 90."),
        ([Category("hw", 60), Category("exams", 50)], "The weights must add up to 100: 60 + 50 = 110."),
        # a name twice
        ([Category("hw", 50), Category("hw", 50)], "Each category's name appears once; repeated: hw."),
        # none at all
        ([], "Give at least one category."),
    ],
)
def test_categories_that_cannot_be_are_refused_with_the_reason(categories: list[Category], reason: str) -> None:
    assert reason in problems(categories)


def test_the_default_and_weights_typed_by_hand_are_accepted() -> None:
    assert problems(DEFAULT) == []
    assert problems([Category("a", 33.33), Category("b", 33.33), Category("c", 33.34)]) == []


@pytest.mark.parametrize(
    ("points", "drop", "percent"),
    [
        # points earned over points possible, not the mean of fractions
        ([Points(10, 10), Points(0, 30)], 0, 25.0),
        # a missing score is 0 earned
        ([Points(8, 10), Points(None, 10)], 0, 40.0),
        # drop the lowest by fraction: 1/10 (0.1), not 4/20 (0.2)
        ([Points(1, 10), Points(4, 20), Points(9, 10)], 1, 100 * 13 / 30),
        ([Points(5, 10), Points(None, 10), Points(9, 10)], 1, 70.0),
        # never drops everything: one assignment is kept
        ([Points(5, 10), Points(7, 10)], 5, 70.0),
        # an assignment worth nothing is left out; nothing to grade is None
        ([Points(0, 0), Points(3, 4)], 0, 75.0),
        ([], 0, None),
        ([Points(None, 0)], 2, None),
    ],
)
def test_category_percent(points: list[Points], drop: int, percent: float | None) -> None:
    found = category_percent(points, drop)
    assert found == (None if percent is None else pytest.approx(percent))


def test_the_total_is_the_weighted_sum_over_the_categories_that_hold_points() -> None:
    categories = [Category("hw", 40), Category("exams", 60, drop_lowest=1)]
    result = standing(categories, {"hw": [Points(8, 10), Points(10, 10)], "exams": [Points(50, 100), Points(80, 100)]})
    assert result.categories == {"hw": pytest.approx(90.0), "exams": pytest.approx(80.0)}
    assert result.total == pytest.approx(0.4 * 90 + 0.6 * 80)
    # no exam yet: homework makes up the whole, rather than capping everyone at 40
    early = standing(categories, {"hw": [Points(8, 10)]})
    assert early.categories == {"hw": pytest.approx(80.0), "exams": None}
    assert early.total == pytest.approx(80.0)
    assert total_percent(categories, {"hw": None, "exams": None}) is None


possible = st.floats(min_value=0.5, max_value=100, allow_nan=False)


@st.composite
def scored(draw: st.DrawFn) -> Points:
    out_of = draw(possible)
    earned = draw(st.none() | st.floats(min_value=0, max_value=1).map(lambda share: share * out_of))
    return Points(earned, out_of)


@given(st.lists(scored(), min_size=1, max_size=12), st.integers(min_value=0, max_value=15))
def test_a_category_percent_is_within_0_and_100_and_dropping_never_lowers_it(points: list[Points], drop: int) -> None:
    kept_all = category_percent(points, 0)
    dropped = category_percent(points, drop)
    assert kept_all is not None and dropped is not None
    assert -1e-9 <= kept_all <= 100 + 1e-9 and -1e-9 <= dropped <= 100 + 1e-9
    # dropping the lowest fractions never lowers the share of points earned
    assert dropped >= kept_all - 1e-9


@given(st.lists(scored(), min_size=1, max_size=8), st.integers(min_value=0, max_value=3))
def test_the_order_of_assignments_does_not_change_a_category_percent(points: list[Points], drop: int) -> None:
    assert category_percent(points, drop) == pytest.approx(category_percent(list(reversed(points)), drop))


@given(
    st.lists(st.integers(min_value=1, max_value=20), min_size=1, max_size=6),
    st.data(),
)
def test_the_total_lies_between_the_lowest_and_the_highest_category(shares: list[int], data: st.DataObject) -> None:
    weights = [100 * s / sum(shares) for s in shares]
    categories = [Category(f"c{i}", w) for i, w in enumerate(weights)]
    percents = {c.name: data.draw(st.floats(min_value=0, max_value=100)) for c in categories}
    total = total_percent(categories, percents)
    assert total is not None
    assert min(percents.values()) - 1e-9 <= total <= max(percents.values()) + 1e-9
    assert math.isclose(total, sum(c.weight * percents[c.name] for c in categories) / 100, abs_tol=1e-9)
