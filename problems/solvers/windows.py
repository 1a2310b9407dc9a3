"""The sliding windows of the image solvers, as numpy views rather than Python loops over taps or
positions: a window's taps read from an input (:func:`taps`), and values written back to the
places they were read from, added (a backward pass, :func:`added_back`) or each place keeping the
last window's (a loop that assigns with ``=``, :func:`written_back`).

Window ``(i, j)`` of an input padded as the solver needs starts at ``(S·i, S·j)``, and its tap
``(a, b)`` reads ``(S·i + D·a, S·j + D·b)`` (stride S, dilation D, per axis). Reading makes no
copy; a convolution then multiplies the taps with its weights in one matrix product, so its cost
is a few numpy calls whatever the kernel's size, where a loop over taps made one per tap.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from typing import TypeVar

import numpy as np

Pair = tuple[int, int]
T = TypeVar("T")


def padded(x: np.ndarray, top: int, bottom: int, left: int, right: int, fill: object = 0) -> np.ndarray:
    """``x`` (..., H, W) with ``fill`` added around its last two axes (``np.pad``'s constant mode,
    in a tenth of its time on the small arrays of a problem).

    >>> padded(np.ones((1, 2), dtype=int), 1, 0, 0, 1).tolist()
    [[0, 0, 0], [1, 1, 0]]
    """
    *lead, h, w = x.shape
    out = np.full((*lead, top + h + bottom, left + w + right), fill, dtype=x.dtype)
    out[..., top : top + h, left : left + w] = x
    return out


def taps(x: np.ndarray, kernel: Pair, stride: Pair, dilation: Pair, size: Pair) -> np.ndarray:
    """The taps of ``size`` (H_out, W_out) windows of ``x`` (..., H, W): a read-only view
    (..., H_out, W_out, kh, kw), ``[..., i, j, a, b] = x[..., S·i + D·a, S·j + D·b]``. Every
    window must lie within ``x`` (pad it first).

    >>> taps(np.arange(12).reshape(3, 4), (2, 2), (1, 2), (1, 1), (2, 2))[1, 1].tolist()
    [[6, 7], [10, 11]]
    """
    (kh, kw), (sh, sw), (dh, dw), (h_out, w_out) = kernel, stride, dilation, size
    *lead, h, w = x.shape
    if (h_out - 1) * sh + (kh - 1) * dh >= h or (w_out - 1) * sw + (kw - 1) * dw >= w:
        raise ValueError(f"{h_out}×{w_out} windows of {kh}×{kw} do not fit in {h}×{w}")
    x = np.ascontiguousarray(x)  # (a copy only of an array not contiguous; the solvers' are)
    *lead_strides, row, col = x.strides
    shape, strides = (*lead, h_out, w_out, kh, kw), (*lead_strides, sh * row, sw * col, dh * row, dw * col)
    # What ``as_strided`` makes, in a third of its time: an array over x's own memory (numpy
    # checks that every window lies within it), read-only since windows overlap.
    view = np.ndarray(shape, x.dtype, buffer=x, strides=strides)
    view.flags.writeable = False
    return view


#: Geometries kept (their indices read-only), each of at most :data:`SMALL` indices: every draw of
#: a test has its test's, and a course's tests have a few hundred each. A few MB at most are kept;
#: a larger geometry is computed every time.
KEPT = 128
SMALL = 4_096


def kept(function: Callable[..., T]) -> Callable[..., T]:
    """``function`` (of a geometry: hashable numbers) remembered for the last :data:`KEPT` geometries."""
    return functools.lru_cache(maxsize=KEPT)(function)


def _places(shape: tuple[int, ...], kernel: Pair, stride: Pair, dilation: Pair, size: Pair) -> np.ndarray:
    """Where each tap of each window reads, as an index into the flattened array of ``shape``, in
    the taps' order, flattened (kept when small)."""
    if math.prod(shape[:-2]) * math.prod(size) * math.prod(kernel) > SMALL:
        return _placed(shape, kernel, stride, dilation, size)
    return _kept_places(shape, kernel, stride, dilation, size)


