"""Two-dimensional convolution in numpy, the deep-learning way (cross-correlation) or the
textbook way (kernel flipped by 180°).

Every window's taps are read from the padded input as one view (``windows.taps``) and multiplied
with the filters in one matrix product per group: a few numpy calls whatever the kernel's size.
An input may be one image or a batch of them. Integer inputs stay integer, so reference answers
are exact.
"""

from __future__ import annotations

from typing import Literal

import numpy as np

from problems import budgets
from problems.solvers.checks import same_fits
from problems.solvers.counts import per_group
from problems.solvers.entries import first_entries, sum_of_products
from problems.solvers.sizes import conv_out_steps, same_padding_at
from problems.solvers.steps import NO_TRACE, Trace
from problems.solvers.windows import padded, taps

Pair = tuple[int, int]


def as_pair(value: int | Pair | list[int]) -> Pair:
    """``3`` means ``(3, 3)``; a pair stays a pair."""
    if isinstance(value, int):
        return value, value
    first, second = value
    return int(first), int(second)


def conv2d(
    x: np.ndarray,
    w: np.ndarray,
    bias: np.ndarray | None = None,
    stride: int | Pair = 1,
    padding: int | Pair | Literal["same"] = 0,
    dilation: int | Pair = 1,
    groups: int = 1,
    flip: bool = False,
    trace: Trace = NO_TRACE,
) -> np.ndarray:
    """Convolve ``x`` of shape (C, H, W), or a batch (B, C, H, W), with filters ``w`` of shape
    (N, C/groups, kh, kw).

    ``padding`` is zeros on both sides, or ``"same"`` (TensorFlow's: the output is ``⌈n/s⌉``, the odd
    pixel after, as in PyTorch at stride 1). ``flip=True`` is true convolution. Returns (N, H_out, W_out),
    or (B, N, H_out, W_out) for a batch; the trace works the first image's entries.
    """
    x = np.asarray(x)
    w = np.asarray(w)
    if x.ndim not in (3, 4) or w.ndim != 4:
        raise ValueError(f"expected input (C, H, W) and filters (N, C, kh, kw), got {x.shape} and {w.shape}")
    batch = x if x.ndim == 4 else x[np.newaxis]
    images, c_in, h, wd = batch.shape
    n_out, c_group, kh, kw = w.shape
    if per_group(c_in, groups) != c_group or n_out % groups:
        raise ValueError(f"filters {w.shape} do not fit {c_in} input channels in {groups} groups")
    sh, sw = as_pair(stride)
    dh, dw = as_pair(dilation)
    same_fits(padding, stride, dilation)  # Keras refuses 'same' with a stride and a dilation together
    if padding == "same":  # TensorFlow's at a stride: the output is ⌈n/s⌉, the odd pixel after
        (top, bottom), (left, right) = same_padding_at(h, kh, sh, dh), same_padding_at(wd, kw, sw, dw)
    else:
        ph, pw = as_pair(padding)
        top, bottom, left, right = ph, ph, pw, pw
    if flip:
        w = w[:, :, ::-1, ::-1]
    h_out = conv_out_steps(trace, "H", h, kh, sh, top, dh, bottom)
    w_out = conv_out_steps(trace, "W", wd, kw, sw, left, dw, right)
    padded_size = images * c_in * (h + top + bottom) * (wd + left + right)
    outputs = images * n_out * h_out * w_out
    budgets.charge(budgets.image_steps(macs=outputs * c_group * kh * kw + padded_size, outputs=outputs))
    xp = padded(batch, top, bottom, left, right)
    dtype = np.result_type(x, w, bias if bias is not None else x)
    out = correlated(xp, w, (sh, sw), (dh, dw), (h_out, w_out), groups).astype(dtype, copy=False)
    if bias is not None:
        out += np.asarray(bias).reshape(-1, 1, 1)
    if trace:
        _worked(trace, xp[0], w, bias, out[0], (sh, sw), (dh, dw), (top, bottom, left, right), flip)
    return out if x.ndim == 4 else out[0]


def correlated(xp: np.ndarray, w: np.ndarray, stride: Pair, dilation: Pair, size: Pair, groups: int = 1) -> np.ndarray:
    """The cross-correlation of an already padded batch ``xp`` (B, C, H, W) with ``w``
    (N, C/groups, kh, kw): ``out[b, n, i, j] = Σ_{c,a,b'} xp[b, c, S·i + D·a, S·j + D·b'] · w[n, c, a, b']``
    over the channels of ``n``'s group, as (B, N, H_out, W_out) of ``size``. One matrix product
    per group (of every window's taps, one row per output pixel, with the group's filters).

    >>> correlated(np.arange(9).reshape(1, 1, 3, 3), np.ones((1, 1, 2, 2), dtype=int), (1, 1), (1, 1), (2, 2))
    array([[[[ 8, 12],
             [20, 24]]]])
    """
    images = xp.shape[0]
    n_out, c_group, kh, kw = w.shape
    h_out, w_out = size
    per_out = n_out // groups
    windows = taps(xp, (kh, kw), stride, dilation, size)  # (B, C, H_out, W_out, kh, kw), a view
    rows = windows.reshape(images, groups, c_group, h_out, w_out, kh, kw).transpose(1, 0, 3, 4, 2, 5, 6)
    rows = rows.reshape(groups, images * h_out * w_out, c_group * kh * kw)
    filters = w.reshape(groups, per_out, c_group * kh * kw).transpose(0, 2, 1)
    products: np.ndarray = np.matmul(rows, filters)  # (groups, B·H_out·W_out, per_out)
    out = products.reshape(groups, images, h_out, w_out, per_out).transpose(1, 0, 4, 2, 3)
    return out.reshape(images, n_out, h_out, w_out)


def _worked(
    trace: Trace,
    xp: np.ndarray,
    w: np.ndarray,
    bias: np.ndarray | None,
    out: np.ndarray,
    stride: Pair,
    dilation: Pair,
    padding: tuple[int, int, int, int],
    flip: bool,
) -> None:
    """The first entries of the first output channel, from the padded input and the (flipped)
    weights the convolution multiplied."""
    if flip:
        trace.note("True convolution: the kernel is flipped by 180° first (rows and columns reversed).")
    if any(padding):
        top, bottom, left, right = padding
        trace.note(f"Pad with zeros: {top} row(s) above, {bottom} below, {left} column(s) left, {right} right.")
    _, c_group, kh, kw = w.shape
    for i, j in first_entries(*out.shape[1:]):
        pairs = [
            (xp[c, i * stride[0] + a * dilation[0], j * stride[1] + b * dilation[1]], w[0, c, a, b])
            for c in range(c_group)
            for a in range(kh)
            for b in range(kw)
        ]
        b0 = None if bias is None else np.asarray(bias)[0]
        channel = "[1]" if out.shape[0] > 1 else ""
        trace.steps.append(sum_of_products(f"out{channel}[{i + 1}][{j + 1}]", pairs, b0, out[0, i, j]))
