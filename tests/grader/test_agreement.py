"""``agrees``, the verdict a known mistake's match asks for, is ``compare``'s verdict: for a
matrix it skips the sentence listing the wrong elements, never the judgement."""

from __future__ import annotations

import numpy as np
from hypothesis import event, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from grader.comparison.compare import agrees, compare
from problems.kinds import AnswerKind
from problems.parts import Part, Tolerance

SHAPES = st.sampled_from([(3, 3), (2, 3), (3, 2), (1, 3, 3), (2, 2, 2)])
ELEMENTS = st.floats(-1e4, 1e4, allow_nan=False).map(lambda x: round(x, 2))


@settings(max_examples=300, deadline=None)
@given(
    kind=st.sampled_from([AnswerKind.MATRIX, AnswerKind.TENSOR]),
    expected=arrays(np.float64, SHAPES, elements=ELEMENTS),
    nudges=arrays(np.float64, SHAPES, elements=st.sampled_from([0.0] * 8 + [0.001, -0.004, 0.006, 1.0])),
    tolerance=st.sampled_from([None, Tolerance(rel=0.0, abs=0.5), Tolerance(rel=0.1, abs=0.0)]),
    partial=st.booleans(),
)
def test_agrees_is_the_comparisons_verdict(
    kind: AnswerKind, expected: np.ndarray, nudges: np.ndarray, tolerance: Tolerance | None, partial: bool
) -> None:
    part = Part(key="out", quantity="output", tolerance=tolerance, partial=partial)
    got = expected + nudges if expected.shape == nudges.shape else nudges  # a wrong size too
    verdict = compare(kind, expected, got, part).right
    assert agrees(kind, expected, got, part) == verdict
    event(f"right: {verdict}")  # both verdicts are drawn (hypothesis --hypothesis-show-statistics)
