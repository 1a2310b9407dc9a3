"""The numpy reference solvers (convolution, transposed convolution, pooling) and the size
rules they share, checked against PyTorch on hundreds of random configurations each.

Every case draws its configuration from ``numpy.random.default_rng((SEED, family, index))``,
so a failure names a case that reruns identically. PyTorch is the judge of validity too: a
draw PyTorch refuses must be refused by our solver as well, and is then drawn again.
Inputs are small integers in float64, so every sum is exact and the comparison has no
tolerance.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from problems.solvers import sizes
from problems.solvers.convolution import conv2d
from problems.solvers.pooling import pool2d
from problems.solvers.sizes import SizeError
from problems.solvers.transposed import conv_transpose2d

from torch_layers import keras_same

SEED = 20_260_523
CASES = 500
#: A case gives up after this many draws PyTorch refuses (it never gets close in practice).
MAX_DRAWS = 200

torch.set_num_threads(1)  # tiny tensors: threads only add overhead under pytest -n 2


def rng_for(family: int, index: int) -> np.random.Generator:
    return np.random.default_rng((SEED, family, index))


def pair_of(rng: np.random.Generator, lo: int, hi: int) -> int | tuple[int, int]:
    """An int or, half of the time, a pair that may differ per axis (both spellings are accepted)."""
    if rng.random() < 0.5:
        return int(rng.integers(lo, hi + 1))
    return int(rng.integers(lo, hi + 1)), int(rng.integers(lo, hi + 1))


def both(value: int | tuple[int, int]) -> tuple[int, int]:
    return (value, value) if isinstance(value, int) else value


def ints(rng: np.random.Generator, shape: tuple[int, ...], bound: int) -> np.ndarray:
    return rng.integers(-bound, bound + 1, size=shape).astype(np.int64)


def t64(array: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.asarray(array, dtype=np.float64))


def torch_or_none(call: Any) -> torch.Tensor | None:
    """PyTorch's answer, or None when PyTorch refuses the configuration or returns an empty
    tensor (an output with a side of 0 is no answer; our solvers refuse it)."""
    try:
        with torch.no_grad():
            out = call()
    except (RuntimeError, ValueError):
        return None
    return None if 0 in out.shape else out


# --- convolution: conv2d against F.conv2d ------------------------------------------------------


@dataclass(frozen=True)
class ConvCase:
    x: np.ndarray
    w: np.ndarray
    bias: np.ndarray | None
    stride: int | tuple[int, int]
    padding: int | tuple[int, int] | str
    dilation: int | tuple[int, int]
    groups: int
    flip: bool

    def ours(self) -> np.ndarray:
        return conv2d(self.x, self.w, self.bias, self.stride, self.padding, self.dilation, self.groups, self.flip)

    def torch(self) -> torch.Tensor | None:
        # True convolution is cross-correlation with the kernel turned by 180°.
        w = torch.flip(t64(self.w), (2, 3)) if self.flip else t64(self.w)
        bias = None if self.bias is None else t64(self.bias)
        x, padding = t64(self.x)[None], self.padding

        def run() -> torch.Tensor:
            # torch has no strided "same": TensorFlow's padding in front of it (Keras refuses a dilation too)
            pad = keras_same(x.shape[1:], self.w.shape[2:], self.stride, self.dilation) if padding == "same" else None
            inputs = x if pad is None else pad(x)
            return F.conv2d(inputs, w, bias, self.stride, padding if pad is None else 0, self.dilation, self.groups)[0]

        return torch_or_none(run)


def draw_conv(rng: np.random.Generator) -> ConvCase:
    per_group = int(rng.integers(1, 4))
    groups = int(rng.choice([1, 1, 2, 3, 0]))  # 0: depthwise, one group per input channel
    if groups == 0:
        per_group, groups = 1, int(rng.integers(1, 5))
    c_in = per_group * groups
    n_out = groups * int(rng.integers(1, 4))
    kh, kw = (int(k) for k in rng.integers(1, 5, size=2))  # non-square half of the time or so
    dilation = pair_of(rng, 1, 3)
    # "same" padding in a quarter of the draws, at stride 1 mostly; strided "same" is TensorFlow's.
    stride: int | tuple[int, int] = 1 if rng.random() < 0.15 else pair_of(rng, 1, 3)
    padding: int | tuple[int, int] | str = "same" if rng.random() < 0.25 else pair_of(rng, 0, 2)
    h, w = (int(n) for n in rng.integers(1, 17, size=2))
    bias = ints(rng, (n_out,), 3) if rng.random() < 0.5 else None
    return ConvCase(
        x=ints(rng, (c_in, h, w), 4),
        w=ints(rng, (n_out, per_group, kh, kw), 3),
        bias=bias,
        stride=stride,
        padding=padding,
        dilation=dilation,
        groups=groups,
        flip=bool(rng.random() < 0.3),
    )


# 500 seeded random configurations: channels, groups (depthwise too), non-square kernels,
# int and tuple stride/padding/dilation, "same" padding, bias or not, flipped kernels.
@pytest.mark.filterwarnings("ignore:Using padding='same'")
@pytest.mark.parametrize("index", range(CASES))
def test_conv2d_matches_torch(index: int) -> None:
    """Exact agreement on integers; every configuration torch refuses, we refuse too."""
    rng = rng_for(1, index)
    for _ in range(MAX_DRAWS):
        case = draw_conv(rng)
        expected = case.torch()
        if expected is None:
            with pytest.raises(ValueError):
                case.ours()
            continue
        ours = case.ours()
        assert np.issubdtype(ours.dtype, np.integer), "integer inputs must give an exact integer answer"
        np.testing.assert_allclose(ours, expected.numpy(), rtol=0, atol=0)
        return
    pytest.fail(f"no configuration torch accepts in {MAX_DRAWS} draws")


# --- transposed convolution: conv_transpose2d against F.conv_transpose2d ------------------------


@dataclass(frozen=True)
class TransposedCase:
    x: np.ndarray
    w: np.ndarray
    bias: np.ndarray | None
    stride: int | tuple[int, int]
    padding: int | tuple[int, int]
    output_padding: int | tuple[int, int]
    dilation: int | tuple[int, int]
    groups: int

    def ours(self) -> np.ndarray:
        return conv_transpose2d(
            self.x, self.w, self.bias, self.stride, self.padding, self.output_padding, self.dilation, self.groups
        )

    def torch(self) -> torch.Tensor | None:
        bias = None if self.bias is None else t64(self.bias)
        return torch_or_none(
            lambda: F.conv_transpose2d(
                t64(self.x)[None],
                t64(self.w),
                bias,
                self.stride,
                self.padding,
                self.output_padding,
                self.groups,
                self.dilation,
            )[0]
        )


def draw_transposed(rng: np.random.Generator) -> TransposedCase:
    groups = int(rng.integers(1, 4))
    c_in = groups * int(rng.integers(1, 4))
    per_group_out = int(rng.integers(1, 4))
    kh, kw = (int(k) for k in rng.integers(1, 5, size=2))
    stride, dilation, padding = pair_of(rng, 1, 3), pair_of(rng, 1, 3), pair_of(rng, 0, 2)
    (sh, sw), (dh, dw) = both(stride), both(dilation)
    # Output padding up to max(stride, dilation) inclusive: the top value is invalid, on purpose.
    output_padding = int(rng.integers(0, max(sh, dh, sw, dw) + 1))
    if rng.random() < 0.5:
        output_padding = int(rng.integers(0, max(sh, dh) + 1)), int(rng.integers(0, max(sw, dw) + 1))
    h, w = (int(n) for n in rng.integers(1, 9, size=2))
    bias = ints(rng, (groups * per_group_out,), 3) if rng.random() < 0.5 else None
    return TransposedCase(
        x=ints(rng, (c_in, h, w), 4),
        w=ints(rng, (c_in, per_group_out, kh, kw), 3),
        bias=bias,
        stride=stride,
        padding=padding,
        output_padding=output_padding,
        dilation=dilation,
        groups=groups,
    )


# 500 seeded random configurations: stride, padding, output padding (valid and invalid),
# dilation, groups, bias, non-square kernels.
@pytest.mark.parametrize("index", range(CASES))
def test_conv_transpose2d_matches_torch(index: int) -> None:
    """Exact agreement on integers; invalid output padding or empty outputs are refused by both."""
    rng = rng_for(2, index)
    for _ in range(MAX_DRAWS):
        case = draw_transposed(rng)
        expected = case.torch()
        if expected is None:
            with pytest.raises(ValueError):
                case.ours()
            continue
        np.testing.assert_allclose(case.ours(), expected.numpy(), rtol=0, atol=0)
        return
    pytest.fail(f"no configuration torch accepts in {MAX_DRAWS} draws")


# --- pooling: pool2d against F.max_pool2d / F.avg_pool2d ---------------------------------------


@dataclass(frozen=True)
class PoolCase:
    x: np.ndarray
    kind: str
    kernel: int | tuple[int, int]
    stride: int | tuple[int, int] | None
    padding: int | tuple[int, int]
    dilation: int | tuple[int, int]
    ceil_mode: bool
    count_include_pad: bool

    def ours(self) -> np.ndarray:
        return pool2d(
            self.x,
            self.kind,
            self.kernel,
            self.stride,
            self.padding,
            self.dilation,
            self.ceil_mode,
            self.count_include_pad,
        )

    def torch(self) -> torch.Tensor | None:
        x = t64(self.x)[None]
        # PyTorch's stride default is the kernel too: pass None through unchanged.
        if self.kind == "avg":
            return torch_or_none(
                lambda: F.avg_pool2d(x, self.kernel, self.stride, self.padding, self.ceil_mode, self.count_include_pad)[
                    0
                ]
            )
        sign = 1.0 if self.kind == "max" else -1.0  # min pooling is −maxpool(−x)
        return torch_or_none(
            lambda: (
                sign * F.max_pool2d(sign * x, self.kernel, self.stride, self.padding, self.dilation, self.ceil_mode)[0]
            )
        )


def draw_pool(rng: np.random.Generator) -> PoolCase:
    kind = str(rng.choice(["max", "avg", "min"]))
    kernel = pair_of(rng, 1, 4)
    kh, kw = both(kernel)
    stride = None if rng.random() < 0.25 else pair_of(rng, 1, 3)
    # Padding up to half the kernel plus one: the top value is invalid, on purpose.
    padding: int | tuple[int, int] = int(rng.integers(0, min(kh, kw) // 2 + 2))
    if rng.random() < 0.5:
        padding = int(rng.integers(0, kh // 2 + 2)), int(rng.integers(0, kw // 2 + 2))
    dilation = 1 if kind == "avg" else pair_of(rng, 1, 3)
    h, w = (int(n) for n in rng.integers(1, 17, size=2))
    return PoolCase(
        x=ints(rng, (int(rng.integers(1, 4)), h, w), 9),
        kind=kind,
        kernel=kernel,
        stride=stride,
        padding=padding,
        dilation=dilation,
        ceil_mode=bool(rng.random() < 0.5),
        count_include_pad=bool(rng.random() < 0.5),
    )


# 500 seeded random configurations: max, avg and min; kernels, strides (default too), padding
# up to half the kernel, dilation (max and min), ceil mode, count_include_pad (avg).
@pytest.mark.parametrize("index", range(CASES))
def test_pool2d_matches_torch(index: int) -> None:
    """Averages to 1e-12, max and min exactly; a dilated window that covers only padding
    (torch answers ±inf, no homework answer) is refused by our solver with a SizeError."""
    rng = rng_for(3, index)
    for _ in range(MAX_DRAWS):
        case = draw_pool(rng)
        expected = case.torch()
        if expected is None:
            with pytest.raises(ValueError):
                case.ours()
            continue
        if not torch.isfinite(expected).all():
            with pytest.raises(SizeError):
                case.ours()
            continue
        ours = case.ours()
        if case.kind == "avg":
            np.testing.assert_allclose(ours, expected.numpy(), rtol=1e-12, atol=1e-12)
        else:
            np.testing.assert_allclose(ours, expected.numpy(), rtol=0, atol=0)
        return
    pytest.fail(f"no configuration torch accepts in {MAX_DRAWS} draws")


def test_a_window_of_padding_only_is_refused() -> None:
    """The one place torch and the reference differ on purpose: a 2-tap window dilated by 3
    over a 2-pixel input, padding 1, sees only padding; torch gives −inf, we refuse."""
    x = np.arange(4).reshape(1, 2, 2)
    assert torch.isinf(F.max_pool2d(t64(x)[None], 2, 1, 1, 3)).all()
    with pytest.raises(SizeError, match="only padding"):
        pool2d(x, "max", 2, 1, 1, 3)


# --- the size rules alone, on wider ranges than the value tests -----------------------------


def torch_side(call: Any) -> int | None:
    out = torch_or_none(call)
    return None if out is None else int(out.shape[-2])


# 500 seeded random (n, k, s, p, d, ceil) on one axis, n up to 64: sizes.pool_out against the
# height of F.max_pool2d's output on an n×1 tensor of zeros (the CPU kernel's checks: its
# padding rule is half the kernel, stricter than the meta device's half the dilated kernel).
@pytest.mark.parametrize("index", range(CASES))
def test_pool_out_matches_torch(index: int) -> None:
    rng = rng_for(4, index)
    n, k, s, d = int(rng.integers(1, 65)), int(rng.integers(1, 8)), int(rng.integers(1, 5)), int(rng.integers(1, 4))
    p, ceil_mode = int(rng.integers(0, k // 2 + 2)), bool(rng.random() < 0.5)
    x = torch.zeros(1, 1, n, 1)
    expected = torch_side(lambda: F.max_pool2d(x, (k, 1), (s, 1), (p, 0), (d, 1), ceil_mode))
    if expected is None:
        with pytest.raises(SizeError):
            sizes.pool_out(n, k, s, p, d, ceil_mode)
    else:
        assert sizes.pool_out(n, k, s, p, d, ceil_mode) == expected


# 500 seeded random (n, k, s, p, d) on one axis: sizes.conv_out, sizes.transposed_out and the
# asymmetric "same" padding against the heights torch computes on n×1 tensors.
@pytest.mark.filterwarnings("ignore:Using padding='same'")
@pytest.mark.parametrize("index", range(CASES))
def test_conv_and_transposed_sizes_match_torch(index: int) -> None:
    rng = rng_for(5, index)
    n, k, s, d = int(rng.integers(1, 65)), int(rng.integers(1, 8)), int(rng.integers(1, 5)), int(rng.integers(1, 4))
    p, op = int(rng.integers(0, 4)), int(rng.integers(0, max(s, d)))
    x, w = torch.zeros(1, 1, n, 1), torch.zeros(1, 1, k, 1)
    forward = torch_side(lambda: F.conv2d(x, w, None, (s, 1), (p, 0), (d, 1)))
    if forward is None:
        with pytest.raises(SizeError):
            sizes.conv_out(n, k, s, p, d)
    else:
        assert sizes.conv_out(n, k, s, p, d) == forward
    before, after = sizes.same_padding(k, d)
    assert sizes.conv_out(n, k, 1, before, d, after) == torch_side(lambda: F.conv2d(x, w, None, 1, "same", (d, 1)))
    backward = torch_side(lambda: F.conv_transpose2d(x, w, None, (s, 1), (p, 0), (op, 0), 1, (d, 1)))
    if backward is None:
        with pytest.raises(SizeError):
            sizes.transposed_out(n, k, s, p, op, d)
    else:
        assert sizes.transposed_out(n, k, s, p, op, d) == backward


# 500 seeded random (n_in, n_out, s, p) on one axis: sizes.kernel_for against every kernel that
# torch maps n_in to n_out with (a brute-force search on n×1 tensors). With a stride several
# kernels can fit; ours is the largest, the one whose windows tile the padded input exactly.
@pytest.mark.parametrize("index", range(CASES))
def test_kernel_for_matches_a_torch_search(index: int) -> None:
    rng = rng_for(6, index)
    n_in, s, p = int(rng.integers(1, 33)), int(rng.integers(1, 4)), int(rng.integers(0, 3))
    n_out = int(rng.integers(1, n_in + 2 * p + 1))
    x = torch.zeros(1, 1, n_in, 1)
    fitting = [
        k
        for k in range(1, n_in + 2 * p + 1)
        if torch_side(lambda k=k: F.conv2d(x, torch.zeros(1, 1, k, 1), None, (s, 1), (p, 0))) == n_out
    ]
    if fitting:
        assert sizes.kernel_for(n_in, n_out, s, p) == max(fitting)
    else:
        with pytest.raises(SizeError):
            sizes.kernel_for(n_in, n_out, s, p)


# 500 seeded random (n, k, d): sizes.padding_to_keep against the symmetric paddings with which
# torch keeps the size at stride 1 (none when the dilated kernel spans an even number of pixels).
@pytest.mark.parametrize("index", range(CASES))
def test_padding_to_keep_matches_a_torch_search(index: int) -> None:
    rng = rng_for(7, index)
    n, k, d = int(rng.integers(1, 33)), int(rng.integers(1, 8)), int(rng.integers(1, 4))
    x, w = torch.zeros(1, 1, n, 1), torch.zeros(1, 1, k, 1)
    keeping = [p for p in range(d * k + 1) if torch_side(lambda p=p: F.conv2d(x, w, None, 1, (p, 0), (d, 1))) == n]
    if keeping:
        assert [sizes.padding_to_keep(k, d)] == keeping
    else:
        with pytest.raises(SizeError):
            sizes.padding_to_keep(k, d)
