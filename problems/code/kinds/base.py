"""What a reference kind is: the function a code part asks for, how a test's inputs are drawn,
the reference outputs our solvers compute for them, the outputs each known mistake gives, and the
output shapes the size formulas predict (right, and under each mistake).

A kind is a :class:`CodeKind` subclass in a module of its own under ``problems/code/kinds/``,
registered in that package's ``KINDS`` (one line). The judge (``grader.code``) compares a student's
outputs with :meth:`CodeKind.reference` and names a wrong one by :meth:`CodeKind.mistakes` and
:meth:`CodeKind.shapes`; a kind that judges otherwise (a model checked against another answer)
overrides :meth:`CodeKind.verdict`, which sees the submission's whole answers mapping.
"""

from __future__ import annotations

import difflib
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np
from pydantic import BaseModel, ConfigDict, ValidationError

from problems.code.spec import CodeTest
from problems.kinds import JSON

#: An argument of a call: an array or a plain scalar (what the sandbox carries in).
Arg = np.ndarray | int | float | bool | str | None
#: What a function returned, or a reference: its arrays in order (one for a single array).
Outputs = tuple[np.ndarray, ...]
Shape = tuple[int, ...]


class NoSettings(BaseModel):
    """A kind whose tests take no settings besides their shapes."""

    model_config = ConfigDict(extra="forbid", frozen=True)


@dataclass(frozen=True)
class Drawn:
    """One test's call, drawn: positional arguments, and the named arrays they hold (the judge
    and a kind's mistakes compute from these); and the arrays the service keeps for judging, never
    part of the call (a driver's held-out labels)."""

    args: tuple[Arg, ...]
    named: dict[str, Any] = field(default_factory=dict)
    kept: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ShapeReading:
    """An output shape the size formulas give: the right one (``code`` None), with its working,
    or the one a mistake gives (``code``), with what the mistake left out."""

    code: str | None
    shapes: tuple[Shape, ...]
    working: str


@dataclass(frozen=True)
class Verdict:
    """A kind's own judgement of one test (see :meth:`CodeKind.verdict`)."""

    correct: bool
    feedback: str
    misconception: str | None = None


