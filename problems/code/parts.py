"""A code part of a set file: the function a student writes, and the tests it is run on.

The tests give shapes and settings, never values: each test's inputs are drawn per student
(``grader.code.plan``) and its reference is computed by the kind's solvers
(``problems.code.kinds``), so nothing an author types can be a wrong answer key.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, model_validator

from problems.budgets import over
from problems.code.kinds import KINDS, CodeKind

#: Tests of one part: each is one call in the part's single run in the sandbox.
MAX_TESTS = 32
#: Tests of a whole set, so calls of one submission: the sandbox runs at most 256 calls per run
#: (``sandbox.Limits.max_calls``), and a submission's parts together stay within one run's worth.
MAX_CALLS = 256
#: Elements of one drawn input array (800 KB of float64): a course's tests are a few thousand.
MAX_ELEMENTS = 100_000
#: Multiply-adds of one test's reference (and of each mistake's): the built-in tests take a few
#: thousand; a million is a 64×64 image of 16 channels through 16 3×3 filters.
MAX_WORK = 1_000_000
#: Multiply-adds of every code test of a set together: checking a set computes each test's reference
#: and its mistakes' outputs (a dozen forms), within a second or so.
MAX_SET_WORK = 10_000_000
#: The sandbox runtimes: numpy alone, or numpy and torch (``sandbox.RUNTIMES``).
Runtime = Literal["numpy", "torch"]
Visibility = Literal["visible", "hidden", "after_close"]


class Values(BaseModel):
    """How a test's input values are drawn."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    low: float = Field(default=-1.0, ge=-1e6, le=1e6, description="The smallest value drawn.")
    high: float = Field(default=1.0, ge=-1e6, le=1e6, description="The largest value drawn.")
    integers: bool = Field(
        default=False,
        description="Whole numbers from `low` to `high` (easier to check by hand) instead of reals drawn "
        "uniformly between them.",
    )

    @model_validator(mode="after")
    def _ordered(self) -> Values:
        if self.high <= self.low:
            raise ValueError("high: must be above low")
        return self


