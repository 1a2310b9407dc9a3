"""The normalisations of modern networks beside batch norm: group norm, instance norm and layer
norm, as torch has them (``nn.GroupNorm``, ``nn.InstanceNorm1d/2d/3d``, ``nn.LayerNorm``).

Each keeps the shape and multiplies no weights (its scale and shift are element-wise: no MACs,
as batch norm's). They differ in what they count: their parameters (a scale and a shift per
channel, or per normalised value) and their buffers (running statistics: instance norm's only,
and only with ``track_running_stats``), which torch's ``parameters()`` and ``buffers()`` give.
They are layers of their own, not batch norm stand-ins, so that a count's working and a
mistake's feedback name the layer the question has: each kind's scale and shift left out is its
own mistake (``KIND-params-omitted``), as is group norm's counted per group, like its statistics
(``groupnorm-params-per-group``); a tracking instance norm's running mean and variance counted as
parameters is ``buffers-counted-as-params``, as batch norm's.

For receptive fields they move no pixel, as batch norm and activations: a field counts the
pixels a window reads, not those its statistics (a mean over the map) are taken from.
"""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Literal

from pydantic import Field, field_validator

from problems.budgets import MAX_UNITS
from problems.solvers import activations
from problems.solvers.assumptions import CORRECT, Assumptions
from problems.solvers.layers import BatchNorm, LayerBase, LayerError, Shape, Units, shape_text
from problems.solvers.layouts import ChannelsLast, torch_order
from problems.solvers.steps import NO_TRACE, Trace


def groupnorm_params(channels: int, affine: bool = True) -> int:
    """``nn.GroupNorm(groups, C)``: a scale and a shift per channel, whatever the groups.

    >>> groupnorm_params(64)
    128
    """
    return 2 * channels if affine else 0


def layernorm_params(values: int, elementwise_affine: bool = True, bias: bool = True) -> int:
    """``nn.LayerNorm(normalized_shape)`` over ``values`` normalised values (the product of
    ``normalized_shape``): a scale (and a shift, with ``bias``) per value.

    >>> layernorm_params(768)  # each LayerNorm of ViT-B/16
    1536
    """
    if not elementwise_affine:
        return 0
    return 2 * values if bias else values


def torch_axes(shape: Shape) -> Shape:
    """The sizes of the torch tensor a layer norm sees (batch dropped): a sequence as a
    transformer holds it, tokens first (``(L, C)``, ``batch_first``); a map or a vector as is.

    >>> torch_axes((768, 197)), torch_axes((64, 8, 8)), torch_axes(ChannelsLast((64, 8, 8)))
    ((197, 768), (64, 8, 8), (8, 8, 64))
    """
    return (shape[1], shape[0]) if len(shape) == 2 else torch_order(shape)


class _Norm(LayerBase):
    """What every normalisation here shares: the shape kept, its name in the working."""

    @property
    def label(self) -> str:
        """The layer's name in the working (never "batch norm")."""
        return {"groupnorm": "group norm", "instancenorm": "instance norm", "layernorm": "layer norm"}[self.kind_name]

    def output_shape(self, shape: Shape, assume: Assumptions = CORRECT, trace: Trace = NO_TRACE) -> Shape:
        self._check(shape)
        trace.note(f"{self.label} keeps the shape {shape_text(shape)}", value=list(shape))
        return shape

    def _check(self, shape: Shape) -> None:
        """Refuse an input torch's module refuses."""

    def _omitted(self, assume: Assumptions, trace: Trace, what: str = "scale and shift") -> bool:
        """Whether the mistake leaves this kind's learnable ``what`` out of the count (its own
        ``KIND-params-omitted``), written in the working as 0 parameters."""
        if assume.norm_params_omitted != self.kind_name:
            return False
        trace.note(f"{self.label}'s {what} left out: 0 parameters", value=0)
        return True

    def buffers(self, shape: Shape, trace: Trace = NO_TRACE) -> int:
        """Values ``buffers()`` holds: none unless the layer keeps running statistics."""
        trace.note(f"{self.label} keeps no running statistics: 0 buffers", value=0)
        return 0


class GroupNorm(_Norm):
    """``nn.GroupNorm(groups, C)``: the channels normalised in ``groups`` groups (they must divide
    C), with a learnable scale and shift per channel (``affine``); no running statistics."""

    kind: Literal["groupnorm"] = "groupnorm"
    groups: int = Field(gt=0, le=MAX_UNITS, description="The groups the channels are normalised in (`num_groups`); "
                        "they must divide the channels.")  # fmt: skip
    affine: bool = Field(default=True, description="Whether the layer has a learnable scale and shift per "
                         "channel (2·C parameters).")  # fmt: skip

    def _check(self, shape: Shape) -> None:
        if shape[0] % self.groups:
            raise LayerError(f"{shape[0]} channels do not split into {self.groups} groups of group norm", "groups")

    def params(self, shape: Shape, assume: Assumptions = CORRECT, trace: Trace = NO_TRACE) -> int:
        self._check(shape)
        if not self.affine:
            trace.note("group norm without affine scale and shift: 0 parameters", value=0)
            return 0
        if self._omitted(assume, trace):
            return 0
        if assume.groupnorm_per_group:  # one scale and shift per group, as the statistics
            found = groupnorm_params(trace.given("G", self.groups))
            return trace.equation("parameters (a scale and a shift per group)", found)
        found = groupnorm_params(trace.given("C", shape[0]))
        return trace.equation("parameters (a scale and a shift per channel, whatever the groups)", found)


