"""Layers that take two or more earlier outputs: an element-wise sum (a residual connection)
and a concatenation along the channels (``torch.cat(..., dim=1)``). Neither has parameters or
multiply-accumulates (a sum's additions are not MACs, as in the published counts)."""

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
