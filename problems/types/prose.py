"""Problems asked in words only: every part is written (``answer: text``) and graded by staff."""

from __future__ import annotations

from typing import Literal

from problems.solvers.steps import Derivations
from problems.types.base import ProblemSpec, Quantity


class ProseProblem(ProblemSpec):
    """No numbers and no quantities: the statement and the written parts are the whole problem
    (`why does a 1×1 convolution save compute?`)."""

    type: Literal["prose"] = "prose"

    def solve(self, steps: Derivations | None = None) -> dict[str, Quantity]:
        return {}

    def describe(self) -> str:
        return ""
