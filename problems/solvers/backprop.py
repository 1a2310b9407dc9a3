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

``conv_backward`` is ``input_gradient`` (dx) and ``weight_gradient`` (dw), PyTorch's
``torch.nn.grad.conv2d_input`` and ``conv2d_weight``, each computed alone where a mistake changes
only one of them. Nothing loops over taps or windows: the windows are views (``windows.taps``),
the products one matrix product each, and the gradients go back to the places their windows read
in one ``bincount`` (``windows.added_back``).
"""

from __future__ import annotations

import numpy as np

from problems.solvers.windows import added_back, last_at, padded, summed_at, taps


def conv_backward(
    dout: np.ndarray, x: np.ndarray, w: np.ndarray, stride: int = 1, pad: int = 0
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(dx, dw, db)`` of a batched cross-correlation (see the module's formulas).

    >>> x = np.arange(9.0).reshape(1, 1, 3, 3)
    >>> dx, dw, db = conv_backward(np.ones((1, 1, 2, 2)), x, np.ones((1, 1, 2, 2)))
    >>> dx[0, 0].tolist(), dw[0, 0].tolist(), db.tolist()
    ([[1.0, 2.0, 1.0], [2.0, 4.0, 2.0], [1.0, 2.0, 1.0]], [[8.0, 12.0], [20.0, 24.0]], [4.0])
    """
    dx = input_gradient(dout, w, x.shape, stride, pad)
    dw = weight_gradient(dout, x, w.shape[2:], stride, pad)
    return dx, dw, dout.sum(axis=(0, 2, 3)).astype(np.float64)


def input_gradient(
    dout: np.ndarray, w: np.ndarray, shape: tuple[int, ...], stride: int = 1, pad: int = 0
) -> np.ndarray:
    """``dx`` of an input of ``shape`` (N, C, H, W), as PyTorch's ``torch.nn.grad.conv2d_input``:
    each output pixel's ``Σ_f dout · w`` added back to the padded places its window read, the
    padding cropped off."""
    n, c, h, wd = shape
    f, _, kh, kw = w.shape
    _, _, h_out, w_out = dout.shape
    per_pixel = dout.transpose(0, 2, 3, 1).reshape(n * h_out * w_out, f)  # a row per output pixel
    given = (per_pixel @ w.reshape(f, c * kh * kw)).reshape(n, h_out, w_out, c, kh, kw)
    padded_shape = (n, c, h + 2 * pad, wd + 2 * pad)
    dxp = added_back(given.transpose(0, 3, 1, 2, 4, 5), padded_shape, (kh, kw), (stride, stride))
    return dxp[:, :, pad : pad + h, pad : pad + wd]


def weight_gradient(
    dout: np.ndarray, x: np.ndarray, kernel: tuple[int, int], stride: int = 1, pad: int = 0, per_image: bool = False
) -> np.ndarray:
    """``dw`` of filters of ``kernel`` (kh, kw), as PyTorch's ``torch.nn.grad.conv2d_weight``: each
    window's taps times its output pixel's ``dout``, summed. ``per_image``: each image's own
    (N, F, C, kh, kw), whose sum is the batch's (a backward pass that forgets to sum them returns
    one of them)."""
    n, c, _, _ = x.shape
    _, f, h_out, w_out = dout.shape
    kh, kw = kernel
    xp = padded(x.astype(np.float64, copy=False), pad, pad, pad, pad)
    windows = taps(xp, (kh, kw), (stride, stride), (1, 1), (h_out, w_out))  # (N, C, H_out, W_out, kh, kw)
    read = windows.transpose(0, 2, 3, 1, 4, 5).reshape(n, h_out * w_out, c * kh * kw)
    products: np.ndarray = dout.reshape(n, f, h_out * w_out) @ read
    images = products.reshape(n, f, c, kh, kw).astype(np.float64, copy=False)
    return images if per_image else images.sum(axis=0)


def max_pool_backward(dout: np.ndarray, x: np.ndarray, size: int, stride: int, accumulate: bool = True) -> np.ndarray:
    """``dx`` of a max pool (no padding) over x (N, C, H, W): each output's gradient goes to the
    first largest element of its window, and overlapping windows add up. ``accumulate=False`` is
    the known mistake of writing with ``=``: an element two windows take keeps the last one's.

    >>> x = np.array([[[[1.0, 3.0, 2.0], [4.0, 0.0, 5.0], [0.0, 1.0, 0.0]]]])
    >>> max_pool_backward(np.ones((1, 1, 2, 2)), x, 2, 1)[0, 0].tolist()
    [[0.0, 0.0, 0.0], [2.0, 0.0, 2.0], [0.0, 0.0, 0.0]]
    """
    n, c, h, w = x.shape
    _, _, h_out, w_out = dout.shape
    windows = taps(x, (size, size), (stride, stride), (1, 1), (h_out, w_out)).reshape(n, c, h_out, w_out, -1)
    first = windows.argmax(axis=-1)  # numpy's argmax, like PyTorch's, takes the first largest
    r = np.arange(h_out)[:, np.newaxis] * stride + first // size
    s = np.arange(w_out) * stride + first % size
    taken = (np.arange(n * c).reshape(n, c, 1, 1) * h + r) * w + s  # each window's element, flattened
    # Flattened, the windows of one channel run row by row, as the loop over them takes them.
    return (summed_at if accumulate else last_at)(taken, dout, x.shape)
