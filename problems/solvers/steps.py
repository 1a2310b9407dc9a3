"""Worked steps, written by the arithmetic that computes the answer.

A solver that explains itself takes a :class:`Trace`. ``trace.given(name, value)`` returns the
value as a :class:`Traced` integer when the trace records (the plain value when it does not): an
``int`` that remembers the operations made on it, so the very call that computes an output size
(``sizes.conv_out``) also writes its formula, with the symbols and with the numbers. Then
``trace.equation(label, result)`` records the step and hands back the plain integer. Nothing here
is a second copy of a formula: the text is the tree of the operations the solver ran.

>>> trace = Trace()
>>> n, k = trace.given("H", 7), trace.given("K", 3)
>>> trace.equation("H_out", n - k + 1)
5
>>> trace.steps[0].text
'H_out = H − K + 1 = 7 − 3 + 1 = 5'
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from problems.kinds import JSON

#: Precedences: a sum binds loosest, then a product, a sign, then an atom (a leaf, ⌊…⌋, ⌈…⌉).
_SUM, _PRODUCT, _SIGN, _ATOM = 1, 2, 3, 4


@dataclass(frozen=True, slots=True)
class Step:
    """One line of a worked solution: a sentence, the same in TeX where it has math, and the value
    it arrives at (JSON: an integer, a number, a list for a shape or a matrix, a formula's text)."""

    text: str
    tex: str | None = None
    value: JSON = None

    def to_json(self) -> dict[str, JSON]:
        found: dict[str, JSON] = {"text": self.text}
        if self.tex is not None:
            found["tex"] = self.tex
        if self.value is not None:
            found["value"] = self.value
        return found


Steps = tuple[Step, ...]


class MissingSteps(LookupError):
    """A quantity, or a layer, that computed a value without writing its steps: every one must
    explain itself (see CONTRIBUTING.md, *Worked steps*)."""


class Derivations(dict[str, Steps]):
    """The worked steps of a problem's quantities, by name, as ``solve(steps=...)`` fills them in.
    ``wanted`` names the quantities asked for (None: every one); a solver whose steps cost (a
    network's thousands of quantities) may leave the others out."""

    def __init__(self, wanted: Iterable[str] | None = None) -> None:
        super().__init__()
        self.wanted = None if wanted is None else frozenset(wanted)

    def wants(self, name: str) -> bool:
        return self.wanted is None or name in self.wanted


class MistakenSteps(dict[str, Derivations]):
    """Per mistake code, the steps of the quantities that mistake changes (``mistakes(steps=...)``)."""

    def __init__(self, wanted: Iterable[str] | None = None) -> None:
        super().__init__()
        self.wanted = None if wanted is None else frozenset(wanted)

    def collector(self, code: str) -> Derivations:
        return self.setdefault(code, Derivations(self.wanted))


class Traced(int):
    """An integer that remembers how it was computed: ``node`` is ``("leaf", text, tex)`` for a
    given value, ``("const",)`` for a number the code wrote, or ``(op, operands...)``. Operations
    with another integer give a ``Traced``; anything else (``%``, ``**``) a plain ``int``, which
    loses the formula, never the value. Adding 0, or multiplying or dividing by 1, written in the
    code, leaves the formula alone, so a default (no dilation) does not clutter it."""

    node: tuple[Any, ...]

    def __new__(cls, value: int, node: tuple[Any, ...]) -> Traced:
        made = super().__new__(cls, value)
        made.node = node
        return made

    def __add__(self, other: int) -> int:
        if not isinstance(other, int):
            return NotImplemented
        if other == 0 and not isinstance(other, Traced):
            return self
        return Traced(int(self) + int(other), ("+", self, _wrap(other)))

    def __radd__(self, other: int) -> int:
        if not isinstance(other, int):
            return NotImplemented
        if other == 0:
            return self
        return Traced(int(other) + int(self), ("+", _wrap(other), self))

    def __sub__(self, other: int) -> int:
        if not isinstance(other, int):
            return NotImplemented
        if other == 0 and not isinstance(other, Traced):
            return self
        return Traced(int(self) - int(other), ("-", self, _wrap(other)))

    def __rsub__(self, other: int) -> int:
        if not isinstance(other, int):
            return NotImplemented
        return Traced(int(other) - int(self), ("-", _wrap(other), self))

    def __mul__(self, other: int) -> int:
        if not isinstance(other, int):
            return NotImplemented
        if other == 1 and not isinstance(other, Traced):
            return self
        return Traced(int(self) * int(other), ("*", self, _wrap(other)))

    def __rmul__(self, other: int) -> int:
        if not isinstance(other, int):
            return NotImplemented
        if other == 1:
            return self
        return Traced(int(other) * int(self), ("*", _wrap(other), self))

    def __floordiv__(self, other: int) -> int:
        if not isinstance(other, int):
            return NotImplemented
        if other == 1 and not isinstance(other, Traced):
            return self
        return Traced(int(self) // int(other), ("//", self, _wrap(other)))

    def __rfloordiv__(self, other: int) -> int:
        if not isinstance(other, int):
            return NotImplemented
        return Traced(int(other) // int(self), ("//", _wrap(other), self))

    def __neg__(self) -> int:
        return Traced(-int(self), ("neg", self))

    def __reduce__(self) -> tuple[type, tuple[int]]:
        return int, (int(self),)  # a pickled or copied value is the number alone


def _wrap(value: int) -> Traced:
    return value if isinstance(value, Traced) else Traced(value, ("const",))


def leaf(value: int, text: str, tex: str | None = None) -> Traced:
    """A given value named ``text`` (``tex`` in TeX)."""
    return Traced(value, ("leaf", text, tex if tex is not None else text))


def render(value: int, *, numbers: bool, tex: bool = False) -> str:
    """The formula of ``value``: with the names of the given values, or with their numbers."""
    return _render(_wrap(value), numbers, tex)[0]


def _render(value: Traced, numbers: bool, tex: bool) -> tuple[str, int]:
    node = value.node
    op = node[0]
    if op == "const" or (op == "leaf" and numbers):
        number = int(value)
        return (f"({_minus(number, tex)})" if number < 0 else str(number)), _ATOM
    if op == "leaf":
        return (node[2] if tex else node[1]), _ATOM
    if op == "neg":
        inner = node[1]
        if inner.node[0] == "//" and inner.node[1].node[0] == "neg":  # −⌊−x/s⌋ is ⌈x/s⌉
            top = _render(inner.node[1].node[1], numbers, tex)[0]
            bottom = _render(inner.node[2], numbers, tex)[0]
            return (rf"\left\lceil \frac{{{top}}}{{{bottom}}} \right\rceil" if tex else f"⌈({top})/{bottom}⌉"), _ATOM
        text, prec = _render(inner, numbers, tex)
        return ("-" if tex else "−") + (text if prec > _SIGN else f"({text})"), _SIGN
    left, right = node[1], node[2]
    if op == "//":
        (top, top_prec), (bottom, bottom_prec) = _render(left, numbers, tex), _render(right, numbers, tex)
        if tex:
            return rf"\left\lfloor \frac{{{top}}}{{{bottom}}} \right\rfloor", _ATOM
        numerator = top if top_prec == _ATOM else f"({top})"
        denominator = bottom if bottom_prec == _ATOM else f"({bottom})"
        return f"⌊{numerator}/{denominator}⌋", _ATOM
    mine = _SUM if op in "+-" else _PRODUCT
    a, a_prec = _render(left, numbers, tex)
    b, b_prec = _render(right, numbers, tex)
    a = a if a_prec >= mine else f"({a})"
    b = b if b_prec > mine or (b_prec == mine and op in "+*") else f"({b})"
    sign = {"+": " + ", "-": " − ", "*": "·"}[op]
    if tex:
        sign = {"+": " + ", "-": " - ", "*": r" \cdot "}[op]
    return f"{a}{sign}{b}", mine


def _minus(number: int, tex: bool) -> str:
    return str(number) if tex else str(number).replace("-", "−")


def number_text(value: int | Fraction | float) -> str:
    """A number as a step writes it: thousands grouped, a fraction as ``p/q``."""
    if isinstance(value, Fraction) and value.denominator != 1:
        return f"{value.numerator}/{value.denominator}"
    if isinstance(value, float) and not value.is_integer():
        return f"{value:g}"
    return f"{int(value):,}"


def number_tex(value: int | Fraction | float) -> str:
    if isinstance(value, Fraction) and value.denominator != 1:
        return rf"\frac{{{value.numerator}}}{{{value.denominator}}}"
    return number_text(value).replace(",", "{,}")


class Trace:
    """Where a solver writes its working. ``Trace(record=False)`` (``NO_TRACE``) writes nothing and
    hands the solver plain integers: solving without steps costs nothing more."""

    def __init__(self, record: bool = True) -> None:
        self.record = record
        self.steps: list[Step] = []

    def given(self, text: str, value: int, tex: str | None = None, *, neutral: int | None = None) -> int:
        """``value`` as the solver computes with it; named ``text`` in the formulas when the trace
        records, unless it is ``neutral`` (a stride of 1: left out of the formula, as 1 is)."""
        if not self.record or value == neutral or isinstance(value, bool):
            return value
        return leaf(int(value), text, tex)

    def equation(self, label: str, result: int, tex_label: str | None = None) -> int:
        """Record ``label = formula = the formula in numbers = result``; hand back the plain integer."""
        value = int(result)
        if self.record:
            self.steps.append(equation_step(label, result, tex_label))
        return value

    def note(self, text: str, tex: str | None = None, value: JSON = None) -> None:
        if self.record:
            self.steps.append(Step(text, tex, value))

    def __bool__(self) -> bool:
        return self.record


def equation_step(label: str, result: int, tex_label: str | None = None) -> Step:
    """``label = formula = numbers = value``, each form left out where it says nothing new."""
    value = int(result)
    texts = [render(result, numbers=False), render(result, numbers=True), number_text(value)]
    texes = [render(result, numbers=False, tex=True), render(result, numbers=True, tex=True), number_tex(value)]
    return Step(
        " = ".join([label, *_distinct(texts)]),
        " = ".join([tex_label or _tex_label(label), *_distinct(texes)]),
        value,
    )


def _tex_label(label: str) -> str:
    """A label as TeX: a symbol stays one (``K``, ``S_3``); words are set as text."""
    if re.fullmatch(r"[A-Za-z](_\{?[A-Za-z0-9]+\}?)?", label):
        return label
    return rf"\text{{{label}}}"


def _distinct(forms: list[str]) -> list[str]:
    found: list[str] = []
    for form in forms:
        if form.replace(",", "").replace("{}", "") not in (f.replace(",", "").replace("{}", "") for f in found):
            found.append(form)
    return found


#: A trace that records nothing: the default of every solver that can explain itself.
NO_TRACE = Trace(record=False)
