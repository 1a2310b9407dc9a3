"""Problems answered with code: the instructor's solution module and the runtime it runs in; the
parts (``code: KIND``) say what is called and on which tests (``problems.code``)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from problems.code.parts import Runtime
from problems.solvers.steps import Derivations
from problems.types.base import ProblemSpec, Quantity

#: The longest solution module a set file may hold (the sandbox takes modules up to 1 MiB).
MAX_SOLUTION = 100_000


class CodeProblem(ProblemSpec):
    """A problem whose parts are answered with a Python module (`type: code`): each code part calls a
    function of it on tests drawn per student and compares its outputs with our solvers'. The
    `solution` must pass every test when the set is checked (`grader check`, an upload)."""

    type: Literal["code"] = "code"
    solution: str = Field(
        min_length=1,
        max_length=MAX_SOLUTION,
        description="The instructor's module (its source text): it must pass every test of the problem's code "
        "parts. Never shown to students.",
    )
    runtime: Runtime = Field(
        default="numpy",
        description="What the module may import in the sandbox: `numpy`, or `torch` (numpy and torch).",
    )

    def solve(self, steps: Derivations | None = None) -> dict[str, Quantity]:
        return {}

    def describe(self) -> str:
        return ""
