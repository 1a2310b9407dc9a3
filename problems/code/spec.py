"""The declarations a code part is written with, below both the kinds and the part: a test, how
its values are drawn, the tolerance, and for a part with a driver its inputs, the rule each output
is judged by and the mistakes it names. Plain models and budgets: nothing here knows a kind.

``problems.code.kinds`` (a kind reads a test) and ``problems.code.parts`` (a part holds tests)
both import this module, and it imports neither, so imports run one way only.
"""

from __future__ import annotations

import keyword
import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from problems.budgets import over

#: Tests of one part: each is one call in the part's single run in the sandbox.
MAX_TESTS = 32
#: Tests of a whole set, so calls of one submission: the sandbox runs at most 256 calls per run
#: (``sandbox.Limits.max_calls``), and a submission's parts together stay within one run's worth.
MAX_CALLS = 256
#: Elements of one drawn input array (800 KB of float64): a course's tests are a few thousand.
MAX_ELEMENTS = 100_000
#: Elements of every input of one test together (a driver's test may draw several arrays).
MAX_TEST_ELEMENTS = 4 * MAX_ELEMENTS
#: Multiply-adds of one test's reference (and of each mistake's): the built-in tests take a few
#: thousand; a million is a 64×64 image of 16 channels through 16 3×3 filters.
MAX_WORK = 1_000_000
#: Multiply-adds of every code test of a set together: checking a set computes each test's reference
#: and its mistakes' outputs (a dozen forms), within a second or so.
MAX_SET_WORK = 10_000_000
#: Seconds of wall time a test of a driver may take: by default, and at most (a short training run).
DEFAULT_TIME = 10.0
MAX_TIME = 60.0
#: Mistakes one part may declare: each is a run of the solution's mutant on every test.
MAX_MISTAKES = 16
#: Characters of a driver: a few calls and a dict.
MAX_DRIVER = 10_000
#: The names a driver finds bound by the sandbox; an input or a setting may not take one.
RESERVED = ("student", "np", "math", "torch", "printed", "read_arrays")
#: The data sets a driver's test may bind (``problems.code.digits``), and the names each binds in the
#: sandbox.
Data = Literal["digits"]
DATA_NAMES: dict[str, tuple[str, ...]] = {"digits": ("x_train", "y_train", "x_test")}
#: The names of each data set the service keeps and never hands the sandbox: the held-out labels. The
#: student's code runs in the driver's process, so what the driver holds the student's code can read;
#: an output is judged against these outside (``{accuracy: y_test, at_least: 0.9}``).
DATA_KEPT: dict[str, tuple[str, ...]] = {"digits": ("y_test",)}
#: A sandbox runtime as its problem asks for it: ``numpy`` or ``torch`` (``sandbox.RUNTIMES``), with
#: the problem's packages after a ``+`` each (``numpy+scipy``), from the code workers' allow-list.
Runtime = str
Visibility = Literal["visible", "hidden", "after_close"]
#: What a setting of a driver's test may be: what the sandbox carries in as a plain value.
Setting = int | float | bool | str
_NAME = r"^[A-Za-z_][A-Za-z0-9_]*$"


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


class ArrayInput(Values):
    """An input array a driver's test draws per student: its shape (numbers, settings of the test,
    or integer arithmetic of them) and how its values are drawn."""

    shape: list[int | str] = Field(
        max_length=8,
        description="The sizes, each a number, a setting of the test (`N`) or integer arithmetic of them "
        "(`(H + 2*pad - HH) // stride + 1`: + - * // and parentheses).",
    )
    dtype: Literal["float64", "float32", "int64"] = Field(
        default="float64", description="The array's type (`int64` draws whole numbers)."
    )


class FixedInput(BaseModel):
    """An input every student is given as it is written (the seed's own image, a batch's labels)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    value: Any = Field(description="A number, or nested lists of numbers (an array).")
    dtype: Literal["float64", "float32", "int64"] | None = Field(
        default=None,
        description="The array's type; by default `int64` where every number is written whole (`[0, 2]`: "
        "labels index as written), else `float64`.",
    )

    @model_validator(mode="after")
    def _numbers(self) -> FixedInput:
        if not _numeric(self.value, 0):
            raise ValueError("value: a number, or nested lists of numbers of equal lengths")
        if self.dtype == "int64" and not _whole(self.value):
            raise ValueError("value: `dtype: int64` holds whole numbers of 64 bits only (write 2, not 2.5)")
        return self

    @property
    def array_dtype(self) -> str:
        """The type the value is given in: the declared one, else int64 for whole numbers as written."""
        return self.dtype or ("int64" if _whole(self.value) else "float64")


def _whole(value: Any) -> bool:
    """Whether every number of a (checked) value is written as an integer (``2``, not ``2.0``)."""
    if isinstance(value, list):
        return all(_whole(item) for item in value)
    return isinstance(value, int) and -(2**63) <= value < 2**63


def _numeric(value: Any, depth: int) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int | float):
        return True
    if not isinstance(value, list) or depth > 8 or not value:
        return False
    kinds = {isinstance(item, list) for item in value}
    if len(kinds) != 1 or not all(_numeric(item, depth + 1) for item in value):
        return False
    return not isinstance(value[0], list) or len({len(item) for item in value}) == 1


Input = ArrayInput | FixedInput


class AtLeast(BaseModel):
    """A number that must be at least ``at_least`` (an accuracy)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    at_least: float


