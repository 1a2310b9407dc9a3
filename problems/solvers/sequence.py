"""Layers over a sequence of tokens (a ``C×L`` map: ``C`` values per token, ``L`` tokens): a map
read as tokens, a Vision Transformer's class token, position embedding and the class token taken
for its head, multi-head self-attention and recurrent layers (LSTM, GRU). A fully connected layer
on a sequence acts on every token alone (``Linear``).

Counts follow torch: parameters are the modules' ``parameters()``; MACs are the multiplications
of the matrix products (what ``torch.utils.flop_counter.FlopCounterMode`` counts, halved), the
softmax, the gates' element-wise products and the biases being no MACs, as everywhere here.
"""

from __future__ import annotations

from math import isqrt
from typing import ClassVar, Literal

from pydantic import Field, field_validator

from problems.budgets import MAX_SIDE, MAX_UNITS
from problems.solvers.assumptions import CORRECT, Assumptions
from problems.solvers.layers import LayerBase, LayerError, Shape, Units, shape_text
from problems.solvers.receptive import IrregularField, Taps
from problems.solvers.steps import NO_TRACE, Trace

#: Gates per recurrent cell: an LSTM's input, forget, cell and output; a GRU's reset, update, new.
GATES = {"lstm": 4, "gru": 3}


def attention_params(dim: int, bias: bool = True) -> int:
    """``nn.MultiheadAttention(dim, heads)``: the query, key and value projections and the output
    projection, four ``dim×dim`` weights and (with ``bias``) four ``dim`` biases: ``4·d² + 4·d``,
    whatever the number of heads.

    >>> attention_params(768)  # ViT-B/16's attention in each block
    2362368
    """
    return 4 * dim * dim + (4 * dim if bias else 0)


def attention_macs(dim: int, tokens: int) -> int:
    """Self-attention over ``L`` tokens of ``d`` values: the four projections, ``4·L·d²``, the
    scores ``Q·Kᵀ``, ``L²·d`` (each head ``L²·d/h``, ``h`` heads), and the weighted sum of the
    values, ``L²·d``: ``4·L·d² + 2·L²·d``.

    >>> attention_macs(768, 197)  # ViT-B/16 at 224×224: 196 patches and the class token
    524391936
    """
    return 4 * tokens * dim * dim + 2 * tokens * tokens * dim


def recurrent_params(cell: str, inputs: int, hidden: int, bias: bool = True, biases: int = 2) -> int:
    """One layer and direction of ``nn.LSTM``/``nn.GRU``: per gate an input weight ``H×I``, a
    hidden weight ``H×H`` and (with ``bias``) ``biases`` biases of ``H``: torch keeps two (``b_ih``
    and ``b_hh``), Keras's LSTM one. ``G·(H·I + H·H + 2·H)``, ``G`` = 4 for an LSTM, 3 for a GRU.

    >>> recurrent_params("lstm", 32, 64), recurrent_params("gru", 32, 64)
    (25088, 18816)
    >>> recurrent_params("lstm", 1, 50, biases=1)  # Keras: LSTM(50) on one feature per step
    10400
    """
    return GATES[cell] * (hidden * inputs + hidden * hidden + (biases * hidden if bias else 0))


def recurrent_macs(cell: str, inputs: int, hidden: int, steps: int) -> int:
    """One layer and direction over ``L`` steps: each step multiplies the input and the previous
    hidden state by every gate's weights, ``L·G·H·(I + H)``.

    >>> recurrent_macs("lstm", 32, 64, 5)
    122880
    """
    return steps * GATES[cell] * hidden * (inputs + hidden)


def _sequence(shape: Shape, what: str) -> tuple[int, int]:
    if len(shape) != 2:
        raise LayerError(f"{what} needs a sequence (C×L: add `kind: tokens` after a map), got {shape_text(shape)}")
    return shape[0], shape[1]


class Tokens(LayerBase):
    """A map read as a sequence of tokens, one per position: ``x.flatten(2).transpose(1, 2)`` (a
    ViT's patches after the patch embedding); ``C×H×W`` becomes ``C×(H·W)``. A view: no values of
    its own."""

    kind: Literal["tokens"] = "tokens"

    def output_shape(self, shape: Shape, assume: Assumptions = CORRECT, trace: Trace = NO_TRACE) -> Shape:
        if len(shape) == 2:
            trace.note(f"already a sequence of {shape[1]:,} tokens", value=list(shape))
            return shape
        if len(shape) != 3:
            raise LayerError(f"tokens are read from a map (C×H×W), got {shape_text(shape)}")
        positions = trace.equation("tokens", trace.given("H", shape[1]) * trace.given("W", shape[2]))
        return shape[0], positions

    def taps(self, shape: Shape, out: Shape) -> tuple[Taps, Taps] | None:
        if len(shape) == 3:
            raise IrregularField("a map read as tokens has no field along one axis")
        return None


