"""The inputs of a driver's test: which the test has (the part's, each replaced by the test's own of
the same name), their shapes with the test's settings bound, the element budgets, and the arrays
drawn for a student. A kind draws its own tests' inputs (``problems.code.kinds``); these are the
tests of a part whose references come from the instructor's solution."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from problems.budgets import over
from problems.code import digits, expressions
from problems.code.spec import (
    DATA_KEPT,
    DATA_NAMES,
    MAX_ELEMENTS,
    MAX_TEST_ELEMENTS,
    ArrayInput,
    CodeTest,
    Data,
    FixedInput,
    Input,
    Setting,
    name_problem,
)


def of_test(part_inputs: Mapping[str, Input], test: CodeTest) -> dict[str, Input]:
    """The test's inputs in order: the part's, each replaced by the test's own of that name, then
    the test's others."""
    return {**part_inputs, **test.inputs}


def shape(spec: ArrayInput, settings: Mapping[str, Any]) -> tuple[int, ...]:
    """The shape of an array input for a test (``expressions.SizeError`` naming what is wrong)."""
    return tuple(expressions.size(side, settings) for side in spec.shape)


class InputError(ValueError):
    """A driver's test that cannot be drawn: the field (``inputs.x.shape``), whether it is the
    test's own (a setting, an input the test gives) or the part's, and why."""

    def __init__(self, field: str, message: str, own: bool) -> None:
        super().__init__(f"{field}: {message}")
        self.field, self.message, self.own = field, message, own


def check(part_inputs: Mapping[str, Input], test: CodeTest, data: Data | None = None) -> None:
    """Refuse a driver's test that cannot be drawn (:class:`InputError`): a setting that is not a
    plain value or takes a reserved name or one its ``data`` binds, an input named like a setting
    or like the data's, a size naming a setting the test lacks or below 1, and the element
    budgets (the data's counted)."""
    settings = test.settings
    bound = (*DATA_NAMES[data], *DATA_KEPT[data]) if data is not None else ()
    for name, value in settings.items():
        problem = name_problem(name, "the setting")
        if problem is not None:
            raise InputError(name, problem, True)
        if not isinstance(value, Setting):
            raise InputError(name, f"a setting is a number, true/false or a text, not {type(value).__name__}", True)
        if name in bound:
            raise InputError(name, _taken(data, name), True)
    total = data_elements(data)
    for name, spec in of_test(part_inputs, test).items():
        where, own = f"inputs.{name}", name in test.inputs
        problem = name_problem(name, "the input")
        if problem is not None:
            raise InputError(where, problem, own)
        if name in settings:
            raise InputError(name, f"the test gives a setting named like the input {name!r}", True)
        if name in bound:
            raise InputError(where, _taken(data, name), own)
        if isinstance(spec, ArrayInput) and _no_whole_number(spec):
            raise InputError(f"{where}.high", "no whole number lies between low and high", own)
        try:
            elements = _elements(spec, settings)
        except expressions.SizeError as error:
            raise InputError(f"{where}.shape", str(error), own) from None
        if elements > MAX_ELEMENTS:
            raise InputError(where, f"{elements:,} elements, {over(MAX_ELEMENTS, 'an input of a test')}", own)
        total += elements
        if total > MAX_TEST_ELEMENTS:
            raise InputError(where, f"{total:,} elements, {over(MAX_TEST_ELEMENTS, 'the inputs of a test')}", own)


def _taken(data: Data | None, name: str) -> str:
    """Why a setting or an input may not be named ``name`` beside ``data``."""
    if data is not None and name in DATA_KEPT[data]:
        return f"`data: {data}` keeps {name!r} for judging (never bound for the driver)"
    return f"`data: {data}` binds {name!r} already"


def _no_whole_number(spec: ArrayInput) -> bool:
    """Whether whole numbers are drawn where there is none between ``low`` and ``high``."""
    return (spec.integers or spec.dtype == "int64") and np.floor(spec.high) < np.ceil(spec.low)


def _elements(spec: Input, settings: Mapping[str, Any]) -> int:
    if isinstance(spec, FixedInput):
        return int(np.asarray(spec.value).size)
    sides = shape(spec, settings)
    if any(side < 1 for side in sides):
        raise expressions.SizeError(f"every size is at least 1, and this one is {list(sides)}")
    elements = 1
    for side in sides:
        elements *= side
        if elements > MAX_TEST_ELEMENTS:
            break
    return elements


def draw(
    part_inputs: Mapping[str, Input], test: CodeTest, rng: np.random.Generator, data: Data | None = None
) -> dict[str, np.ndarray]:
    """The test's arrays for one student, drawn in the inputs' order from ``rng`` (a fixed input as
    it is written), then its ``data`` split by the same generator: the names it binds and those it
    keeps (:func:`kept`) together."""
    drawn: dict[str, np.ndarray] = {}
    for name, spec in of_test(part_inputs, test).items():
        if isinstance(spec, FixedInput):
            drawn[name] = np.asarray(spec.value, dtype=spec.array_dtype)
            continue
        sides = shape(spec, test.settings)
        if spec.integers or spec.dtype == "int64":
            whole = rng.integers(int(np.ceil(spec.low)), int(np.floor(spec.high)), size=sides, endpoint=True)
            drawn[name] = whole.astype(spec.dtype)
        else:
            drawn[name] = rng.uniform(spec.low, spec.high, size=sides).astype(spec.dtype)
    if data == "digits":
        drawn.update(digits.split(rng))
    return drawn


def kept(data: Data | None) -> tuple[str, ...]:
    """The names of ``data`` the service keeps for judging: drawn, never bound for the driver."""
    return DATA_KEPT[data] if data is not None else ()


def data_elements(data: Data | None) -> int:
    """The elements a test's data set hands it."""
    return digits.split_elements() if data == "digits" else 0


def elements(part_inputs: Mapping[str, Input], test: CodeTest, data: Data | None = None) -> int:
    """The elements the test's inputs and data hold together (its work, for the set's budget:
    nothing is computed outside the sandbox but the draw)."""
    return data_elements(data) + sum(_elements(spec, test.settings) for spec in of_test(part_inputs, test).values())
