"""Inverse questions: the kernel or padding that produces a given size."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, Field

from problems.budgets import MAX_SIDE
from problems.kinds import AnswerKind
from problems.solvers import checks, sizes
from problems.solvers.steps import NO_TRACE, Derivations, MistakenSteps, Trace
from problems.types.base import ProblemSpec, Quantity

Side = Annotated[int, Field(gt=0), AfterValidator(checks.within(MAX_SIDE, "a map's side"))]
Window = Annotated[int, AfterValidator(checks.window)]


class InverseProblem(ProblemSpec):
    """``find: kernel`` maps ``size_in`` to ``size_out``; ``find: padding`` keeps the size for ``kernel``."""

    type: Literal["inverse"] = "inverse"
    find: Literal["kernel", "padding"] = Field(
        description="`kernel`: the square kernel mapping `size_in` to `size_out`; `padding`: the padding that keeps "
        "the size for `kernel`."
    )
    size_in: Side | None = Field(default=None, description="The input's side (finding a kernel).")
    size_out: Side | None = Field(default=None, description="The output's side (finding a kernel).")
    kernel: Window | None = Field(default=None, gt=0, description="The kernel's side (finding the padding).")
    stride: Window = Field(default=1, gt=0, description="Stride.")
    padding: Window = Field(default=0, ge=0, description="Padding (finding a kernel).")
    dilation: Window = Field(default=1, gt=0, description="Dilation (finding the padding).")

    def solve(self, steps: Derivations | None = None) -> dict[str, Quantity]:
        trace = Trace() if steps is not None else NO_TRACE
        found: dict[str, Quantity] = {self.find: Quantity(AnswerKind.INTEGER, self._unknown(trace=trace))}
        if steps is not None:
            steps[self.find] = tuple(trace.steps)
        return found

    def mistakes(self, steps: MistakenSteps | None = None) -> dict[str, dict[str, Quantity]]:
        """The unknown solved from the size formula without its +1."""
        trace = Trace() if steps is not None else NO_TRACE
        try:
            wrong = self._unknown("no_plus_one", trace)
        except sizes.SizeError:
            return {}
        if steps is not None:
            steps.collector("inverse-off-by-one")[self.find] = tuple(trace.steps)
        return {"inverse-off-by-one": {self.find: Quantity(AnswerKind.INTEGER, wrong)}}

    def _unknown(self, rule: sizes.SizeRule = "floor", trace: Trace = NO_TRACE) -> int:
        """The unknown, solved from the output-size formula by the solver; its working in ``trace``."""
        t = trace
        if self.find == "kernel":
            if self.size_in is None or self.size_out is None:
                raise ValueError("finding a kernel needs size_in and size_out")
            plus = "" if rule == "no_plus_one" else " + 1"
            t.note(
                f"Solve n_out = (n + 2P − K)/S{plus} for the kernel K:", rf"n_{{out}} = \frac{{n + 2P - K}}{{S}}{plus}"
            )
            found = sizes.kernel_for(
                t.given("n", self.size_in),
                t.given("n_out", self.size_out, "n_{out}"),
                t.given("S", self.stride, neutral=1),
                t.given("P", self.padding, neutral=0),
                rule,
            )
            return t.equation("K", found)
        if self.kernel is None:
            raise ValueError("finding the padding needs kernel")
        plus = "" if rule == "no_plus_one" else " + 1"
        t.note(f"At stride 1 the size stays n when n + 2P − D·(K − 1) − 1{plus} = n: solve for P.")
        found = sizes.padding_to_keep(t.given("K", self.kernel), t.given("D", self.dilation, neutral=1), rule)
        return t.equation("P", found)

    def describe(self) -> str:
        if self.find == "kernel":
            return (
                f"A {self.size_in}×{self.size_in} input gives {self.size_out}×{self.size_out} maps, "
                f"stride {self.stride}, padding {self.padding}, square kernel."
            )
        return f"A {self.kernel}×{self.kernel} kernel, stride 1: which padding keeps the size?"
