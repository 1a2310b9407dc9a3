"""Max, min and average pooling in numpy, matching PyTorch window by window.

Windows are clipped to the padded input (average) or to the real input (max, min), and in
ceil mode a last window that would start in the right padding is dropped. Average pooling
divides by the window clipped to the padded input when ``count_include_pad`` holds,
otherwise by the number of real pixels it covers. A dilated window that steps over every
real pixel has no answer (PyTorch's max is −inf there) and is refused.
"""

from __future__ import annotations

import math
from enum import StrEnum

import numpy as np

from problems import budgets
from problems.solvers.convolution import Pair, as_pair
from problems.solvers.entries import first_entries, window
from problems.solvers.sizes import SizeError, pool_out_steps
from problems.solvers.steps import NO_TRACE, Trace
from problems.solvers.windows import SMALL, kept, padded, taps


class PoolKind(StrEnum):
    MAX = "max"
    AVG = "avg"
    MIN = "min"


def pool2d(
    x: np.ndarray,
    kind: PoolKind | str,
    kernel: int | Pair,
    stride: int | Pair | None = None,
    padding: int | Pair = 0,
    dilation: int | Pair = 1,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
    trace: Trace = NO_TRACE,
) -> np.ndarray:
    """Pool each channel of ``x`` (C, H, W), or of a batch (B, C, H, W); ``stride`` defaults to the
    kernel, as in PyTorch. The trace works the first channel's entries."""
    kind = PoolKind(kind)
    x = np.asarray(x)
    if x.ndim not in (3, 4):
        raise ValueError(f"expected input (C, H, W) or a batch (B, C, H, W), got shape {x.shape}")
    kh, kw = as_pair(kernel)
    sh, sw = as_pair(stride if stride is not None else kernel)
    ph, pw = as_pair(padding)
    dh, dw = as_pair(dilation)
    if kind is PoolKind.AVG and (dh, dw) != (1, 1):
        raise ValueError("average pooling has no dilation")
    *lead, h, w = x.shape
    h_out = pool_out_steps(trace, "H", h, kh, sh, ph, dh, ceil_mode)
    w_out = pool_out_steps(trace, "W", w, kw, sw, pw, dw, ceil_mode)
    outputs = math.prod(lead) * h_out * w_out
    budgets.charge(budgets.image_steps(macs=outputs * kh * kw, outputs=outputs, windows=h_out * w_out))
    rows, cols = _windows(h, kh, sh, ph, dh, h_out), _windows(w, kw, sw, pw, dw, w_out)
    if not all(idx for idx, _ in rows) or not all(idx for idx, _ in cols):
        # Only a dilated window can step over the whole input; PyTorch answers −inf there.
        raise SizeError(f"a {kh}×{kw} window dilated by {(dh, dw)} covers only padding")
    # Padded with what changes no window's answer (a ceil mode's last window may reach past the
    # padding): zeros for a sum, the lowest (highest) number for a max (min), so that a window
    # clipped to the real input, or to the padded one, is the whole window.
    bottom = max(0, (h_out - 1) * sh + (kh - 1) * dh + 1 - ph - h)
    right = max(0, (w_out - 1) * sw + (kw - 1) * dw + 1 - pw - w)
    xp = padded(x, ph, bottom, pw, right, 0 if kind is PoolKind.AVG else _neutral(x.dtype, kind))
    windows = taps(xp, (kh, kw), (sh, sw), (dh, dw), (h_out, w_out))
    out: np.ndarray
    if kind is PoolKind.MAX:
        out = windows.max(axis=(-2, -1))
    elif kind is PoolKind.MIN:
        out = windows.min(axis=(-2, -1))
    else:
        r_counted, c_counted = (
            [span if count_include_pad else len(idx) for idx, span in axis] for axis in (rows, cols)
        )
        out = windows.sum(axis=(-2, -1)) / np.outer(r_counted, c_counted)
    if trace:
        first, first_out = x.reshape(-1, h, w)[0], out.reshape(-1, h_out, w_out)[0]
        channel = "[1]" if outputs > h_out * w_out else ""
        for i, j in first_entries(h_out, w_out):
            (r_idx, r_span), (c_idx, c_span) = rows[i], cols[j]
            divisor = r_span * c_span if count_include_pad else len(r_idx) * len(c_idx)
            values = first[r_idx][:, c_idx].ravel().tolist()
            trace.steps.append(window(f"out{channel}[{i + 1}][{j + 1}]", kind.value, values, divisor, first_out[i, j]))
    return out


def _neutral(dtype: np.dtype, kind: PoolKind) -> object:
    """The number no window's max (min) is taken from: the lowest (highest) of ``dtype``."""
    if dtype.kind == "f":
        return -np.inf if kind is PoolKind.MAX else np.inf
    if dtype.kind == "b":
        return kind is not PoolKind.MAX
    info = np.iinfo(dtype)
    return info.min if kind is PoolKind.MAX else info.max


def _windows(n: int, k: int, s: int, p: int, d: int, count: int) -> tuple[tuple[list[int], int], ...]:
    """Each of ``count`` windows along one axis, as :func:`_window` gives it; kept per geometry when
    small (every image of a size pooled alike lists the same; a list of Python numbers takes four
    times an index array's bytes). Their lists are not to be changed."""
    return _listed(n, k, s, p, d, count) if count * k > SMALL // 4 else _kept_windows(n, k, s, p, d, count)


def _listed(n: int, k: int, s: int, p: int, d: int, count: int) -> tuple[tuple[list[int], int], ...]:
    return tuple(_window(o * s - p, k, d, n, p) for o in range(count))


_kept_windows = kept(_listed)


def _window(start: int, k: int, d: int, n: int, p: int) -> tuple[list[int], int]:
    """Real-input indices of one window, and its length clipped to the padded input."""
    taps = [start + t * d for t in range(k)]
    span = min(start + (k - 1) * d + 1, n + p) - start
    return [t for t in taps if 0 <= t < n], span
