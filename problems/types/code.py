"""Problems answered with code: the instructor's solution module and the runtime it runs in; the
parts (``code: KIND``) say what is called and on which tests (``problems.code``)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from problems.solvers.steps import Derivations
from problems.types.base import ProblemSpec, Quantity

#: The longest solution module a set file may hold (the sandbox takes modules up to 1 MiB).
MAX_SOLUTION = 100_000
#: The runtimes and the packages the sandbox knows (``sandbox.RUNTIMES``, ``sandbox.PACKAGES``; a test
#: holds them alike): named here, since a set file is checked without the sandbox. Which packages a
#: server offers is its own setting (``GRADER_CODE_PACKAGES``), checked when a set is uploaded.
Base = Literal["numpy", "torch"]
Package = Literal["scipy", "matplotlib"]


class CodeProblem(ProblemSpec):
    """A problem whose parts are answered with a Python module (`type: code`): each code part calls a
    function of it on tests drawn per student and compares its outputs with our solvers'. The problem's
    code parts share one module: a student uploads one file for the problem (the page shows one file
    input; REST takes it once, under the problem's id), as the `solution` is one module. The
    `solution` must pass every test when the set is checked (`grader check`, an upload)."""

    type: Literal["code"] = "code"
    solution: str = Field(
        min_length=1,
        max_length=MAX_SOLUTION,
        description="The instructor's module (its source text): it must pass every test of the problem's code "
        "parts. Never shown to students.",
    )
    runtime: Base = Field(
        default="numpy",
        description="What the module may import in the sandbox: `numpy`, or `torch` (numpy and torch).",
    )
    packages: tuple[Package, ...] = Field(
        default=(),
        description="Packages the module may import besides its runtime's (`[scipy, matplotlib]`), from those "
        "the server's code workers offer; matplotlib draws into files only (the Agg backend, no display). "
        "An upload naming one the server does not offer is refused with the list it has.",
    )

    @field_validator("packages")
    @classmethod
    def _each_once(cls, packages: tuple[str, ...]) -> tuple[str, ...]:
        twice = sorted({package for package in packages if packages.count(package) > 1})
        if twice:
            raise ValueError(f"list each package once ({', '.join(twice)} is listed more than once)")
        return packages

    @property
    def sandbox_runtime(self) -> str:
        """The sandbox's name for the runtime with the packages (``numpy+scipy``, as
        ``sandbox.runtime_name`` makes it): the base, then each package sorted, after a ``+``."""
        return "+".join((self.runtime, *sorted(self.packages)))

    def solve(self, steps: Derivations | None = None) -> dict[str, Quantity]:
        return {}

    def describe(self) -> str:
        return ""
