"""Which problems of an assignment one student answers: of each pool of its set the ones drawn
for them, in their order with ``shuffle`` (:mod:`problems.pools`), drawn from the assignment's
secret like their numbers and their options' order, so that every door (their page, the REST
API, grading, the gradebooks) reads the same draw without storing it."""

from __future__ import annotations

import threading
from dataclasses import dataclass

from api.assignments.options import order_key
from api.kit.errors import Unprocessable
from api.terms.rows import Terms
from problems.sets import ProblemSet


def own_set(problem_set: ProblemSet, assignment: Terms, student: str | None) -> ProblemSet:
    """The set as ``student`` has it in ``assignment`` (None: the whole set, staff's view). A set
    without pools or shuffle is the same set for everyone."""
    return problem_set.drawn(order_key(assignment, student) if student is not None else None)


@dataclass(frozen=True, slots=True)
class Draw:
    """What a student got of a set with pools or shuffle: the problems' ids in their order, and
    those problems' answer keys."""

    problems: tuple[str, ...]
    keys: frozenset[str]


#: The draws worked out last, by the set's version, the assignment's secret and the student: a
#: draw is a keyed hash and three seeded generators, a third of a millisecond, and the gradebooks
#: list every student's (a course's thousand for each of its assignments). A few hundred bytes
#: each, the draws themselves shared (a set has few distinct ones).
DRAWS_KEPT = 100_000
_draws: dict[tuple[str, str | None, str], Draw] = {}
_shared: dict[tuple[str, ...], Draw] = {}
_draws_lock = threading.Lock()


def draw_of(problem_set: ProblemSet, assignment: Terms, student: str) -> Draw | None:
    """The student's draw (None: the set draws none, every student has every problem), worked out
    once per process: it depends only on the set's version and what :func:`order_key` draws it
    from (the assignment's secret and the student)."""
    if not problem_set.draws_problems:
        return None
    if not problem_set.version:  # (a set made in code: not kept)
        return _draw(own_set(problem_set, assignment, student))
    memo = (problem_set.version, assignment.variant_secret, student)
    found = _draws.get(memo)
    if found is None:
        made = _draw(own_set(problem_set, assignment, student))
        with _draws_lock:
            while len(_draws) >= DRAWS_KEPT:
                del _draws[next(iter(_draws))]
            if len(_shared) >= DRAWS_KEPT:
                _shared.clear()
            found = _draws[memo] = _shared.setdefault(made.problems, made)
    return found


def _draw(own: ProblemSet) -> Draw:
    return Draw(tuple(own.problem_ids()), frozenset(own.answer_keys()))


def drawn_ids(problem_set: ProblemSet, assignment: Terms, student: str) -> list[str] | None:
    """The ids of the problems the student got, in their order (None: the set draws none, every
    student has every problem)."""
    draw = draw_of(problem_set, assignment, student)
    return None if draw is None else list(draw.problems)


def not_drawn(problem_set: ProblemSet, own: ProblemSet, keys: list[str]) -> list[str]:
    """Those of ``keys`` that are keys of the set but of problems the student did not get."""
    theirs, every = set(own.answer_keys()), set(problem_set.answer_keys())
    return [key for key in keys if key in every and key not in theirs]


def require_secret(problem_set: ProblemSet, assignment: Terms) -> None:
    """:class:`Unprocessable` for a set with pools or shuffle given to an assignment made before
    variants had secrets: its students' problems would be drawn from their ids alone, which
    anyone can recompute."""
    if problem_set.draws_problems and assignment.variant_secret is None:
        raise Unprocessable(
            f"Assignment {assignment.id!r} was made before assignments had a secret to draw with, so its "
            f"students' problems would be drawn from their ids alone: give the set {problem_set.id!r} (it "
            "has pools or shuffle) to a new assignment instead."
        )
