"""Inverse questions: the kernel or padding that produces a given size."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, Field

from problems.budgets import MAX_SIDE
from problems.kinds import AnswerKind
from problems.solvers import checks, sizes
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

    def solve(self) -> dict[str, Quantity]:
        return {self.find: Quantity(AnswerKind.INTEGER, self._unknown())}

    def mistakes(self) -> dict[str, dict[str, Quantity]]:
        """The unknown solved from the size formula without its +1."""
        try:
            wrong = self._unknown("no_plus_one")
        except sizes.SizeError:
            return {}
        return {"inverse-off-by-one": {self.find: Quantity(AnswerKind.INTEGER, wrong)}}

    def _unknown(self, rule: sizes.SizeRule = "floor") -> int:
        if self.find == "kernel":
            if self.size_in is None or self.size_out is None:
                raise ValueError("finding a kernel needs size_in and size_out")
            return sizes.kernel_for(self.size_in, self.size_out, self.stride, self.padding, rule)
        if self.kernel is None:
            raise ValueError("finding the padding needs kernel")
        return sizes.padding_to_keep(self.kernel, self.dilation, rule)

    def describe(self) -> str:
        if self.find == "kernel":
            return (
                f"A {self.size_in}×{self.size_in} input gives {self.size_out}×{self.size_out} maps, "
                f"stride {self.stride}, padding {self.padding}, square kernel."
            )
        return f"A {self.kernel}×{self.kernel} kernel, stride 1: which padding keeps the size?"
