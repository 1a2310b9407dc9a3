"""The slips found in CS231n students' code, now named by the built-in kinds: each a real mutated
module run in the sandbox and graded, every verdict held to PyTorch (autograd's gradients, torch's
max pool on the same drawn inputs), and the tests it fails named by its code.

- ``dx_pad[:, :, pad:-pad, pad:-pad]``: right at any padding but 0, where dx is empty;
- a pool backward that writes the whole window with ``=`` (overlapping windows erase each other);
- a stride ignored in a backward pass (the windows read at i, j);
- a pool output size rounded up with ``ceil``.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np
import pytest
import torch

from grader.code import grade_code
from grader.code.plan import Planned, planned
from grader.results import TestStatus
from problems.loader import load_bank
from sandbox import Call, CallResult, Sandbox
from tests.sandbox.probes import LIMITS, require_bwrap

SET = load_bank()["numpy-convolution"]
CONV = SET.solution_of("conv.backward")
POOL = SET.solution_of("pool.backward")


def _mutated(source: str, old: str, new: str) -> str:
    assert source.count(old) == 1, old
    return source.replace(old, new)


CROP = _mutated(CONV, "dxp[:, :, pad : pad + h, pad : pad + wd]", "dxp[:, :, pad:-pad, pad:-pad]")
CONV_NO_STRIDE = _mutated(
    _mutated(CONV, "rows = slice(i * stride, i * stride + kh)", "rows = slice(i, i + kh)"),
    "cols = slice(j * stride, j * stride + kw)",
    "cols = slice(j, j + kw)",
)
WINDOW_ASSIGNED = _mutated(
    POOL,
    """            first = window.argmax(axis=2)
            for k in range(n):
                for ch in range(c):
                    a, b = divmod(first[k, ch], size)
                    dx[k, ch, r + a, s + b] += dout[k, ch, i, j]""",
    """            mask = window == window.max(axis=2, keepdims=True)
            dx[:, :, r : r + size, s : s + size] = (mask * dout[:, :, i, j][:, :, None]).reshape(n, c, size, size)""",
)
POOL_NO_STRIDE = _mutated(POOL, "r, s = i * stride, j * stride", "r, s = i, j")
CEIL = _mutated(
    _mutated(POOL, "h_out = (h - size) // stride + 1", "h_out = int(np.ceil((h - size) / stride)) + 1"),
    "w_out = (w - size) // stride + 1",
    "w_out = int(np.ceil((w - size) / stride)) + 1",
)


@pytest.fixture(scope="module")
def box() -> Iterator[Sandbox]:
    require_bwrap()
    with Sandbox(LIMITS) as sandbox:
        sandbox.start()
        yield sandbox


def _torch(key: str, plan: Planned) -> tuple[np.ndarray, ...]:
    """What PyTorch computes on the test's drawn inputs (the oracle)."""
    args = plan.drawn.args
    if key == "conv.backward":
        dout, x, w, b, stride, pad = (torch.tensor(a) if isinstance(a, np.ndarray) else a for a in args)
        # (the generator above types each as a tensor or an int: mypy cannot tell which)
        x, w, b = (t.clone().requires_grad_(True) for t in (x, w, b))  # type: ignore[union-attr]
        torch.nn.functional.conv2d(x, w, b, stride=stride, padding=pad).backward(dout)
        return tuple(t.grad.numpy() for t in (x, w, b))  # type: ignore[union-attr]  # grad: set by backward
    if key == "pool.backward":
        dout, x, size, stride = (torch.tensor(a) if isinstance(a, np.ndarray) else a for a in args)
        x = x.clone().requires_grad_(True)  # type: ignore[union-attr]
        torch.nn.functional.max_pool2d(x, size, stride).backward(dout)
        return (x.grad.numpy(),)  # type: ignore[union-attr]  # grad: set by backward
    x, size, stride = args
    return (torch.nn.functional.max_pool2d(torch.tensor(x), size, stride).numpy(),)


def _agrees(outputs: Sequence[np.ndarray], oracle: Sequence[np.ndarray]) -> bool:
    return len(outputs) == len(oracle) and all(
        a.shape == e.shape and np.allclose(a, e, rtol=1e-5, atol=1e-6) for a, e in zip(outputs, oracle, strict=True)
    )


@pytest.mark.parametrize(
    ("key", "source", "code"),
    [
        ("conv.backward", CROP, "padding-crop-empty"),
        ("conv.backward", CONV_NO_STRIDE, "backward-stride-ignored"),
        ("pool.backward", WINDOW_ASSIGNED, "pool-window-assigned"),
        ("pool.backward", POOL_NO_STRIDE, "backward-stride-ignored"),
        ("pool.forward", CEIL, "pool-size-ceil"),
    ],
)
def test_a_students_slip_is_named_and_every_verdict_agrees_with_torch(
    box: Sandbox, key: str, source: str, code: str
) -> None:
    def run(runtime: str, text: str, calls: Sequence[Call]) -> list[CallResult]:
        return box.run(text, calls)

    graded = grade_code(SET, {key: source}, student="s3", run=run, keys=[key])[key]
    plans = planned(SET, key, "s3")
    results = box.run(source, [plan.call for plan in plans])
    assert graded.tests is not None
    for plan, result, test in zip(plans, results, graded.tests, strict=True):
        right = _agrees(result.outputs, _torch(key, plan))
        assert (test.status is TestStatus.CORRECT) == right, (test.name, test.feedback)
        if not right:
            assert (test.status, test.misconception) == (TestStatus.INCORRECT, code), (test.name, test.feedback)
    assert any(test.status is not TestStatus.CORRECT for test in graded.tests), "some test catches the slip"
    assert graded.misconception == code
    assert code.replace("-", " ") not in graded.feedback  # the explanation, not the code, is read
