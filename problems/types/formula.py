"""Closed forms in named symbols, derived by running the numeric size and count functions on
sympy symbols, so a formula and its numbers cannot disagree. sympy is imported by the functions
that use it, as they run: it takes about half a second, which a command grading numbers need not pay."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Literal

from pydantic import Field

from problems.kinds import AnswerKind, formula_symbol
from problems.solvers import counts, sizes
from problems.solvers.steps import Derivations, MistakenSteps, Step
from problems.types.base import ProblemSpec, Quantity, conclusion

if TYPE_CHECKING:
    import sympy

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
        import sympy

        if isinstance(term, int):
            integer: sympy.Expr = sympy.Integer(term)  # sympy's constructors are untyped
            return integer
        if term not in self.symbols:
            raise ValueError(f"{term!r} is not among the declared symbols {self.symbols}")
        return formula_symbol(term)

    def solve(self, steps: Derivations | None = None) -> dict[str, Quantity]:
        found = self._solve(self.symbol, self._term)
        if steps is not None:  # the same arithmetic on the textbook's names shows the general formula
            steps.update(self._steps(found, self._solve(_named, self._role)))
        return found

    def _role(self, field: str, index: int | None = None) -> Term:
        """The textbook's name of a field's role (``C_in``), or the number the problem gives."""
        declared = self._term(field, index)
        return declared if isinstance(declared, int) else _role(field, index)

    def _term(self, field: str, index: int | None = None) -> Term:
        value: Term | list[Term] = getattr(self, field)
        return value[index] if isinstance(value, list) and index is not None else value  # type: ignore[return-value]

    def _solve(
        self, symbol: Callable[[Term | str], sympy.Expr], term: Callable[[str, int | None], Term]
    ) -> dict[str, Quantity]:
        import sympy

        h, w, m = (symbol(term("input", i)) for i in range(3))
        n, k, s = (symbol(term(field, None)) for field in ("out_channels", "kernel", "stride"))
        if self.sizes_are == "output":
            h_out, w_out = h, w
        else:
            p = (k - 1) / 2 if self.padding == "same" else symbol(term("padding", None))
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
            "flops": Quantity(AnswerKind.FORMULA, sympy.expand(counts.flops(macs))),
        }

    def _steps(self, found: dict[str, Quantity], general: dict[str, Quantity]) -> Derivations:
        """Per quantity: the general formula (the same solver on the roles' names), then this layer's."""
        import sympy

        layer = "a standard convolution" if self.layer == "conv" else "a depthwise separable convolution"
        given = f"here H×W×C_in = {'×'.join(map(str, self.input))}, C_out = {self.out_channels}, K = {self.kernel}" + (
            "" if self.sizes_are == "output" else f", S = {self.stride}, P = {self.padding}"
        )
        worked = Derivations()
        for name, quantity in found.items():
            formula = general[name].value
            formula = tuple(map(_factored, formula)) if isinstance(formula, tuple) else _factored(formula)
            text = " × ".join(map(sympy.sstr, formula)) if isinstance(formula, tuple) else sympy.sstr(formula)
            tex = r" \times ".join(map(sympy.latex, formula)) if isinstance(formula, tuple) else sympy.latex(formula)
            what = {
                "output_shape": "output shape (H×W×C)",
                "params": "parameter count",
                "macs": "multiply-accumulate count (MACs)",
                "flops": "FLOPs (2 × MACs)",
            }.get(name, name)
            bias = "" if name != "params" else (", biases included" if self.bias else ", no bias")
            worked[name] = (
                Step(f"The {what} of {layer}{bias}: {text}", tex),
                conclusion(f"With the problem's symbols ({given}): {_text(quantity)}", quantity),
            )
        return worked

    def mistakes(self, steps: MistakenSteps | None = None) -> dict[str, dict[str, Quantity]]:
        """A bias added where there is none (or left out where there is one)."""
        code = "bias-omitted" if self.bias else "bias-extra"
        return {
            code: self.model_copy(update={"bias": not self.bias}).solve(
                None if steps is None else steps.collector(code)
            )
        }

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


#: What the textbook calls each field's role, for the general formula.
ROLES = {"out_channels": "C_out", "kernel": "K", "stride": "S", "padding": "P"}


def _role(field: str, index: int | None = None) -> Term:
    return ("H", "W", "C_in")[index] if field == "input" and index is not None else ROLES[field]


def _named(term: Term | str) -> sympy.Expr:
    """A role's symbol (``C_in``)."""
    import sympy

    if isinstance(term, int):
        number: sympy.Expr = sympy.Integer(term)
        return number
    return formula_symbol(term)


def _text(quantity: Quantity) -> str:
    import sympy

    value = quantity.value
    return " × ".join(map(sympy.sstr, value)) if isinstance(value, tuple) else sympy.sstr(value)


def _factored(expression: sympy.Expr) -> sympy.Expr:
    """A general formula as it is taught (``C_in·K²·(C_out + 1)``): factored where sympy can."""
    import sympy

    try:
        factored: sympy.Expr = sympy.factor(expression)
    except (sympy.PolynomialError, NotImplementedError):  # e.g. around floor()
        return expression
    return factored
