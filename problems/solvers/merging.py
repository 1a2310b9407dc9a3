"""Layers that take two or more earlier outputs: an element-wise sum (a residual connection),
an element-wise product (a gate; a channel-wise one in squeeze-and-excitation) and a
concatenation along the channels (``torch.cat(..., dim=1)``). None has parameters or
multiply-accumulates (a sum's additions and a gate's products multiply no weights, as in the
published counts)."""

from __future__ import annotations

from typing import ClassVar, Literal

from problems.solvers.assumptions import CORRECT, Assumptions
from problems.solvers.layers import LayerBase, LayerError, Shape, shape_text
from problems.solvers.steps import NO_TRACE, Trace


class MergeLayer(LayerBase):
    merges: ClassVar[bool] = True

    def merge_shape(self, shapes: list[Shape], assume: Assumptions = CORRECT, trace: Trace = NO_TRACE) -> Shape:
        raise NotImplementedError


class Add(MergeLayer):
    """``a + b + ...``: every input has the same shape.

    >>> Add(**{"from": ["a", "b"]}).merge_shape([(64, 56, 56), (64, 56, 56)])
    (64, 56, 56)
    """

    kind: Literal["add"] = "add"
    channels_last: ClassVar[bool] = True  # inputs of one layout (the network run checks it)

    def merge_shape(self, shapes: list[Shape], assume: Assumptions = CORRECT, trace: Trace = NO_TRACE) -> Shape:
        if len(set(shapes)) != 1:
            raise LayerError("a sum needs inputs of one shape")
        trace.note(f"a sum of {len(shapes)} inputs of {shape_text(shapes[0])} keeps their shape", value=list(shapes[0]))
        return shapes[0]


class Concat(MergeLayer):
    """``torch.cat([a, b, ...], dim=1)``: channels add up; the spatial sizes must agree (flat
    inputs: the features add up). Taken for a sum (``concat-as-add``), it keeps the channels of
    its first input.

    >>> Concat(**{"from": ["a", "b"]}).merge_shape([(64, 28, 28), (32, 28, 28)])
    (96, 28, 28)
    """

    kind: Literal["concat"] = "concat"

    def merge_shape(self, shapes: list[Shape], assume: Assumptions = CORRECT, trace: Trace = NO_TRACE) -> Shape:
        if len({len(s) for s in shapes}) != 1 or len({s[1:] for s in shapes}) != 1:
            raise LayerError("a concatenation needs inputs of one spatial size (or flat inputs only)")
        given = [trace.given(f"C_{i}", s[0], f"C_{{{i}}}") for i, s in enumerate(shapes, start=1)]
        channels = given[0] if assume.concat == "as_add" else sum(given)
        return (trace.equation("C_out", channels, "C_{out}"), *shapes[0][1:])


class Multiply(MergeLayer):
    """``a * b * ...``, element by element, broadcast as torch broadcasts: a gate of ``C×1×1``
    scales each channel of a ``C×H×W`` map (squeeze-and-excitation: ``scale * input``), a gate of
    the map's own shape each value (gating). The output has the larger size on every axis.

    >>> Multiply(**{"from": ["x", "se"]}).merge_shape([(64, 56, 56), (64, 1, 1)])
    (64, 56, 56)
    """

    kind: Literal["multiply"] = "multiply"

    def merge_shape(self, shapes: list[Shape], assume: Assumptions = CORRECT, trace: Trace = NO_TRACE) -> Shape:
        if len({len(s) for s in shapes}) != 1:
            raise LayerError("a product needs inputs of one rank (a C×1×1 gate for a C×H×W map)")
        out = []
        for sizes in zip(*shapes, strict=True):
            wider = {size for size in sizes if size != 1}
            if len(wider) > 1:
                listed = " and ".join(shape_text(s) for s in shapes)
                raise LayerError(f"a product broadcasts sizes of 1 only: {listed} differ elsewhere")
            out.append(wider.pop() if wider else 1)
        taken = " × ".join(shape_text(s) for s in shapes)
        trace.note(f"an element-wise product of {taken}, broadcast: {shape_text(tuple(out))}", value=out)
        return tuple(out)
