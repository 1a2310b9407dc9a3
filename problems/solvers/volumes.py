"""Sliding windows over maps of any rank: sequences (``nn.Conv1d``, ``nn.MaxPool1d``,
``nn.AvgPool1d``; a ``C×L`` map) and clips (``nn.Conv3d``, ``nn.MaxPool3d``, ``nn.AvgPool3d``; a
``C×T×H×W`` map), one size formula per axis (``problems.solvers.sizes``).

A setting is one number for every axis or a list of one per axis. ``same`` padding is
TensorFlow's at any stride (``sizes.same_padding_at``), as for 2-D convolutions.
"""

from __future__ import annotations

import math
from typing import Annotated, ClassVar, Literal, Self

from pydantic import AfterValidator, model_validator

from problems.solvers import checks, sizes
from problems.solvers.assumptions import CORRECT, Assumptions
from problems.solvers.layers import LayerBase, LayerError, Shape, Units, pool_side, shape_text
from problems.solvers.receptive import IrregularField, Taps
from problems.solvers.steps import NO_TRACE, Trace

#: A setting of a window of any rank: one number, or a list of one per axis.
Setting = int | tuple[int, ...]
Positive = Annotated[Setting, AfterValidator(checks.positive), AfterValidator(checks.window)]
NonNegative = Annotated[Setting, AfterValidator(checks.non_negative), AfterValidator(checks.window)]


def per_axis(value: Setting, rank: int, field: str) -> tuple[int, ...]:
    """One number per axis.

    >>> per_axis(3, 3, "kernel"), per_axis((3, 1, 1), 3, "kernel")
    ((3, 3, 3), (3, 1, 1))
    """
    if isinstance(value, int):
        return (value,) * rank
    if len(value) != rank:
        raise checks.SettingError(field, f"{list(value)} has {len(value)} sizes for {rank} axes")
    return tuple(value)


