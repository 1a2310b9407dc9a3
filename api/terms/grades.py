"""Which grades by hand a student sees: those of every written part once all are released
(``grades_released_at``), else those of the parts released on their own
(``grades_released_parts``). Every reader of a student's score asks here: the REST API, the pages
and the LMS show the same."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from api.terms.rows import Terms
from grader.written import withheld


def grade_released(terms: Terms, key: str) -> bool:
    """Whether students see the grades by hand of the written part ``key``."""
    return terms.grades_released_at is not None or key in (terms.grades_released_parts or {})


def all_released(terms: Terms) -> bool:
    """Whether every written part's grades are released (so nothing is withheld)."""
    return terms.grades_released_at is not None


def as_student_sees(terms: Terms, parts: Mapping[str, Any], score: float) -> tuple[dict[str, Any], float]:
    """A stored submission's parts and score as its student sees them: the grades by hand of parts
    not released are ``pending`` again, their points out of the score."""
    if all_released(terms):
        return dict(parts), score
    return withheld(parts, score, released=frozenset(terms.grades_released_parts or ()))
