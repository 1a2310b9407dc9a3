"""Problems whose parts all combine other parts' answers (sums, reductions)."""

from __future__ import annotations

from typing import Literal

from problems.solvers.steps import Derivations
from problems.types.base import ProblemSpec, Quantity


class DerivedProblem(ProblemSpec):
    """No quantities of its own: every part is an operation on other answers."""

    type: Literal["derived"] = "derived"

    def solve(self, steps: Derivations | None = None) -> dict[str, Quantity]:
        return {}

    def describe(self) -> str:
        return ""
