"""Grading a student's own problems of a set with pools: their keys alone, out of their points,
whatever was graded before on the whole set for the same variant (the engine's cache of
references tells a student's problems from the whole set's)."""

from __future__ import annotations

from pathlib import Path

from grader.engine import grade_submission
from problems.loader import load_set
from problems.variants import variant_key

EXAMPLE = Path(__file__).parents[2] / "examples" / "pooled-quiz.yaml"


def test_a_students_problems_are_graded_alone_after_the_whole_set_was_graded_for_their_variant() -> None:
    whole = load_set(EXAMPLE)
    key = variant_key(student="s1", secret="k")
    own = whole.drawn(key)
    answers = {"intro.learns": "a"}
    graded_whole = grade_submission(whole, answers, student=key)  # (as staff's statistics read a variant)
    assert sorted(graded_whole.parts) == sorted(whole.answer_keys()) and graded_whole.max_score == 11.0
    graded_own = grade_submission(own, answers, student=key)
    assert sorted(graded_own.parts) == sorted(own.answer_keys()) and len(own.answer_keys()) == 4
    assert (graded_own.score, graded_own.max_score) == (1.0, 5.0)
    other = whole.drawn(variant_key(student="s2", secret="k"))
    fixed = load_set(EXAMPLE)  # (each of two draws of a set graded for no variant: a reference of its own)
    assert sorted(grade_submission(other, answers, student=None).parts) == sorted(other.answer_keys())
    assert sorted(grade_submission(fixed, answers, student=None).parts) == sorted(fixed.answer_keys())
