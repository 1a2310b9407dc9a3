"""A map held channels last: what a permute makes of a ``C×H×W`` map, ``(H, W, C)`` to torch.

Shapes stay in the solvers' order (channels first) whatever order torch holds the tensor in; a
map permuted channels last (``x.permute(0, 2, 3, 1)``, as ConvNeXt's blocks and Swin's stages do)
is a ``ChannelsLast`` shape, so that the layers that read the last axis (``nn.Linear``,
``nn.LayerNorm``) act on each position's channels, as torch's do, and the layers that read a map
channels first (a convolution, pooling, ``tokens``) refuse it, as torch would compute something
else.
"""

from __future__ import annotations


class ChannelsLast(tuple[int, ...]):
    """A map's ``(C, H, W)`` that torch holds as ``(H, W, C)``."""

    __slots__ = ()


def like(source: tuple[int, ...], shape: tuple[int, ...]) -> tuple[int, ...]:
    """``shape`` held as ``source`` is: channels last when ``source`` is.

    >>> like(ChannelsLast((96, 56, 56)), (384, 56, 56))
    (384, 56, 56)
    >>> isinstance(like(ChannelsLast((96, 56, 56)), (384, 56, 56)), ChannelsLast)
    True
    """
    return ChannelsLast(shape) if isinstance(source, ChannelsLast) else tuple(shape)


def torch_order(shape: tuple[int, ...]) -> tuple[int, ...]:
    """The sizes of the tensor as torch holds it (batch dropped), for a map.

    >>> torch_order(ChannelsLast((96, 56, 56))), torch_order((96, 56, 56))
    ((56, 56, 96), (96, 56, 56))
    """
    return (*shape[1:], shape[0]) if isinstance(shape, ChannelsLast) else tuple(shape)
