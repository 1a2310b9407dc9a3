"""A code answer's outputs are compared with their reference element by element as numpy's
``isclose`` compares them, whichever way the judge computes it (finite floats take the test itself)."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from grader.code.judge import _close
from problems.code.spec import Tolerance
from problems.code.telling import closeness

FLOATS = st.sampled_from([np.float64, np.float32])
SHAPES = hnp.array_shapes(min_dims=0, max_dims=4, max_side=5)


@st.composite
def pairs(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray]:
    """An output and its reference, of one shape: finite floats near each other, now and then far,
    infinite or NaN, of either float width, or integers and booleans."""
    shape = draw(SHAPES)
    kind = draw(st.sampled_from(["finite", "finite", "finite", "any", "integers"]))
    if kind == "integers":
        dtype = draw(st.sampled_from([np.int64, np.bool_]))
        elements = hnp.arrays(dtype, shape)
        return draw(elements), draw(hnp.arrays(np.int64, shape, elements=st.integers(-3, 3)))
    finite = kind == "finite"
    values = st.floats(-1e6, 1e6, width=32) if finite else st.floats(width=32)
    expected = draw(hnp.arrays(draw(FLOATS), shape, elements=values))
    noise = draw(hnp.arrays(np.float64, shape, elements=st.sampled_from([0.0, 1e-9, 1e-7, 1e-5, 1e-3, 1.0])))
    actual = (expected.astype(np.float64) * (1 + noise) + noise).astype(draw(FLOATS))
    if not finite and actual.size:
        actual.flat[draw(st.integers(0, actual.size - 1))] = draw(st.sampled_from([np.inf, -np.inf, np.nan]))
    return actual, expected


@settings(max_examples=400, deadline=None)
@given(pair=pairs(), rel=st.sampled_from([0.0, 1e-6, 1e-5, 1e-2]), tolerance=st.sampled_from([0.0, 1e-6, 1e-3]))
def test_outputs_are_close_exactly_where_numpy_isclose_says(
    pair: tuple[np.ndarray, np.ndarray], rel: float, tolerance: float
) -> None:
    actual, expected = pair
    close = _close(actual, expected, Tolerance(rel=rel, abs=tolerance))
    assert close.shape == expected.shape
    np.testing.assert_array_equal(close, np.isclose(actual, expected, rtol=rel, atol=tolerance))


@settings(max_examples=400, deadline=None)
@given(pair=pairs(), rel=st.sampled_from([0.0, 1e-6, 1e-5, 1e-2]), tolerance=st.sampled_from([0.0, 1e-6, 1e-3]))
def test_an_output_is_close_throughout_exactly_where_numpy_isclose_says(
    pair: tuple[np.ndarray, np.ndarray], rel: float, tolerance: float
) -> None:
    """The judge's first look at an output (and a telling draw's at each mistake's), with the
    reference's bound computed once: close everywhere exactly where isclose is; the reference's own
    array is close to itself where isclose says so (not where it holds NaN)."""
    actual, expected = pair
    with np.errstate(invalid="ignore", over="ignore"):
        close = closeness(expected, Tolerance(rel=rel, abs=tolerance))
        assert close(actual) == bool(np.isclose(actual, expected, rtol=rel, atol=tolerance).all())
        assert close(expected) == bool(np.isclose(expected, expected, rtol=rel, atol=tolerance).all())
