"""Layer specifications: what a layer does to a shape, how many parameters and MACs it has,
and which input pixels it reads (for receptive fields).

Shapes are ``(C, H, W)`` inside the solvers (PyTorch's order, batch dropped) or ``(F,)``
after flattening; the layout a student writes in is the grading engine's business.
"""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Literal, Self

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator

from problems.budgets import MAX_UNITS, MAX_WINDOW
from problems.solvers import activations, checks, counts, sizes
from problems.solvers.assumptions import CORRECT, Assumptions
from problems.solvers.layouts import ChannelsLast, like
from problems.solvers.receptive import Taps
from problems.solvers.steps import NO_TRACE, Trace

Shape = tuple[int, ...]
IntPair = checks.IntPair
#: Padding of one axis: both sides alike, or (before, after).
Side = int | tuple[int, int]
#: A convolution's padding: ``p``, ``[ph, pw]``, ``[[top, bottom], [left, right]]`` (either axis may be
#: a single number), ``same`` (keep the size at stride 1) or ``valid`` (none).
Padding = int | tuple[Side, Side] | Literal["same", "valid"]
#: A window's kernel, stride and dilation: at least 1 per axis; its padding: none negative.
Positive = checks.Positive
NonNegative = checks.NonNegative


#: Channels, features or units of a layer: at least 1, within the budget.
Units = Annotated[int, Field(gt=0), AfterValidator(checks.within(MAX_UNITS, "a layer's units"))]


def pair(value: IntPair) -> tuple[int, int]:
    return (value, value) if isinstance(value, int) else value


def sides(value: Side) -> tuple[int, int]:
    """(before, after) of one axis."""
    return (value, value) if isinstance(value, int) else value


def shape_text(shape: Shape) -> str:
    return "×".join(map(str, shape))