def _placed(shape: tuple[int, ...], kernel: Pair, stride: Pair, dilation: Pair, size: Pair) -> np.ndarray:
    found = taps(np.arange(math.prod(shape)).reshape(shape), kernel, stride, dilation, size).ravel()
    found.setflags(write=False)
    return found


_kept_places = kept(_placed)


def added_back(
    values: np.ndarray, shape: tuple[int, ...], kernel: Pair, stride: Pair, dilation: Pair = (1, 1)
) -> np.ndarray:
    """The transpose of :func:`taps`: an array of ``shape`` (..., H, W) in which each place holds
    the sum of the ``values`` (..., H_out, W_out, kh, kw) of every tap that read it, as float64.

    >>> added_back(np.ones((2, 2, 2, 2)), (3, 3), (2, 2), (1, 1)).tolist()
    [[1.0, 2.0, 1.0], [2.0, 4.0, 2.0], [1.0, 2.0, 1.0]]
    """
    size = values.shape[-4:-2]
    every = (*shape[:-2], *size, *kernel)
    read = values if values.shape == every else np.broadcast_to(values, every)
    return summed_at(_places(tuple(shape), kernel, stride, dilation, size), read.ravel(), shape)


def written_back(values: np.ndarray, shape: tuple[int, ...], kernel: Pair, stride: Pair) -> np.ndarray:
    """What a loop over the windows (no dilation), row by row, leaves when it assigns each window's
    ``values`` (..., H_out, W_out, kh, kw) with ``=``: each place of ``shape`` (..., H, W) holds
    the value of the last window that read it (0 where none did), as float64. The windows that
    read a place are a range of rows times a range of columns, so the last is the last row's last
    column: per axis, ``min(p // S, out − 1)``, read at tap ``p − S·i`` if that is within the kernel.

    >>> written_back(np.arange(1.0, 5.0).repeat(4).reshape(2, 2, 2, 2), (3, 3), (2, 2), (1, 1)).tolist()
    [[1.0, 2.0, 2.0], [3.0, 4.0, 4.0], [3.0, 4.0, 4.0]]
    """
    (i, a, rows_read), (j, b, cols_read) = (
        _last_reads(n, k, s, count)
        for n, k, s, count in zip(shape[-2:], kernel, stride, values.shape[-4:-2], strict=True)
    )
    last = values[..., i[:, np.newaxis], j, a[:, np.newaxis], b]  # (..., H, W)
    return np.where(rows_read[:, np.newaxis] & cols_read, last, 0.0).astype(np.float64, copy=False)


def _last_reads(n: int, k: int, s: int, count: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Along one axis of ``n`` places read by ``count`` windows of ``k`` taps at stride ``s``: the
    last window reading each place, its tap there (within the kernel), and whether it reads it
    (kept when small)."""
    return _last_read(n, k, s, count) if n > SMALL else _kept_last_reads(n, k, s, count)


def _last_read(n: int, k: int, s: int, count: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    places = np.arange(n)
    window = np.minimum(places // s, count - 1)
    tap = places - s * window
    found = window, np.minimum(tap, k - 1), tap < k
    for array in found:
        array.setflags(write=False)
    return found


_kept_last_reads = kept(_last_read)


def summed_at(places: np.ndarray, values: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """An array of ``shape`` (float64) holding at each flat index of ``places`` the sum of the
    ``values`` given there (``values`` broadcast to ``places``)."""
    weights = values if values.shape == places.shape else np.broadcast_to(values, places.shape)
    found = np.bincount(places.ravel(), weights=weights.ravel(), minlength=math.prod(shape))
    return found.reshape(shape)


def last_at(places: np.ndarray, values: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """An array of ``shape`` (float64) holding at each flat index of ``places`` the value given
    there last (in ``places``' order; ``values`` broadcast to it), and 0 where none is."""
    given = values if values.shape == places.shape else np.broadcast_to(values, places.shape)
    flat, given = places.ravel(), given.ravel()
    found = np.zeros(math.prod(shape), dtype=np.float64)
    backwards = flat[::-1]
    where, first = np.unique(backwards, return_index=True)  # the first from the end is the last
    found[where] = given[::-1][first]
    return found.reshape(shape)
