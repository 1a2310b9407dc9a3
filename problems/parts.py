"""How a part is asked and graded: which quantity it wants, its answer kind, points,
tolerance, partial credit, layout, and the earlier parts it builds on."""

from __future__ import annotations

from fractions import Fraction
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Discriminator, Field, JsonValue, Tag, model_validator

from problems.choices import ChoicePart
from problems.code.parts import CodePart
from problems.kinds import AnswerKind, Dimension, Layout, dimension_of, unit_size

#: The value of an integer, real or percent answer: what operations compute with.
Scalar = int | float | Fraction


def _short_forms(schema: dict[str, Any]) -> None:
    """The schema also takes the short form ``{sum: [...]}`` (one key: the operation)."""
    full = dict(schema)
    schema.clear()
    operands = full["properties"]["operands"]
    short = [
        {"type": "object", "properties": {op: operands}, "required": [op], "additionalProperties": False}
        for op in full["properties"]["op"]["enum"]
    ]
    schema.update({"title": full.pop("title"), "description": full.pop("description"), "anyOf": [full, *short]})


class Operation(BaseModel):
    """A part computed from other answers; e.g. ``{sum: ["@q1c.params2", "params.fc"]}``.

    ``reduction: [old, new]`` is the relative reduction in percent, ``100·(1 − new/old)``.
    The arithmetic is exact: a sum, product or difference of integers is an integer, anything
    else (a ratio, a reduction, or what is computed from one) an exact fraction, graded exactly
    unless the part gives a ``tolerance``.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, json_schema_extra=_short_forms)
    op: Literal["sum", "product", "difference", "ratio", "reduction"] = Field(
        description="`sum`, `product`, `difference` (first − second), `ratio` (first / second) or `reduction` "
        "(percent saved from the first to the second, 100·(1 − new/old)). The result is exact: an integer "
        "for a sum, product or difference of integers, else a fraction, graded exactly unless the part "
        "gives a `tolerance`."
    )
    operands: list[str | int | Operation] = Field(
        min_length=1,
        description="`@KEY` (another part's answer, `@q1c.params`), a quantity of this problem, a whole number, "
        "or a nested operation.",
    )

    @model_validator(mode="before")
    @classmethod
    def _short_form(cls, data: Any) -> Any:
        if isinstance(data, dict) and len(data) == 1 and "op" not in data:
            ((op, operands),) = data.items()
            return {"op": op, "operands": operands}
        return data

    @model_validator(mode="after")
    def _arity(self) -> Operation:
        if self.op in ("difference", "ratio", "reduction") and len(self.operands) != 2:
            raise ValueError(f"'{self.op}' takes exactly two operands")
        return self

    def references(self) -> list[str]:
        """Set keys this operation reads (without the ``@``), nested operations included."""
        found: list[str] = []
        for operand in self.operands:
            if isinstance(operand, Operation):
                found += operand.references()
            elif isinstance(operand, str) and operand.startswith("@"):
                found.append(operand[1:])
        return found

    def apply(self, values: list[Scalar]) -> Scalar:
        """Exact arithmetic on integers and fractions."""
        if self.op == "sum":
            return sum(values)
        if self.op == "product":
            result: Scalar = 1
            for value in values:
                result *= value
            return result
        first, second = values
        if self.op == "difference":
            return first - second
        if self.op == "ratio":
            return Fraction(first) / Fraction(second)
        return 100 * (1 - Fraction(second) / Fraction(first))

    def result_kind(self, kinds: list[AnswerKind]) -> AnswerKind:
        if self.op == "reduction":
            return AnswerKind.PERCENT
        if self.op == "ratio":
            return AnswerKind.REAL
        return AnswerKind.INTEGER if all(k is AnswerKind.INTEGER for k in kinds) else AnswerKind.REAL


class Tolerance(BaseModel):
    """A real answer is right within ``rel`` (relative) or ``abs`` (absolute), whichever is looser."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    rel: float = Field(default=0.0, ge=0, description="Relative tolerance (0.01 is 1 %).")
    abs: float = Field(default=0.0, ge=0, description="Absolute tolerance.")


#: Reals are graded to three significant figures unless a part says otherwise.
DEFAULT_REAL_TOLERANCE = Tolerance(rel=5e-3, abs=1e-9)
#: No tolerance: a part computed by an operation is graded so unless it gives one (its value is
#: an exact fraction of counts, and a rounding an author accepts is one the author writes).
EXACT = Tolerance()
#: The kinds a tolerance applies to; every other kind is graded exactly, and a part of one of
#: them that gives a tolerance is refused rather than have it ignored.
TOLERANT_KINDS = frozenset({AnswerKind.REAL, AnswerKind.PERCENT, AnswerKind.MATRIX, AnswerKind.TENSOR})


