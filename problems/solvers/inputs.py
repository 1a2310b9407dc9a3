"""A network's further inputs: a graph that reads several tensors (a feature pyramid over a
backbone's C2..C5, a decoder given its skips) names each one beside the network's ``input``.

An input step reads nothing: it stands for a tensor given to the network, with its sizes, and
later steps take it by its name (``from``). It has no parameters or MACs; its values count where
the input's do (``stored.input``).
"""

from __future__ import annotations

from typing import Annotated, Literal, Self

from pydantic import AfterValidator, Field, model_validator

from problems.budgets import MAX_SIDE
from problems.solvers.assumptions import CORRECT, Assumptions
from problems.solvers.checks import within
from problems.solvers.layers import LayerBase, Shape, Units, shape_text
from problems.solvers.receptive import IrregularField, Taps
from problems.solvers.steps import NO_TRACE, Trace

Side = Annotated[int, Field(gt=0), AfterValidator(within(MAX_SIDE, "a map's side"))]


class ExtraInput(LayerBase):
    """A further input of the network, a map of ``channels`` on ``height×width`` (or ``side×side``)
    given to it beside ``input`` (a backbone's C3 for a feature pyramid): it reads no earlier
    output, and later steps take it by its name (``from``). No parameters or MACs; its values
    count with the input's."""

    kind: Literal["input"] = "input"
    channels: Units = Field(description="The input's channels.")
    side: Side | None = Field(default=None, description="The side of a square map (or give `height` and `width`).")
    height: Side | None = Field(default=None, description="The map's height.")
    width: Side | None = Field(default=None, description="The map's width.")

    @model_validator(mode="after")
    def _sized(self) -> Self:
        if self.name is None:
            raise ValueError("an input needs a name, for the steps that take it (from)")
        if self.sources is not None:
            raise ValueError("an input reads no earlier output: it takes no 'from'")
        if (self.side is None) == (self.height is None and self.width is None):
            raise ValueError("give side, or height and width")
        if self.side is None and (self.height is None or self.width is None):
            raise ValueError("give both height and width")
        return self

    def sizes(self) -> tuple[int, int, int]:
        height = self.side if self.side is not None else self.height
        width = self.side if self.side is not None else self.width
        assert height is not None and width is not None  # _sized
        return self.channels, height, width

    def output_shape(self, shape: Shape, assume: Assumptions = CORRECT, trace: Trace = NO_TRACE) -> Shape:
        out = self.sizes()
        trace.note(f"an input of its own, given to the network: {shape_text(out)}", value=list(out))
        return out

    def params(self, shape: Shape, assume: Assumptions = CORRECT, trace: Trace = NO_TRACE) -> int:
        trace.note("an input has no weights: 0 parameters", value=0)
        return 0

    def macs(self, shape: Shape, assume: Assumptions = CORRECT, trace: Trace = NO_TRACE) -> int:
        trace.note("an input computes nothing: 0 MACs", value=0)
        return 0

    def taps(self, shape: Shape, out: Shape) -> tuple[Taps, Taps]:
        raise IrregularField("another input: its pixels are none of the network input's")
