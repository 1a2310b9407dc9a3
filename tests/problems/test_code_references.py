"""The references of the code kinds against PyTorch: the forward passes against
``torch.nn.functional.conv2d`` and ``max_pool2d``, the backward passes against autograd, on many
random settings (shapes, strides, paddings, batches)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from problems.code.kinds import KINDS, Drawn
from problems.code.parts import CodeTest
from problems.solvers.backprop import conv_backward, max_pool_backward

SETTINGS = 40


def _conv_tests() -> list[CodeTest]:
    rng = np.random.default_rng(7)
    tests = []
    while len(tests) < SETTINGS:
        n, c, f = (int(v) for v in rng.integers(1, 4, size=3))
        kh, kw = (int(v) for v in rng.integers(1, 5, size=2))
        h, w = (int(v) for v in rng.integers(3, 10, size=2))
        stride, pad = int(rng.integers(1, 4)), int(rng.integers(0, 3))
        if kh > h + 2 * pad or kw > w + 2 * pad:
            continue
        shapes = {"x": [n, c, h, w], "w": [f, c, kh, kw]}
        tests.append(CodeTest.model_validate({"name": "t", "shapes": shapes, "stride": stride, "pad": pad}))
    return tests


def _pool_tests() -> list[CodeTest]:
    rng = np.random.default_rng(8)
    tests = []
    while len(tests) < SETTINGS:
        n, c = (int(v) for v in rng.integers(1, 4, size=2))
        h, w = (int(v) for v in rng.integers(2, 10, size=2))
        size, stride = int(rng.integers(1, 4)), int(rng.integers(1, 4))
        if size > min(h, w):
            continue
        tests.append(
            CodeTest.model_validate({"name": "t", "shapes": {"x": [n, c, h, w]}, "size": size, "stride": stride})
        )
    return tests


@pytest.mark.parametrize("test", _conv_tests(), ids=lambda t: f"{t.shapes}-{t.model_extra}")
def test_convolution_forward_and_backward_are_pytorchs(test: CodeTest) -> None:
    forward, backward = KINDS["conv.forward"], KINDS["conv.backward"]
    rng = np.random.default_rng(1)
    drawn = backward.draw(test, rng)
    dout, x, w, b = (drawn.named[name] for name in ("dout", "x", "w", "b"))
    stride, pad = test.model_extra["stride"], test.model_extra["pad"]  # type: ignore[index]
    tx, tw, tb = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
    out = F.conv2d(tx, tw, tb, stride=stride, padding=pad)
    out.backward(torch.tensor(dout))
    (ours,) = forward.reference(test, Drawn((x, w, b, stride, pad), {"x": x, "w": w, "b": b}))
    np.testing.assert_allclose(ours, out.detach().numpy(), rtol=1e-10, atol=1e-12)
    for ours, theirs in zip(backward.reference(test, drawn), (tx.grad, tw.grad, tb.grad), strict=True):
        assert theirs is not None
        np.testing.assert_allclose(ours, theirs.numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("test", _pool_tests(), ids=lambda t: f"{t.shapes}-{t.model_extra}")
def test_max_pooling_forward_and_backward_are_pytorchs(test: CodeTest) -> None:
    forward, backward = KINDS["pool.forward"], KINDS["pool.backward"]
    drawn = backward.draw(test, np.random.default_rng(2))
    dout, x = drawn.named["dout"], drawn.named["x"]
    size, stride = test.model_extra["size"], test.model_extra["stride"]  # type: ignore[index]
    tx = torch.tensor(x, requires_grad=True)
    out = F.max_pool2d(tx, size, stride)
    out.backward(torch.tensor(dout))
    (ours,) = forward.reference(test, Drawn((x, size, stride), {"x": x}))
    np.testing.assert_array_equal(ours, out.detach().numpy())
    assert tx.grad is not None
    np.testing.assert_allclose(backward.reference(test, drawn)[0], tx.grad.numpy(), rtol=1e-12, atol=1e-12)


def test_the_solvers_doctests_hold_on_a_hand_worked_case() -> None:
    x = np.arange(9.0).reshape(1, 1, 3, 3)
    dx, dw, db = conv_backward(np.ones((1, 1, 2, 2)), x, np.ones((1, 1, 2, 2)))
    assert dw[0, 0].tolist() == [[8.0, 12.0], [20.0, 24.0]] and db.tolist() == [4.0]
    assert dx[0, 0, 1, 1] == 4.0  # the centre is under all four windows
    pooled = max_pool_backward(np.ones((1, 1, 1, 1)), x, 3, 1)
    assert pooled[0, 0].tolist() == [[0, 0, 0], [0, 0, 0], [0, 0, 1.0]]
