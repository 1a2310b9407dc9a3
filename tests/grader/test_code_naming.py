"""The two rules that keep a code part's named mistake honest, as regressions of misnamings found on
real CS231n students' code: a wrong output is named by a mistake only when its values are that
mistake's (never from its shape alone), and a part only when every failing test agrees. The
outputs are computed here independently of the kinds' solvers (a plain cross-correlation loop)."""

from __future__ import annotations

import numpy as np

from grader.code.judge import graded
from grader.code.plan import Planned, planned
from grader.results import TestStatus
from problems.loader import load_bank
from sandbox.calls import CallResult
from sandbox.calls import Status as RunStatus

SET = load_bank()["numpy-convolution"]
KEY = "conv.forward"
PART = SET.code()[KEY]


def _conv(x: np.ndarray, w: np.ndarray, b: np.ndarray, stride: int, pad: int, flip: bool = False) -> np.ndarray:
    """A cross-correlation by loops (the oracle: not the project's solvers)."""
    if flip:
        w = w[:, :, ::-1, ::-1]
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    n, f, kh, kw = x.shape[0], w.shape[0], w.shape[2], w.shape[3]
    h_out, w_out = (xp.shape[2] - kh) // stride + 1, (xp.shape[3] - kw) // stride + 1
    out = np.zeros((n, f, h_out, w_out))
    for i in range(h_out):
        for j in range(w_out):
            window = xp[:, :, i * stride : i * stride + kh, j * stride : j * stride + kw]
            out[:, :, i, j] = np.einsum("nchw,fchw->nf", window, w) + b
    return out


def _right(plan: Planned, flip: bool = False, bias: bool = True) -> np.ndarray:
    x, w, b = plan.drawn.named["x"], plan.drawn.named["w"], plan.drawn.named["b"]
    stride, pad = plan.drawn.args[3], plan.drawn.args[4]
    assert isinstance(stride, int) and isinstance(pad, int)
    return _conv(x, w, b if bias else np.zeros_like(b), stride, pad, flip)


def _ok(array: np.ndarray) -> CallResult:
    return CallResult(RunStatus.OK, outputs=(array,))


def test_a_shape_alone_never_names_a_mistake() -> None:
    plans = planned(SET, KEY, "s1")
    right = _right(plans[0])
    # the shape missing-plus-one gives (one row and column short), but values of no mistake
    shaped = np.random.default_rng(0).normal(size=right[:, :, :-1, :-1].shape)
    results = [_ok(shaped), *(_ok(_right(plan)) for plan in plans[1:])]
    part = graded(KEY, PART, plans, results, {})
    assert part.tests is not None
    first = part.tests[0]
    assert first.status is TestStatus.INCORRECT and first.misconception is None
    assert "without the +1" in first.feedback and "not that mistake's values" in first.feedback
    assert part.misconception is None
    # the same shape with the values of the mistake is named
    cut = [_ok(right[:, :, :-1, :-1]), *results[1:]]
    named = graded(KEY, PART, plans, cut, {})
    assert named.tests is not None and named.tests[0].misconception == "missing-plus-one"
    assert named.misconception == "missing-plus-one"


def test_a_part_is_named_only_when_its_failing_tests_agree() -> None:
    plans = planned(SET, KEY, "s1")
    flipped = [_ok(_right(plan, flip=True)) for plan in plans]
    no_bias = [_ok(_right(plan, bias=False)) for plan in plans]
    right = [_ok(_right(plan)) for plan in plans]
    # every failing test flipped: the part is named kernel-flipped
    agreeing = graded(KEY, PART, plans, [flipped[0], flipped[1], *right[2:]], {})
    assert agreeing.misconception == "kernel-flipped"
    # one test flipped, another without its bias: each test keeps its own name, the part none
    mixed = graded(KEY, PART, plans, [flipped[0], no_bias[1], *right[2:]], {})
    assert mixed.tests is not None
    assert [test.misconception for test in mixed.tests[:2]] == ["kernel-flipped", "bias-omitted"]
    assert mixed.misconception is None and "kernel" not in mixed.feedback
    # a failing test no mistake explains contradicts the others too
    noise = np.random.default_rng(1).normal(size=_right(plans[1]).shape)
    unexplained = graded(KEY, PART, plans, [flipped[0], _ok(noise), *right[2:]], {})
    assert unexplained.tests is not None and unexplained.tests[0].misconception == "kernel-flipped"
    assert unexplained.misconception is None


def test_the_backward_kind_names_a_gradient_only_when_every_gradient_is_the_mistakes() -> None:
    key = "conv.backward"
    part = SET.code()[key]
    plans = planned(SET, key, "s1")
    results = []
    for plan in plans:
        _, dw, db = plan.reference or ()
        flipped = next(outputs for code, outputs in plan.mistakes if code == "kernel-flipped")
        results.append(CallResult(RunStatus.OK, outputs=(flipped[0], dw, db), returned_tuple=True))
    # dx flipped but dw right: not the kernel-flipped mistake (which flips dw as well)
    judged = graded(key, part, plans, results, {})
    assert judged.tests is not None
    assert all(test.misconception != "kernel-flipped" for test in judged.tests)