#: The verdicts a self-test may expect (``grader.results.Status``'s values).
Verdict = Literal["correct", "partial", "incorrect", "invalid", "unanswered"]


class Check(BaseModel):
    """An answer the set tests itself with, and how it must be graded: ``grader sets validate``
    (and the service, on upload) grades it and refuses the set when it comes out otherwise.

    ``answer`` is a literal answer, typed as a student would; it is graded on the declared numbers
    only (a randomized set's variants have other answers). ``mistake`` is the answer a known
    mistake computes (its code); it is graded on the declared numbers and on every probe variant.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)
    answer: JsonValue = Field(
        default=None,
        description="A literal answer as a student types it (`3640`, `'126x126x16'`, `[[1, 0], [2, 1]]`); "
        "graded on the declared numbers.",
    )
    mistake: str | None = Field(
        default=None,
        description="Instead of `answer`: the answer this mistake computes (a misconception code, "
        "`bias-omitted`); graded on the declared numbers and on every probe variant.",
    )
    status: Verdict = Field(description="The verdict the answer must get.")
    misconception: str | None = Field(
        default=None,
        description="The mistake code the grade must name; left out, any (or none) will do.",
    )

    @model_validator(mode="after")
    def _one_answer(self) -> Check:
        if ("answer" in self.model_fields_set) == (self.mistake is not None):
            raise ValueError("a check gives exactly one of 'answer' and 'mistake'")
        return self


#: Quantities that are the side of a square, so ``a × a`` is read as the side ``a``.
SQUARE_SIDES = frozenset({"rf", "rf_h", "rf_w", "kernel", "kernel_eff", "side", "grid"})


class Part(BaseModel):
    """One answer key of a problem."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    key: str = Field(
        pattern=r"^[A-Za-z0-9_]+$", description="The second half of the answer key (`shape` in `q1.shape`)."
    )
    quantity: str | Operation = Field(
        description="What is asked: a quantity the problem type computes (`params.total`, `shape.conv1`), "
        "or an operation on other answers (`{sum: ['@q1.params', '@q2.params']}`)."
    )
    prompt: str = Field(default="", description="The question, as students read it after the statement.")
    kind: AnswerKind | None = Field(
        default=None,
        description="The kind of answer expected; by default the quantity's own. A number may be asked as "
        "`integer`, `real` or `percent`, a one-channel tensor as a `matrix`.",
    )
    points: float = Field(default=1.0, gt=0, description="Points for a correct answer.")
    tolerance: Tolerance | None = Field(
        default=None,
        description="How close a real, percent, matrix or tensor answer must be; by default three significant "
        "figures, but exact for a part computed by an operation (its value is an exact fraction: `75/7`, or "
        "the arithmetic that gives it). Counts, shapes and formulas are exact: a tolerance on one is refused.",
    )
    partial: bool = Field(
        default=True,
        description="Per-element (matrix, tensor) or per-item (shape list) credit; all-or-nothing when false.",
    )
    layout: Layout = Field(
        default=Layout.HWC,
        description="The order a shape is written in: `HWC` (height × width × channels), `CHW`, `WHC`, or `HW`.",
    )
    follows: list[str] = Field(
        default_factory=list,
        description="Answer keys of earlier parts this one builds on: an answer right for the student's own "
        "wrong earlier answers earns `follow_credit` (error carried forward).",
    )
    follow_credit: float = Field(
        default=1.0, ge=0, le=1, description="Share of the points earned by a follow-through answer."
    )
    symbols: list[str] | None = Field(
        default=None, description="Symbols a formula answer may use (by default the problem's)."
    )
    square: bool = Field(
        default=False,
        description='The answer is the side of a square (a kernel): "9 × 9" reads as 9, not 81. A receptive '
        "field (`rf.NAME`, and its sides `rf_h.NAME`, `rf_w.NAME`), a kernel (`kernel`, and a dilated one's span "
        "`kernel_eff.NAME`), a map's side (`side.NAME`) "
        "and a grid's side (`grid.N`) are one unless the part says `square: false`; two unequal sides (29 × 31) "
        "are refused.",
    )
    checks: list[Check] = Field(
        default_factory=list,
        description="Answers the set tests itself with, each with the verdict it must get "
        "(`{answer: '3640', status: correct}`, `{mistake: bias-omitted, status: incorrect, "
        "misconception: bias-omitted}`).",
    )

    @property
    def dimension(self) -> Dimension | None:
        """What the part's number measures (bytes, MACs, ...), from its quantity: a unit stated
        in the answer is checked against it; None for an operation on other answers."""
        return dimension_of(self.quantity) if isinstance(self.quantity, str) else None

    @property
    def unit_size(self) -> int:
        """The part's unit in its dimension's base unit (2**20 for a memory in MiB): a unit stated
        in the answer is converted to it."""
        return unit_size(self.quantity) if isinstance(self.quantity, str) else 1

    @model_validator(mode="before")
    @classmethod
    def _side_of_a_receptive_field(cls, data: Any) -> Any:
        """A receptive field (``rf.NAME``) is a square's side, so ``29 × 29`` is 29; so is each of its
        per-axis sides (``rf_h.NAME``, ``rf_w.NAME``): ``29 × 29`` is a height of 29, while ``29 × 31``
        is refused, not read as a height by a guessed order. A kernel, a map's side and a grid's side
        are read by the same rule, so ``a × a`` means the side on every such quantity. The default a
        part may override."""
        if isinstance(data, dict) and "square" not in data:
            quantity = data.get("quantity")
            if isinstance(quantity, str) and quantity.split(".")[0] in SQUARE_SIDES:
                return {**data, "square": True}
        return data


