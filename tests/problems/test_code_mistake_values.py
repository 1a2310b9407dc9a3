"""The code kinds' mistakes, computed once per draw from shared work (the stride-1 convolution's
windows, each image's gradients of one backward pass, the windows' last writers), against each
mistake computed plainly as its slip makes it: the padding added on one side before convolving,
a backward pass over one image, a loop that assigns with ``=``. On many random settings, strides
that do and do not divide the padding among them."""

from __future__ import annotations

import numpy as np
import pytest

from problems.code.kinds import KINDS
from problems.code.kinds.conv import batched
from problems.code.parts import CodeTest
from problems.solvers.backprop import conv_backward

CASES = 60


def _conv_test(rng: np.random.Generator) -> CodeTest:
    while True:
        n, c, f = (int(v) for v in rng.integers(1, 4, size=3))
        kh, kw = (int(v) for v in rng.integers(1, 5, size=2))
        h, w = (int(v) for v in rng.integers(2, 10, size=2))
        stride, pad = int(rng.integers(1, 4)), int(rng.integers(0, 4))
        if kh <= h + pad and kw <= w + pad:  # (a kernel past the input padded on one side has no output)
            shapes = {"x": [n, c, h, w], "w": [f, c, kh, kw]}
            return CodeTest.model_validate({"name": "t", "shapes": shapes, "stride": stride, "pad": pad})


def _forms(
    name: str, test: CodeTest, seed: int
) -> tuple[dict[str, np.ndarray], dict[str, list[tuple[np.ndarray, ...]]]]:
    """A draw's named arrays, and each mistake's forms on it."""
    kind = KINDS[name]
    drawn = kind.draw(test, np.random.default_rng(seed))
    found: dict[str, list[tuple[np.ndarray, ...]]] = {}
    for code, outputs in kind.mistakes(test, drawn, kind.reference(test, drawn)):
        found.setdefault(code, []).append(outputs)
    return drawn.named, found


