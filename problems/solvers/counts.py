"""Parameter and multiply-accumulate counts, one scalar formula per layer kind.

Parameters derive from the weight shape ``(C_out, C_in/groups, kh, kw)`` plus one bias
per output channel. MACs count the multiplications of weights by inputs (biases are
additions, not MACs), the convention of thop/fvcore and of the published figures
(AlexNet 0.714 G, VGG-16 15.47 G). Like ``sizes``, these accept sympy symbols.
"""

from __future__ import annotations

from fractions import Fraction

from problems.solvers.sizes import Size


def conv_params(
    c_in: Size, c_out: Size, kh: Size | int, kw: Size | int, groups: Size | int = 1, bias: bool = True
) -> Size:
    """``C_out·(C_in/groups)·kh·kw + C_out·[bias]``.

    >>> conv_params(3, 3, 7, 7)
    444
    """
    return c_out * per_group(c_in, groups) * kh * kw + (c_out if bias else 0)


def conv_macs(
    c_in: Size,
    c_out: Size,
    kh: Size | int,
    kw: Size | int,
    h_out: Size | int,
    w_out: Size | int,
    groups: Size | int = 1,
) -> Size:
    """``H_out·W_out·C_out·(C_in/groups)·kh·kw``.

    >>> conv_macs(3, 64, 5, 5, 64, 64)
    19660800
    """
    return h_out * w_out * c_out * per_group(c_in, groups) * kh * kw


def transposed_params(
    c_in: Size, c_out: Size, kh: Size | int, kw: Size | int, groups: Size | int = 1, bias: bool = True
) -> Size:
    """Weight ``(C_in, C_out/groups, kh, kw)`` plus ``C_out`` biases: the same total as a convolution."""
    return c_in * per_group(c_out, groups) * kh * kw + (c_out if bias else 0)


def transposed_macs(
    c_in: Size, c_out: Size, kh: Size | int, kw: Size | int, h_in: Size | int, w_in: Size | int, groups: Size | int = 1
) -> Size:
    """Every input pixel is multiplied by a whole ``(C_out/groups)·kh·kw`` slice of the weight."""
    return h_in * w_in * c_in * per_group(c_out, groups) * kh * kw


def linear_params(n_in: Size, n_out: Size, bias: bool = True) -> Size:
    """``n_in·n_out + n_out·[bias]``.

    >>> linear_params(192, 100)
    19300
    """
    return n_in * n_out + (n_out if bias else 0)


def linear_macs(n_in: Size, n_out: Size) -> Size:
    """``n_in·n_out``."""
    return n_in * n_out


def batchnorm_params(channels: Size, affine: bool = True) -> Size | int:
    """Learnable scale and shift per channel; running statistics are buffers, not parameters."""
    return 2 * channels if affine else 0


def separable_params(c_in: Size, c_out: Size, k: Size | int, bias: bool = False) -> Size:
    """Depthwise ``K×K`` on each input channel, then pointwise ``1×1``: ``M·K² + M·N`` (+ biases).

    >>> separable_params(64, 128, 5)
    9792
    """
    return conv_params(c_in, c_in, k, k, groups=c_in, bias=bias) + conv_params(c_in, c_out, 1, 1, bias=bias)


def separable_macs(c_in: Size, c_out: Size, k: Size | int, h_out: Size | int, w_out: Size | int) -> Size:
    """``H·W·M·K² + H·W·M·N`` with ``H×W`` the layer's output size."""
    depthwise = conv_macs(c_in, c_in, k, k, h_out, w_out, groups=c_in)
    return depthwise + conv_macs(c_in, c_out, 1, 1, h_out, w_out)


def per_group(channels: Size, groups: Size | int) -> Size | int:
    """Channels each filter sees; refuses a split that is not whole."""
    if groups == 1:
        return channels
    if groups is channels:  # depthwise: each filter sees its own channel
        return 1
    if isinstance(channels, int) and isinstance(groups, int):
        if channels % groups:
            raise ValueError(f"{channels} channels cannot be split into {groups} groups")
        return channels // groups
    share = channels / groups  # a symbol in it (two integers are handled above): an exact sympy fraction
    assert not isinstance(share, float)
    return share


def flops(macs: Size) -> Size:
    """Floating-point operations: a multiply and an add per MAC, ``2·MACs``.

    >>> flops(70_276_800)
    140553600
    """
    return 2 * macs


def saved_percent(new: int, old: int) -> Fraction:
    """Relative reduction in percent, exactly: ``100·(1 − new/old)``.

    >>> saved_percent(1, 4)
    Fraction(75, 1)
    """
    return 100 * (1 - Fraction(new, old))
