"""The built-in ``cs231n-layers`` set grades CS231n's layers.py as students write it, with its own
signatures (``conv_param``/``pool_param`` dicts, ``(out, cache)``, the backward pass through the
student's cache): implementations in the styles students use (loops, im2col, ``as_strided`` with
einsum) pass, and mutated ones are named, each verdict held to PyTorch on the same drawn inputs
(autograd's gradients, torch's conv2d and max pool, an affine layer and cross-entropy)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np
import pytest
import torch

from grader.code import Run, check_solution, grade_code
from grader.code.plan import Planned, planned
from grader.results import GradedPart, Status, TestStatus
from harness.student_code import CS231N_CONV_LOOPS
from problems.loader import load_bank
from sandbox import Call, CallResult, Sandbox
from tests.grader.test_code_new_mistakes import _agrees
from tests.grader.test_code_new_mistakes import _torch as _torch_kind
from tests.sandbox.probes import LIMITS, require_bwrap

CONV_LOOPS = CS231N_CONV_LOOPS

SET = load_bank()["cs231n-layers"]

# --- convolution, three styles ---------------------------------------------------------------


CONV_IM2COL = """
import numpy as np

def conv_forward_naive(x, w, b, conv_param):
    stride, pad = conv_param['stride'], conv_param['pad']
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    H_out = 1 + (H + 2 * pad - HH) // stride
    W_out = 1 + (W + 2 * pad - WW) // stride
    x_pad = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    cols = np.empty((N, H_out, W_out, C * HH * WW))
    for i in range(H_out):
        for j in range(W_out):
            cols[:, i, j, :] = x_pad[:, :, i*stride:i*stride+HH, j*stride:j*stride+WW].reshape(N, -1)
    out = cols.reshape(-1, C * HH * WW) @ w.reshape(F, -1).T + b
    out = out.reshape(N, H_out, W_out, F).transpose(0, 3, 1, 2)
    return out, (x, w, b, conv_param, cols)

def conv_backward_naive(dout, cache):
    x, w, b, conv_param, cols = cache
    stride, pad = conv_param['stride'], conv_param['pad']
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    _, _, H_out, W_out = dout.shape
    d = dout.transpose(0, 2, 3, 1).reshape(-1, F)
    db = d.sum(axis=0)
    dw = (d.T @ cols.reshape(-1, C * HH * WW)).reshape(w.shape)
    dcols = (d @ w.reshape(F, -1)).reshape(N, H_out, W_out, C, HH, WW)
    dx_pad = np.zeros((N, C, H + 2 * pad, W + 2 * pad))
    for i in range(H_out):
        for j in range(W_out):
            dx_pad[:, :, i*stride:i*stride+HH, j*stride:j*stride+WW] += dcols[:, i, j]
    dx = dx_pad[:, :, pad:pad+H, pad:pad+W]
    return dx, dw, db
"""

CONV_STRIDED = """
import numpy as np
from numpy.lib.stride_tricks import as_strided

def _windows(x_pad, HH, WW, stride, H_out, W_out):
    x_pad = np.ascontiguousarray(x_pad)
    N, C, _, _ = x_pad.shape
    sN, sC, sH, sW = x_pad.strides
    shape = (N, C, H_out, W_out, HH, WW)
    return as_strided(x_pad, shape, (sN, sC, sH * stride, sW * stride, sH, sW), writeable=False)

def conv_forward_naive(x, w, b, conv_param):
    stride, pad = conv_param['stride'], conv_param['pad']
    F, _, HH, WW = w.shape
    H_out = 1 + (x.shape[2] + 2 * pad - HH) // stride
    W_out = 1 + (x.shape[3] + 2 * pad - WW) // stride
    x_pad = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    out = np.einsum('nchwij,fcij->nfhw', _windows(x_pad, HH, WW, stride, H_out, W_out), w)
    return out + b[None, :, None, None], (x, w, b, conv_param)

def conv_backward_naive(dout, cache):
    x, w, b, conv_param = cache
    stride, pad = conv_param['stride'], conv_param['pad']
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    _, _, H_out, W_out = dout.shape
    x_pad = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    dw = np.einsum('nchwij,nfhw->fcij', _windows(x_pad, HH, WW, stride, H_out, W_out), dout)
    db = dout.sum(axis=(0, 2, 3))
    dx_pad = np.zeros_like(x_pad)
    for i in range(HH):
        for j in range(WW):
            rows = slice(i, i + stride * (H_out - 1) + 1, stride)
            cols = slice(j, j + stride * (W_out - 1) + 1, stride)
            dx_pad[:, :, rows, cols] += np.einsum('nfhw,fc->nchw', dout, w[:, :, i, j])
    return dx_pad[:, :, pad:pad+H, pad:pad+W], dw, db
