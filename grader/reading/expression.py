"""Arithmetic and formulas in plain notation (see ``text.plain``), parsed by precedence
climbing and evaluated exactly: Fractions for numbers here, sympy for formulas
(:mod:`grader.reading.formulas`, apart so that reading numbers never imports sympy). Never ``eval``.

Bounded in every direction: tokens, nesting depth, the size of an exact number (so
``9^9^9^9`` is refused, not computed, and so is ``((7^12)^12)^12·H`` in a formula) and the degree
of a formula. Nothing here expands a formula, rounds it or asks sympy about it: sympy only builds
the tree, and grading evaluates it at points (``grader.comparison.identity``).

Grammar (implicit multiplication as in ``2HW``, ``2(3 + 4)`` or ``M K^2``)::

    sum     := product (("+" | "-") product)*
    product := unary (("*" | "/" | implicit) unary)*
    unary   := ("-" | "+") unary | power
    power   := atom ("^" unary)?
    atom    := number | name | "(" sum ")" | "⌊" sum "⌋" | "⌈" sum "⌉"
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from fractions import Fraction
from typing import Generic, NoReturn, Protocol, TypeVar

from grader.reading.values import MAX_DEPTH, ReadError

MAX_TOKENS = 2_000
#: sympy's sums grow quadratically with their terms: a formula of the subject has a few dozen tokens.
MAX_FORMULA_TOKENS = 200
MAX_NAME = 24
#: Bits of an exact number's numerator or denominator (about 1,200 decimal digits).
MAX_BITS = 4_096
MAX_DIGITS = 80
#: Polynomial degree of a formula; the formulas of the subject have degree 6 or so. Also bounds
#: the work of grading it: the degree sets how large its values grow (``grader.comparison.identity``).
MAX_DEGREE = 12
MAX_FORMULA_POWER = 12

#: A decimal number as typed: ``12``, ``1.``, ``.5``, ``1.1e10`` (no sign: signs are operators).
NUMBER = r"(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?"
_TOKEN = re.compile(rf"\s*(?:(?P<number>{NUMBER})|(?P<name>[A-Za-z]+(?:_[A-Za-z0-9]+)?)|(?P<op>[-+*/^()⌊⌋⌈⌉]))")
_CLOSING = {"(": ")", "⌊": "⌋", "⌈": "⌉"}
TIMES_X = re.compile("[xX]")


def ends_factor(token: tuple[str, str]) -> bool:
    return token[0] != "op" or token[1] in ")⌋⌉"


def starts_factor(token: tuple[str, str]) -> bool:
    return token[0] != "op" or token[1] in "(⌊⌈"


def tokens(text: str) -> list[tuple[str, str]]:
    """(type, text) pairs; anything that is not a number, a name or an operator is refused."""
    found: list[tuple[str, str]] = []
    position, end = 0, len(text.rstrip())
    while position < end:
        match = _TOKEN.match(text, position)
        if not match or match.end() == position:
            bad = text[position:].strip()[:1]
            raise ReadError(f"The character “{bad}” cannot be read here.")
        kind = match.lastgroup or "op"
        found.append((kind, match.group(kind)))
        position = match.end()
        if len(found) > MAX_TOKENS:
            raise ReadError(f"The answer has more than {MAX_TOKENS:,} numbers and operators.")
    return found


Value = TypeVar("Value")


class Semantics(Protocol[Value]):
    """What the parser builds from what it reads: exact numbers or formula terms (whose numbers may
    be written before a symbol without a times sign, ``implicit_numbers``)."""

    implicit_numbers: bool

    def number(self, text: str) -> Value: ...
    def name(self, text: str) -> Value: ...
    def add(self, a: Value, b: Value) -> Value: ...
    def subtract(self, a: Value, b: Value) -> Value: ...
    def multiply(self, a: Value, b: Value) -> Value: ...
    def divide(self, a: Value, b: Value) -> Value: ...
    def negate(self, a: Value) -> Value: ...
    def power(self, base: Value, exponent: Value) -> Value: ...
    def rounded(self, a: Value, down: bool) -> Value: ...


class Exact:
    """Exact rational arithmetic with a bound on the size of every intermediate number."""

    implicit_numbers = False

    def number(self, text: str) -> Fraction:
        if len(text) > MAX_DIGITS:
            raise ReadError(f"A number with more than {MAX_DIGITS} digits is not read.")
        _mantissa, _, exponent = text.lower().partition("e")
        if exponent and abs(int(exponent)) > 300:
            raise ReadError("A power of ten beyond 10^300 is not read.")
        return self._bounded(Fraction(text))

    def name(self, text: str) -> NoReturn:
        raise ReadError(f"“{text}” is not a number; write the value itself.")

    def add(self, a: Fraction, b: Fraction) -> Fraction:
        return self._bounded(a + b)

    def subtract(self, a: Fraction, b: Fraction) -> Fraction:
        return self._bounded(a - b)

    def multiply(self, a: Fraction, b: Fraction) -> Fraction:
        return self._bounded(a * b)

    def divide(self, a: Fraction, b: Fraction) -> Fraction:
        if b == 0:
            raise ReadError("The answer divides by zero.")
        return self._bounded(a / b)

    def negate(self, a: Fraction) -> Fraction:
        return -a

    def power(self, base: Fraction, exponent: Fraction) -> Fraction:
        if exponent.denominator != 1:
            raise ReadError("Only whole-number powers are read (no roots).")
        size = max(base.numerator.bit_length(), base.denominator.bit_length())
        if size * abs(exponent.numerator) > MAX_BITS and abs(base) != 1:
            raise ReadError("A power this large is not read: give the number itself.")
        if base == 0 and exponent < 0:
            raise ReadError("The answer divides by zero.")
        return base**exponent.numerator

    def rounded(self, a: Fraction, down: bool) -> Fraction:
        return Fraction(math.floor(a) if down else math.ceil(a))

    @staticmethod
    def _bounded(value: Fraction) -> Fraction:
        if value.numerator.bit_length() > MAX_BITS or value.denominator.bit_length() > MAX_BITS:
            raise ReadError("A number this large is not read: give the number itself.")
        return value


class Parser(Generic[Value]):
    def __init__(self, found: list[tuple[str, str]], semantics: Semantics[Value]):
        self.tokens, self.at, self.depth, self.ops = found, 0, 0, semantics
        self.implicit_numbers = semantics.implicit_numbers

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.at] if self.at < len(self.tokens) else None

    def take(self) -> tuple[str, str]:
        token = self.peek()
        if token is None:
            raise ReadError("The answer ends in the middle of an expression.")
        self.at += 1
        return token

    def nested(self, parse: Callable[[], Value]) -> Value:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise ReadError(f"The answer nests deeper than {MAX_DEPTH} levels.")
        try:
            return parse()
        finally:
            self.depth -= 1

    def whole(self) -> Value:
        if not self.tokens:
            raise ReadError("There is no value in the answer.")
        value = self.sum()
        if (token := self.peek()) is not None:
            raise ReadError(f"Unexpected “{token[1]}” after a complete value.")
        return value

    def sum(self) -> Value:
        value = self.product()
        while (token := self.peek()) and token[1] in "+-" and token[0] == "op":
            self.take()
            right = self.product()
            value = self.ops.add(value, right) if token[1] == "+" else self.ops.subtract(value, right)
        return value

    def product(self) -> Value:
        value = self.nested(self.unary)
        while token := self.peek():
            if token[0] == "op" and token[1] in "*/":
                self.take()
                right = self.nested(self.unary)
                value = self.ops.multiply(value, right) if token[1] == "*" else self.ops.divide(value, right)
            elif self._implicit(token):
                value = self.ops.multiply(value, self.nested(self.unary))
            else:
                break
        return value

    def _implicit(self, token: tuple[str, str]) -> bool:
        """``2(3+4)``, ``(a)(b)``, ``2HW``, ``M K^2``; never two bare numbers side by side."""
        if token[0] == "op":
            return token[1] in "(⌊⌈"
        return token[0] == "name"

    def unary(self) -> Value:
        token = self.peek()
        if token and token[0] == "op" and token[1] in "+-":
            self.take()
            operand = self.nested(self.unary)
            return self.ops.negate(operand) if token[1] == "-" else operand
        return self.power()

    def power(self) -> Value:
        base = self.atom()
        token = self.peek()
        if token and token == ("op", "^"):
            self.take()
            return self.ops.power(base, self.nested(self.unary))
        return base

    def atom(self) -> Value:
        kind, text = self.take()
        if kind == "number":
            return self.ops.number(text)
        if kind == "name":
            return self.ops.name(text)
        if text in _CLOSING:
            inner = self.nested(self.sum)
            if self.take()[1] != _CLOSING[text]:
                raise ReadError(f"A “{text}” is closed by the wrong bracket.")
            return inner if text == "(" else self.ops.rounded(inner, down=text == "⌊")
        raise ReadError(f"Unexpected “{text}”.")


def evaluate(text: str) -> Fraction:
    """An arithmetic expression, exactly.

    >>> evaluate("32 * 32 * (64 * 5^2 + 64 * 128)")
    Fraction(10027008, 1)
    >>> evaluate("2(3+4)/4")
    Fraction(7, 2)
    """
    return Parser(tokens(text), Exact()).whole()
