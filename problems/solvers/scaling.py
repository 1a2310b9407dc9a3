"""Layer scale (Touvron et al., 2021; ConvNeXt's γ): a learnable factor per channel multiplying
a block's branch before its residual sum, torchvision's ``layer_scale`` parameter (``C×1×1`` in
ConvNeXt's ``CNBlock``, initialised to 10⁻⁶).

``C`` parameters; no MACs, as batch norm's scale (an element-wise product multiplies no weights
in the published counts, and torch's flop counter counts none); the shape kept.
"""

from __future__ import annotations

from typing import ClassVar, Literal

from problems.solvers.assumptions import CORRECT, Assumptions
from problems.solvers.layers import LayerBase, Shape, shape_text
from problems.solvers.steps import NO_TRACE, Trace


class LayerScale(LayerBase):
    """ConvNeXt's layer scale γ (torchvision's ``layer_scale``): each channel multiplied by a
    learnable factor of its own, ``C`` parameters (a map's, a sequence's values per token, or a
    vector's), no MACs; the shape kept. Its output is new values (``γ * x``)."""

    kind: Literal["layer_scale"] = "layer_scale"
    channels_last: ClassVar[bool] = True

    def output_shape(self, shape: Shape, assume: Assumptions = CORRECT, trace: Trace = NO_TRACE) -> Shape:
        trace.note(f"layer scale multiplies each channel by its factor: the shape {shape_text(shape)} kept",
                   value=list(shape))  # fmt: skip
        return shape

    def params(self, shape: Shape, assume: Assumptions = CORRECT, trace: Trace = NO_TRACE) -> int:
        return trace.equation("parameters (a factor γ per channel)", trace.given("C", shape[0]))

    def macs(self, shape: Shape, assume: Assumptions = CORRECT, trace: Trace = NO_TRACE) -> int:
        trace.note("layer scale is an element-wise product: 0 MACs (as batch norm's scale)", value=0)
        return 0
