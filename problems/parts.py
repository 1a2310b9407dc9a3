"""How a part is asked and graded: which quantity it wants, its answer kind, points,
tolerance, partial credit, layout, and the earlier parts it builds on."""

from __future__ import annotations

from fractions import Fraction
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from problems.kinds import AnswerKind, Layout

#: The value of an integer, real or percent answer: what operations compute with.
Scalar = int | float | Fraction


class Operation(BaseModel):
    """A part computed from other answers; e.g. ``{sum: ["@q1c.params2", "params.fc"]}``.

    ``reduction: [old, new]`` is the relative reduction in percent, ``100·(1 − new/old)``.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)
    op: Literal["sum", "product", "difference", "ratio", "reduction"]
    #: ``@set-key`` (another part's answer), a quantity of this problem, a number, or a nested operation.
    operands: list[str | int | Operation] = Field(min_length=1)

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
    rel: float = Field(default=0.0, ge=0)
    abs: float = Field(default=0.0, ge=0)


#: Reals are graded to three significant figures unless a part says otherwise.
DEFAULT_REAL_TOLERANCE = Tolerance(rel=5e-3, abs=1e-9)


class Part(BaseModel):
    """One answer key of a problem."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    key: str = Field(pattern=r"^[A-Za-z0-9_]+$")
    quantity: str | Operation
    prompt: str = ""
    kind: AnswerKind | None = None
    points: float = Field(default=1.0, gt=0)
    tolerance: Tolerance | None = None
    #: Per-element (matrix, tensor) or per-item (shape list) credit; all-or-nothing when false.
    partial: bool = True
    layout: Layout = Layout.HWC
    #: Set keys of earlier parts this one builds on (for error-carried-forward credit).
    follows: list[str] = Field(default_factory=list)
    #: Share of the points earned by a follow-through answer.
    follow_credit: float = Field(default=1.0, ge=0, le=1)
    #: Symbols a formula may use (defaults to the problem's).
    symbols: list[str] | None = None
    #: The answer is the side of a square (a kernel): "9 × 9" reads as 9, not 81.
    square: bool = False
