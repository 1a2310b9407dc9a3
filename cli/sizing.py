"""How many code workers a deadline burst needs: the arithmetic ``grader capacity`` shows.

A burst is ``n`` submissions sent evenly over a window of ``W`` seconds, whose last result is wanted
within ``T`` seconds of the first submission. A submission costs a code worker ``c`` seconds of one
core (its sandbox run and its judging), ``j`` of them in the worker's own process. A worker of ``C``
cores runs ``C`` submissions at once (``--concurrency``: a sandbox per core), but judges them in one
Python process, one at a time (the interpreter's lock), so it grades at most

    r = min(C / c, 1 / j) submissions a second

and ``k`` workers ``k·r``. Sent evenly, the submissions are graded as they come while
``k·r ≥ n / W``; past that they queue, and the workers, never idle, are through them at ``n / (k·r)``.
Either way the last result comes about one run after whichever is later:

    last(k) = max(W, n / (k·r)) + c

``last(k) ≤ T`` needs ``n / (k·r) ≤ T − c``, so ``k = ⌈n / (r·(T − c))⌉``, and ``W + c ≤ T``: no
number of workers grades the last submission before it is sent.

    >>> plan(Burst(submissions=1_200, window=600, target=900), Cost(seconds=2.0), cores=2).workers
    2
"""

from __future__ import annotations

import math
from dataclasses import dataclass


class Unplannable(ValueError):
    """A burst no number of workers can grade as asked, or numbers that make no burst; says why."""


@dataclass(frozen=True)
class Burst:
    """``submissions`` sent evenly over ``window`` seconds, the last result wanted by ``target``
    seconds after the first was sent."""

    submissions: int
    window: float
    target: float


@dataclass(frozen=True)
class Cost:
    """What one submission costs a code worker: ``seconds`` of one core, ``judging`` of them in the
    worker's own process (None: not known, and then not a bound)."""

    seconds: float
    judging: float | None = None


@dataclass(frozen=True)
class Plan:
    """The workers of ``cores`` each the burst needs, with what they were worked out from."""

    burst: Burst
    cost: Cost
    cores: int
    #: Submissions a second one worker grades at most (``r``).
    rate: float
    workers: int

    def last(self, workers: int) -> float:
        """When the last result comes with ``workers`` workers, in seconds after the first submission."""
        return max(self.burst.window, self.burst.submissions / (workers * self.rate)) + self.cost.seconds

    @property
    def cores_bound(self) -> float:
        """The rate the worker's sandboxes allow, ``C / c``."""
        return self.cores / self.cost.seconds

    @property
    def judging_bound(self) -> float | None:
        """The rate its one process's judging allows, ``1 / j`` (None where ``j`` is not known)."""
        return None if not self.cost.judging else 1 / self.cost.judging


def plan(burst: Burst, cost: Cost, *, cores: int) -> Plan:
    """The fewest workers of ``cores`` cores whose last result of ``burst`` comes by its target;
    Unplannable, with the reason, where no number of them can."""
    _check(burst, cost, cores)
    rate = cores / cost.seconds if not cost.judging else min(cores / cost.seconds, 1 / cost.judging)
    room = burst.target - cost.seconds
    workers = max(1, math.ceil(burst.submissions / (rate * room) - 1e-9))
    return Plan(burst, cost, cores, rate, workers)


def check_burst(burst: Burst) -> None:
    """Unplannable where the burst is no burst, or its target comes no later than its last
    submission (whatever a submission costs): before a cost is measured for it."""
    if burst.submissions < 1:
        raise Unplannable(f"a burst has at least one submission, not {burst.submissions}")
    if not (math.isfinite(burst.window) and burst.window >= 0):
        raise Unplannable(f"the window is a number of seconds from 0 up, not {burst.window:g}")
    if not math.isfinite(burst.target):
        raise Unplannable(f"the target is a number of seconds, not {burst.target:g}")
    if burst.target <= burst.window:
        raise Unplannable(
            f"no number of workers gives the last result by {burst.target:g} s: the last submission is sent at "
            f"{burst.window:g} s, and takes some time to grade"
        )


def _check(burst: Burst, cost: Cost, cores: int) -> None:
    check_burst(burst)
    if not (math.isfinite(cost.seconds) and cost.seconds > 0):
        raise Unplannable(f"a submission's cost is a number of seconds above 0, not {cost.seconds:g}")
    if cost.judging is not None and not (math.isfinite(cost.judging) and 0 <= cost.judging <= cost.seconds):
        raise Unplannable(
            f"the judging's share of the cost is from 0 to the cost's {cost.seconds:g} s, not {cost.judging:g}"
        )
    if cores < 1:
        raise Unplannable(f"a worker has at least one core, not {cores}")
    if not (burst.target >= burst.window + cost.seconds and burst.target > cost.seconds):
        earliest = burst.window + cost.seconds
        raise Unplannable(
            f"no number of workers gives the last result by {burst.target:g} s: the last submission is sent at "
            f"{burst.window:g} s and takes {cost.seconds:g} s to grade, so {earliest:g} s is the earliest"
        )


def explained(found: Plan) -> list[str]:
    """The arithmetic behind ``found``, a line a step, with its figures."""
    burst, cost, cores = found.burst, found.cost, found.cores
    c, n, w, t = cost.seconds, burst.submissions, burst.window, burst.target
    lines = []
    if found.judging_bound is not None:
        lines.append(
            f"a worker of {cores} core{'s' if cores != 1 else ''} grades at most min({cores} ÷ {c:.4g}, "
            f"1 ÷ {cost.judging:.4g}) = min({found.cores_bound:,.1f}, {found.judging_bound:,.1f}) = "
            f"{found.rate:,.1f} submissions a second (its sandboxes, its one process's judging)"
        )
    else:
        lines.append(
            f"a worker of {cores} core{'s' if cores != 1 else ''} grades at most {cores} ÷ {c:.4g} = "
            f"{found.rate:,.1f} submissions a second (a sandbox per core)"
        )
    coming = f"{n:,} ÷ {w:g} = {n / w:,.1f} a second" if w > 0 else "all at once"
    lines.append(f"the burst: {n:,} submissions sent over {w:g} s ({coming})")
    need = n / (found.rate * (t - c))
    lines.append(
        f"workers: ⌈{n:,} ÷ ({found.rate:,.1f} × ({t:g} − {c:.4g}))⌉ = ⌈{need:,.2f}⌉ = {found.workers} "
        f"(so that {n:,} ÷ (workers × {found.rate:,.1f}) ≤ {t - c:,.4g} s)"
    )
    k = found.workers
    lines.append(
        f"with {k}: the last result at max({w:g}, {n:,} ÷ ({k} × {found.rate:,.1f})) + {c:.4g} = "
        f"{found.last(k):,.1f} s ≤ {t:g} s"
    )
    if k > 1:
        lines.append(f"with {k - 1}: at {found.last(k - 1):,.1f} s, past the target")
    return lines
