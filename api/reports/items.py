"""Item analysis of an assignment, as an exam's is read: how hard each problem was, how well it told
the stronger students from the weaker, and who picked each option of a choice part. Pure
computation over plain values (no I/O), one response per submission counted.

For a problem with score ``x_i`` out of its maximum ``m_i`` in response ``i`` of ``n``:

* **difficulty** ``p = (1/n) Σ x_i / m_i``: the mean score fraction (1: everyone had it right);
* **discrimination** ``r = Σ (x_i − x̄)(y_i − ȳ) / √(Σ (x_i − x̄)² · Σ (y_i − ȳ)²)``, the Pearson
  correlation of the problem's score with ``y_i``, the rest of the assignment (the response's total
  less this problem's score, so the problem is not correlated with itself). For a problem scored
  right or wrong this is the point-biserial correlation ``r_pb = (M₁ − M₀) / s_y · √(p (1 − p))``
  (``M₁``, ``M₀``: the mean rest of those who had it right and wrong, ``s_y`` the rest's standard
  deviation over all, ``p`` the share right); with partial credit, its generalization. Near 0 or
  below: the problem does not tell the stronger from the weaker (or misleads them);

and for each option of a choice part, its **count** (the responses that picked it), its **share**
of the responses that answered the part, and its discrimination: ``r`` of "picked it" (1 or 0)
against the rest of the assignment (less the part's problem). A right option should have it
positive, a distractor negative. ``r`` is None where it is undefined: fewer than two responses, or
no spread on either side.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Response:
    """One submission: each problem it has, ``(score, maximum)`` (a problem of a pool not drawn is
    absent), and each choice part's picks (the file's letters)."""

    problems: Mapping[str, tuple[float, float]]
    picks: Mapping[str, frozenset[str]] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ProblemItem:
    responses: int
    difficulty: float | None
    discrimination: float | None


@dataclass(frozen=True, slots=True)
class OptionItem:
    option: str
    correct: bool
    count: int
    share: float | None
    discrimination: float | None


def correlation(xs: Sequence[float], ys: Sequence[float]) -> float | None:
    """Pearson's r of two equally long series; None with fewer than two pairs or no spread."""
    n = len(xs)
    if n < 2 or n != len(ys):
        return None
    mean_x, mean_y = math.fsum(xs) / n, math.fsum(ys) / n
    dx = [x - mean_x for x in xs]
    dy = [y - mean_y for y in ys]
    spread = math.fsum(d * d for d in dx) * math.fsum(d * d for d in dy)
    if spread <= 1e-24:
        return None
    return max(-1.0, min(1.0, math.fsum(a * b for a, b in zip(dx, dy, strict=True)) / math.sqrt(spread)))


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 6)


def _total(response: Response) -> float:
    return math.fsum(score for score, _ in response.problems.values())


def problem_items(responses: Sequence[Response]) -> dict[str, ProblemItem]:
    """Each problem's difficulty and discrimination, in the order problems first appear."""
    names = list(dict.fromkeys(name for response in responses for name in response.problems))
    totals = [_total(response) for response in responses]  # (once a response, not once a problem)
    found = {}
    for name in names:
        having = [(r, total) for r, total in zip(responses, totals, strict=True) if name in r.problems]
        fractions = [score / top if top > 0 else 0.0 for score, top in (r.problems[name] for r, _ in having)]
        scores = [r.problems[name][0] for r, _ in having]
        rests = [total - r.problems[name][0] for r, total in having]
        found[name] = ProblemItem(
            responses=len(having),
            difficulty=_rounded(math.fsum(fractions) / len(fractions)) if fractions else None,
            discrimination=_rounded(correlation(scores, rests)),
        )
    return found


def option_items(responses: Sequence[Response], key: str, options: Sequence[tuple[str, bool]]) -> list[OptionItem]:
    """Each option (letter, right or not) of the choice part ``key`` (of problem ``key``'s first
    half): over the responses that answered it, its count, share and discrimination."""
    problem = key.partition(".")[0]
    answered = [r for r in responses if r.picks.get(key)]
    rests = [_total(r) - (r.problems[problem][0] if problem in r.problems else 0.0) for r in answered]
    found = []
    for letter, correct in options:
        picked = [1.0 if letter in r.picks[key] else 0.0 for r in answered]
        count = int(sum(picked))
        found.append(
            OptionItem(
                option=letter,
                correct=correct,
                count=count,
                share=_rounded(count / len(answered)) if answered else None,
                discrimination=_rounded(correlation(picked, rests)),
            )
        )
    return found