class AtMost(BaseModel):
    """A number that must be at most ``at_most`` (a loss)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    at_most: float


class Accuracy(BaseModel):
    """Labels judged by the service against labels it keeps (``y_test`` of ``data: digits``): the share
    of positions where they agree must be at least ``at_least``. The kept labels never enter the
    sandbox, so the student's code can neither read them nor fake the comparison."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    accuracy: str = Field(description="The kept labels the output is compared with (`y_test`).")
    at_least: float = Field(ge=0, le=1, description="The share of positions that must agree.")


class BestOf(BaseModel):
    """A number naming (1, 2, ...) which of the listed outputs, each an ``accuracy`` output, scores
    highest against the kept labels (any of those tied for highest)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    best_of: list[str] = Field(min_length=2, max_length=16, description="The outputs compared, in order.")


#: How one output of a driver is judged: ``equal`` to the reference (within the tolerance; the
#: shapes the same), its ``shape`` alone, a scalar against a threshold, labels scored against kept
#: ones (``accuracy``), or the number of the best of several such outputs (``best_of``).
Rule = Literal["equal", "shape"] | AtLeast | AtMost | Accuracy | BestOf


class Mistake(BaseModel):
    """A mistake an instructor names: their solution with one edit (``replace`` → ``with``, the text
    found exactly once) or a module of its own; a student's test is named by it when every `equal`
    output is what this mutant returns."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)
    code: str = Field(
        pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$",
        max_length=60,
        description="The mistake's code (`kernel-flipped`): from the catalogue, or one of the part's own.",
    )
    feedback: str | None = Field(
        default=None, max_length=500, description="What a student reads when named (a catalogue code has its own)."
    )
    replace: str | None = Field(default=None, min_length=1, max_length=2_000, description="Text of the solution.")
    with_: str | None = Field(default=None, alias="with", max_length=2_000, description="What replaces it.")
    solution: str | None = Field(
        default=None, min_length=1, max_length=100_000, description="The mistaken module, whole."
    )

    @model_validator(mode="after")
    def _one_form(self) -> Mistake:
        edit = self.replace is not None or self.with_ is not None
        if edit == (self.solution is not None):
            raise ValueError("replace: give `replace` and `with` (an edit of the solution), or `solution`")
        if edit and (self.replace is None or self.with_ is None):
            raise ValueError("replace: an edit gives both `replace` and `with`")
        return self


class CodeTest(BaseModel):
    """One test of a code part: the shapes of the inputs, the kind's settings (``stride``, ``pad``,
    ``size``: given beside these fields), how values are drawn, points and who sees the result. A
    test of a driver gives its settings beside these fields (any names, bound for the driver) and
    may replace the part's `inputs` of the same name."""

    model_config = ConfigDict(extra="allow", frozen=True)
    __test__ = False  # a set-file model, not a pytest test class
    name: str = Field(min_length=1, max_length=200, description="What the test tries, as students read it.")
    shapes: dict[str, list[int]] = Field(
        default_factory=dict,
        description="The shape of each input array, by the kind's names (`x: [1, 3, 5, 5]`, `w: [2, 3, 3, 3]`); "
        "the rest (a bias, an upstream gradient) follows from them.",
    )
    values: Values = Field(default_factory=Values, description="How the input values are drawn (per student).")
    inputs: dict[str, Input] = Field(
        default_factory=dict,
        max_length=32,
        description="For a part with a driver: inputs of this test, each replacing the part's of the same name "
        "(`x: {value: [[1, 0], [0, 1]]}`).",
    )
    data: Data | None = Field(
        default=None,
        description="For a part with a driver: a data set this test binds (the part's by default): `digits`, "
        "scikit-learn's 1,797 handwritten 8×8 digits split per student into `x_train` (1437, 1, 8, 8), "
        "`y_train` and `x_test` (360, 1, 8, 8), pixels from 0 to 1, bound for the driver; the labels of "
        "`x_test`, `y_test`, stay with the service, for `{accuracy: y_test, at_least: X}`.",
    )
    time: float | None = Field(
        default=None,
        gt=0,
        le=MAX_TIME,
        description="For a part with a driver: seconds of wall time this test may take (the part's `time` by default).",
    )
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

    @property
    def settings(self) -> dict[str, Any]:
        """What the test gives beside its fields: a kind's settings, or the names bound for a driver."""
        return dict(self.model_extra or {})


def name_problem(name: str, what: str) -> str | None:
    """Why ``name`` cannot be bound for a driver (a reserved name, not an identifier), or None."""
    if not re.match(_NAME, name) or name.startswith("__") or keyword.iskeyword(name):
        return f"{what} {name!r} is not a Python name a driver can use"
    if name in RESERVED:
        return f"{what} {name!r} would hide the driver's `{name}` (reserved: {', '.join(RESERVED)})"
    return None