"""

# --- pooling, two styles -----------------------------------------------------------------------

POOL_LOOPS = SET.solution_of("pool.forward")

POOL_STRIDED = """
import numpy as np
from numpy.lib.stride_tricks import as_strided

def max_pool_forward_naive(x, pool_param):
    ph, pw, s = pool_param['pool_height'], pool_param['pool_width'], pool_param['stride']
    x = np.ascontiguousarray(x)
    N, C, H, W = x.shape
    H_out, W_out = 1 + (H - ph) // s, 1 + (W - pw) // s
    sN, sC, sH, sW = x.strides
    windows = as_strided(x, (N, C, H_out, W_out, ph, pw), (sN, sC, sH * s, sW * s, sH, sW), writeable=False)
    return windows.max(axis=(4, 5)), (x, pool_param)

def max_pool_backward_naive(dout, cache):
    x, pool_param = cache
    ph, pw, s = pool_param['pool_height'], pool_param['pool_width'], pool_param['stride']
    _, _, H_out, W_out = dout.shape
    dx = np.zeros_like(x)
    for i in range(H_out):
        for j in range(W_out):
            window = x[:, :, i*s:i*s+ph, j*s:j*s+pw]
            mask = window == window.max(axis=(2, 3), keepdims=True)
            dx[:, :, i*s:i*s+ph, j*s:j*s+pw] += mask * dout[:, :, i, j][:, :, None, None]
    return dx
"""

# --- the affine layer and the softmax loss, einsum style ----------------------------------------

AFFINE_EINSUM = """
import numpy as np

def affine_forward(x, w, b):
    flat = x.reshape(len(x), -1)
    return np.einsum('nd,dm->nm', flat, w) + b, (x, w, b)

def affine_backward(dout, cache):
    x, w, b = cache
    dx = np.einsum('nm,dm->nd', dout, w).reshape(x.shape)
    dw = np.einsum('nd,nm->dm', x.reshape(len(x), -1), dout)
    return dx, dw, dout.sum(axis=0)

