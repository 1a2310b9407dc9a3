"""Which problems of an assignment one student answers: of each pool of its set the ones drawn
for them, in their order with ``shuffle`` (:mod:`problems.pools`), drawn from the assignment's
secret like their numbers and their options' order, so that every door (their page, the REST
API, grading, the gradebooks) reads the same draw without storing it."""

from __future__ import annotations

from api.assignments.options import order_key
from api.kit.errors import Unprocessable
from api.terms.rows import Terms
from problems.sets import ProblemSet


def own_set(problem_set: ProblemSet, assignment: Terms, student: str | None) -> ProblemSet:
    """The set as ``student`` has it in ``assignment`` (None: the whole set, staff's view). A set
    without pools or shuffle is the same set for everyone."""
    return problem_set.drawn(order_key(assignment, student) if student is not None else None)


def drawn_ids(problem_set: ProblemSet, assignment: Terms, student: str) -> list[str] | None:
    """The ids of the problems the student got, in their order (None: the set draws none, every
    student has every problem)."""
    if not problem_set.draws_problems:
        return None
    return own_set(problem_set, assignment, student).problem_ids()


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