def _close(ours: tuple[np.ndarray, ...], plain: tuple[np.ndarray, ...]) -> None:
    assert len(ours) == len(plain)
    for one, other in zip(ours, plain, strict=True):
        assert one.shape == other.shape
        np.testing.assert_allclose(one, other, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("index", range(CASES))
def test_a_forwards_paddings_and_stride_read_off_the_stride_1_windows_are_the_slips_convolutions(index: int) -> None:
    test = _conv_test(np.random.default_rng((70, index)))
    named, forms = _forms("conv.forward", test, index)
    x, w, b = named["x"], named["w"], named["b"]
    stride, pad = test.model_extra["stride"], test.model_extra["pad"]  # type: ignore[index]
    _close(forms["kernel-flipped"][0], (batched(x, w[:, :, ::-1, ::-1], b, stride, pad),))
    _close(forms["bias-omitted"][0], (batched(x, w, None, stride, pad),))
    if stride > 1:
        _close(forms["stride-ignored"][0], (batched(x, w, b, 1, pad),))
    if pad:
        before, after = ((0, 0), (0, 0), (pad, 0), (pad, 0)), ((0, 0), (0, 0), (0, pad), (0, pad))
        plain = [(batched(np.pad(x, sides), w, b, stride, 0),) for sides in (before, after)]
        for ours, theirs in zip(forms["padding-one-side"], plain, strict=True):
            _close(ours, theirs)
        if w.shape[2] <= x.shape[2] and w.shape[3] <= x.shape[3]:
            _close(forms["padding-ignored"][0], (batched(x, w, b, stride, 0),))


def _overwritten(dout: np.ndarray, x: np.ndarray, w: np.ndarray, stride: int, pad: int) -> list[np.ndarray]:
    """dx of a loop over the output's positions that assigns with ``=``: the last filter's term
    (a loop over the filters too), and the sum over the filters (vectorised over them)."""
    f, _, kh, kw = w.shape
    _, _, h_out, w_out = dout.shape
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    per_filter, all_filters = np.zeros_like(xp), np.zeros_like(xp)
    for i in range(h_out):
        for j in range(w_out):
            rows, cols = slice(i * stride, i * stride + kh), slice(j * stride, j * stride + kw)
            per_filter[:, :, rows, cols] = w[f - 1][np.newaxis] * dout[:, f - 1, i, j][:, None, None, None]
            all_filters[:, :, rows, cols] = np.einsum("nf,fchw->nchw", dout[:, :, i, j], w)
    crop = (slice(None), slice(None), slice(pad, pad + x.shape[2]), slice(pad, pad + x.shape[3]))
    return [per_filter[crop], all_filters[crop]]


@pytest.mark.parametrize("index", range(CASES))
def test_a_backward_passs_slips_are_the_slipped_loops_and_one_images_pass(index: int) -> None:
    test = _conv_test(np.random.default_rng((71, index)))
    named, forms = _forms("conv.backward", test, index)
    dout, x, w = named["dout"], named["x"], named["w"]
    stride, pad = test.model_extra["stride"], test.model_extra["pad"]  # type: ignore[index]
    dx = conv_backward(dout, x, w, stride, pad)[0]
    assigned = [form[0] for form in forms["gradient-not-accumulated"][:2]]
    for ours, plain in zip(assigned, _overwritten(dout, x, w, stride, pad), strict=True):
        _close((ours,), (plain,))
    if x.shape[0] > 1:
        for ours, image in zip(forms["gradient-not-summed-over-batch"], (0, x.shape[0] - 1), strict=False):
            _, one_dw, one_db = conv_backward(dout[image : image + 1], x[image : image + 1], w, stride, pad)
            _close(ours, (dx, one_dw, one_db))


def _pool_test(rng: np.random.Generator) -> CodeTest:
    n, c = (int(v) for v in rng.integers(1, 4, size=2))
    size = int(rng.integers(1, 4))
    stride = int(rng.integers(1, 4))
    h, w = (size + int(v) for v in rng.integers(0, 7, size=2))
    shapes = {"x": [n, c, h, w]}
    return CodeTest.model_validate({"name": "t", "shapes": shapes, "size": size, "stride": stride})


@pytest.mark.parametrize("index", range(CASES))
def test_a_max_pools_slips_are_the_slipped_loops(index: int) -> None:
    test = _pool_test(np.random.default_rng((72, index)))
    size, stride = test.model_extra["size"], test.model_extra["stride"]  # type: ignore[index]
    named, forms = _forms("pool.backward", test, index)
    dout, x = named["dout"], named["x"]
    n, c, h_out, w_out = dout.shape
    spread, assigned = np.zeros(x.shape), np.zeros(x.shape)
    for i in range(h_out):
        for j in range(w_out):
            rows, cols = slice(i * stride, i * stride + size), slice(j * stride, j * stride + size)
            spread[:, :, rows, cols] += dout[:, :, i, j][:, :, None, None]
            window = x[:, :, rows, cols].reshape(n, c, -1)
            mask = (np.arange(size * size) == window.argmax(axis=2)[..., None]).reshape(n, c, size, size)
            assigned[:, :, rows, cols] = mask * dout[:, :, i, j][:, :, None, None]
    _close(forms["pool-gradient-to-all"][0], (spread,))
    if stride < size:
        _close(forms["pool-window-assigned"][0], (assigned,))
    named, forward = _forms("pool.forward", test, index)
    if "pool-size-ceil" in forward:
        x = named["x"]
        h, w = x.shape[2:]
        rows, cols = (-(-(extent - size) // stride) + 1 for extent in (h, w))
        ceiled = np.array([
            [[[x[a, b, i * stride : i * stride + size, j * stride : j * stride + size].max() for j in range(cols)]
              for i in range(rows)] for b in range(c)] for a in range(n)
        ])  # fmt: skip
        _close(forward["pool-size-ceil"][0], (ceiled,))
