"""Question pools and shuffling: which of a set's problems one student gets, and in what order.

A pool (``pool: {choose: K, problems: [...]}`` in a set file) gives each student K of its problems;
a set's ``shuffle`` orders the problems per student. Both are drawn from what the student's other
draws come from (:func:`problems.variants.variant_key`: a keyed hash of the assignment's secret and
the student), with the pool's index as a label, so that a student's draw is the same every time and
nobody without the secret can tell which problems a student will get.
"""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, Field

from problems.variants import seeded


class PoolSpec(BaseModel):
    """What a pool entry holds: ``pool: {choose: K, problems: [...]}``."""

    model_config = ConfigDict(extra="forbid")
    choose: int = Field(
        description="How many of the pool's problems each student gets (at least 1, at most as many as it holds).",
    )
    problems: list[object] = Field(
        description="The problem entries drawn from, each an entry as anywhere else (a pool holds no pool). "
        "Every one is worth the same points, and its id is used nowhere else in the set.",
    )


@dataclass(frozen=True)
class Pool:
    """A pool of a set: ``choose`` of the problems at ``members`` (indices into the set's problems)."""

    choose: int
    members: tuple[int, ...]


def drawn_problems(
    set_id: str, count: int, pools: tuple[Pool, ...], shuffle: bool, drawn_from: str | None
) -> tuple[int, ...]:
    """The indices of the problems one student gets, in the order they see them: every problem
    outside a pool, and ``choose`` of each pool's (kept in the file's order), then, with ``shuffle``,
    all of them in an order of the student's own. ``drawn_from`` None (staff's view of the set):
    every problem in the file's order.

    >>> drawn_problems("s", 3, (Pool(1, (1, 2)),), False, None)
    (0, 1, 2)
    >>> len(drawn_problems("s", 3, (Pool(1, (1, 2)),), False, "v:1"))
    2
    """
    if drawn_from is None:
        return tuple(range(count))
    left_out: set[int] = set()
    for number, pool in enumerate(pools):
        rng = seeded(set_id, "pool", str(number), drawn_from)
        chosen = {pool.members[int(i)] for i in rng.permutation(len(pool.members))[: pool.choose]}
        left_out |= set(pool.members) - chosen
    kept = [index for index in range(count) if index not in left_out]
    if shuffle:
        rng = seeded(set_id, "shuffle", drawn_from)
        kept = [kept[int(i)] for i in rng.permutation(len(kept))]
    return tuple(kept)
