"""Reading a set file's pools (``pool: {choose: K, problems: [...]}``): their problems taken out
into the set's list, in the file's order, and every way a pool can be wrong refused at its line.

A pool must give each student as many points as any other, and a problem of a pool must be
known by its id alone (its answer keys, its statistics, a student's draw all name it), so its
problems are worth the same and their ids are used nowhere else in the set.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from pydantic import ValidationError

from problems.parts import Operation
from problems.pools import Pool, PoolSpec
from problems.positions import Step
from problems.sets import Problem

Place = tuple[Step, ...]


class Reporter(Protocol):
    """Where issues go (:class:`problems.loader._Found`)."""

    def add(
        self,
        message: str,
        path: Sequence[Step] = (),
        problem: str | None = None,
        field: str | None = None,
        *,
        key: bool = False,
    ) -> None: ...

    def validation(self, error: ValidationError, base: Place, problem: str | None, tag: str | None = None) -> None: ...


@dataclass(frozen=True)
class PoolEntry:
    """A pool as the file gives it: where it is, how many it gives, the indices of its problems
    among the set's."""

    path: Place
    choose: int
    members: tuple[int, ...]


def entry_depth(path: Sequence[Step]) -> int:
    """How many steps of a path lead to its problem entry: 2 (``problems, 3``), or 5 inside a pool
    (``problems, 3, pool, problems, 0``)."""
    return 5 if len(path) >= 5 and tuple(path[2:4]) == ("pool", "problems") else 2


def entries(found: Reporter, listed: list[Any]) -> tuple[list[tuple[Place, Any]], list[PoolEntry]]:
    """Every problem entry of the file with where it is, those of a pool in its place; and the pools
    (a pool that is wrong is reported, and its problems left out)."""
    flat: list[tuple[Place, Any]] = []
    pools: list[PoolEntry] = []
    for index, entry in enumerate(listed):
        base: Place = ("problems", index)
        if not (isinstance(entry, dict) and "pool" in entry):
            flat.append((base, entry))
            continue
        spec = _pool(found, entry, base)
        if spec is None:
            continue
        start = len(flat)
        flat += [((*base, "pool", "problems", number), member) for number, member in enumerate(spec.problems)]
        pools.append(PoolEntry(base, spec.choose, tuple(range(start, len(flat)))))
    return flat, pools


def _pool(found: Reporter, entry: dict[str, Any], base: Place) -> PoolSpec | None:
    """The pool an entry declares, or None with its issues reported."""
    label = f"pool #{base[-1] + 1}" if isinstance(base[-1], int) else None
    for name in entry:
        if name != "pool":
            found.add(
                f"a pool entry holds only `pool` (move {name!r} into one of its problems)",
                (*base, name),
                label,
                str(name),
                key=True,
            )
    if not isinstance(entry["pool"], dict):
        found.add("a pool is a mapping: `pool: {choose: K, problems: [...]}`", (*base, "pool"), label, "pool")
        return None
    try:
        spec = PoolSpec.model_validate(entry["pool"])
    except ValidationError as error:
        found.validation(error, (*base, "pool"), label)
        return None
    held = len(spec.problems)
    right = True
    if not held:
        found.add("an empty pool: list the problems it draws from", (*base, "pool", "problems"), label, "pool.problems")
        right = False
    elif spec.choose < 1:
        message = f"choose is {spec.choose}: a pool gives each student at least 1 of its problems"
        found.add(message, (*base, "pool", "choose"), label, "pool.choose")
        right = False
    elif spec.choose > held:
        message = f"choose is {spec.choose}, but the pool holds {held} problem{'s' if held != 1 else ''}"
        found.add(message, (*base, "pool", "choose"), label, "pool.choose")
        right = False
    for number, member in enumerate(spec.problems):
        if isinstance(member, dict) and "pool" in member:
            where = (*base, "pool", "problems", number, "pool")
            found.add(
                "a pool inside a pool: a pool holds problems only",
                where,
                label,
                f"pool.problems.{number}.pool",
                key=True,
            )
            right = False
    return spec if right else None


def check_pools(
    found: Reporter, problems: list[Problem], pools: list[PoolEntry], paths: list[Place]
) -> tuple[Pool, ...]:
    """The pools of the set, once each holds problems known by their id alone and worth the same
    points (else reported at the problem at fault)."""
    uses: dict[str, int] = {}
    for problem in problems:
        uses[problem.id] = uses.get(problem.id, 0) + 1
    for pool in pools:
        first = problems[pool.members[0]]
        for index in pool.members:
            problem = problems[index]
            if uses[problem.id] > 1:
                message = (
                    f"the id {problem.id!r} is used by another problem of the set: a problem of a pool has an id "
                    "of its own (a student's draw names it)"
                )
                found.add(message, (*paths[index], "id"), problem.id, "id")
            elif problem.points() != first.points():
                message = (
                    f"worth {problem.points():g} points, but {first.id!r} of the same pool is worth "
                    f"{first.points():g}: the problems of a pool are worth the same, so that every student "
                    "can earn as many points"
                )
                found.add(message, (*paths[index], "parts"), problem.id, "parts")
    _check_references(found, problems, pools, paths)
    return tuple(Pool(pool.choose, pool.members) for pool in pools)


def _check_references(found: Reporter, problems: list[Problem], pools: list[PoolEntry], paths: list[Place]) -> None:
    """No part builds on a part of a pooled problem other than its own (``@q2.a``): a student who
    did not draw that problem would have nothing to build on."""
    pooled = {problems[index].id for pool in pools for index in pool.members}
    for index, problem in enumerate(problems):
        for part in problem.parts:
            pending: list[str | int | Operation] = [part.quantity]
            while pending:
                item = pending.pop()
                if isinstance(item, Operation):
                    pending += item.operands
                elif isinstance(item, str) and item.startswith("@"):
                    other = item[1:].partition(".")[0]
                    if other in pooled and other != problem.id:
                        message = (
                            f"builds on {item[1:]!r}, a part of a problem of a pool: a student who did not draw "
                            f"{other!r} has no such part"
                        )
                        where = (*paths[index], "parts", problem.position(part.key), "quantity")
                        found.add(message, where, problem.id, f"parts.{problem.position(part.key)}.quantity")
