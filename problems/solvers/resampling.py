"""Layers that change the spatial size without a sliding window of weights: upsampling
(``nn.Upsample``), adaptive and global pooling (``nn.AdaptiveAvgPool2d``/``MaxPool2d``) and zero
padding (``nn.ZeroPad2d``). None has parameters; none counts multiply-accumulates.
"""

from __future__ import annotations

import math
from typing import Annotated, Literal, Self

from pydantic import AfterValidator, Field, model_validator

from problems.budgets import MAX_SCALE, MAX_SIDE, over
from problems.solvers.assumptions import CORRECT, Assumptions
from problems.solvers.checks import SettingError, within
from problems.solvers.layers import IntPair, LayerBase, LayerError, Shape, Side, pair, shape_text, sides, spatial
from problems.solvers.receptive import IrregularField, Taps
from problems.solvers.steps import NO_TRACE, Trace

#: A size in pixels (an output size, a padding or cropping): within the budget on a map's side.
_side = within(MAX_SIDE, "a map's side")


class Upsample(LayerBase):
    """``nn.Upsample(scale_factor=scale)`` or ``nn.Upsample(size=size)``, nearest or bilinear
    (``align_corners=False``). A scale gives ``⌊n·scale⌋`` per axis (computed in floating point,
    as PyTorch does); a size is the output size itself.

    >>> Upsample(scale=2).output_shape((8, 7, 5))
    (8, 14, 10)
    """

    kind: Literal["upsample"] = "upsample"
    mode: Literal["nearest", "bilinear"] = "nearest"
    scale: float | tuple[float, float] | None = None
    size: Annotated[IntPair, AfterValidator(_side)] | None = None

    @model_validator(mode="after")
    def _scale_or_size(self) -> Self:
        if (self.scale is None) == (self.size is None):
            raise ValueError("give exactly one of scale and size")
        if self.scale is not None and min(self._scales()) <= 0:
            raise ValueError(f"scale {self.scale} must be positive")
        if self.scale is not None and not all(f <= MAX_SCALE for f in self._scales()):  # and not NaN
            raise SettingError("scale", f"{self.scale} is {over(MAX_SCALE, 'an upsampling factor')}")
        if self.size is not None and min(pair(self.size)) <= 0:
            raise ValueError(f"size {self.size} must be positive")
        return self

    def _scales(self) -> tuple[float, float]:
        assert self.scale is not None
        return (self.scale, self.scale) if isinstance(self.scale, int | float) else self.scale

    def output_shape(self, shape: Shape, assume: Assumptions = CORRECT, trace: Trace = NO_TRACE) -> Shape:
        c, h, w = spatial(shape, "upsampling")
        if self.size is not None:
            trace.note(f"upsampling to the declared size {shape_text(pair(self.size))}", value=list(pair(self.size)))
            return (c, *pair(self.size))
        out = tuple(math.floor(n * f) for n, f in zip((h, w), self._scales(), strict=True))
        if min(out) < 1:
            raise LayerError(f"scale {self.scale} leaves no pixel of {shape_text(shape)}")
        for axis, n, f, m in zip("HW", (h, w), self._scales(), out, strict=True):
            trace.note(
                f"{axis}_out = ⌊{axis}·scale⌋ = ⌊{n}·{f:g}⌋ = {m}",
                rf"{axis}_{{out}} = \lfloor {n} \cdot {f:g} \rfloor = {m}",
                m,
            )
        return (c, *out)

    def taps(self, shape: Shape, out: Shape) -> tuple[Taps, Taps]:
        """Whole factors only: after any other resize the field differs from pixel to pixel
        without a pattern (and PyTorch's floating-point source index decides the neighbours)."""
        found = []
        for axis, (n, m) in enumerate(zip(shape[1:], out[1:], strict=True)):
            factor = int(self._scales()[axis]) if self.scale is not None else m // n
            if m != n * factor or (self.scale is not None and self._scales()[axis] != factor):
                raise IrregularField(f"upsampling {n} to {m} pixels is not by a whole factor")
            found.append(Taps.nearest(factor) if self.mode == "nearest" else Taps.bilinear(factor))
        return found[0], found[1]