class CodeKind(ABC):
    """A reference kind (``conv.forward``): everything the set file, the plan and the judge need
    to know of one function students write. Subclasses set the class attributes and implement
    :meth:`draw` and :meth:`reference`; the rest have defaults."""

    #: The kind's name in a set file (``code: conv.forward``), also the part's answer key by convention.
    name: ClassVar[str]
    #: The function called by default, and its signature as students are told it.
    function: ClassVar[str]
    signature: ClassVar[str]
    #: The sandbox runtime the kind needs at least (``numpy`` or ``torch``).
    runtime: ClassVar[str] = "numpy"
    #: The arrays a test gives the shapes of (``x``, ``w``), each with its rank.
    arrays: ClassVar[dict[str, int]]
    #: The names of the returned arrays, in order (``("output",)``; ``("dx", "dw", "db")``).
    outputs: ClassVar[tuple[str, ...]] = ("output",)
    #: The settings a test may give besides its shapes (``stride``, ``pad``): a model that forbids others.
    settings_model: ClassVar[type[BaseModel]] = NoSettings
    #: The mistakes a set's tests must catch (each differs from the reference on some test, and is
    #: named there), else the set is refused.
    mutants: ClassVar[tuple[str, ...]] = ()
    #: Whether a test may draw small integers (a max's gradient is ambiguous on ties).
    integers_allowed: ClassVar[bool] = True
    #: Whether a part may call the kind's function through a driver of its own (a kind whose tests
    #: run probes of the sandbox on a class may not).
    drivable: ClassVar[bool] = True

    def settings(self, test: CodeTest) -> BaseModel:
        """The test's settings, validated by the kind's model (a ``ValueError`` naming the field)."""
        try:
            return self.settings_model.model_validate(test.model_extra or {})
        except ValidationError as error:
            detail = error.errors()[0]
            where = ".".join(str(step) for step in detail["loc"])
            message = detail["msg"].removeprefix("Value error, ")
            if detail["type"] == "extra_forbidden":
                known = ", ".join(f"`{name}`" for name in self.settings_model.model_fields) or "none"
                message = f"{self.name} tests take no setting {where!r} (its settings: {known})"
                fields = [*type(test).model_fields, *self.settings_model.model_fields]
                near = difflib.get_close_matches(where, fields, n=1, cutoff=0.75)
                message += f": did you mean `{near[0]}`?" if near else ""
            raise ValueError(f"{where}: {message}") from None

    def check(self, test: CodeTest) -> None:
        """Refuse a test the kind cannot run (``ValueError("shapes.w: ...")``, the field first):
        shapes that do not fit each other or the settings. By default: every array's rank."""
        for name, rank in self.arrays.items():
            shape = test.shapes.get(name)
            if shape is None:
                raise ValueError(f"shapes: {self.name} tests give the shape of {name!r} (rank {rank})")
            if len(shape) != rank:
                raise ValueError(f"shapes.{name}: {name} has {rank} dimensions, not {len(shape)}")
        extra = sorted(set(test.shapes) - set(self.arrays))
        if extra:
            raise ValueError(
                f"shapes.{extra[0]}: {self.name} takes no array {extra[0]!r} (it takes {', '.join(self.arrays)})"
            )

    def work(self, test: CodeTest) -> int:
        """Multiply-adds the reference costs on this test (budgeted by the set file's loader)."""
        return sum(int(np.prod(shape)) for shape in test.shapes.values())

    @abstractmethod
    def draw(self, test: CodeTest, rng: np.random.Generator) -> Drawn:
        """The call's arguments, drawn from the test's shapes and values."""

    @abstractmethod
    def reference(self, test: CodeTest, drawn: Drawn) -> Outputs:
        """The right outputs, computed by the project's solvers."""

    def mistakes(self, test: CodeTest, drawn: Drawn, reference: Outputs) -> list[tuple[str, Outputs]]:
        """What each known mistake returns on this call (a code may come with several forms), in
        the order they are tried on a wrong answer. ``reference`` is :meth:`reference`'s outputs on
        it, computed once: a mistake that changes only some of them (a cropped output, one
        gradient wrong of three) keeps the others."""
        return []

    def shapes(self, test: CodeTest) -> list[ShapeReading]:
        """The right output shapes with their working first, then each mistake's."""
        return []

    def call(self, called: str, test: CodeTest, drawn: Drawn) -> tuple[str, tuple[Arg, ...]]:
        """What the sandbox calls for a test, and with what: the part's function on the drawn
        arguments. A kind whose tests run a probe of the sandbox on the student's class (a torch
        model) names the probe, and gives it the class's name first."""
        return called, drawn.args

    def bound(self, test: CodeTest, drawn: Drawn) -> dict[str, Arg]:
        """The names a part's driver finds bound for this test: the drawn arrays (``x``, ``w``,
        ``b``, ``dout``) and the test's settings as they apply (``stride``, ``pad``)."""
        settings = {name: value for name, value in self.settings(test).model_dump().items() if value is not None}
        return {**settings, **drawn.named}

    def solution_answers(self, test: CodeTest, outputs: Outputs) -> dict[str, JSON]:
        """The answers the instructor's solution is checked with on this test, from its outputs:
        none by default; a test that compares the code with another answer (a model's parameter
        count) is given the solution's own."""
        return {}

    def verdict(self, test: CodeTest, drawn: Drawn, outputs: Outputs, answers: Mapping[str, JSON]) -> Verdict | None:
        """The kind's own judgement of the outputs, or None to compare them with the reference."""
        return None


def draw_values(rng: np.random.Generator, shape: Sequence[int], low: float, high: float, integers: bool) -> np.ndarray:
    """An array of ``shape``: uniform in [low, high), or whole numbers from low to high, as float64."""
    if integers:
        return rng.integers(int(low), int(high), size=tuple(shape), endpoint=True).astype(np.float64)
    return rng.uniform(low, high, size=tuple(shape))


def times(shape: Sequence[int]) -> str:
    """``2×4×5×5``."""
    return "×".join(str(n) for n in shape)
