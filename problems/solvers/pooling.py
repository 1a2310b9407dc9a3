"""Max, min and average pooling in numpy, matching PyTorch window by window.

Windows are clipped to the padded input (average) or to the real input (max, min), and in
ceil mode a last window that would start in the right padding is dropped. Average pooling
divides by the window clipped to the padded input when ``count_include_pad`` holds,
otherwise by the number of real pixels it covers. A dilated window that steps over every
real pixel has no answer (PyTorch's max is −inf there) and is refused.
"""

from __future__ import annotations

from enum import StrEnum

import numpy as np

from problems import budgets
from problems.solvers.convolution import Pair, as_pair
from problems.solvers.entries import first_entries, window
from problems.solvers.sizes import SizeError, pool_out_steps
from problems.solvers.steps import NO_TRACE, Trace


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
    """Pool each channel of ``x`` (C, H, W); ``stride`` defaults to the kernel, as in PyTorch."""
    kind = PoolKind(kind)
    x = np.asarray(x)
    if x.ndim != 3:
        raise ValueError(f"expected input (C, H, W), got shape {x.shape}")
    kh, kw = as_pair(kernel)
    sh, sw = as_pair(stride if stride is not None else kernel)
    ph, pw = as_pair(padding)
    dh, dw = as_pair(dilation)
    if kind is PoolKind.AVG and (dh, dw) != (1, 1):
        raise ValueError("average pooling has no dilation")
    _, h, w = x.shape
    h_out = pool_out_steps(trace, "H", h, kh, sh, ph, dh, ceil_mode)
    w_out = pool_out_steps(trace, "W", w, kw, sw, pw, dw, ceil_mode)
    outputs = x.shape[0] * h_out * w_out
    budgets.charge(budgets.image_steps(macs=outputs * kh * kw, outputs=outputs, windows=h_out * w_out))
    rows = [_window(o * sh - ph, kh, dh, h, ph) for o in range(h_out)]
    cols = [_window(o * sw - pw, kw, dw, w, pw) for o in range(w_out)]
    if not all(idx for idx, _ in rows) or not all(idx for idx, _ in cols):
        # Only a dilated window can step over the whole input; PyTorch answers −inf there.
        raise SizeError(f"a {kh}×{kw} window dilated by {(dh, dw)} covers only padding")
    if kind is PoolKind.AVG:
        out = np.empty((x.shape[0], h_out, w_out), dtype=np.float64)
    else:
        out = np.empty((x.shape[0], h_out, w_out), dtype=x.dtype)
    for i, (r_idx, r_span) in enumerate(rows):
        for j, (c_idx, c_span) in enumerate(cols):
            patch = x[:, r_idx][:, :, c_idx]
            if kind is PoolKind.MAX:
                out[:, i, j] = patch.max(axis=(1, 2))
            elif kind is PoolKind.MIN:
                out[:, i, j] = patch.min(axis=(1, 2))
            else:
                divisor = r_span * c_span if count_include_pad else len(r_idx) * len(c_idx)
                out[:, i, j] = patch.sum(axis=(1, 2)) / divisor
    if trace:
        for i, j in first_entries(h_out, w_out):
            (r_idx, r_span), (c_idx, c_span) = rows[i], cols[j]
            divisor = r_span * c_span if count_include_pad else len(r_idx) * len(c_idx)
            values = x[0, r_idx][:, c_idx].ravel().tolist()
            channel = "[1]" if x.shape[0] > 1 else ""
            trace.steps.append(window(f"out{channel}[{i + 1}][{j + 1}]", kind.value, values, divisor, out[0, i, j]))
    return out


def _window(start: int, k: int, d: int, n: int, p: int) -> tuple[list[int], int]:
    """Real-input indices of one window, and its length clipped to the padded input."""
    taps = [start + t * d for t in range(k)]
    span = min(start + (k - 1) * d + 1, n + p) - start
    return [t for t in taps if 0 <= t < n], span