class AdaptivePool(LayerBase):
    """``nn.AdaptiveAvgPool2d(size)`` / ``nn.AdaptiveMaxPool2d(size)``: output ``o`` pools input
    pixels ``⌊o·n/size⌋`` to ``⌈(o+1)·n/size⌉ − 1``. ``kind: global_pool`` is the same at size 1.

    >>> AdaptivePool(size=[6, 6]).output_shape((256, 13, 13))
    (256, 6, 6)
    """

    kind: Literal["adaptive_pool", "global_pool"] = "adaptive_pool"
    mode: Literal["avg", "max"] = "avg"
    size: Annotated[IntPair, AfterValidator(_side)] = Field(default=1)

    @model_validator(mode="after")
    def _global_is_one(self) -> Self:
        if self.kind == "global_pool" and pair(self.size) != (1, 1):
            raise ValueError("global pooling has output size 1; use adaptive_pool for another size")
        if min(pair(self.size)) <= 0:
            raise ValueError(f"size {self.size} must be positive")
        return self

    def output_shape(self, shape: Shape, assume: Assumptions = CORRECT, trace: Trace = NO_TRACE) -> Shape:
        c, _, _ = spatial(shape, "adaptive pooling")
        out = (c, *pair(self.size))
        trace.note(
            f"{self.kind.replace('_', ' ')}ing makes every channel {shape_text(out[1:])}, whatever its input",
            value=list(out),
        )
        return out

    def taps(self, shape: Shape, out: Shape) -> tuple[Taps, Taps]:
        return Taps.adaptive(shape[1], out[1]), Taps.adaptive(shape[2], out[2])


class Pad(LayerBase):
    """``nn.ZeroPad2d``: ``padding`` is ``p``, ``[ph, pw]`` or ``[[top, bottom], [left, right]]``
    (``nn.ZeroPad2d((left, right, top, bottom))``); a negative side crops.

    >>> Pad(padding=[[0, 1], [0, 1]]).output_shape((3, 224, 224))
    (3, 225, 225)
    """

    kind: Literal["pad"] = "pad"
    padding: Annotated[int | tuple[Side, Side], AfterValidator(_side)]

    def paddings(self) -> tuple[tuple[int, int], tuple[int, int]]:
        """(top, bottom), (left, right)."""
        if isinstance(self.padding, int):
            return sides(self.padding), sides(self.padding)
        return sides(self.padding[0]), sides(self.padding[1])

    def output_shape(self, shape: Shape, assume: Assumptions = CORRECT, trace: Trace = NO_TRACE) -> Shape:
        c, h, w = spatial(shape, "padding")
        (top, bottom), (left, right) = self.paddings()
        for n, before, after in ((h, top, bottom), (w, left, right)):
            if n + min(before, 0) + min(after, 0) < 0:
                raise LayerError(f"cropping {-min(before, 0) - min(after, 0)} of {n} pixels: more than there are")
        t = trace
        out = (
            c,
            t.equation(
                "H_out",
                t.given("H", h) + t.given("P_top", top, "P_{top}") + t.given("P_bottom", bottom, "P_{bottom}"),
                "H_{out}",
            ),
            t.equation(
                "W_out",
                t.given("W", w) + t.given("P_left", left, "P_{left}") + t.given("P_right", right, "P_{right}"),
                "W_{out}",
            ),
        )
        if min(out[1:]) < 1:
            raise LayerError(f"cropping {shape_text(shape)} by {self.padding} leaves no pixel")
        return out

    def window(self) -> tuple[IntPair, IntPair, IntPair, IntPair]:
        (top, _), (left, _) = self.paddings()
        return 1, 1, (top, left), 1