def window_params(c_in: int, c_out: int, kernel: tuple[int, ...], groups: int = 1, bias: bool = True) -> int:
    """Weights ``C_out·(C_in/groups)·∏k`` plus ``C_out`` biases, for a kernel of any rank.

    >>> window_params(3, 64, (3, 3, 3))  # a C3D layer on an RGB clip
    5248
    """
    return c_out * (c_in // groups) * math.prod(kernel) + (c_out if bias else 0)


def _rank_of(kind: str) -> int:
    return 1 if kind.endswith("1d") else 3


def _axes(rank: int) -> tuple[str, ...]:
    """The axes' names in the formulas: a sequence's length, a clip's frames, height and width."""
    return ("L",) if rank == 1 else ("T", "H", "W")


def _kernel(trace: Trace, kernel: tuple[int, ...], rank: int) -> tuple[int, ...]:
    """The kernel's sides as given values: ``K`` for a cube (or a 1-D kernel), else one per axis."""
    if len(set(kernel)) == 1:
        return tuple(trace.given("K", k) for k in kernel)
    return tuple(trace.given(f"K_{axis}", k, f"K_{axis}") for axis, k in zip(_axes(rank), kernel, strict=True))


def _map(shape: Shape, rank: int, what: str) -> Shape:
    if len(shape) != rank + 1:
        axes = {1: "C×L", 3: "C×T×H×W"}[rank]
        raise LayerError(f"{what} needs a {axes} input, got {shape_text(shape)}")
    return shape


class ConvNd(LayerBase):
    """``nn.Conv1d`` (``conv1d``) and ``nn.Conv3d`` (``conv3d``)."""

    kind: Literal["conv1d", "conv3d"]
    out_channels: Units
    kernel: Positive
    stride: Positive = 1
    padding: Annotated[Setting | Literal["same", "valid"], AfterValidator(checks.non_negative)] = 0
    dilation: Positive = 1
    groups: Annotated[int, AfterValidator(checks.positive)] = 1
    bias: bool = True
    weighted: ClassVar[bool] = True

    @model_validator(mode="after")
    def _as_torch_allows(self) -> Self:
        rank = self.rank
        for field in ("kernel", "stride", "dilation"):
            per_axis(getattr(self, field), rank, field)
        if not isinstance(self.padding, str):
            checks.window(self.padding)
            per_axis(self.padding, rank, "padding")
        same = self.padding == "same" and max(self.strides) > 1 and max(per_axis(self.dilation, rank, "d")) > 1
        if same:
            raise checks.SettingError("padding", "'same' with a stride and a dilation above 1 (refused by Keras)")
        checks.groups_split(self.groups, self.out_channels)
        return self

    @property
    def rank(self) -> int:
        return _rank_of(self.kind)

    @property
    def strides(self) -> tuple[int, ...]:
        return per_axis(self.stride, self.rank, "stride")

    def paddings(self, shape: Shape, assume: Assumptions = CORRECT) -> list[tuple[int, int]]:
        """(before, after) per axis."""
        k, d = per_axis(self.kernel, self.rank, "kernel"), self._dilations(assume)
        if self.padding == "same" and assume.same_padding == "ignored":
            found = [(0, 0)] * self.rank
        elif self.padding == "same":
            found = [
                sizes.same_padding_at(n, ki, s, di)
                for n, ki, s, di in zip(shape[1:], k, self._strides(assume), d, strict=True)
            ]
            if assume.same_padding == "symmetric":
                found = [(max(side), max(side)) for side in found]
        elif self.padding == "valid":
            found = [(0, 0)] * self.rank
        else:
            found = [(p, p) for p in per_axis(self.padding, self.rank, "padding")]
        if assume.padding == "ignored":
            return [(0, 0)] * self.rank
        return [(before, 0) for before, _ in found] if assume.padding == "one_side" else found

    def _dilations(self, assume: Assumptions) -> tuple[int, ...]:
        return per_axis(self.dilation if assume.dilation else 1, self.rank, "dilation")

    def _strides(self, assume: Assumptions) -> tuple[int, ...]:
        return self.strides if assume.stride else (1,) * self.rank

    def output_shape(self, shape: Shape, assume: Assumptions = CORRECT, trace: Trace = NO_TRACE) -> Shape:
        c = _map(shape, self.rank, self.kind)[0]
        if c % self.groups:
            raise LayerError(f"groups: {c} input channels do not split into {self.groups} groups", "groups")
        k, d = per_axis(self.kernel, self.rank, "kernel"), self._dilations(assume)
        axes = zip(_axes(self.rank), shape[1:], k, self._strides(assume), self.paddings(shape, assume), d, strict=True)
        try:
            out = [
                sizes.conv_out_steps(trace, axis, n, ki, s, p, di, q, assume.size_rule)
                for axis, n, ki, s, (p, q), di in axes
            ]
        except sizes.SizeError as error:
            raise LayerError(str(error), "kernel") from None
        return (self.out_channels, *out)

    def _seen(self, c_in: int, assume: Assumptions) -> tuple[int, int]:
        if not assume.input_channels:
            return 1, 1
        return c_in, self.groups if assume.groups else 1

    def params(self, shape: Shape, assume: Assumptions = CORRECT, trace: Trace = NO_TRACE) -> int:
        c_in, groups = self._seen(shape[0], assume)
        bias = self.bias if assume.bias is None else assume.bias
        found = window_params(
            trace.given("C_in", c_in, "C_{in}"),
            trace.given("C_out", self.out_channels, "C_{out}"),
            _kernel(trace, per_axis(self.kernel, self.rank, "kernel"), self.rank),
            trace.given("g", groups, neutral=1),
            bias,
        )
        return trace.equation("parameters", found)

    def macs(self, shape: Shape, assume: Assumptions = CORRECT, trace: Trace = NO_TRACE) -> int:
        """Output values × the inputs each reads (``C_out·∏out·(C_in/groups)·∏k``); the bias is no
        multiplication, so a fan-in that counts it leaves the MACs alone."""
        out = self.output_shape(shape, assume)
        c_in, groups = self._seen(shape[0], CORRECT if assume.fan_in_bias else assume)
        values = math.prod(
            trace.given(f"{axis}_out", side, f"{axis}_{{out}}")
            for axis, side in zip(_axes(self.rank), out[1:], strict=True)
        )
        k = _kernel(trace, per_axis(self.kernel, self.rank, "kernel"), self.rank)
        per_value = trace.given("C_in", c_in, "C_{in}") // trace.given("g", groups, neutral=1) * math.prod(k)
        return trace.equation("MACs", trace.given("C_out", out[0], "C_{out}") * values * per_value)

    def fan_in(self, shape: Shape, assume: Assumptions = CORRECT, trace: Trace = NO_TRACE) -> int:
        """Inputs one output value reads: ``(C_in/groups)·∏k``."""
        c_in, groups = self._seen(shape[0], assume)
        k = _kernel(trace, per_axis(self.kernel, self.rank, "kernel"), self.rank)
        seen = trace.given("C_in", c_in, "C_{in}") // trace.given("g", groups, neutral=1)
        return trace.equation("fan-in", seen * math.prod(k) + int(assume.fan_in_bias))

    def taps(self, shape: Shape, out: Shape) -> tuple[Taps, Taps]:
        """Along a sequence, the window's taps (its dilation too: a WaveNet's field); a clip's
        field is not followed."""
        if self.rank != 1:
            raise IrregularField("receptive fields are followed on maps and sequences, not clips")
        ((before, _),) = self.paddings(shape)
        (k,), (s,), (d,) = (
            per_axis(v, 1, f) for v, f in ((self.kernel, "k"), (self.stride, "s"), (self.dilation, "d"))
        )
        return sequence_taps(k, s, before, d)


def sequence_taps(kernel: int, stride: int, before: int, dilation: int) -> tuple[Taps, Taps]:
    """The taps of a window over a sequence, as a map of one row: the row kept, the window along
    the length (a 1-D receptive field grows as a 2-D one does along one axis)."""
    return Taps.window(1), Taps.window(kernel, stride, before, dilation)


class PoolNd(LayerBase):
    """``nn.MaxPool1d``/``nn.AvgPool1d`` (``pool1d``) and ``nn.MaxPool3d``/``nn.AvgPool3d``
    (``pool3d``); stride defaults to the kernel; average pooling takes no dilation."""

    kind: Literal["pool1d", "pool3d"]
    mode: Literal["max", "avg"] = "max"
    kernel: Positive
    stride: Positive | None = None
    padding: NonNegative = 0
    dilation: Positive = 1
    ceil_mode: bool = False
    count_include_pad: bool = True

    @model_validator(mode="after")
    def _as_torch_allows(self) -> Self:
        rank = _rank_of(self.kind)
        k = per_axis(self.kernel, rank, "kernel")
        per_axis(self.stride if self.stride is not None else 1, rank, "stride")
        if self.mode == "avg" and max(per_axis(self.dilation, rank, "dilation")) > 1:
            raise checks.SettingError("dilation", f"average pooling has no dilation, not {self.dilation}")
        for p, ki in zip(per_axis(self.padding, rank, "padding"), k, strict=True):
            if 2 * p > ki:
                raise checks.SettingError("padding", f"{p} is more than half the kernel {ki}")
        return self

    def output_shape(self, shape: Shape, assume: Assumptions = CORRECT, trace: Trace = NO_TRACE) -> Shape:
        rank = _rank_of(self.kind)
        c = _map(shape, rank, self.kind)[0]
        k = per_axis(self.kernel, rank, "kernel")
        s = per_axis(self.stride, rank, "stride") if self.stride is not None else k
        p, d = per_axis(self.padding, rank, "padding"), per_axis(self.dilation, rank, "d")
        if self.mode == "avg" and rank == 3 and any(n < ki for n, ki in zip(shape[1:], k, strict=True)):
            # nn.AvgPool3d wants the unpadded input at least as large as the kernel (torch's CPU check)
            raise LayerError(f"average pooling: a {shape_text(shape[1:])} clip is smaller than the kernel", "kernel")
        try:
            out = [
                pool_side(trace, axis, n, *w, self.ceil_mode, assume)
                for axis, n, w in zip(_axes(rank), shape[1:], zip(k, s, p, d, strict=True), strict=True)
            ]
        except sizes.SizeError as error:
            raise LayerError(str(error), "kernel") from None
        return (c, *out)

    def taps(self, shape: Shape, out: Shape) -> tuple[Taps, Taps]:
        if _rank_of(self.kind) != 1:
            raise IrregularField("receptive fields are followed on maps and sequences, not clips")
        (k,), (p,), (d,) = (
            per_axis(v, 1, f) for v, f in ((self.kernel, "k"), (self.padding, "p"), (self.dilation, "d"))
        )
        (s,) = per_axis(self.stride, 1, "s") if self.stride is not None else (k,)
        return sequence_taps(k, s, p, d)
