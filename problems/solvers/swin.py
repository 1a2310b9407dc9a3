"""The Swin Transformer's steps (Liu et al., 2021), as torchvision's ``swin_t`` holds them: self-
attention inside windows of a map held channels last, shifted or not, with its relative position
bias table (``ShiftedWindowAttention``), and the gathering of each 2×2 patch that its
``PatchMerging`` begins with.

Counts follow torch, as for ``attention``: parameters are the modules' ``parameters()``, buffers
their ``buffers()`` (the relative position index), MACs the multiplications of the matrix
products (``FlopCounterMode``'s FLOPs halved): the query, key and value projection and the output
projection on every position of the padded map, and per window the scores ``Q·Kᵀ`` and the
weighted values. The bias added to the scores, the softmax, the shift (a roll) and its mask
multiply no weights.
"""

from __future__ import annotations

from typing import ClassVar, Literal, Self

from pydantic import Field, model_validator

from problems.budgets import MAX_UNITS, MAX_WINDOW
from problems.solvers.assumptions import CORRECT, Assumptions
from problems.solvers.layers import LayerBase, LayerError, Shape, shape_text
from problems.solvers.layouts import ChannelsLast
from problems.solvers.receptive import IrregularField, Taps
from problems.solvers.steps import NO_TRACE, Trace


def _channels_last(shape: Shape, what: str) -> tuple[int, int, int]:
    if not isinstance(shape, ChannelsLast):
        raise LayerError(
            f"{what} reads a map held channels last (N, H, W, C), as Swin's stages hold it: permute it first "
            f"(dims [0, 2, 3, 1]); got {shape_text(shape)}"
        )
    channels, height, width = shape
    return channels, height, width


