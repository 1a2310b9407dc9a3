"""What every problem type shares: a typed parameter model that solves itself into named
quantities and describes its givens with the numbers filled in.
"""

from __future__ import annotations

from typing import Any, ClassVar, NamedTuple

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel, ConfigDict, field_validator

from problems.budgets import MAX_ELEMENTS, over
from problems.kinds import AnswerKind
from problems.render import to_json
from problems.solvers.steps import Derivations, MistakenSteps, Step

Number = int | float
Matrix = list[list[Number]]


class Quantity(NamedTuple):
    """One computed answer: its kind and its value (see ``problems.kinds`` for value types)."""

    kind: AnswerKind
    value: Any


class ProblemSpec(BaseModel):
    """Base of the problem types: the parameters, validated when a set file is loaded."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    #: Whether the statement always lists the givens (matrices are never in the prose).
    givens_always: ClassVar[bool] = False

    def solve(self, steps: Derivations | None = None) -> dict[str, Quantity]:
        """Every quantity this problem can be asked for, by name; with ``steps``, each quantity's
        worked steps written into it by the same computation (see ``problems.solvers.steps``)."""
        raise NotImplementedError

    def describe(self) -> str:
        """The givens as a student reads them."""
        raise NotImplementedError

    def follow(self, quantity: str, given: dict[str, Any]) -> Quantity | None:
        """``quantity`` recomputed from a student's own values for earlier quantities
        (error carried forward), or None where this type cannot."""
        return None

    def mistakes(self, steps: MistakenSteps | None = None) -> dict[str, dict[str, Quantity]]:
        """Per mistake code (see ``problems.solvers.assumptions``), the quantities that mistake
        changes, computed by the same solvers under the mistaken assumption; with ``steps``, the
        steps of those the type can explain (where a student's working parts from the reference)."""
        return {}


def check_matrix(value: Matrix) -> Matrix:
    """A non-empty rectangular matrix."""
    if not value or not value[0]:
        raise ValueError("a matrix needs at least one row and one column")
    widths = {len(row) for row in value}
    if len(widths) != 1:
        raise ValueError(f"rows have different lengths: {sorted(widths)}")
    return value


def check_elements(count: int, what: str) -> None:
    """Refuse an array of more elements than the budget of image problems."""
    if count > MAX_ELEMENTS:
        raise ValueError(f"{what} has {count:,} elements, {over(MAX_ELEMENTS, 'the elements of a matrix')}")


class ImageInput(ProblemSpec):
    """An input image: one matrix, a stack of matrices, or named channels (``{R: ..., G: ...}``)."""

    input: Matrix | list[Matrix] | dict[str, Matrix]
    givens_always: ClassVar[bool] = True

    @field_validator("input")
    @classmethod
    def _rectangular(cls, value: Any) -> Any:
        channels = list(value.values()) if isinstance(value, dict) else value
        if channels and isinstance(channels[0][0], list):
            check_elements(sum(len(row) for m in channels for row in m), "the input")
            shapes = {np.shape(check_matrix(m)) for m in channels}
            if len(shapes) != 1:
                raise ValueError(f"channels have different sizes: {sorted(shapes)}")
        else:
            check_elements(sum(len(row) for row in value), "the input")
            check_matrix(value)
        return value

    def channel_names(self) -> list[str] | None:
        return list(self.input) if isinstance(self.input, dict) else None

    def image(self) -> np.ndarray:
        """The input as a (C, H, W) array; integers stay integers for exact answers."""
        data = self.input
        if isinstance(data, dict):
            data = list(data.values())
        array = np.asarray(data)
        return array if array.ndim == 3 else array[np.newaxis]


def exact(array: np.ndarray) -> np.ndarray:
    """Solver output as float64 (the engine compares with tolerance) without losing integers."""
    return np.asarray(array, dtype=np.float64)


def matrix_text(value: npt.ArrayLike) -> str:
    """A matrix written row by row, as the catalogue does."""
    rows = np.asarray(value).tolist()
    return "[" + ", ".join("[" + ", ".join(_number(v) for v in row) + "]" for row in rows) + "]"


def _number(value: Number) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def image_text(spec: ImageInput, name: str = "X") -> str:
    """The input image as text: one matrix, or one line per channel."""
    if isinstance(spec.input, dict):
        return "; ".join(f"{channel} = {matrix_text(m)}" for channel, m in spec.input.items())
    image = spec.image()
    c, h, w = image.shape
    if c == 1:
        return f"{name} ({h}×{w}) = {matrix_text(image[0])}"
    return f"{name} ({c} channels of {h}×{w}): " + "; ".join(matrix_text(m) for m in image)


def conclusion(text: str, quantity: Quantity, tex: str | None = None) -> Step:
    """The last step: ``text`` arriving at the quantity's value."""
    return Step(text, tex, to_json(quantity.kind, quantity.value))
