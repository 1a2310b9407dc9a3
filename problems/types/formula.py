"""Closed forms in named symbols, derived by running the numeric size and count functions on
sympy symbols, so a formula and its numbers cannot disagree."""

from __future__ import annotations

from typing import Literal

import sympy
from pydantic import Field

from problems.kinds import AnswerKind, formula_symbol
from problems.solvers import counts, sizes
from problems.types.base import ProblemSpec, Quantity

Term = str | int


class FormulaProblem(ProblemSpec):
    """A single layer in symbols. ``input`` is ``[H, W, M]`` (height, width, channels);
    ``sizes_are: output`` declares that H and W name the layer's *output* size (as in
    "H, W below are the layer's output size").

    Quantities: ``output_shape`` (H×W×C), ``params``, ``macs``, ``flops``.
    """

    type: Literal["formula"] = "formula"
    layer: Literal["conv", "separable"] = Field(
        default="conv", description="A standard convolution, or a depthwise separable one (depthwise, then 1×1)."
    )
    symbols: list[str] = Field(description="The symbols answers may use (`[H, W, M, N, K]`).")
    input: list[Term] = Field(description="`[H, W, M]`: height, width and channels, each a symbol or a number.")
    out_channels: Term = Field(description="Output channels (filters): a symbol or a number.")
    kernel: Term = Field(description="The square kernel's side: a symbol or a number.")
    stride: Term = Field(default=1, description="Stride: a symbol or a number.")
    padding: Term | Literal["same"] = Field(default=0, description="Padding: a symbol, a number, or `same`.")
    bias: bool = Field(default=False, description="Whether the layer has biases.")
    sizes_are: Literal["input", "output"] = Field(
        default="input", description="`output`: H and W name the layer's output size, not its input's."
    )

    def symbol(self, term: Term | str) -> sympy.Expr:
        if isinstance(term, int):
            integer: sympy.Expr = sympy.Integer(term)  # sympy's constructors are untyped
            return integer
        if term not in self.symbols:
            raise ValueError(f"{term!r} is not among the declared symbols {self.symbols}")
        return formula_symbol(term)

    def solve(self) -> dict[str, Quantity]:
        h, w, m = (self.symbol(t) for t in self.input)
        n, k, s = self.symbol(self.out_channels), self.symbol(self.kernel), self.symbol(self.stride)
        if self.sizes_are == "output":
            h_out, w_out = h, w
        else:
            p = (k - 1) / 2 if self.padding == "same" else self.symbol(self.padding)
            h_out, w_out = (sympy.simplify(sizes.conv_out(side, k, s, p)) for side in (h, w))
        if self.layer == "conv":
            params = counts.conv_params(m, n, k, k, bias=self.bias)
            macs = counts.conv_macs(m, n, k, k, h_out, w_out)
        else:
            params = counts.separable_params(m, n, k, bias=self.bias)
            macs = counts.separable_macs(m, n, k, h_out, w_out)
        return {
            "output_shape": Quantity(AnswerKind.FORMULA_SHAPE, (h_out, w_out, n)),
            "params": Quantity(AnswerKind.FORMULA, sympy.expand(params)),
            "macs": Quantity(AnswerKind.FORMULA, sympy.expand(macs)),
            "flops": Quantity(AnswerKind.FORMULA, sympy.expand(2 * macs)),
        }

    def mistakes(self) -> dict[str, dict[str, Quantity]]:
        """A bias added where there is none (or left out where there is one)."""
        code = "bias-omitted" if self.bias else "bias-extra"
        return {code: self.model_copy(update={"bias": not self.bias}).solve()}

    def describe(self) -> str:
        kind = (
            "standard convolution" if self.layer == "conv" else "depthwise separable convolution (depthwise then 1×1)"
        )
        h, w, m = self.input
        padding = "'same' padding" if self.padding == "same" else f"padding {self.padding}"
        where = "output" if self.sizes_are == "output" else "input"
        return (
            f"A {kind} with {self.out_channels} filters of {self.kernel}×{self.kernel}, stride {self.stride}, "
            f"{padding}, {'with' if self.bias else 'no'} bias; {h}×{w} is the {where} size, {m} input channels. "
            f"Answer in the symbols {', '.join(self.symbols)}."
        )