class Tolerance(BaseModel):
    """How close a returned array must be to the reference, element by element (numpy's ``isclose``:
    within ``abs + rel·|expected|``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    rel: float = Field(default=1e-5, ge=0, le=1, description="Relative tolerance.")
    abs: float = Field(default=1e-6, ge=0, description="Absolute tolerance.")


class CodeTest(BaseModel):
    """One test of a code part: the shapes of the inputs, the kind's settings (``stride``, ``pad``,
    ``size``: given beside these fields), how values are drawn, points and who sees the result."""

    model_config = ConfigDict(extra="allow", frozen=True)
    __test__ = False  # a set-file model, not a pytest test class
    name: str = Field(min_length=1, max_length=200, description="What the test tries, as students read it.")
    shapes: dict[str, list[int]] = Field(
        default_factory=dict,
        description="The shape of each input array, by the kind's names (`x: [1, 3, 5, 5]`, `w: [2, 3, 3, 3]`); "
        "the rest (a bias, an upstream gradient) follows from them.",
    )
    values: Values = Field(default_factory=Values, description="How the input values are drawn (per student).")
    points: float | None = Field(
        default=None,
        gt=0,
        le=1000,
        description="Points for passing the test; by default the part's points left over by the tests that give "
        "theirs, shared equally (1 each when the part gives none).",
    )
    visibility: Visibility = Field(
        default="visible",
        description="Who sees the test's result: `visible` (its name, status and details, the first wrong "
        "element included), `hidden` (counted, shown as a count until answers are released) or `after_close` "
        "(shown after the assignment closes).",
    )

    @model_validator(mode="after")
    def _sizes(self) -> CodeTest:
        for name, shape in self.shapes.items():
            if any(side < 1 for side in shape):
                raise ValueError(f"shapes.{name}: every size is at least 1")
            elements = 1
            for side in shape:
                elements *= side
            if elements > MAX_ELEMENTS:
                raise ValueError(f"shapes.{name}: {elements:,} elements, {over(MAX_ELEMENTS, 'an input of a test')}")
        return self


def _kinds_text() -> str:
    return "; ".join(f"`{name}` (`{kind.signature}`)" for name, kind in sorted(KINDS.items()))


class CodePart(BaseModel):
    """A part answered with code: the student's module is run in the sandbox on the part's tests."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    key: str = Field(
        pattern=r"^[A-Za-z0-9_]+$", description="The second half of the answer key (`forward` in `conv.forward`)."
    )
    code: str = Field(
        description="The reference kind: what the function computes, from which the tests' references and the "
        "known mistakes follow. One of: " + _kinds_text() + "."
    )
    function: str | None = Field(
        default=None,
        pattern=r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$",
        description="The function of the student's module that is called; by default the kind's (`conv_forward`).",
    )
    module: str | None = Field(
        default=None,
        pattern=r"^[A-Za-z0-9_]+$",
        description="For a part answered with a number about the student's own code rather than with code (a "
        "model's parameter count): the key, in this problem, of the code part whose module its tests run "
        "(`module: model`); a test compares what that module does with this part's answer.",
    )
    prompt: str = Field(default="", description="The question, as students read it after the statement.")
    points: float = Field(
        default=1.0,
        gt=0,
        le=1000,
        description="Points for passing every test; by default the sum of the tests' points (1 for a test that "
        "gives none). Each test earns its own share, so a submission keeps the tests it passes.",
    )
    tolerance: Tolerance = Field(
        default_factory=Tolerance, description="How close each returned element must be to the reference."
    )
    tests: list[CodeTest] = Field(
        min_length=1,
        max_length=MAX_TESTS,
        description=f"The tests, run in order in one sandbox run (at most {MAX_TESTS}; {MAX_CALLS} in a whole set). "
        "Their inputs are drawn per student; their references are computed, never typed.",
    )
    _runtime: Runtime = PrivateAttr(default="numpy")

    @property
    def kind(self) -> CodeKind:
        return KINDS[self.code]

    @property
    def called(self) -> str:
        """The function called: the part's, or the kind's by default."""
        return self.function or self.kind.function

    @property
    def runtime(self) -> Runtime:
        """The sandbox runtime the part's code runs in: its problem's."""
        return self._runtime

    def in_runtime(self, runtime: Runtime) -> CodePart:
        """This part, run in ``runtime`` (its problem's)."""
        found = self.model_copy()
        found._runtime = runtime
        return found

    @model_validator(mode="before")
    @classmethod
    def _points_of_tests(cls, data: Any) -> Any:
        """Without ``points``, the part is worth its tests' points together (1 for a test without)."""
        if isinstance(data, dict) and "points" not in data and isinstance(data.get("tests"), list):
            given = [test.get("points", 1) if isinstance(test, dict) else 1 for test in data["tests"]]
            if all(isinstance(points, int | float) and not isinstance(points, bool) for points in given):
                return {**data, "points": float(sum(given))}
        return data

    def test_points(self) -> list[float]:
        """Each test's points: its own, else an equal share of what the part's points leave."""
        given = [test.points for test in self.tests]
        rest = self.points - sum(points for points in given if points is not None)
        shared = sum(1 for points in given if points is None)
        return [points if points is not None else rest / shared for points in given]

    @model_validator(mode="after")
    def _tests(self) -> CodePart:
        kind = KINDS.get(self.code)
        if kind is None:
            raise ValueError(f"code: no reference kind {self.code!r}; the kinds are {', '.join(sorted(KINDS))}")
        for index, test in enumerate(self.tests):
            try:
                kind.settings(test)
                kind.check(test)
            except ValueError as error:
                raise ValueError(f"tests.{index}.{error}") from None
            if test.values.integers and not kind.integers_allowed:
                raise ValueError(
                    f"tests.{index}.values.integers: {kind.name} tests draw reals (ties make it ambiguous)"
                )
            if kind.work(test) > MAX_WORK:
                cost = f"{kind.work(test):,} multiply-adds"
                raise ValueError(f"tests.{index}.shapes: {cost}, {over(MAX_WORK, 'the work of a test')}")
        given = sum(test.points for test in self.tests if test.points is not None)
        shared = sum(1 for test in self.tests if test.points is None)
        if shared and given >= self.points - 1e-9:
            raise ValueError(
                f"points: the tests' points ({given:g}) leave no share of the part's {self.points:g} for the tests "
                "that give none"
            )
        if not shared and abs(given - self.points) > 1e-9:
            raise ValueError(f"points: the tests' points add up to {given:g}, not the part's {self.points:g}")
        return self
