"""The image solvers' windows as numpy views (``problems.solvers.windows``): each helper against
the plain loop it stands for, on many random windows; a batch solved at once as its images one by
one; and the solvers' work a fixed number of calls whatever the kernel's or the input's size (a
loop over taps or windows made one numpy call per tap or window, and a new student's judging of
the four-part homework spent most of its time there)."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial
from types import FrameType
from typing import Any

import numpy as np
import pytest

from problems.solvers import windows
from problems.solvers.backprop import conv_backward, max_pool_backward
from problems.solvers.convolution import conv2d
from problems.solvers.pooling import pool2d
from problems.solvers.windows import added_back, taps, written_back

CASES = 200


def _window(rng: np.random.Generator) -> tuple[Any, ...]:
    """A random kernel, stride, dilation, count of windows and the input they slide over."""
    kernel = tuple(int(k) for k in rng.integers(1, 5, size=2))
    stride = tuple(int(s) for s in rng.integers(1, 4, size=2))
    dilation = tuple(int(d) for d in rng.integers(1, 3, size=2)) if rng.random() < 0.5 else (1, 1)
    size = tuple(int(n) for n in rng.integers(1, 5, size=2))
    extent = tuple((o - 1) * s + (k - 1) * d + 1 + int(extra) for o, s, k, d, extra in zip(
        size, stride, kernel, dilation, rng.integers(0, 3, size=2), strict=True
    ))  # fmt: skip
    return kernel, stride, dilation, size, extent


def _looped(function: Callable[..., None], size: tuple[int, int], kernel: tuple[int, int]) -> None:
    """Call ``function(i, j, a, b)`` for every tap of every window, windows row by row."""
    for i in range(size[0]):
        for j in range(size[1]):
            for a in range(kernel[0]):
                for b in range(kernel[1]):
                    function(i, j, a, b)


@pytest.mark.parametrize("index", range(CASES))
def test_taps_added_back_and_written_back_are_the_loops_they_stand_for(index: int) -> None:
    rng = np.random.default_rng((65, index))
    kernel, stride, dilation, size, (h, w) = _window(rng)
    x = rng.integers(-9, 10, size=(2, 3, h, w)).astype(np.float64)
    values = rng.integers(-9, 10, size=(2, 3, *size, *kernel)).astype(np.float64)

    def place(i: int, j: int, a: int, b: int) -> tuple[int, int]:
        return stride[0] * i + dilation[0] * a, stride[1] * j + dilation[1] * b

    read = np.zeros(values.shape)
    added = np.zeros(x.shape)

    def step(i: int, j: int, a: int, b: int) -> None:
        r, c = place(i, j, a, b)
        read[:, :, i, j, a, b] = x[:, :, r, c]
        added[:, :, r, c] += values[:, :, i, j, a, b]

    _looped(step, size, kernel)
    np.testing.assert_array_equal(taps(x, kernel, stride, dilation, size), read)
    np.testing.assert_array_equal(added_back(values, x.shape, kernel, stride, dilation), added)
    if dilation == (1, 1):
        written = np.zeros(x.shape)
        for i in range(size[0]):
            for j in range(size[1]):
                r, c = place(i, j, 0, 0)
                written[:, :, r : r + kernel[0], c : c + kernel[1]] = values[:, :, i, j]
        np.testing.assert_array_equal(written_back(values, x.shape, kernel, stride), written)


def test_a_window_past_the_input_is_refused() -> None:
    with pytest.raises(ValueError, match="do not fit"):
        taps(np.zeros((4, 4)), (3, 3), (2, 2), (1, 1), (2, 2))


@pytest.mark.parametrize("index", range(CASES))
def test_a_max_pools_gradient_written_with_equals_keeps_the_last_windows(index: int) -> None:
    """``accumulate=False``: each element keeps the gradient of the last window (row by row) whose
    first largest element it is, as a loop assigning with ``=`` leaves it."""
    rng = np.random.default_rng((66, index))
    size, stride, h_out, w_out = (int(n) for n in rng.integers(1, 5, size=4))
    h, w = (h_out - 1) * stride + size + int(rng.integers(0, 2)), (w_out - 1) * stride + size
    x = rng.integers(0, 4, size=(2, 2, h, w)).astype(np.float64)  # ties: the first largest is taken
    dout = rng.uniform(-1, 1, size=(2, 2, h_out, w_out))
    looped = np.zeros(x.shape)
    for i in range(h_out):
        for j in range(w_out):
            window = x[:, :, i * stride : i * stride + size, j * stride : j * stride + size].reshape(2, 2, -1)
            first = window.argmax(axis=2)
            for n in range(2):
                for c in range(2):
                    r, s = divmod(int(first[n, c]), size)
                    looped[n, c, i * stride + r, j * stride + s] = dout[n, c, i, j]
    np.testing.assert_array_equal(max_pool_backward(dout, x, size, stride, accumulate=False), looped)


@pytest.mark.parametrize("index", range(40))
def test_a_batch_is_its_images_solved_one_by_one(index: int) -> None:
    rng = np.random.default_rng((67, index))
    groups = int(rng.choice([1, 2]))
    x = rng.integers(-4, 5, size=(3, 2 * groups, 7, 6))
    w = rng.integers(-3, 4, size=(2 * groups, 2, *(int(k) for k in rng.integers(1, 4, size=2))))
    settings: dict[str, Any] = {"stride": int(rng.integers(1, 3)), "padding": int(rng.integers(0, 2)), "groups": groups}
    batch = conv2d(x, w, np.arange(2 * groups), **settings)
    assert batch.dtype.kind == "i"  # integers stay exact
    np.testing.assert_array_equal(batch, np.stack([conv2d(image, w, np.arange(2 * groups), **settings) for image in x]))
    for kind in ("max", "avg", "min"):
        pooled = pool2d(x, kind, 2, 1, padding=1, ceil_mode=True, count_include_pad=False)
        np.testing.assert_array_equal(
            pooled,
            np.stack([pool2d(image, kind, 2, 1, padding=1, ceil_mode=True, count_include_pad=False) for image in x]),
        )


@contextmanager
def _counted() -> Iterator[list[int]]:
    """The Python and C functions called inside, counted (a profiler's call events)."""
    count = [0]

    def profile(frame: FrameType, event: str, arg: object) -> None:
        if event in ("call", "c_call"):
            count[0] += 1

    sys.setprofile(profile)
    try:
        yield count
    finally:
        sys.setprofile(None)


def _calls(function: Callable[[], object]) -> int:
    """The calls ``function`` makes once what is kept per geometry is kept (it ran once before)."""
    function()
    with _counted() as count:
        function()
    return count[0]


def test_a_solvers_calls_do_not_grow_with_its_kernel_or_its_input() -> None:
    """A 1×1 kernel over a 3×3 input and a 5×5 kernel over a 16×16 one (25 taps, 144 windows):
    the same calls. Before, each tap was a numpy call (conv2d, conv_backward) and each window a
    few (max_pool_backward). (conv_backward's larger case is a 3×3 kernel over 8×8, whose indices
    are small enough to keep, as a course's are: one too large to keep takes a few calls more.)"""
    rng = np.random.default_rng(68)

    def convolved(side: int, k: int) -> int:
        x, w = rng.uniform(size=(3, side, side)), rng.uniform(size=(4, 3, k, k))
        return _calls(lambda: conv2d(x, w, np.ones(4), padding=1))

    def backward(side: int, k: int) -> int:
        x, w = rng.uniform(size=(2, 3, side, side)), rng.uniform(size=(4, 3, k, k))
        dout = rng.uniform(size=(2, 4, side - k + 3, side - k + 3))
        return _calls(lambda: conv_backward(dout, x, w, 1, 1))

    def pooled_back(side: int, k: int) -> int:
        x = rng.uniform(size=(2, 3, side, side))
        dout = rng.uniform(size=(2, 3, side - k + 1, side - k + 1))
        return _calls(lambda: max_pool_backward(dout, x, k, 1))

    assert convolved(3, 1) == convolved(16, 5)
    assert backward(3, 1) == backward(8, 3)
    assert pooled_back(3, 1) == pooled_back(16, 5)


def test_pooling_calls_grow_with_its_rows_and_columns_not_its_windows() -> None:
    """pool2d lists each row's and column's window extent (kept per geometry), not each window's:
    4 rows of 32 windows and 18 rows of 18 (128 windows and 324) make the same calls."""
    rng = np.random.default_rng(69)
    long, square = rng.uniform(size=(3, 8, 64)), rng.uniform(size=(3, 36, 36))
    for kind in ("max", "avg"):
        assert _calls(partial(pool2d, long, kind, 2)) == _calls(partial(pool2d, square, kind, 2))


def test_only_small_geometries_are_kept() -> None:
    """The indices kept per geometry stay small (every test of a course keeps a few hundred): a
    window geometry past SMALL indices is computed, not kept, and at most KEPT geometries are."""
    windows._kept_places.cache_clear()
    large = np.ones((4, 8, 20, 20, 3, 3))  # 115,200 taps
    added_back(large, (4, 8, 22, 22), (3, 3), (1, 1))
    assert windows._kept_places.cache_info().currsize == 0
    for side in range(2, windows.KEPT + 12):
        added_back(np.ones((1, side, 1, 1)), (1, side), (1, 1), (1, 1))
    assert windows._kept_places.cache_info().currsize == windows.KEPT
