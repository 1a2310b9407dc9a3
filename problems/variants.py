"""Per-student variants: numbers drawn from declared ranges by a generator seeded with
(set, problem, variant key), so a student sees the same numbers every time and a neighbour
sees others. The service's key for a student is made with a secret (:func:`variant_key`).
A draw that leaves an answer undefined is redrawn, a bounded number of times.
"""

from __future__ import annotations

import copy
import hashlib
import hmac
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator

from problems import budgets
from problems.budgets import MAX_ELEMENTS, over
from problems.kinds import JSON

#: Draws tried before a problem is declared impossible to vary.
MAX_DRAWS = 200

Range = tuple[int, int]


class MatrixDraw(BaseModel):
    """A random integer matrix (or stack of ``channels`` matrices); ``square`` ties cols to rows."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    rows: int | Range = Field(
        description=f"Rows: a number, or `[lo, hi]` to draw from (inclusive). At most {MAX_ELEMENTS:,} elements "
        "are drawn (the largest rows × cols × channels)."
    )
    cols: int | Range | None = Field(default=None, description="Columns, likewise; by default as many as rows.")
    values: Range = Field(default=(-3, 3), description="`[lo, hi]`: the range each element is drawn from.")
    channels: int | Range | None = Field(
        default=None, description="Channels: a stack of matrices of one size; by default one matrix."
    )

    @model_validator(mode="after")
    def _within_budget(self) -> MatrixDraw:
        rows = _most(self.rows)
        cols = rows if self.cols is None else _most(self.cols)
        channels = 1 if self.channels is None else _most(self.channels)
        if channels * rows * cols > MAX_ELEMENTS:
            budget = over(MAX_ELEMENTS, "the elements of a matrix")
            raise ValueError(f"up to {channels:,}×{rows:,}×{cols:,} elements drawn, {budget}")
        return self


class Draw(BaseModel):
    """Exactly one of: ``int: [lo, hi]`` (inclusive), ``choice: [...]``, ``matrix: {...}``, or
    ``same_as: PATH`` (the value drawn for another path, e.g. a square input)."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)
    integer: Range | None = Field(
        default=None, alias="int", description="`[lo, hi]`: a whole number between the two, inclusive."
    )
    choice: list[Any] | None = Field(default=None, min_length=1, description="One of these values.")
    matrix: MatrixDraw | None = Field(default=None, description="A random integer matrix (or stack of matrices).")
    same_as: str | None = Field(
        default=None,
        description="The value drawn for another varied path (a square input: `input.2: {same_as: input.1}`).",
    )

    @model_validator(mode="after")
    def _exactly_one(self) -> Draw:
        given = [v for v in (self.integer, self.choice, self.matrix, self.same_as) if v is not None]
        if len(given) != 1:
            raise ValueError("a draw is exactly one of 'int', 'choice', 'matrix' and 'same_as'")
        if self.integer is not None and self.integer[0] > self.integer[1]:
            raise ValueError(f"empty range {list(self.integer)}")
        return self

    def sample(self, rng: np.random.Generator) -> Any:
        if self.integer is not None:
            return _between(rng, self.integer)
        if self.choice is not None:
            return copy.deepcopy(self.choice[int(rng.integers(len(self.choice)))])
        spec = self.matrix
        assert spec is not None
        rows = _between(rng, spec.rows)
        cols = rows if spec.cols is None else _between(rng, spec.cols)
        channels = None if spec.channels is None else _between(rng, spec.channels)
        budgets.charge(budgets.image_steps(macs=0, outputs=(channels or 1) * rows * cols))  # drawn, then validated
        low, high = spec.values
        if channels is None:
            return rng.integers(low, high + 1, size=(rows, cols)).tolist()
        return rng.integers(low, high + 1, size=(channels, rows, cols)).tolist()


def _most(bounds: int | Range) -> int:
    return max(bounds if isinstance(bounds, int) else bounds[1], 0)


def _between(rng: np.random.Generator, bounds: int | Range) -> int:
    if isinstance(bounds, int):
        return bounds
    return int(rng.integers(bounds[0], bounds[1] + 1))


def variant_key(*, student: str | None = None, secret: str | None = None, seed: int | None = None) -> str | None:
    """What a variant is drawn from: a student's variant under a secret (an HMAC of the student id,
    so that nobody without the secret can recompute a student's numbers), a numbered one, or None
    for the declared numbers. ``student`` alone is the draw of sets assigned before secrets
    (the student id itself), kept so that their variants do not change.

    >>> variant_key(student="s1", secret="k") == variant_key(student="s1", secret="k") != variant_key(student="s1")
    True
    >>> variant_key(seed=7), variant_key()
    ('seed:7', None)
    """
    if seed is not None:
        return f"seed:{seed}"
    if student is None:
        return None
    if secret is None:
        return student
    return "v:" + hmac.new(secret.encode(), student.encode(), hashlib.sha256).hexdigest()[:32]


def seeded(*labels: str) -> np.random.Generator:
    """A generator that depends only on the labels (stable across runs and machines)."""
    digest = hashlib.sha256("\x1f".join(labels).encode()).digest()
    return np.random.default_rng(int.from_bytes(digest[:8], "big"))


def lookup(data: JSON, path: str) -> JSON:
    """The value at a dotted path in nested dicts and lists."""
    for step in path.split("."):
        if isinstance(data, list):
            data = data[int(step)]
        elif isinstance(data, dict):
            data = data[step]
        else:
            raise TypeError(f"{path}: {step!r} is inside a {type(data).__name__}, not a list or a mapping")
    return data


def place(data: dict[str, JSON], path: str, value: JSON) -> None:
    """Set ``value`` at a dotted path (``layers.0.out_channels``) inside nested dicts and lists."""
    *parents, last = path.split(".")
    target = lookup(data, ".".join(parents)) if parents else data
    if isinstance(target, list):
        target[int(last)] = value
    elif isinstance(target, dict):
        target[last] = value
    else:
        raise KeyError(path)


def draw_params(base: dict[str, JSON], draws: dict[str, Draw], rng: np.random.Generator) -> dict[str, JSON]:
    """A copy of ``base`` with every varied path drawn anew."""
    params = copy.deepcopy(base)
    drawn: dict[str, JSON] = {}
    for path, draw in draws.items():
        if draw.same_as is None:
            drawn[path] = draw.sample(rng)
            place(params, path, drawn[path])
    for path, draw in draws.items():
        if draw.same_as is not None:
            place(params, path, copy.deepcopy(drawn[draw.same_as]))
    return params
