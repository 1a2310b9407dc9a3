"""The course gradebook's arithmetic, pure: categories checked, and a student's percent per
category and in total from their points.

A category's percent is ``100 · Σ earned / Σ possible`` over its assignments after dropping its
``drop_lowest`` lowest by fraction ``earned / possible`` (a missing score is 0 earned; at least one
assignment is always kept). The total is ``Σ weight · percent / Σ weight`` over the categories that
hold points: with every category holding some, exactly the weighted sum ``Σ weight · percent / 100``;
a category with nothing to grade yet (no exam written) leaves the others to make up the whole,
rather than capping every student at the weights that exist."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

#: The weights must sum to 100 within this (weights are typed by hand, e.g. 33.33 three times + 0.01).
TOLERANCE = 1e-6
MAX_CATEGORIES = 50


@dataclass(frozen=True, slots=True)
class Category:
    """One category: its ``weight`` in percent of the total, and how many of its lowest scores
    (by fraction) are dropped."""

    name: str
    weight: float
    drop_lowest: int = 0


DEFAULT = (Category("homework", 100.0),)


@dataclass(frozen=True, slots=True)
class Points:
    """One assignment's score for one student (None: nothing submitted, counted as 0) out of
    ``possible``."""

    earned: float | None
    possible: float

    @property
    def fraction(self) -> float:
        return (self.earned or 0.0) / self.possible


def problems(categories: Sequence[Category]) -> list[str]:
    """Why these categories cannot be the course's, each a sentence (empty: they can)."""
    found = []
    if not categories:
        found.append("Give at least one category.")
    if len(categories) > MAX_CATEGORIES:
        found.append(f"At most {MAX_CATEGORIES} categories.")
    names = [category.name for category in categories]
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        found.append(f"Each category's name appears once; repeated: {', '.join(repeated)}.")
    total = sum(category.weight for category in categories)
    if categories and abs(total - 100.0) > TOLERANCE:
        weights = " + ".join(f"{category.weight:g}" for category in categories)
        found.append(f"The weights must add up to 100: {weights} = {total:g}.")
    return found


def category_percent(points: Iterable[Points], drop_lowest: int = 0) -> float | None:
    """``100 · Σ earned / Σ possible`` after dropping the ``drop_lowest`` lowest fractions (the
    larger of equal fractions first, then the later); None: nothing to grade (no assignment with
    points). An assignment worth no points is left out.

    >>> category_percent([Points(5, 10), Points(None, 10), Points(9, 10)], drop_lowest=1)
    70.0
    """
    graded = [p for p in points if p.possible > 0]
    if not graded:
        return None
    drop = min(max(drop_lowest, 0), len(graded) - 1)
    kept = graded
    if drop:
        order = sorted(range(len(graded)), key=lambda i: (graded[i].fraction, -graded[i].possible, -i))
        kept = [graded[i] for i in sorted(order[drop:])]
    possible = sum(p.possible for p in kept)
    return 100.0 * sum(p.earned or 0.0 for p in kept) / possible


def total_percent(categories: Sequence[Category], percents: Mapping[str, float | None]) -> float | None:
    """The weighted total of the categories' percents (see the module); None: no category holds
    points."""
    held = [(c.weight, percents[c.name]) for c in categories if percents.get(c.name) is not None]
    weights = sum(weight for weight, _ in held)
    if not held or weights <= 0:
        return None
    return sum(weight * (percent or 0.0) for weight, percent in held) / weights


@dataclass(frozen=True, slots=True)
class Standing:
    """One student's percent per category (None: nothing to grade in it) and in total."""

    categories: dict[str, float | None]
    total: float | None


def standing(categories: Sequence[Category], points: Mapping[str, Sequence[Points]]) -> Standing:
    """A student's standing from their points by category name (a category absent: no assignments)."""
    percents = {c.name: category_percent(points.get(c.name, ()), c.drop_lowest) for c in categories}
    return Standing(percents, total_percent(categories, percents))
