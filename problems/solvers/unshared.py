"""Layers an exam asks about beside the ordinary convolution: a locally connected layer (a
convolution without weight sharing), sub-pixel rearrangements (``nn.PixelShuffle``,
``nn.PixelUnshuffle``: depth to space and back) and a Vision Transformer's patch embedding (a
convolution whose kernel and stride are the patch).
"""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field

from problems.budgets import MAX_SCALE, MAX_WINDOW
from problems.solvers.assumptions import CORRECT, Assumptions
from problems.solvers.layers import (
    Conv,
    IntPair,
    LayerBase,
    LayerError,
    NonNegative,
    Positive,
    Shape,
    Units,
    spatial,
)
from problems.solvers.receptive import IrregularField, Taps
from problems.solvers.steps import NO_TRACE, Trace


def local_params(positions: int, c_in: int, c_out: int, kh: int, kw: int, bias: bool = True) -> int:
    """A locally connected layer has its own filter at every output position:
    ``H_out·W_out·C_out·(C_in·kh·kw + [bias])`` (Keras's ``LocallyConnected2D``, one bias per
    output value).

    >>> local_params(26 * 26, 1, 32, 3, 3)  # 3×3 filters on a 28×28 digit, unshared
    216320
    """
    return positions * c_out * (c_in * kh * kw + int(bias))


def shuffled(shape: Shape, r: int) -> Shape:
    """``nn.PixelShuffle(r)``: ``C×H×W → (C/r²)×rH×rW``, refused when ``r²`` does not divide C.

    >>> shuffled((64, 8, 8), 2)
    (16, 16, 16)
    """
    c, h, w = shape
    if c % (r * r):
        raise LayerError(f"{c} channels do not split into {r}² = {r * r} sub-pixels", "factor")
    return c // (r * r), h * r, w * r


def unshuffled(shape: Shape, r: int) -> Shape:
    """``nn.PixelUnshuffle(r)``: ``C×H×W → r²C×(H/r)×(W/r)``, refused unless r divides H and W.

    >>> unshuffled((3, 224, 224), 4)
    (48, 56, 56)
    """
    c, h, w = shape
    if h % r or w % r:
        raise LayerError(f"a {h}×{w} map does not split into {r}×{r} blocks", "factor")
    return c * r * r, h // r, w // r


class Local(LayerBase):
    """A locally connected layer (``kind: local``): a convolution's windows and output, with a
    filter of its own at every output position (no weight sharing)."""

    kind: Literal["local"] = "local"
    out_channels: Units
    kernel: Positive
    stride: Positive = 1
    padding: NonNegative = 0
    bias: bool = True
    weighted: ClassVar[bool] = True

    def conv(self) -> Conv:
        """The convolution with the same windows (and shared weights)."""
        return Conv(
            out_channels=self.out_channels, kernel=self.kernel, stride=self.stride, padding=self.padding, bias=self.bias
        )

    def output_shape(self, shape: Shape, assume: Assumptions = CORRECT, trace: Trace = NO_TRACE) -> Shape:
        return self.conv().output_shape(spatial(shape, "a locally connected layer"), assume, trace)

    def params(self, shape: Shape, assume: Assumptions = CORRECT, trace: Trace = NO_TRACE) -> int:
        _, h, w = self.output_shape(shape, assume)
        c_in = shape[0] if assume.input_channels else 1
        kh, kw = (self.kernel, self.kernel) if isinstance(self.kernel, int) else self.kernel
        bias = self.bias if assume.bias is None else assume.bias
        positions = trace.given("H_out", h, "H_{out}") * trace.given("W_out", w, "W_{out}")
        side = (
            (trace.given("K", kh), trace.given("K", kw))
            if kh == kw
            else (trace.given("K_h", kh), trace.given("K_w", kw))
        )
        found = local_params(
            positions,
            trace.given("C_in", c_in, "C_{in}"),
            trace.given("C_out", self.out_channels, "C_{out}"),
            *side,
            bias,
        )
        return trace.equation("parameters (a filter of its own at every output position)", found)

    def macs(self, shape: Shape, assume: Assumptions = CORRECT, trace: Trace = NO_TRACE) -> int:
        return self.conv().macs(shape, assume, trace)

    def fan_in(self, shape: Shape, assume: Assumptions = CORRECT, trace: Trace = NO_TRACE) -> int:
        return self.conv().fan_in(shape, assume, trace)

    def window(self) -> tuple[IntPair, IntPair, IntPair, IntPair]:
        return self.conv().window()


class PixelShuffle(LayerBase):
    """``nn.PixelShuffle(factor)`` (``pixel_shuffle``, depth to space: sub-pixel convolution's
    last step) or ``nn.PixelUnshuffle(factor)`` (``pixel_unshuffle``, space to depth)."""

    kind: Literal["pixel_shuffle", "pixel_unshuffle"]
    factor: int = Field(gt=0, le=MAX_SCALE)

    def output_shape(self, shape: Shape, assume: Assumptions = CORRECT, trace: Trace = NO_TRACE) -> Shape:
        shape = spatial(shape, self.kind.replace("_", " "))
        r = self.factor
        if self.kind == "pixel_shuffle":
            out = shuffled(shape, r)
            how = f"depth to space by r = {r}: C/r² × rH × rW = {shape[0]}/{r * r} × {r}·{shape[1]} × {r}·{shape[2]}"
        else:
            out = unshuffled(shape, r)
            how = f"space to depth by r = {r}: r²C × H/r × W/r = {r * r}·{shape[0]} × {shape[1]}/{r} × {shape[2]}/{r}"
        trace.note(f"{how} = {'×'.join(map(str, out))} (C×H×W)", value=list(out))
        return out

    def taps(self, shape: Shape, out: Shape) -> tuple[Taps, Taps]:
        raise IrregularField("pixels move between channels and positions: no one field per output pixel")


class PatchEmbed(LayerBase):
    """A Vision Transformer's stem (``patch_embed``): ``nn.Conv2d(C, dim, patch, stride=patch)``,
    one token of ``dim`` values per ``patch×patch`` patch (``tokens.NAME`` counts them)."""

    kind: Literal["patch_embed"] = "patch_embed"
    patch: int = Field(gt=0, le=MAX_WINDOW)
    dim: Units
    bias: bool = True
    weighted: ClassVar[bool] = True

    def conv(self) -> Conv:
        return Conv(out_channels=self.dim, kernel=self.patch, stride=self.patch, bias=self.bias)

    def output_shape(self, shape: Shape, assume: Assumptions = CORRECT, trace: Trace = NO_TRACE) -> Shape:
        return self.conv().output_shape(spatial(shape, "a patch embedding"), assume, trace)

    def params(self, shape: Shape, assume: Assumptions = CORRECT, trace: Trace = NO_TRACE) -> int:
        return self.conv().params(shape, assume, trace)

    def macs(self, shape: Shape, assume: Assumptions = CORRECT, trace: Trace = NO_TRACE) -> int:
        return self.conv().macs(shape, assume, trace)

    def fan_in(self, shape: Shape, assume: Assumptions = CORRECT, trace: Trace = NO_TRACE) -> int:
        return self.conv().fan_in(shape, assume, trace)

    def window(self) -> tuple[IntPair, IntPair, IntPair, IntPair]:
        return self.conv().window()