def softmax_loss(x, y):
    p = np.exp(x - x.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    N = x.shape[0]
    loss = -np.log(p[np.arange(N), y]).mean()
    dx = p.copy()
    dx[np.arange(N), y] -= 1
    return loss, dx / N
"""


def _mutated(source: str, old: str, new: str) -> str:
    assert source.count(old) == 1, old
    return source.replace(old, new)


STYLES = {
    "conv.forward": [CONV_LOOPS, CONV_IM2COL, CONV_STRIDED],
    "conv.backward": [CONV_LOOPS, CONV_IM2COL, CONV_STRIDED],
    "pool.forward": [POOL_LOOPS, POOL_STRIDED],
    "pool.backward": [POOL_LOOPS, POOL_STRIDED],
    "affine.layer": [AFFINE_EINSUM],
    "affine.softmax": [AFFINE_EINSUM],
}

MUTANTS = [
    # CS231n's commonest backward bug: right at pad 1, empty at pad 0
    (
        "conv.backward",
        _mutated(CONV_LOOPS, "dx = dx_pad[:, :, pad:pad+H, pad:pad+W]", "dx = dx_pad[:, :, pad:-pad, pad:-pad]"),
        "padding-crop-empty",
    ),
    (
        "conv.forward",
        _mutated(
            CONV_IM2COL,
            "    x_pad = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))\n    cols",
            "    w = w[:, :, ::-1, ::-1]\n    x_pad = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))\n    cols",
        ),
        "kernel-flipped",
    ),
    (
        "pool.backward",
        _mutated(POOL_STRIDED, "dx[:, :, i*s:i*s+ph, j*s:j*s+pw] += mask", "dx[:, :, i*s:i*s+ph, j*s:j*s+pw] = mask"),
        "pool-window-assigned",
    ),
    (
        "affine.layer",
        _mutated(
            AFFINE_EINSUM,
            "dx = np.einsum('nm,dm->nd', dout, w).reshape(x.shape)",
            "dx = np.einsum('nm,dm->nd', dout, w)",
        ),
        "dx-not-reshaped",
    ),
    (
        "affine.layer",
        _mutated(AFFINE_EINSUM, "np.einsum('nd,dm->nm', flat, w) + b", "np.einsum('nd,dm->nm', flat, w)"),
        "bias-omitted",
    ),
    (
        "affine.softmax",
        _mutated(AFFINE_EINSUM, "    return loss, dx / N", "    return loss, dx"),
        "softmax-gradient-not-averaged",
    ),
    (
        "affine.softmax",
        _mutated(
            AFFINE_EINSUM, "loss = -np.log(p[np.arange(N), y]).mean()", "loss = -np.log(p[np.arange(N), y]).sum()"
        ),
        "loss-not-averaged",
    ),
]


@pytest.fixture(scope="module")
def box() -> Iterator[Sandbox]:
    require_bwrap()
    with Sandbox(LIMITS) as sandbox:
        sandbox.start()
        yield sandbox


def _run(box: Sandbox) -> Run:
    def run(runtime: str, text: str, calls: Sequence[Call]) -> list[CallResult]:
        assert runtime == "numpy"
        return box.run(text, calls)

    return run


def _oracle(key: str, plan: Planned) -> tuple[np.ndarray, ...]:
    """PyTorch on the test's drawn inputs: the kinds' tests through torch's layers, the affine layer
    and the softmax loss through autograd."""
    if key == "conv.forward":
        return _conv(plan)
    if key.startswith(("conv.", "pool.")):
        return _torch_kind(key, plan)
    named = {name: torch.tensor(value) for name, value in plan.call.kwargs.items() if isinstance(value, np.ndarray)}
    if key == "affine.layer":
        x, w, b = (named[name].clone().requires_grad_(True) for name in "xwb")
        out = x.reshape(len(x), -1) @ w + b
        out.backward(named["dout"])
        return out.detach().numpy(), *(t.grad.numpy() for t in (x, w, b))  # type: ignore[union-attr]  # set by backward
    x = named["x"].clone().requires_grad_(True)
    loss = torch.nn.functional.cross_entropy(x, named["y"])
    loss.backward()
    return loss.detach().numpy(), x.grad.numpy()  # type: ignore[union-attr]  # set by backward


def _conv(plan: Planned) -> tuple[np.ndarray, ...]:
    x, w, b, stride, pad = plan.drawn.args
    out = torch.nn.functional.conv2d(torch.tensor(x), torch.tensor(w), torch.tensor(b), stride=stride, padding=pad)
    return (out.numpy(),)


def _graded(box: Sandbox, key: str, source: str) -> tuple[GradedPart, list[bool]]:
    """The part graded for a student, and per test whether PyTorch agrees with what the module returned."""
    graded = grade_code(SET, {key: source}, student="cs231n", run=_run(box), keys=[key])[key]
    plans = planned(SET, key, "cs231n")
    results = box.run(source, [plan.call for plan in plans])
    return graded, [
        r.status.value == "ok" and _agrees(r.outputs, _oracle(key, p)) for p, r in zip(plans, results, strict=True)
    ]


@pytest.mark.parametrize(
    ("key", "style"), [(key, index) for key, styles in STYLES.items() for index in range(len(styles))]
)
def test_each_style_students_write_passes_and_torch_agrees(box: Sandbox, key: str, style: int) -> None:
    graded, torch_agrees = _graded(box, key, STYLES[key][style])
    assert all(torch_agrees), torch_agrees
    assert graded.status is Status.CORRECT, graded.tests


@pytest.mark.parametrize(("key", "source", "code"), MUTANTS, ids=[code for _, _, code in MUTANTS])
def test_a_mutated_implementation_is_named_and_every_verdict_agrees_with_torch(
    box: Sandbox, key: str, source: str, code: str
) -> None:
    graded, torch_agrees = _graded(box, key, source)
    assert graded.tests is not None
    for test, right in zip(graded.tests, torch_agrees, strict=True):
        assert (test.status is TestStatus.CORRECT) == right, (test.name, test.feedback)
        if not right:
            assert test.misconception == code, (test.name, test.feedback)
    assert graded.misconception == code


def test_the_sets_solutions_pass_and_its_mistakes_are_told_apart(box: Sandbox) -> None:
    assert check_solution(SET, _run(box)) == []