class ToMap(LayerBase):
    """Tokens laid back out on a map, one position per token in order (the inverse of ``tokens``:
    ``x.transpose(1, 2).reshape(N, C, H, W)``); ``C×L`` becomes ``C×H×W`` with ``H·W = L``.
    ``size`` gives ``H`` and ``W``; without it the map is square, and tokens that make none are
    refused. A view: no values of its own."""

    kind: Literal["map"] = "map"
    size: int | tuple[int, int] | None = Field(
        default=None,
        description=f"The map's `[H, W]` (or one side for a square map), `H·W` the tokens; by default the square "
        f"map of the tokens. A side is at most {MAX_SIDE:,}.",
    )

    @field_validator("size")
    @classmethod
    def _sides(cls, value: int | tuple[int, int] | None) -> int | tuple[int, int] | None:
        for side in (value,) if isinstance(value, int) else value or ():
            if not 0 < side <= MAX_SIDE:
                raise ValueError(f"a side of {side:,}: a map's side is 1 to {MAX_SIDE:,}")
        return value

    def output_shape(self, shape: Shape, assume: Assumptions = CORRECT, trace: Trace = NO_TRACE) -> Shape:
        dim, tokens = _sequence(shape, "a map from tokens")
        if self.size is None:
            side = isqrt(tokens)
            if side * side != tokens:
                raise LayerError(f"{tokens:,} tokens make no square map: give size: [H, W]", "size")
            trace.note(f"{tokens:,} tokens laid out on a square map: √{tokens:,} = {side} on a side",
                       value=[dim, side, side])  # fmt: skip
            return dim, side, side
        height, width = (self.size, self.size) if isinstance(self.size, int) else self.size
        if height * width != tokens:
            raise LayerError(
                f"a {height}×{width} map has {height * width:,} positions, not the sequence's {tokens:,} tokens", "size"
            )
        positions = trace.given("H", height) * trace.given("W", width)
        trace.equation(f"positions, one per token ({tokens:,})", positions)
        return dim, height, width

    def taps(self, shape: Shape, out: Shape) -> tuple[Taps, Taps]:
        raise IrregularField("tokens laid out on a map have no field along each axis")


class ClassToken(LayerBase):
    """A Vision Transformer's class token (torchvision's ``class_token``, a ``1×1×C`` parameter):
    one learnable token of ``C`` values put before the others, ``C×L → C×(L+1)`` (``torch.cat``:
    new values)."""

    kind: Literal["class_token"] = "class_token"

    def output_shape(self, shape: Shape, assume: Assumptions = CORRECT, trace: Trace = NO_TRACE) -> Shape:
        dim, tokens = _sequence(shape, "a class token")
        return dim, trace.equation("tokens (the class token before the others)", trace.given("L", tokens) + 1)

    def params(self, shape: Shape, assume: Assumptions = CORRECT, trace: Trace = NO_TRACE) -> int:
        dim, _ = _sequence(shape, "a class token")
        return trace.equation("parameters (one token of d learnable values)", trace.given("d", dim))

    def taps(self, shape: Shape, out: Shape) -> tuple[Taps, Taps]:
        raise IrregularField("the class token reads no input position")


class PositionEmbedding(LayerBase):
    """A Vision Transformer's learnable position embedding (torchvision's ``pos_embedding``,
    ``1×L×C``): a vector of ``C`` values per position, added to its token (the class token
    included when it comes first): ``L·C`` parameters, the shape kept."""

    kind: Literal["position_embedding"] = "position_embedding"

    def output_shape(self, shape: Shape, assume: Assumptions = CORRECT, trace: Trace = NO_TRACE) -> Shape:
        _sequence(shape, "a position embedding")
        trace.note(f"a position embedding added to every token keeps the shape {shape_text(shape)}", value=list(shape))
        return shape

    def params(self, shape: Shape, assume: Assumptions = CORRECT, trace: Trace = NO_TRACE) -> int:
        dim, tokens = _sequence(shape, "a position embedding")
        found = trace.given("L", tokens) * trace.given("d", dim)
        return trace.equation("parameters (a learnable vector of d values per position)", found)


class TakeToken(LayerBase):
    """One token of a sequence, the vector of its ``C`` values: ``x[:, index]`` (a ViT's head reads
    the class token, ``index`` 0). A view: no values of its own."""

    kind: Literal["take_token"] = "take_token"
    index: int = Field(default=0, ge=0, le=MAX_UNITS)

    def output_shape(self, shape: Shape, assume: Assumptions = CORRECT, trace: Trace = NO_TRACE) -> Shape:
        dim, tokens = _sequence(shape, "taking a token")
        if self.index >= tokens:
            raise LayerError(f"token {self.index} of a sequence of {tokens} tokens (they count from 0)", "index")
        trace.note(f"token {self.index} alone: a vector of {dim:,} values", value=[dim])
        return (dim,)

    def taps(self, shape: Shape, out: Shape) -> tuple[Taps, Taps]:
        raise IrregularField("one token taken out of the sequence")


