"""Transposed convolution in numpy: every input pixel stamps a scaled copy of the kernel
onto the output, ``stride`` pixels apart; padding then crops the border.

This is the scatter view students draw by hand, and it is PyTorch's ``conv_transpose2d``.
"""

from __future__ import annotations

import numpy as np

from problems import budgets
from problems.solvers.convolution import Pair, as_pair
from problems.solvers.counts import per_group
from problems.solvers.entries import first_entries, sum_of_products
from problems.solvers.sizes import transposed_out_steps
from problems.solvers.steps import NO_TRACE, Trace


def conv_transpose2d(
    x: np.ndarray,
    w: np.ndarray,
    bias: np.ndarray | None = None,
    stride: int | Pair = 1,
    padding: int | Pair = 0,
    output_padding: int | Pair = 0,
    dilation: int | Pair = 1,
    groups: int = 1,
    trace: Trace = NO_TRACE,
) -> np.ndarray:
    """Transposed convolution of ``x`` (C_in, H, W) with ``w`` (C_in, C_out/groups, kh, kw).

    Output size per axis: ``(n−1)·s − 2p + d·(k−1) + output_padding + 1``.
    """
    x = np.asarray(x)
    w = np.asarray(w)
    if x.ndim != 3 or w.ndim != 4:
        raise ValueError(f"expected input (C, H, W) and filters (C_in, C_out, kh, kw), got {x.shape} and {w.shape}")
    c_in, h, wd = x.shape
    if w.shape[0] != c_in:
        raise ValueError(f"filters {w.shape} do not fit {c_in} input channels")
    per_in = per_group(c_in, groups)
    c_group_out, kh, kw = w.shape[1:]
    sh, sw = as_pair(stride)
    ph, pw = as_pair(padding)
    oph, opw = as_pair(output_padding)
    dh, dw = as_pair(dilation)
    if oph >= max(sh, dh) or opw >= max(sw, dw):
        raise ValueError(f"output padding {(oph, opw)} must be smaller than stride or dilation")
    h_out = transposed_out_steps(trace, "H", h, kh, sh, ph, oph, dh)
    w_out = transposed_out_steps(trace, "W", wd, kw, sw, pw, opw, dw)
    full_h = (h - 1) * sh + dh * (kh - 1) + 1 + oph
    full_w = (wd - 1) * sw + dw * (kw - 1) + 1 + opw
    full_elements = c_group_out * groups * full_h * full_w
    macs = c_in * h * wd * c_group_out * kh * kw + full_elements
    budgets.charge(budgets.image_steps(macs=macs, outputs=c_group_out * groups * h_out * w_out))
    dtype = np.result_type(x, w, bias if bias is not None else x)
    full = np.zeros((c_group_out * groups, full_h, full_w), dtype=dtype)
    for g in range(groups):
        xg = x[g * per_in : (g + 1) * per_in]
        wg = w[g * per_in : (g + 1) * per_in]
        target = full[g * c_group_out : (g + 1) * c_group_out]
        for i in range(kh):
            for j in range(kw):
                rows = slice(i * dh, i * dh + sh * (h - 1) + 1, sh)
                cols = slice(j * dw, j * dw + sw * (wd - 1) + 1, sw)
                target[:, rows, cols] += np.einsum("chw,co->ohw", xg, wg[:, :, i, j])
    out = full[:, ph : ph + h_out, pw : pw + w_out]
    if bias is not None:
        out = out + np.asarray(bias).reshape(-1, 1, 1)
    if trace:
        trace.note(
            f"Every input pixel stamps the kernel times its value on the output, {sh}×{sw} pixels apart"
            + (f"; the padding crops {ph} row(s) and {pw} column(s) from each border." if ph or pw else ".")
        )
        for i, j in first_entries(h_out, w_out):  # the stamps that land on output (i, j), as summed
            pairs = [
                (x[c, r, q], w[c, 0, a, b])
                for c in range(per_in)
                for a in range(kh)
                for b in range(kw)
                for r in range(h)
                for q in range(wd)
                if r * sh + a * dh == i + ph and q * sw + b * dw == j + pw
            ]
            b0 = None if bias is None else np.asarray(bias)[0]
            channel = "[1]" if out.shape[0] > 1 else ""
            trace.steps.append(sum_of_products(f"out{channel}[{i + 1}][{j + 1}]", pairs, b0, out[0, i, j]))
    return np.ascontiguousarray(out)