class InstanceNorm(_Norm):
    """``nn.InstanceNorm1d/2d/3d`` (by the input's rank): each channel of each sample normalised
    over its positions. As torch: no scale and shift unless ``affine`` (then 2·C), no running
    statistics unless ``track_running_stats`` (then a running mean and variance per channel and
    the batches counted, 2·C + 1 buffers)."""

    kind: Literal["instancenorm"] = "instancenorm"
    affine: bool = Field(default=False, description="Whether the layer has a learnable scale and shift per "
                         "channel (2·C parameters; torch's default: none).")  # fmt: skip
    track_running_stats: bool = Field(default=False, description="Whether the layer keeps a running mean and "
                                      "variance per channel and the batches counted (2·C + 1 buffers).")  # fmt: skip

    def _check(self, shape: Shape) -> None:
        if len(shape) < 2:
            raise LayerError(f"instance norm needs channels and positions (C×L, C×H×W), got {shape_text(shape)}")

    def params(self, shape: Shape, assume: Assumptions = CORRECT, trace: Trace = NO_TRACE) -> int:
        self._check(shape)
        learned = self.affine and not self._omitted(assume, trace)
        if assume.buffers and self.track_running_stats:  # its running mean and variance counted too
            channels = trace.given("C", shape[0])
            found = groupnorm_params(channels, learned) + 2 * channels
            return trace.equation("parameters (with the running mean and variance, 2 per channel)", found)
        if not self.affine:
            trace.note("instance norm without affine scale and shift (torch's default): 0 parameters", value=0)
        if not learned:
            return 0
        found = groupnorm_params(trace.given("C", shape[0]))
        return trace.equation("parameters (a scale and a shift per channel)", found)

    def buffers(self, shape: Shape, trace: Trace = NO_TRACE) -> int:
        if not self.track_running_stats:
            return super().buffers(shape, trace)
        found = activations.batchnorm_buffers(trace.given("C", shape[0]))
        return trace.equation("buffers (running mean and variance per channel, and the batches counted)", found)


class LayerNorm(_Norm):
    """``nn.LayerNorm(normalized_shape)``: normalised over the last axes of the torch tensor, a
    scale and a shift per normalised value (``elementwise_affine``; the shift only with ``bias``).
    A sequence's tensor is ``(L, C)`` (tokens first, as a transformer holds it), so a ViT's
    ``LayerNorm(768)`` normalises each token's 768 values; a map permuted channels last is
    ``(H, W, C)``, so ConvNeXt's ``LayerNorm(96)`` normalises each position's channels. By default,
    the values of each token or position, or of the vector; a map's (``C×H×W``) axes must be given."""

    kind: Literal["layernorm"] = "layernorm"
    channels_last: ClassVar[bool] = True
    normalized_shape: Annotated[tuple[Units, ...], Field(min_length=1, max_length=3)] | None = Field(
        default=None,
        description="The sizes normalised over, the last axes of torch's tensor (a number or a list): a "
        "sequence's is `(L, C)`, so `768` normalises each token's values, and a map permuted channels last "
        "`(H, W, C)`, so `96` normalises each position's channels; by default the values of each token (a "
        "sequence) or position (a map channels last), or the vector's.",
    )
    elementwise_affine: bool = Field(default=True, description="Whether the layer has a learnable scale (and "
                                     "shift) per normalised value.")  # fmt: skip
    bias: bool = Field(default=True, description="Whether the layer has its shift too (torch's `bias`).")

    @field_validator("normalized_shape", mode="before")
    @classmethod
    def _one_size_or_a_list(cls, value: Any) -> Any:
        return (value,) if isinstance(value, int) else value

    def normalized(self, shape: Shape) -> Shape:
        """The normalised sizes, checked against the last axes of the input's torch tensor."""
        axes = torch_axes(shape)
        if self.normalized_shape is None:
            if len(shape) == 3 and not isinstance(shape, ChannelsLast):
                raise LayerError(f"give normalized_shape for layer norm on a map ({shape_text(shape)})")
            return axes[-1:]
        given = self.normalized_shape
        if len(given) > len(axes) or axes[-len(given) :] != given:
            where = (
                "a sequence is (L, C) to torch"
                if len(shape) == 2
                else f"a map permuted channels last is (H, W, C) to torch: {shape_text(axes)}"
                if isinstance(shape, ChannelsLast)
                else f"the input is {shape_text(axes)}"
            )
            raise LayerError(
                f"layer norm over {list(given)} does not match the last axes of its input ({where})",
                "normalized_shape",
            )
        return given

    def _check(self, shape: Shape) -> None:
        self.normalized(shape)

    def params(self, shape: Shape, assume: Assumptions = CORRECT, trace: Trace = NO_TRACE) -> int:
        normalized = self.normalized(shape)
        if not self.elementwise_affine:
            trace.note("layer norm without elementwise affine: 0 parameters", value=0)
            return 0
        if self._omitted(assume, trace, "scale and shift" if self.bias else "scale"):
            return 0
        names = ["d"] if len(normalized) == 1 else [f"d_{i}" for i in range(len(normalized))]
        values = trace.given(names[0], normalized[0])
        for name, size in zip(names[1:], normalized[1:], strict=True):
            values = values * trace.given(name, size)
        found = layernorm_params(values, bias=self.bias)
        what = "a scale and a shift" if self.bias else "a scale (no shift)"
        return trace.equation(f"parameters ({what} per normalised value)", found)


#: The normalisations: a part may ask for the buffers and the whole state of each.
NORMS = (BatchNorm, GroupNorm, InstanceNorm, LayerNorm)


def buffers(layer: object, shape: Shape, trace: Trace = NO_TRACE) -> int:
    """Values ``layer.buffers()`` holds in torch: a normalisation's running statistics, a window
    attention's relative position index, else none."""
    counted = getattr(layer, "buffers", None)
    return counted(shape, trace) if callable(counted) else 0
