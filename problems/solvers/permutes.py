"""A permute of a map's axes, as torch writes it (``x.permute(0, 2, 3, 1)``, torchvision's
``Permute([0, 2, 3, 1])``): ConvNeXt's blocks and Swin's stages hold their maps channels last
so that ``nn.Linear`` and ``nn.LayerNorm`` act on each position's channels.

A permute moves no value and computes nothing (a view); what it changes is which axis the layers
after it read (``problems.solvers.layouts``). The two orders a network's layers can read are
channels first and channels last, so a permute moves a map from one to the other; any other
order is refused, naming the one that would.
"""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal, Self

from pydantic import Field, model_validator

from problems.solvers.assumptions import CORRECT, Assumptions
from problems.solvers.layers import LayerBase, LayerError, Shape, shape_text
from problems.solvers.layouts import ChannelsLast, torch_order
from problems.solvers.steps import NO_TRACE, Trace

#: torch's dims (the batch first) that move a map's channels last, and back first.
TO_LAST, TO_FIRST = (0, 2, 3, 1), (0, 3, 1, 2)


class Permute(LayerBase):
    """``x.permute(*dims)`` on a map, the batch axis first as torch writes it: ``[0, 2, 3, 1]``
    holds a ``C×H×W`` map channels last (``(N, H, W, C)``: ``linear`` and ``layernorm`` then act on
    each position's channels), ``[0, 3, 1, 2]`` channels first again (what a convolution reads). A
    view: no values, parameters or MACs of its own. On a map held channels last, ``linear``,
    ``layernorm``, ``layer_scale``, ``activation``, ``dropout`` and ``add`` (of maps held alike) act
    as torch's do; other layers refuse it, naming the permute back."""

    kind: Literal["permute"] = "permute"
    dims: Annotated[tuple[int, ...], Field(min_length=2, max_length=5)] = Field(
        description="The order of the axes, the batch axis (0) first, as `torch.permute` takes it: "
        "`[0, 2, 3, 1]` (channels last) or `[0, 3, 1, 2]` (channels first again)."
    )
    channels_last: ClassVar[bool] = True

    @model_validator(mode="after")
    def _a_permutation(self) -> Self:
        if sorted(self.dims) != list(range(len(self.dims))):
            raise ValueError(f"dims {list(self.dims)} is no order of the axes 0 to {len(self.dims) - 1}, each once")
        if self.dims[0] != 0:
            raise ValueError(f"dims {list(self.dims)} moves the batch axis: it stays first (0)")
        return self

    def output_shape(self, shape: Shape, assume: Assumptions = CORRECT, trace: Trace = NO_TRACE) -> Shape:
        last = isinstance(shape, ChannelsLast)
        held = "(N, H, W, C), channels last" if last else "(N, C, H, W), channels first"
        wanted = TO_FIRST if last else TO_LAST
        if len(shape) != 3:
            raise LayerError(f"a permute here reorders a map's axes (N, C, H, W), got {shape_text(shape)}", "dims")
        if self.dims != wanted:
            raise LayerError(
                f"dims {list(self.dims)} on a map held {held}: a network's layers read a map channels first or "
                f"last, so a permute here is {list(wanted)}",
                "dims",
            )
        out: Shape = tuple(shape) if last else ChannelsLast(shape)
        torch_sizes = shape_text(torch_order(out))
        order = "channels first again" if last else "channels last"
        trace.note(f"a permute holds the {shape_text(shape[1:])} map {order}: {torch_sizes} to torch, the same values",
                   value=list(out))  # fmt: skip
        return out