class Attention(LayerBase):
    """``nn.MultiheadAttention(C, heads)`` as self-attention on a sequence (query, key and value
    the same tokens): the output keeps the shape. ``heads`` must divide ``C``."""

    kind: Literal["attention"] = "attention"
    heads: int = Field(default=1, gt=0, le=MAX_UNITS)
    bias: bool = True
    weighted: ClassVar[bool] = True

    def output_shape(self, shape: Shape, assume: Assumptions = CORRECT, trace: Trace = NO_TRACE) -> Shape:
        dim, tokens = _sequence(shape, "attention")
        if dim % self.heads:
            raise LayerError(f"{self.heads} heads do not split {dim} values per token evenly", "heads")
        trace.note(
            f"self-attention keeps the shape: {tokens:,} tokens of {dim:,} values ({self.heads} heads of "
            f"{dim // self.heads})",
            value=list(shape),
        )
        return shape

    def taps(self, shape: Shape, out: Shape) -> tuple[Taps, Taps]:
        raise IrregularField("every token attends to every other: the whole sequence")

    def params(self, shape: Shape, assume: Assumptions = CORRECT, trace: Trace = NO_TRACE) -> int:
        dim, _ = _sequence(shape, "attention")
        bias = self.bias if assume.bias is None else assume.bias
        found = attention_params(trace.given("d", dim), bias)
        return trace.equation("parameters (Q, K, V and output projections)", found)

    def macs(self, shape: Shape, assume: Assumptions = CORRECT, trace: Trace = NO_TRACE) -> int:
        dim, tokens = _sequence(shape, "attention")
        found = attention_macs(trace.given("d", dim), trace.given("L", tokens))
        return trace.equation("MACs (projections 4·L·d², scores L²·d, weighted values L²·d)", found)

    def scores_macs(self, shape: Shape, trace: Trace = NO_TRACE) -> int:
        """The scores ``Q·Kᵀ`` alone: each of the ``h`` heads multiplies ``L×(d/h)`` by ``(d/h)×L``,
        ``L²·d/h`` MACs, ``L²·d`` in all whatever the heads (exams ask for this term alone)."""
        dim, tokens = _sequence(shape, "attention")
        length = trace.given("L", tokens)
        return trace.equation("MACs of the scores Q·Kᵀ (L² per value of d)", length * length * trace.given("d", dim))


class Recurrent(LayerBase):
    """``nn.LSTM`` / ``nn.GRU`` on a sequence (``C×L``: ``C`` inputs per step): ``layers`` stacked
    (each reads the one before), ``bidirectional`` doubling each; the output has ``hidden`` values
    per step (twice that when bidirectional). ``biases: 1`` counts one bias per gate, as Keras's
    ``LSTM`` (and its ``GRU`` with ``reset_after=False``) has, where torch has two."""

    kind: Literal["lstm", "gru"]
    hidden: Units
    layers: int = Field(default=1, gt=0, le=64)
    bidirectional: bool = False
    bias: bool = True
    biases: Literal[1, 2] = 2
    weighted: ClassVar[bool] = True

    @property
    def directions(self) -> int:
        return 2 if self.bidirectional else 1

    def taps(self, shape: Shape, out: Shape) -> tuple[Taps, Taps]:
        raise IrregularField("a recurrent step reads every step before it")

    def _inputs(self, shape: Shape) -> list[int]:
        """The inputs each stacked layer reads per step: the sequence's, then the layer below's."""
        channels, _ = _sequence(shape, f"an {self.kind.upper()}")
        return [channels] + [self.hidden * self.directions] * (self.layers - 1)

    def output_shape(self, shape: Shape, assume: Assumptions = CORRECT, trace: Trace = NO_TRACE) -> Shape:
        _, steps = _sequence(shape, f"an {self.kind.upper()}")
        width = trace.equation("C_out", trace.given("H", self.hidden) * trace.given("directions", self.directions))
        return width, steps

    def params(self, shape: Shape, assume: Assumptions = CORRECT, trace: Trace = NO_TRACE) -> int:
        bias = self.bias if assume.bias is None else assume.bias
        terms = [
            trace.equation(
                f"parameters of layer {index}, one direction",
                recurrent_params(self.kind, trace.given("I", inputs), trace.given("H", self.hidden), bias, self.biases),
            )
            for index, inputs in enumerate(self._inputs(shape))
        ]
        return self._stacked(terms, "parameters", trace)

    def macs(self, shape: Shape, assume: Assumptions = CORRECT, trace: Trace = NO_TRACE) -> int:
        _, steps = _sequence(shape, f"an {self.kind.upper()}")
        terms = [
            trace.equation(
                f"MACs of layer {index}, one direction",
                recurrent_macs(
                    self.kind, trace.given("I", inputs), trace.given("H", self.hidden), trace.given("L", steps)
                ),
            )
            for index, inputs in enumerate(self._inputs(shape))
        ]
        return self._stacked(terms, "MACs", trace)

    def _stacked(self, terms: list[int], what: str, trace: Trace) -> int:
        """The layers' counts added up, each once per direction."""
        if len(terms) == 1 and self.directions == 1:
            return terms[0]
        total = trace.given(f"{what} of layer 0", terms[0])
        for index, term in enumerate(terms[1:], start=1):
            total = total + trace.given(f"{what} of layer {index}", term)
        return trace.equation(what, total * trace.given("directions", self.directions, neutral=1))
