"""Each mistake a code part names, from a real mutated module run in the sandbox: the built-in set's
solution with one thing changed as students change it (a flipped kernel, padding on one side, no
bias, ``=`` for ``+=``, one image's gradient, the gradient to every element of a window, channels
last, the +1 left out), graded through the sandbox, the mistake named on the tests it changes."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import pytest

from grader.code import grade_code
from grader.results import GradedPart, Status, TestStatus
from problems.loader import load_bank
from sandbox import Call, CallResult, Sandbox
from tests.sandbox.probes import LIMITS, require_bwrap

SET = load_bank()["numpy-convolution"]
CONV = SET.solution_of("conv.forward")
POOL = SET.solution_of("pool.forward")


@pytest.fixture(scope="module")
def box() -> Iterator[Sandbox]:
    require_bwrap()
    with Sandbox(LIMITS) as sandbox:
        sandbox.start()
        yield sandbox


def _graded(box: Sandbox, key: str, source: str, student: str | None = "s1") -> GradedPart:
    def run(runtime: str, text: str, calls: Sequence[Call]) -> list[CallResult]:
        assert runtime == "numpy"
        return box.run(text, calls)

    return grade_code(SET, {key: source}, student=student, run=run, keys=[key])[key]


def _mutated(source: str, old: str, new: str) -> str:
    assert old in source, old
    return source.replace(old, new)


FLIPPED = _mutated(
    CONV, "    f, _, kh, kw = w.shape\n    h_out", "    f, _, kh, kw = w.shape\n    w = w[:, :, ::-1, ::-1]\n    h_out"
)
ONE_SIDE = _mutated(
    _mutated(
        CONV, "((0, 0), (0, 0), (pad, pad), (pad, pad)))\n    out", "((0, 0), (0, 0), (pad, 0), (pad, 0)))\n    out"
    ),
    "    h_out = (h + 2 * pad - kh) // stride + 1\n    w_out = (wd + 2 * pad - kw) // stride + 1\n    xp",
    "    xp",
).replace(
    "    out = np.zeros((n, f, h_out, w_out))",
    "    h_out = (xp.shape[2] - kh) // stride + 1\n"
    "    w_out = (xp.shape[3] - kw) // stride + 1\n"
    "    out = np.zeros((n, f, h_out, w_out))",
    1,
)
NO_BIAS = _mutated(CONV, "axes=([1, 2, 3], [1, 2, 3])) + b", "axes=([1, 2, 3], [1, 2, 3]))")
NO_PLUS_ONE = _mutated(
    _mutated(CONV, "h_out = (h + 2 * pad - kh) // stride + 1", "h_out = (h + 2 * pad - kh) // stride"),
    "w_out = (wd + 2 * pad - kw) // stride + 1",
    "w_out = (wd + 2 * pad - kw) // stride",
)
NO_PADDING = _mutated(
    _mutated(
        _mutated(CONV, "h_out = (h + 2 * pad - kh) // stride + 1", "h_out = (h - kh) // stride + 1"),
        "w_out = (wd + 2 * pad - kw) // stride + 1",
        "w_out = (wd - kw) // stride + 1",
    ),
    "xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))\n    out",
    "xp = x\n    out",
)
NO_STRIDE = _mutated(
    _mutated(
        _mutated(CONV, "h_out = (h + 2 * pad - kh) // stride + 1", "h_out = h + 2 * pad - kh + 1"),
        "w_out = (wd + 2 * pad - kw) // stride + 1",
        "w_out = wd + 2 * pad - kw + 1",
    ),
    "window = xp[:, :, i * stride : i * stride + kh, j * stride : j * stride + kw]",
    "window = xp[:, :, i : i + kh, j : j + kw]",
)
CHANNELS_LAST = _mutated(
    _mutated(CONV, "out = np.zeros((n, f, h_out, w_out))", "out = np.zeros((n, h_out, w_out, f))"),
    "out[:, :, i, j] =",
    "out[:, i, j, :] =",
)
ASSIGNED = _mutated(
    CONV, "dxp[:, :, rows, cols] += np.tensordot(grad, w", "dxp[:, :, rows, cols] = np.tensordot(grad, w"
)
ONE_IMAGE = _mutated(
    CONV,
    "dw += np.tensordot(grad, xp[:, :, rows, cols], axes=([0], [0]))",
    "dw += np.tensordot(grad[-1:], xp[-1:, :, rows, cols], axes=([0], [0]))",
).replace("db = dout.sum(axis=(0, 2, 3))", "db = dout[-1].sum(axis=(1, 2))")
TO_ALL = _mutated(
    POOL,
    """            first = window.argmax(axis=2)
            for k in range(n):
                for ch in range(c):
                    a, b = divmod(first[k, ch], size)
                    dx[k, ch, r + a, s + b] += dout[k, ch, i, j]""",
    "            dx[:, :, r : r + size, s : s + size] += dout[:, :, i, j][:, :, None, None]",
)
POOL_SIZES = "h_out = (h - size) // stride + 1\n    w_out = (w - size) // stride + 1\n    out"
POOL_NO_PLUS_ONE = _mutated(POOL, POOL_SIZES, "h_out = (h - size) // stride\n    w_out = (w - size) // stride\n    out")
AVERAGE = _mutated(POOL, "out[:, :, i, j] = window.max(axis=(2, 3))", "out[:, :, i, j] = window.mean(axis=(2, 3))")
POOL_NO_STRIDE = _mutated(
    _mutated(POOL, POOL_SIZES, "h_out = h - size + 1\n    w_out = w - size + 1\n    out"),
    "window = x[:, :, i * stride : i * stride + size, j * stride : j * stride + size]",
    "window = x[:, :, i : i + size, j : j + size]",
)


@pytest.mark.parametrize(
    ("key", "source", "code"),
    [
        ("conv.forward", FLIPPED, "kernel-flipped"),
        ("conv.forward", ONE_SIDE, "padding-one-side"),
        ("conv.forward", NO_BIAS, "bias-omitted"),
        ("conv.forward", NO_PLUS_ONE, "missing-plus-one"),
        ("conv.forward", NO_PADDING, "padding-ignored"),
        ("conv.forward", NO_STRIDE, "stride-ignored"),
        ("conv.forward", CHANNELS_LAST, "channel-order"),
        ("conv.backward", ASSIGNED, "gradient-not-accumulated"),
        ("conv.backward", ONE_IMAGE, "gradient-not-summed-over-batch"),
        ("pool.backward", TO_ALL, "pool-gradient-to-all"),
        ("pool.forward", POOL_NO_PLUS_ONE, "missing-plus-one"),
        ("pool.forward", AVERAGE, "pooling-type-swapped"),
        ("pool.forward", POOL_NO_STRIDE, "stride-ignored"),
    ],
)
def test_a_mutated_module_is_named_by_its_mistake(box: Sandbox, key: str, source: str, code: str) -> None:
    part = _graded(box, key, source)
    assert part.misconception == code
    assert part.tests is not None
    failed = [test for test in part.tests if test.status is not TestStatus.CORRECT]
    assert failed, "the mistake changes some test"
    for test in failed:  # every test it fails is named by it, with its explanation
        assert (test.status, test.misconception) == (TestStatus.INCORRECT, code), test
    passed = [test for test in part.tests if test.status is TestStatus.CORRECT]
    assert part.score == pytest.approx(sum(test.max_score for test in passed))
    assert part.status is (Status.PARTIAL if passed else Status.INCORRECT)


def test_the_solutions_pass_every_test_for_any_student(box: Sandbox) -> None:
    for key, part in SET.code().items():
        for student in ("s1", "s2", None):
            graded = _graded(box, key, SET.solution_of(key), student)
            assert (graded.status, graded.score, graded.max_score) == (Status.CORRECT, part.points, part.points)
            assert graded.tests is not None and all(test.feedback == "Correct." for test in graded.tests)