#: The longest written answer a part may take (the service refuses longer answers outright).
MAX_WRITTEN_LENGTH = 20_000
#: Rubric items a part's template may list: a grader toggles them by key, and ten digits and a
#: handful of letters are what a hand on a keyboard remembers.
MAX_RUBRIC_ITEMS = 30


class RubricItemTemplate(BaseModel):
    """One item of a free-response part's rubric, as the set file proposes it: graders start from
    these and may edit them per assignment (the template stays as written)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    points: float = Field(
        ge=-1000,
        le=1000,
        description="Points the item adds when applied; negative for a deduction (`-0.5`).",
    )
    text: str = Field(min_length=1, max_length=500, description="What the item says, as the student reads it.")
    note: str = Field(default="", max_length=2000, description="Guidance for graders only (never shown to students).")
    key: str | None = Field(
        default=None,
        pattern=r"^[a-z0-9]$",
        description="The key that toggles the item on the grading page (a digit or a lower-case letter); "
        "by default the items take 1, 2, ... 9, 0 in order.",
    )


class WrittenPart(BaseModel):
    """A free-response part: answered in prose, graded by staff with its rubric. Its result is
    ``pending`` until someone grades it."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    key: str = Field(pattern=r"^[A-Za-z0-9_]+$", description="The second half of the answer key (`why` in `q5.why`).")
    answer: Literal["text"] = Field(description="`text`: the part is answered in writing and graded by hand.")
    prompt: str = Field(default="", description="The question, as students read it after the statement.")
    points: float = Field(default=1.0, gt=0, le=1000, description="Points for a full answer.")
    max_length: int = Field(
        default=5000,
        ge=1,
        le=MAX_WRITTEN_LENGTH,
        description=f"The longest answer taken, in characters (at most {MAX_WRITTEN_LENGTH:,}).",
    )
    rubric: list[RubricItemTemplate] = Field(
        default_factory=list,
        max_length=MAX_RUBRIC_ITEMS,
        description="The rubric graders start from: items with points (negative for a deduction), text, an "
        "optional note for graders and an optional key. A grade is the sum of the applied items and an "
        "adjustment, kept between 0 and the part's points.",
    )

    @model_validator(mode="after")
    def _distinct_keys(self) -> WrittenPart:
        keys = [item.key for item in self.rubric]
        for index, key in enumerate(keys):
            if key is not None and key in keys[:index]:
                message = f"another rubric item has the key {key}: each key toggles one item"
                raise ValueError(f"rubric.{index}.key: {message}")
        return self

    def item_keys(self) -> list[str | None]:
        """Each rubric item's key: its own, else the next digit (1 to 9, then 0) no item claims."""
        taken = {item.key for item in self.rubric if item.key is not None}
        free = iter(digit for digit in "1234567890" if digit not in taken)
        return [item.key if item.key is not None else next(free, None) for item in self.rubric]


def part_kind(data: Any) -> str:
    """Which model a part entry is: ``code_part`` when it names a reference kind (``code:
    conv.forward``) or gives a driver, ``written`` when it says what its answer is (``answer:
    text``, the one such answer there is), ``choice`` when it lists ``choices``, else ``computed``."""
    if isinstance(data, dict):
        if "code" in data or "driver" in data:
            return "code_part"
        return "written" if "answer" in data else "choice" if "choices" in data else "computed"
    if isinstance(data, CodePart):
        return "code_part"
    return "written" if isinstance(data, WrittenPart) else "choice" if isinstance(data, ChoicePart) else "computed"


#: The tags :func:`part_kind` gives (pydantic puts them in an error's location; a file has no such field).
PART_TAGS = ("computed", "written", "code_part", "choice")

#: A part entry of a set file: computed from the problem, written and graded by hand, code run in
#: the sandbox, or options to pick from.
AnyPart = Annotated[
    Annotated[Part, Tag("computed")]
    | Annotated[WrittenPart, Tag("written")]
    | Annotated[CodePart, Tag("code_part")]
    | Annotated[ChoicePart, Tag("choice")],
    Discriminator(part_kind),
]