class WindowAttention(LayerBase):
    """torchvision's ``ShiftedWindowAttention``: multi-head self-attention within each
    ``w×w`` window (``window_size``) of a map held channels last (padded up to whole windows), the
    windows shifted by ``shift_size`` first (Swin's odd blocks: ``w // 2``), with a learnable
    relative position bias per head for each of the ``(2·w − 1)²`` offsets. The shape kept;
    ``windows.NAME`` counts the windows, ``bias_table.NAME`` the table's parameters,
    ``scores_macs.NAME`` the MACs of ``Q·Kᵀ`` alone."""

    kind: Literal["window_attention"] = "window_attention"
    heads: int = Field(default=1, gt=0, le=MAX_UNITS, description="Attention heads: they must divide the channels.")
    window_size: int = Field(default=7, gt=0, le=MAX_WINDOW, description="The window's side, in positions (Swin: "
                             "7).")  # fmt: skip
    shift_size: int = Field(default=0, ge=0, le=MAX_WINDOW, description="How far the windows are shifted (rolled) "
                            "first, less than the window (Swin's odd blocks: `window_size // 2`); it changes no "
                            "count.")  # fmt: skip
    bias: bool = Field(default=True, description="Whether the projections have biases (torchvision's `qkv_bias` "
                       "and `proj_bias`).")  # fmt: skip
    weighted: ClassVar[bool] = True
    channels_last: ClassVar[bool] = True

    @model_validator(mode="after")
    def _shift_within(self) -> Self:
        if self.shift_size >= self.window_size:
            raise ValueError(f"a shift of {self.shift_size} is not less than the window's side {self.window_size}")
        return self

    def _sizes(self, shape: Shape) -> tuple[int, int, int]:
        """(C, padded H, padded W): torchvision pads the map up to whole windows."""
        channels, height, width = _channels_last(shape, "window attention")
        if channels % self.heads:
            raise LayerError(f"{self.heads} heads do not split {channels} channels evenly", "heads")
        w = self.window_size
        return channels, -(-height // w) * w, -(-width // w) * w

    def windows(self, shape: Shape, trace: Trace = NO_TRACE) -> int:
        _, height, width = self._sizes(shape)
        if (height, width) != tuple(shape[1:]):
            trace.note(f"the {shape_text(shape[1:])} map padded to whole windows: {height}×{width}")
        w = trace.given("window", self.window_size)
        return trace.equation("windows", (trace.given("H_pad", height) // w) * (trace.given("W_pad", width) // w))

    def output_shape(self, shape: Shape, assume: Assumptions = CORRECT, trace: Trace = NO_TRACE) -> Shape:
        channels, _, _ = self._sizes(shape)
        count = self.windows(shape)
        shifted = f", shifted by {self.shift_size}" if self.shift_size else ""
        side = f"{self.window_size}×{self.window_size}"
        trace.note(f"attention within {count:,} windows of {side}{shifted} keeps the shape ({self.heads} heads of "
                   f"{channels // self.heads})", value=list(shape))  # fmt: skip
        return shape

    def bias_table(self, shape: Shape, trace: Trace = NO_TRACE) -> int:
        """The relative position bias table: a bias per head for each offset, ``(2·w − 1)²·heads``."""
        self._sizes(shape)
        offsets = 2 * trace.given("window", self.window_size) - 1
        return trace.equation("relative position bias table", offsets * offsets * trace.given("heads", self.heads))

    def params(self, shape: Shape, assume: Assumptions = CORRECT, trace: Trace = NO_TRACE) -> int:
        channels, _, _ = self._sizes(shape)
        bias = self.bias if assume.bias is None else assume.bias
        c = trace.given("C", channels)
        projections = 4 * c * c + (4 * c if bias else 0)
        projections = trace.equation("projections (Q, K, V and output)", projections)
        table = self.bias_table(shape, trace)
        return trace.equation("parameters", trace.given("projections", projections) + trace.given("table", table))

    def macs(self, shape: Shape, assume: Assumptions = CORRECT, trace: Trace = NO_TRACE) -> int:
        channels, height, width = self._sizes(shape)
        positions = trace.given("H_pad", height) * trace.given("W_pad", width)
        c, tokens = trace.given("C", channels), trace.given("N", self.window_size * self.window_size)
        found = 4 * positions * c * c + 2 * positions * tokens * c
        return trace.equation("MACs (projections 4·H·W·C², scores and weighted values 2·H·W·N·C)", found)

    def scores_macs(self, shape: Shape, trace: Trace = NO_TRACE) -> int:
        """The scores ``Q·Kᵀ`` alone: in each window ``N²·C`` (``N = w²`` tokens), ``H·W·N·C`` in all."""
        channels, height, width = self._sizes(shape)
        positions = trace.given("H_pad", height) * trace.given("W_pad", width)
        found = positions * trace.given("N", self.window_size * self.window_size) * trace.given("C", channels)
        return trace.equation("MACs of the scores Q·Kᵀ (N per position and channel)", found)

    def buffers(self, shape: Shape, trace: Trace = NO_TRACE) -> int:
        """torchvision's ``relative_position_index``: the offset of every pair of a window's tokens."""
        self._sizes(shape)
        tokens = trace.given("N", self.window_size * self.window_size)
        return trace.equation("buffers (the relative position index, N² pairs)", tokens * tokens)

    def taps(self, shape: Shape, out: Shape) -> tuple[Taps, Taps]:
        raise IrregularField("a position attends to its whole window, which depends on where it lies")


class PatchMerging(LayerBase):
    """The gathering of torchvision's ``PatchMerging``: the four positions of each 2×2 patch of a
    map held channels last concatenated, ``C×H×W`` → ``4C×⌈H/2⌉×⌈W/2⌉`` (an odd side padded);
    its layer norm (``4C``) and linear layer (``2C``, no bias) are written after it. New values
    (``torch.cat``), no parameters or MACs."""

    kind: Literal["patch_merging"] = "patch_merging"
    channels_last: ClassVar[bool] = True

    def output_shape(self, shape: Shape, assume: Assumptions = CORRECT, trace: Trace = NO_TRACE) -> Shape:
        channels, height, width = _channels_last(shape, "patch merging")
        c = trace.equation("C_out (the four positions of each 2×2 patch)", 4 * trace.given("C", channels))
        h = trace.equation("H_out", (trace.given("H", height) + 1) // 2)
        w = trace.equation("W_out", (trace.given("W", width) + 1) // 2)
        return ChannelsLast((c, h, w))

    def window(self) -> tuple[int, int, int, int]:
        return 2, 2, 0, 1
