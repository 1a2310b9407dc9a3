"""Backward passes of a batched convolution and of max pooling, in numpy: the gradients a
student's ``conv_backward`` and ``max_pool_backward`` must return, as PyTorch's autograd computes
them.

A convolution ``out[n, f] = b[f] + Σ_c x_pad[n, c] ⋆ w[f, c]`` (cross-correlation, stride S)
has, for the upstream gradient ``dout``:

- ``db[f] = Σ_{n,i,j} dout[n, f, i, j]``
- ``dw[f, c, a, b] = Σ_{n,i,j} dout[n, f, i, j] · x_pad[n, c, S·i + a, S·j + b]``
- ``dx_pad[n, c, S·i + a, S·j + b] += Σ_f dout[n, f, i, j] · w[f, c, a, b]``, then the padding
  cropped off: ``dx = dx_pad[:, :, P:P+H, P:P+W]``.

Max pooling passes each output's gradient to the element its window took (the first largest, as
PyTorch does); where windows overlap, the gradients add up.

The loops run over kernel taps (or window taps), each a vectorised step over the batch.
"""

from __future__ import annotations

import numpy as np


def conv_backward(
    dout: np.ndarray, x: np.ndarray, w: np.ndarray, stride: int = 1, pad: int = 0
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(dx, dw, db)`` of a batched cross-correlation (see the module's formulas).

    >>> x = np.arange(9.0).reshape(1, 1, 3, 3)
    >>> dx, dw, db = conv_backward(np.ones((1, 1, 2, 2)), x, np.ones((1, 1, 2, 2)))
    >>> dx[0, 0].tolist(), dw[0, 0].tolist(), db.tolist()
    ([[1.0, 2.0, 1.0], [2.0, 4.0, 2.0], [1.0, 2.0, 1.0]], [[8.0, 12.0], [20.0, 24.0]], [4.0])
    """
    _, _, h, wd = x.shape
    _, _, kh, kw = w.shape
    _, _, h_out, w_out = dout.shape
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad))).astype(np.float64)
    dxp = np.zeros_like(xp)
    dw = np.zeros(w.shape, dtype=np.float64)
    for a in range(kh):
        for b in range(kw):
            rows = slice(a, a + stride * (h_out - 1) + 1, stride)
            cols = slice(b, b + stride * (w_out - 1) + 1, stride)
            dw[:, :, a, b] = np.einsum("nfhw,nchw->fc", dout, xp[:, :, rows, cols])
            dxp[:, :, rows, cols] += np.einsum("nfhw,fc->nchw", dout, w[:, :, a, b])
    db = dout.sum(axis=(0, 2, 3)).astype(np.float64)
    return dxp[:, :, pad : pad + h, pad : pad + wd], dw, db


def pool_windows(h: int, w: int, size: int, stride: int) -> list[tuple[int, int]]:
    """The top-left corner of every window of a max pool without padding, row by row."""
    h_out, w_out = (h - size) // stride + 1, (w - size) // stride + 1
    return [(i * stride, j * stride) for i in range(h_out) for j in range(w_out)]


def max_pool_backward(dout: np.ndarray, x: np.ndarray, size: int, stride: int, accumulate: bool = True) -> np.ndarray:
    """``dx`` of a max pool (no padding) over x (N, C, H, W): each output's gradient goes to the
    first largest element of its window, and overlapping windows add up. ``accumulate=False`` is
    the known mistake of writing with ``=``: an element two windows take keeps the last one's.

    >>> x = np.array([[[[1.0, 3.0, 2.0], [4.0, 0.0, 5.0], [0.0, 1.0, 0.0]]]])
    >>> max_pool_backward(np.ones((1, 1, 2, 2)), x, 2, 1)[0, 0].tolist()
    [[0.0, 0.0, 0.0], [2.0, 0.0, 2.0], [0.0, 0.0, 0.0]]
    """
    n, c, _, _ = x.shape
    dx = np.zeros(x.shape, dtype=np.float64)
    h_out = dout.shape[2]
    w_out = dout.shape[3]
    batch, channel = np.meshgrid(np.arange(n), np.arange(c), indexing="ij")
    for i in range(h_out):
        for j in range(w_out):
            r, s = i * stride, j * stride
            window = x[:, :, r : r + size, s : s + size].reshape(n, c, -1)
            first = window.argmax(axis=2)  # numpy's argmax, like PyTorch's, takes the first largest
            taken = (batch, channel, r + first // size, s + first % size)
            if accumulate:
                dx[taken] += dout[:, :, i, j]
            else:
                dx[taken] = dout[:, :, i, j]
    return dx
