"""A code part of a set file: what a student writes, and the tests it is run on.

A part is one idea told two ways. Where its references come from: a built-in kind's solvers
(``code: conv.forward``: the tests give shapes and settings, the kind draws and computes), or the
instructor's ``solution`` run through the part's ``driver`` in the sandbox on the same drawn
``inputs``. How a wrong output is named: by the kind's known mistakes, or by the part's
``mistakes``, mutants of the solution run likewise. A kind with a driver keeps the kind's
references and mistakes: the driver only adapts the signature (CS231n's ``(out, cache)``).
Nothing an author types is an answer key: each test's inputs are drawn per student
(``grader.code.plan``).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, model_validator

from problems.budgets import over
from problems.code import held
from problems.code import inputs as test_inputs
from problems.code.kinds import KINDS, CodeKind
from problems.code.spec import (
    DATA_KEPT,
    DEFAULT_TIME,
    MAX_CALLS,
    MAX_DRIVER,
    MAX_ELEMENTS,
    MAX_MISTAKES,
    MAX_SET_WORK,
    MAX_TESTS,
    MAX_TIME,
    MAX_WORK,
    Accuracy,
    BestOf,
    CodeTest,
    Data,
    Input,
    Mistake,
    Rule,
    Runtime,
    Tolerance,
    Values,
    Visibility,
    name_problem,
)

__all__ = [
    "MAX_CALLS",
    "MAX_ELEMENTS",
    "MAX_SET_WORK",
    "MAX_TESTS",
    "MAX_WORK",
    "CodePart",
    "CodeTest",
    "Runtime",
    "Tolerance",
    "Values",
    "Visibility",
]


def _kinds_text() -> str:
    return "; ".join(f"`{name}` (`{kind.signature}`)" for name, kind in sorted(KINDS.items()))


class CodePart(BaseModel):
    """A part answered with code: the student's module is run in the sandbox on the part's tests."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    key: str = Field(
        pattern=r"^[A-Za-z0-9_]+$", description="The second half of the answer key (`forward` in `conv.forward`)."
    )
    code: str | None = Field(
        default=None,
        description="The reference kind: what the function computes, from which the tests' references and the "
        "known mistakes follow. One of: " + _kinds_text() + ". Optional with a `driver`, whose references then "
        "come from the problem's `solution`.",
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
    driver: str | None = Field(
        default=None,
        min_length=1,
        max_length=MAX_DRIVER,
        description="Python run in the sandbox for each test: the body of a function that calls the student's "
        "module (`student`), with the test's inputs and settings bound as names (and `np`, `math`, `torch` on the "
        "torch runtime, `printed()`, `read_arrays(text)`), ending with `return {NAME: value, ...}`.",
    )
    inputs: dict[str, Input] = Field(
        default_factory=dict,
        max_length=32,
        description="For a driver: the arrays each test draws per student, by name: `{shape: [N, C, H, W], low?, "
        "high?, integers?, dtype?}` (sizes: numbers, settings of the test, or integer arithmetic of them) or a "
        "fixed `{value: ..., dtype?}` (whole numbers as written are given as `int64`).",
    )
    outputs: dict[str, Rule] = Field(
        default_factory=dict,
        max_length=16,
        description="For a driver without `code`: each output the driver returns and how it is judged: `equal` "
        "(the solution's, within the tolerance), `shape` (the solution's shape), `{at_least: X}` or "
        "`{at_most: X}` (a number against a threshold), `{accuracy: y_test, at_least: X}` (labels, one per "
        "held-out image, right at a share of at least X of the labels the service keeps) or `{best_of: [A, "
        "B]}` (a number naming which of the `accuracy` outputs listed scores highest: 1 for A, 2 for B). Every "
        "rule is judged by the service on the values returned.",
    )
    mistakes: list[Mistake] = Field(
        default_factory=list,
        max_length=MAX_MISTAKES,
        description="For a driver without `code`: mistakes named by mutants of the solution, each `{code, "
        "feedback?, replace: TEXT, with: TEXT}` (TEXT found exactly once in the solution) or `{code, feedback?, "
        "solution: MODULE}`.",
    )
    data: Data | None = Field(
        default=None,
        description="For a driver without `code`: a data set every test binds (a test's own `data` replaces it): "
        "`digits`, scikit-learn's 1,797 handwritten 8×8 digits split per student into `x_train` (1437, 1, 8, 8), "
        "`y_train` and `x_test` (360, 1, 8, 8), pixels from 0 to 1, bound for the driver; the labels of "
        "`x_test`, `y_test`, stay with the service, for `{accuracy: y_test, at_least: X}`.",
    )
    time: float = Field(
        default=DEFAULT_TIME,
        gt=0,
        le=MAX_TIME,
        description="For a driver: seconds of wall time a test may take (a test's own `time` replaces it).",
    )
    _runtime: Runtime = PrivateAttr(default="numpy")

    @property
    def kind(self) -> CodeKind | None:
        """Where the references come from: a built-in kind's solvers, or (None) the problem's solution
        run through the driver."""
        return None if self.code is None else KINDS[self.code]

    @property
    def called(self) -> str:
        """The function called, as a student reads it in an error: the part's, the kind's by default,
        else (a driver calls what it calls) the part's key."""
        if self.function:
            return self.function
        return self.kind.function if self.kind is not None else f"your code for {self.key!r}"

    @property
    def output_names(self) -> tuple[str, ...]:
        """The outputs of a test, in order: the kind's, or the driver's."""
        return self.kind.outputs if self.kind is not None else tuple(self.outputs)

    @property
    def rules(self) -> dict[str, Rule]:
        """How each output is judged: a kind's are all ``equal`` to its reference."""
        return {name: self.outputs.get(name, "equal") for name in self.output_names}

    @property
    def needs_runtime(self) -> str:
        """The runtime the part needs at least (a kind's, else numpy)."""
        return self.kind.runtime if self.kind is not None else "numpy"

    def work(self, test: CodeTest) -> int:
        """A test's work outside the sandbox, budgeted by the loader: the kind's multiply-adds, or the
        elements a driver's test draws (its reference is the solution's run, in the sandbox)."""
        if self.kind is not None:
            return self.kind.work(test)
        return test_inputs.elements(self.inputs, test, self.data_of(test))

    def data_of(self, test: CodeTest) -> Data | None:
        """The data set the test binds: its own, else the part's."""
        return test.data if test.data is not None else self.data

    def seconds(self, test: CodeTest) -> float:
        """Seconds of wall time the test may take: its own, else the part's."""
        return test.time if test.time is not None else self.time

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
        if self.code is None:
            self._driven()
        else:
            self._kind_tests()
        self._points()
        return self

    def _driven(self) -> None:
        """A part whose references come from the solution: a driver, outputs named, tests that
        draw what their sizes say, within the budgets."""
        if self.driver is None:
            kinds = ", ".join(sorted(KINDS))
            raise ValueError(f"code: give a reference kind ({kinds}) or a `driver` that calls the student's code")
        if not self.outputs:
            raise ValueError("outputs: name what the driver returns and how it is judged (`out: equal`)")
        for name in (*self.outputs, *self.inputs):
            problem = name_problem(name, "the name")
            if problem is not None:
                field = "outputs" if name in self.outputs else "inputs"
                raise ValueError(f"{field}.{name}: {problem}")
        if self.function is not None:
            raise ValueError("function: a driver calls the student's functions itself")
        self._judged_outside()
        for index, test in enumerate(self.tests):
            if test.shapes or test.values != Values():
                field = "shapes" if test.shapes else "values"
                raise ValueError(f"tests.{index}.{field}: a driver's test draws its `inputs` (shapes and values there)")
            try:
                test_inputs.check(self.inputs, test, self.data_of(test))
            except test_inputs.InputError as error:
                if error.own:
                    raise ValueError(f"tests.{index}.{error}") from None
                raise ValueError(f"{error.field}: in the test {test.name!r}, {error.message}") from None

    def _judged_outside(self) -> None:
        """What the service keeps stays out of the driver: an ``accuracy`` output names labels every
        test's data keeps, a ``best_of`` output compares ``accuracy`` outputs, and the driver reads no
        kept name (a driver that scored the predictions itself, in the student's process, is refused
        with the form that replaces it)."""
        kept = [(test, test_inputs.kept(self.data_of(test))) for test in self.tests]
        for name, rule in self.outputs.items():
            if isinstance(rule, Accuracy):
                lacking = next((test.name for test, names in kept if rule.accuracy not in names), None)
                if lacking is not None:
                    keeps = "; ".join(f"`data: {data}` keeps {', '.join(names)}" for data, names in DATA_KEPT.items())
                    raise ValueError(
                        f"outputs.{name}.accuracy: the test {lacking!r} keeps no {rule.accuracy!r} ({keeps})"
                    )
            elif isinstance(rule, BestOf):
                _compares_accuracies(name, rule, self.outputs)
        found = held.first_read(self.driver or "", {name for _, names in kept for name in names})
        if found is not None:
            read, line = found
            data = next(self.data_of(test) for test, names in kept if read in names)
            raise ValueError(
                f"driver: line {line} of the driver reads `{read}`, which `data: {data}` keeps outside the sandbox "
                "(the student's code runs in the driver's process and could read it or fake a score computed "
                'there): return the predicted labels (`return {"pred": ...}`) and judge them with `outputs: '
                f"{{pred: {{accuracy: {read}, at_least: 0.9}}}}`"
            )

    def _kind_tests(self) -> None:
        """A part of a built-in kind: each test fits the kind, within the work budget; a driver there
        returns the kind's outputs and names no mistakes of its own."""
        kind = KINDS.get(self.code or "")
        if kind is None:
            raise ValueError(f"code: no reference kind {self.code!r}; the kinds are {', '.join(sorted(KINDS))}")
        if self.data is not None:
            raise ValueError(f"data: a part of the kind {kind.name} draws its own inputs; a driver's part binds data")
        for field, given in (("inputs", self.inputs), ("outputs", self.outputs), ("mistakes", self.mistakes)):
            if given:
                raise ValueError(
                    f"{field}: a part of the kind {kind.name} draws its inputs, returns {', '.join(kind.outputs)} and "
                    "names the kind's mistakes; without `code`, a driver's part gives its own"
                )
        if self.driver is not None and not kind.drivable:
            raise ValueError(f"driver: {kind.name} tests run the sandbox's own probes on the class; no driver")
        if self.driver is not None and self.function is not None:
            raise ValueError("function: a driver calls the student's functions itself")
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
            if test.inputs or test.time is not None or test.data is not None:
                field = "inputs" if test.inputs else "time" if test.time is not None else "data"
                raise ValueError(f"tests.{index}.{field}: only a driver's test without `code` gives its own {field}")

    def _points(self) -> None:
        given = sum(test.points for test in self.tests if test.points is not None)
        shared = sum(1 for test in self.tests if test.points is None)
        if shared and given >= self.points - 1e-9:
            raise ValueError(
                f"points: the tests' points ({given:g}) leave no share of the part's {self.points:g} for the tests "
                "that give none"
            )
        if not shared and abs(given - self.points) > 1e-9:
            raise ValueError(f"points: the tests' points add up to {given:g}, not the part's {self.points:g}")


def _compares_accuracies(name: str, rule: BestOf, outputs: dict[str, Rule]) -> None:
    """A ``best_of`` output lists outputs judged by ``accuracy``, each once."""
    for other in rule.best_of:
        if not isinstance(outputs.get(other), Accuracy):
            raise ValueError(f"outputs.{name}.best_of: {other!r} is not an output judged by `accuracy`")
    if len(set(rule.best_of)) != len(rule.best_of):
        raise ValueError(f"outputs.{name}.best_of: an output is listed twice")