class LayerError(ValueError):
    """A layer that cannot be applied to the shape it receives; ``field`` is the setting at
    fault when one is (``kernel``, ``groups``; qualified by the layer's path once a network
    reports it)."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class LayerBase(BaseModel):
    """What every layer has: an optional name (its output's name), a group to be counted in, and
    the earlier outputs it takes (``from``: a name or a list of names; by default the output of
    the step before it)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str | None = Field(default=None, min_length=1)
    group: str | None = Field(default=None, min_length=1)
    sources: tuple[str, ...] | None = Field(default=None, alias="from", min_length=1)
    #: Whether the layer counts in "number of layers" questions (it has weights).
    weighted: ClassVar[bool] = False
    #: How many inputs the layer takes: one, or two and more (a merge).
    merges: ClassVar[bool] = False
    #: Whether the layer reads a map held channels last (``problems.solvers.layouts``) as torch's
    #: module does: one that acts on the last axis or on every value alike. Others refuse it.
    channels_last: ClassVar[bool] = False

    @field_validator("sources", mode="before")
    @classmethod
    def _one_name_or_a_list(cls, value: Any) -> Any:
        return (value,) if isinstance(value, str) else value

    @model_validator(mode="after")
    def _arity(self) -> Self:
        if self.merges and (self.sources is None or len(self.sources) < 2):
            raise ValueError(f"'{self.kind_name}' takes two or more earlier outputs: from: [a, b]")
        if not self.merges and self.sources is not None and len(self.sources) != 1:
            raise ValueError(f"'{self.kind_name}' takes one input, not {list(self.sources)}")
        return self

    @property
    def kind_name(self) -> str:
        return str(getattr(self, "kind", type(self).__name__))

    # Every method takes the assumptions it computes under (correct unless a mistake is modelled)
    # and a trace to write its working in (see ``problems.solvers.steps``; CONTRIBUTING.md, Steps).
    def output_shape(self, shape: Shape, assume: Assumptions = CORRECT, trace: Trace = NO_TRACE) -> Shape:
        trace.note(f"{self.kind_name} keeps the shape {shape_text(shape)}", value=list(shape))
        return shape

    def params(self, shape: Shape, assume: Assumptions = CORRECT, trace: Trace = NO_TRACE) -> int:
        trace.note(f"{self.kind_name} has no weights: 0 parameters", value=0)
        return 0

    def macs(self, shape: Shape, assume: Assumptions = CORRECT, trace: Trace = NO_TRACE) -> int:
        trace.note(f"{self.kind_name} multiplies no weights: 0 MACs", value=0)
        return 0

    def window(self) -> tuple[IntPair, IntPair, IntPair, IntPair] | None:
        """(kernel, stride, padding before, dilation) of a sliding window, for the textbook field
        recurrence; None for a layer that is no sliding window."""
        return None

    def taps(self, shape: Shape, out: Shape) -> tuple[Taps, Taps] | None:
        """The input pixels each output pixel reads, per axis (height, width), for exact receptive
        fields; None for a layer that keeps every pixel where it is."""
        window = self.window()
        if window is None:
            return None
        k, s, p, d = (pair(v) for v in window)
        return Taps.window(k[0], s[0], p[0], d[0]), Taps.window(k[1], s[1], p[1], d[1])


def _bias(declared: bool, assume: Assumptions) -> bool:
    return declared if assume.bias is None else assume.bias


def _padded(before: int, after: int, assume: Assumptions) -> tuple[int, int]:
    if assume.padding == "ignored":
        return 0, 0
    if assume.padding == "one_side":
        return before, 0
    return before, after


def _split(in_channels: int, out_channels: int, groups: int) -> None:
    try:
        checks.groups_split(groups, out_channels, in_channels)
    except checks.SettingError as error:
        raise LayerError(str(error), error.field) from None


def spatial(shape: Shape, layer: str) -> tuple[int, int, int]:
    """A map's ``C×H×W``, or the layer refused with what it got (a token sequence is no flat
    vector) and the step that makes it a map."""
    if len(shape) != 3:
        raise LayerError(f"{layer} needs a C×H×W map, got {_not_a_map(shape)}")
    return shape


def _not_a_map(shape: Shape) -> str:
    """What a shape that is no map is, and the step that makes it one where there is one."""
    if len(shape) == 1:
        return f"a flat vector of {shape[0]:,} features"
    if len(shape) == 2:
        return (
            f"a token sequence ({shape[1]:,} tokens of {shape[0]:,} channels, L×C): lay the tokens back out on a "
            "map first (`kind: map`, with `size: [H, W]` unless the map is square)"
        )
    return f"a clip ({shape_text(shape)}, C×T×H×W): the 3-D layers (`conv3d`, `pool3d`) take it"


class Conv(LayerBase):
    """``nn.Conv2d``; ``groups: depthwise`` means one group per input channel. Padding on one side
    only (``[[0, 1], [0, 1]]``) is ``nn.ZeroPad2d((left, right, top, bottom))`` before the
    convolution."""

    kind: Literal["conv"] = "conv"
    out_channels: Units
    kernel: Positive
    stride: Positive = 1
    padding: Annotated[Padding, AfterValidator(checks.non_negative), AfterValidator(checks.window)] = 0
    dilation: Positive = 1
    groups: Annotated[int | Literal["depthwise"], AfterValidator(checks.positive)] = 1
    bias: bool = True
    weighted: ClassVar[bool] = True

    @model_validator(mode="after")
    def _as_torch_allows(self) -> Self:
        checks.same_fits(self.padding, self.stride, self.dilation)
        if isinstance(self.groups, int):
            checks.groups_split(self.groups, self.out_channels)
        return self

    def resolved_groups(self, c_in: int) -> int:
        return c_in if self.groups == "depthwise" else self.groups

    def paddings(
        self, assume: Assumptions = CORRECT, shape: Shape | None = None, trace: Trace = NO_TRACE
    ) -> tuple[tuple[int, int], tuple[int, int]]:
        """(before, after) padding per axis; ``same`` at a stride is TensorFlow's, which depends
        on the input (``shape``; without it, the padding at stride 1)."""
        if self.padding == "same" and assume.same_padding == "ignored":
            trace.note("'same' taken for no padding", value=0)
            rows, cols = (0, 0), (0, 0)
        elif self.padding == "same":
            rows, cols = same_sides(self.kernel, self._stride(assume), self._dilation(assume), shape, assume, trace)
        elif self.padding == "valid":
            trace.note("'valid' padding: none", value=0)
            rows, cols = (0, 0), (0, 0)
        elif isinstance(self.padding, int):
            trace.note(f"the declared padding: {self.padding} on every side", value=self.padding)
            rows = cols = (self.padding, self.padding)
        else:
            trace.note(f"the declared padding: {list(self.padding)} (rows, columns)")
            rows, cols = sides(self.padding[0]), sides(self.padding[1])
        return _padded(*rows, assume), _padded(*cols, assume)

    def output_shape(self, shape: Shape, assume: Assumptions = CORRECT, trace: Trace = NO_TRACE) -> Shape:
        c, h, w = spatial(shape, "a convolution")
        _split(c, self.out_channels, self.resolved_groups(c))
        (kh, kw), (sh, sw), (dh, dw) = pair(self.kernel), pair(self._stride(assume)), pair(self._dilation(assume))
        (top, bottom), (left, right) = self.paddings(assume, shape)
        rule = assume.size_rule
        try:
            return (
                self.out_channels,
                sizes.conv_out_steps(trace, "H", h, kh, sh, top, dh, bottom, rule),
                sizes.conv_out_steps(trace, "W", w, kw, sw, left, dw, right, rule),
            )
        except sizes.SizeError as error:
            raise LayerError(str(error), "kernel") from None

    def _seen_channels(self, c_in: int, assume: Assumptions) -> tuple[int, int]:
        """(channels, groups) a filter is counted over."""
        if not assume.input_channels:
            return 1, 1
        return c_in, self.resolved_groups(c_in) if assume.groups else 1

    def _dilation(self, assume: Assumptions) -> IntPair:
        return self.dilation if assume.dilation else 1

    def _stride(self, assume: Assumptions) -> IntPair:
        return self.stride if assume.stride else 1

    def fan_in(self, shape: Shape, assume: Assumptions = CORRECT, trace: Trace = NO_TRACE) -> int:
        """Inputs one output value reads: ``(C_in/groups)·kh·kw``."""
        kh, kw = _kernel(trace, self.kernel)
        c_in, groups = self._seen_channels(shape[0], assume)
        seen = counts.per_group(_channels(trace, c_in), _groups(trace, groups))
        assert isinstance(seen, int)  # (numbers, not symbols, in a network)
        return trace.equation("fan-in", seen * kh * kw + int(assume.fan_in_bias))

    def params(self, shape: Shape, assume: Assumptions = CORRECT, trace: Trace = NO_TRACE) -> int:
        kh, kw = _kernel(trace, self.kernel)
        c_in, groups = self._seen_channels(shape[0], assume)
        found = counts.conv_params(
            _channels(trace, c_in),
            _filters(trace, self.out_channels),
            kh,
            kw,
            _groups(trace, groups),
            _bias(self.bias, assume),
        )
        return trace.equation("parameters", found)

    def macs(self, shape: Shape, assume: Assumptions = CORRECT, trace: Trace = NO_TRACE) -> int:
        _, h_out, w_out = self.output_shape(shape, assume)
        kh, kw = _kernel(trace, self.kernel)
        c_in, groups = self._seen_channels(shape[0], assume)
        found = counts.conv_macs(
            _channels(trace, c_in),
            _filters(trace, self.out_channels),
            kh,
            kw,
            trace.given("H_out", h_out, "H_{out}"),
            trace.given("W_out", w_out, "W_{out}"),
            _groups(trace, groups),
        )
        return trace.equation("MACs", found)

    def window(self) -> tuple[IntPair, IntPair, IntPair, IntPair]:
        (top, _), (left, _) = self.paddings()
        return self.kernel, self.stride, (top, left), self.dilation

    def taps(self, shape: Shape, out: Shape) -> tuple[Taps, Taps]:
        (top, _), (left, _) = self.paddings(shape=shape)
        k, s, d = pair(self.kernel), pair(self.stride), pair(self.dilation)
        return Taps.window(k[0], s[0], top, d[0]), Taps.window(k[1], s[1], left, d[1])


def same_sides(
    kernel: IntPair,
    stride: IntPair,
    dilation: IntPair,
    shape: Shape | None,
    assume: Assumptions = CORRECT,
    trace: Trace = NO_TRACE,
) -> tuple[tuple[int, int], tuple[int, int]]:
    """``same`` padding (before, after) per axis, TensorFlow's at any stride; taken as symmetric
    (a known mistake), ⌈total/2⌉ on both sides."""
    found = []
    for axis, (k, s, d) in enumerate(zip(pair(kernel), pair(stride), pair(dilation), strict=True)):
        t, name = trace, "HW"[axis]
        if s == 1 or shape is None:  # half of d·(k − 1) before, the odd pixel after (PyTorch's too)
            total = sizes.same_padding_total_at_1(t.given("K", k), t.given("D", d, neutral=1))
            total = t.equation(f"P_{name} ('same' in all along {name})", total, f"P_{{{name}}}")
        else:  # TensorFlow's: the output keeps ⌈n/s⌉; half the padding before, the odd pixel after
            n, kernel, step = t.given(name, shape[1 + axis]), t.given("K", k), t.given("S", s, neutral=1)
            total = sizes.same_padding_total(n, kernel, step, t.given("D", d, neutral=1))
            total = t.equation(f"P_{name} ('same' in all along {name})", total, f"P_{{{name}}}")
        before, after = sizes.split_padding(t.given(f"P_{name}", total, f"P_{{{name}}}"))
        if assume.same_padding == "symmetric":
            before = after = max(before, after)
        found.append((before, after))
    return found[0], found[1]


class ConvTranspose(LayerBase):
    """``nn.ConvTranspose2d``."""

    kind: Literal["conv_transpose"] = "conv_transpose"
    out_channels: Units
    kernel: Positive
    stride: Positive = 1
    padding: NonNegative = 0
    output_padding: NonNegative = 0
    dilation: Positive = 1
    groups: int = Field(default=1, gt=0, le=MAX_UNITS)
    bias: bool = True
    weighted: ClassVar[bool] = True

    @model_validator(mode="after")
    def _as_torch_allows(self) -> Self:
        checks.output_padding_fits(self.output_padding, self.stride, self.dilation)
        checks.groups_split(self.groups, self.out_channels)
        return self

    def output_shape(self, shape: Shape, assume: Assumptions = CORRECT, trace: Trace = NO_TRACE) -> Shape:
        c, h, w = spatial(shape, "a transposed convolution")
        _split(c, self.out_channels, self.groups)
        k, s, p, op, d = (pair(v) for v in (self.kernel, self.stride, self.padding, self.output_padding, self.dilation))
        if not assume.stride:
            s = (1, 1)
        if assume.padding == "ignored":  # (the padding it crops from the output left on)
            p = (0, 0)
        try:
            if assume.transposed_size == "forward":
                return (
                    self.out_channels,
                    sizes.conv_out_steps(trace, "H", h, k[0], s[0], p[0], d[0], rule=assume.size_rule),
                    sizes.conv_out_steps(trace, "W", w, k[1], s[1], p[1], d[1], rule=assume.size_rule),
                )
            return (
                self.out_channels,
                sizes.transposed_out_steps(trace, "H", h, k[0], s[0], p[0], op[0], d[0]),
                sizes.transposed_out_steps(trace, "W", w, k[1], s[1], p[1], op[1], d[1]),
            )
        except sizes.SizeError as error:
            raise LayerError(str(error), "kernel" if assume.transposed_size == "forward" else "padding") from None

    def params(self, shape: Shape, assume: Assumptions = CORRECT, trace: Trace = NO_TRACE) -> int:
        kh, kw = _kernel(trace, self.kernel)
        groups = self.groups if assume.groups else 1
        c_in = shape[0] if assume.input_channels else groups
        found = counts.transposed_params(
            _channels(trace, c_in),
            _filters(trace, self.out_channels),
            kh,
            kw,
            _groups(trace, groups),
            _bias(self.bias, assume),
        )
        return trace.equation("parameters", found)

    def macs(self, shape: Shape, assume: Assumptions = CORRECT, trace: Trace = NO_TRACE) -> int:
        c, h, w = spatial(shape, "a transposed convolution")
        kh, kw = _kernel(trace, self.kernel)
        groups = self.groups if assume.groups else 1
        c_in = c if assume.input_channels else groups
        found = counts.transposed_macs(
            _channels(trace, c_in),
            _filters(trace, self.out_channels),
            kh,
            kw,
            trace.given("H", h),
            trace.given("W", w),
            _groups(trace, groups),
        )
        return trace.equation("MACs", found)

    def window(self) -> tuple[IntPair, IntPair, IntPair, IntPair] | None:
        """At stride 1, the convolution with padding ``d·(k−1) − p`` (the same taps); with a
        stride no sliding window reads what it reads (see ``taps``)."""
        if pair(self.stride) != (1, 1):
            return None
        (kh, kw), (dh, dw), (ph, pw) = pair(self.kernel), pair(self.dilation), pair(self.padding)
        return self.kernel, self.stride, (dh * (kh - 1) - ph, dw * (kw - 1) - pw), self.dilation

    def taps(self, shape: Shape, out: Shape) -> tuple[Taps, Taps]:
        k, s, p, d = (pair(v) for v in (self.kernel, self.stride, self.padding, self.dilation))
        return Taps.transposed(k[0], s[0], p[0], d[0]), Taps.transposed(k[1], s[1], p[1], d[1])


class Separable(LayerBase):
    """Depthwise ``K×K`` convolution (carrying stride and padding) then pointwise ``1×1``."""

    kind: Literal["separable"] = "separable"
    out_channels: Units
    kernel: int = Field(gt=0, le=MAX_WINDOW)
    stride: int = Field(default=1, gt=0, le=MAX_WINDOW)
    padding: Annotated[
        int | Literal["same", "valid"], AfterValidator(checks.non_negative), AfterValidator(checks.window)
    ] = 0
    bias: bool = False
    weighted: ClassVar[bool] = True

    def standard(self) -> Conv:
        """The ordinary convolution this layer replaces, for comparisons."""
        return Conv(
            out_channels=self.out_channels, kernel=self.kernel, stride=self.stride, padding=self.padding, bias=self.bias
        )

    def output_shape(self, shape: Shape, assume: Assumptions = CORRECT, trace: Trace = NO_TRACE) -> Shape:
        return self.standard().output_shape(shape, assume, trace)

    def params(self, shape: Shape, assume: Assumptions = CORRECT, trace: Trace = NO_TRACE) -> int:
        found = counts.separable_params(
            _channels(trace, shape[0]),
            _filters(trace, self.out_channels),
            trace.given("K", self.kernel),
            _bias(self.bias, assume),
        )
        return trace.equation("parameters (depthwise + pointwise)", found)

    def macs(self, shape: Shape, assume: Assumptions = CORRECT, trace: Trace = NO_TRACE) -> int:
        _, h_out, w_out = self.output_shape(shape, assume)
        found = counts.separable_macs(
            _channels(trace, shape[0]),
            _filters(trace, self.out_channels),
            trace.given("K", self.kernel),
            trace.given("H_out", h_out, "H_{out}"),
            trace.given("W_out", w_out, "W_{out}"),
        )
        return trace.equation("MACs (depthwise + pointwise)", found)

    def window(self) -> tuple[IntPair, IntPair, IntPair, IntPair]:
        return self.standard().window()

    def taps(self, shape: Shape, out: Shape) -> tuple[Taps, Taps]:
        return self.standard().taps(shape, out)


class PoolWindow(BaseModel):
    """The parameters of ``nn.MaxPool2d`` / ``nn.AvgPool2d`` (and min pooling), for the pooling layer
    of a network and the pooling problem alike; stride defaults to the kernel. Average pooling has
    no dilation (``nn.AvgPool2d`` takes none), so declaring one is refused."""

    mode: Literal["max", "avg", "min"] = "max"
    kernel: Positive
    stride: Positive | None = None
    padding: NonNegative = 0
    dilation: Positive = 1
    ceil_mode: bool = False
    count_include_pad: bool = True

    @model_validator(mode="after")
    def _as_torch_allows(self) -> Self:
        if self.mode == "avg" and self.dilated:
            raise checks.SettingError(
                "dilation", f"average pooling has no dilation (nn.AvgPool2d takes none), not {self.dilation}"
            )
        checks.pool_padding_fits(self.padding, self.kernel)
        return self

    @property
    def dilated(self) -> bool:
        return pair(self.dilation) != (1, 1)


class Pool(PoolWindow, LayerBase):
    """``nn.MaxPool2d`` / ``nn.AvgPool2d`` (and min pooling) in a network."""

    kind: Literal["pool"] = "pool"

    def output_shape(self, shape: Shape, assume: Assumptions = CORRECT, trace: Trace = NO_TRACE) -> Shape:
        c, h, w = spatial(shape, "pooling")
        k, s, p, d = (pair(v) for v in self.window())
        try:
            return (
                c,
                pool_side(trace, "H", h, k[0], s[0], p[0], d[0], self.ceil_mode, assume),
                pool_side(trace, "W", w, k[1], s[1], p[1], d[1], self.ceil_mode, assume),
            )
        except sizes.SizeError as error:
            raise LayerError(str(error), "kernel") from None

    def window(self) -> tuple[IntPair, IntPair, IntPair, IntPair]:
        return self.kernel, self.stride if self.stride is not None else self.kernel, self.padding, self.dilation


def pool_side(
    trace: Trace, axis: str, n: int, k: int, s: int, p: int, d: int, ceil_mode: bool, assume: Assumptions = CORRECT
) -> int:
    """One side of a pool's output, as PyTorch computes it (``sizes.pool_out``) or as a known
    mistake does. A mistake changes only what it is about: the padding left out of a pool without
    padding, or a floor-mode pool's rounding on a ceil-mode pool, gives PyTorch's size. The others:
    the ceil mode taken for floor (``pool_ceil_mode``), its last window kept where PyTorch drops it
    (``pool_last_window``), the padding on one side, the +1 forgotten, a floor-mode pool rounded up."""
    d = d if assume.dilation else 1
    s = s if assume.stride else 1
    before, after = _padded(p, p, assume)
    ceil = ceil_mode and assume.pool_ceil_mode
    if assume.size_rule == "no_plus_one":
        rule: sizes.SizeRule = "no_plus_one"
    elif ceil or assume.size_rule == "ceil":
        rule = "ceil"
    else:
        rule = "floor"
    plain = before != after or rule == "no_plus_one" or (rule == "ceil" and not ceil)
    if plain or (ceil and assume.pool_last_window == "kept"):
        return sizes.conv_out_steps(trace, axis, n, k, s, before, d, after, rule)
    return sizes.pool_out_steps(trace, axis, n, k, s, before, d, ceil)


class Activation(LayerBase):
    kind: Literal["activation"] = "activation"
    function: str = "relu"
    channels_last: ClassVar[bool] = True


class Dropout(LayerBase):
    kind: Literal["dropout"] = "dropout"
    p: float = Field(default=0.5, ge=0, le=1)
    channels_last: ClassVar[bool] = True


class BatchNorm(LayerBase):
    """``nn.BatchNorm2d``/``1d``: a learnable scale and shift per channel (running stats are buffers);
    ``affine: false`` has none, as when a question leaves batch norm out of its counts."""

    kind: Literal["batchnorm"] = "batchnorm"
    affine: bool = True

    def params(self, shape: Shape, assume: Assumptions = CORRECT, trace: Trace = NO_TRACE) -> int:
        affine = self.affine if assume.batchnorm is None else assume.batchnorm
        if not affine:
            trace.note("batch norm without affine scale and shift: 0 parameters", value=0)
        channels = _channels(trace, shape[0])
        found = counts.batchnorm_params(channels, affine)
        if assume.buffers:  # the running mean and variance counted as parameters too
            found = found + 2 * channels
            return trace.equation("parameters (with the running mean and variance, 2 per channel)", found)
        return trace.equation("parameters (a scale and a shift per channel)", found) if affine else 0

    def buffers(self, shape: Shape, trace: Trace = NO_TRACE) -> int:
        """Values ``buffers()`` holds: a running mean and variance per channel, and the batches counted."""
        return trace.equation("buffers", activations.batchnorm_buffers(trace.given("C", shape[0])))


class Flatten(LayerBase):
    kind: Literal["flatten"] = "flatten"

    def output_shape(self, shape: Shape, assume: Assumptions = CORRECT, trace: Trace = NO_TRACE) -> Shape:
        total = 1
        for axis, side in zip("CHW" if len(shape) == 3 else "F", shape, strict=False):
            total *= trace.given(axis, side)
        return (trace.equation("features", total),)


class Linear(LayerBase):
    """``nn.Linear``; ``out_ratio`` sizes the layer relative to its input ("half the input"). On a
    sequence (``C×L``) it acts on every token alone (a transformer's MLP): ``C_out×L`` out, the
    same weights, ``L`` times the MACs; on a map permuted channels last (``permute``), on every
    position's channels alike (ConvNeXt's 1×1 layers): ``C_out×H×W``, ``H·W`` times the MACs."""

    kind: Literal["linear"] = "linear"
    out_features: Units | None = None
    out_ratio: float | None = Field(default=None, gt=0, le=MAX_UNITS)
    bias: bool = True
    weighted: ClassVar[bool] = True
    channels_last: ClassVar[bool] = True

    @model_validator(mode="after")
    def _one_size(self) -> Linear:
        if (self.out_features is None) == (self.out_ratio is None):
            raise ValueError("give exactly one of out_features and out_ratio")
        return self

    def width(self, n_in: int) -> int:
        if self.out_features is not None:
            return self.out_features
        assert self.out_ratio is not None  # _one_size: one of the two is given
        width = n_in * self.out_ratio
        if width != int(width) or width < 1:
            raise LayerError(f"{self.out_ratio} of {n_in} inputs is not a whole number of units")
        return int(width)

    def _n_in(self, shape: Shape) -> int:
        if len(shape) not in (1, 2) and not isinstance(shape, ChannelsLast):
            raise LayerError(
                f"a fully connected layer needs a flat input, a sequence (C×L) or a map permuted channels last "
                f"(permute dims [0, 2, 3, 1]), got {'×'.join(map(str, shape))}"
            )
        return shape[0]

    def output_shape(self, shape: Shape, assume: Assumptions = CORRECT, trace: Trace = NO_TRACE) -> Shape:
        n_in = self._n_in(shape)
        width = self.width(n_in)
        how = f"{self.out_ratio} of the {n_in:,} inputs" if self.out_ratio is not None else "its declared width"
        if len(shape) == 2:  # nn.Linear on (L, C): the same units on every token
            trace.note(f"a fully connected layer of {width:,} units ({how}) on each of {shape[1]:,} tokens",
                       value=[width, shape[1]])  # fmt: skip
            return width, shape[1]
        if len(shape) == 3:  # nn.Linear on (H, W, C): the same units at every position
            out = like(shape, (width, *shape[1:]))
            trace.note(f"a fully connected layer of {width:,} units ({how}) at each of the {shape_text(shape[1:])} "
                       f"positions", value=list(out))  # fmt: skip
            return out
        trace.note(f"a fully connected layer of {width:,} units ({how})", value=[width])
        return (width,)

    def params(self, shape: Shape, assume: Assumptions = CORRECT, trace: Trace = NO_TRACE) -> int:
        n_in = self._n_in(shape)
        found = counts.linear_params(
            trace.given("n_in", n_in, "n_{in}"),
            trace.given("n_out", self.width(n_in), "n_{out}"),
            _bias(self.bias, assume),
        )
        return trace.equation("parameters", found)

    def macs(self, shape: Shape, assume: Assumptions = CORRECT, trace: Trace = NO_TRACE) -> int:
        n_in = self._n_in(shape)
        found = counts.linear_macs(
            trace.given("n_in", n_in, "n_{in}"), trace.given("n_out", self.width(n_in), "n_{out}")
        )
        if len(shape) == 2:  # once per token
            found = found * trace.given("L", shape[1])
        elif len(shape) == 3:  # once per position
            found = found * trace.given("H", shape[1]) * trace.given("W", shape[2])
        return trace.equation("MACs", found)

    def fan_in(self, shape: Shape, assume: Assumptions = CORRECT, trace: Trace = NO_TRACE) -> int:
        """Inputs one unit reads: every input feature."""
        return trace.equation("fan-in", trace.given("n_in", self._n_in(shape), "n_{in}") + int(assume.fan_in_bias))


def _kernel(trace: Trace, kernel: IntPair) -> tuple[int, int]:
    """The kernel's sides as given values: ``K`` for a square, else ``K_h`` and ``K_w``."""
    kh, kw = pair(kernel)
    if kh == kw:
        return trace.given("K", kh), trace.given("K", kw)
    return trace.given("K_h", kh, "K_h"), trace.given("K_w", kw, "K_w")


def _channels(trace: Trace, channels: int) -> int:
    return trace.given("C_in", channels, "C_{in}")


def _filters(trace: Trace, channels: int) -> int:
    return trace.given("C_out", channels, "C_{out}")


def _groups(trace: Trace, groups: int) -> int:
    return trace.given("g", groups, neutral=1)
