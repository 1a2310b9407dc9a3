"""Arithmetic and formulas in plain notation (see ``text.plain``), parsed by precedence
climbing and evaluated exactly: Fractions for numbers, sympy for formulas. Never ``eval``.

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

import sympy

from grader.reading.values import MAX_DEPTH, ReadError
from problems.kinds import formula_symbol

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
_TIMES_X = re.compile("[xX]")


def _ends_factor(token: tuple[str, str]) -> bool:
    return token[0] != "op" or token[1] in ")⌋⌉"


def _starts_factor(token: tuple[str, str]) -> bool:
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
    """What the parser builds from what it reads: exact numbers or formula terms."""

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


#: A formula read so far: (expression, bound on its degree, bound on the bits of its numbers).
Term = tuple[sympy.Expr, int, int]


class Symbolic:
    """Formulas over declared symbols, as :data:`Term` triples: the bounds are checked before
    sympy builds anything, so neither a degree nor a number can grow past them (the numbers' bound
    adds the bits of a product's factors and of a sum's terms, plus one, and multiplies a power's).

    A name that is not a declared symbol is split into declared ones (``HW`` → ``H·W``,
    longest first); letters match in either case when that is not ambiguous.
    """

    def __init__(self, symbols: tuple[str, ...]):
        self.symbols = symbols
        self.exact = {s: formula_symbol(s) for s in symbols}
        folded: dict[str, list[str]] = {}
        for s in symbols:
            folded.setdefault(s.lower(), []).append(s)
        self.folded = {k: v[0] for k, v in folded.items() if len(v) == 1}

    def number(self, text: str) -> Term:
        number = Exact().number(text)
        return sympy.Rational(number), 0, max(number.numerator.bit_length(), number.denominator.bit_length())

    def name(self, text: str) -> Term:
        symbol = self._match(text)
        if symbol is None:
            known = ", ".join(self.symbols) or "none"
            raise ReadError(f"“{text}” is not one of the symbols of this question ({known}).")
        return self.exact[symbol], 1, 0

    def separate(self, found: list[tuple[str, str]]) -> list[tuple[str, str]]:
        """Names written together split into their symbols, so ``HWK^2`` is ``H·W·K^2``; where
        no symbol is called x, an x between factors multiplies (``H x W``, ``HxW``, ``2xH``)."""
        out: list[tuple[str, str]] = []
        times_x = self.free("x")
        for index, (kind, text) in enumerate(found):
            if kind != "name":
                out.append((kind, text))
                continue
            factors = self._split(text)
            if factors:
                out.extend(("name", factor) for factor in factors)
                continue
            crossed = self._crossed(text, found, index) if times_x else None
            out.extend(crossed) if crossed else out.append((kind, text))
        return out

    def free(self, word: str) -> bool:
        """Whether ``word`` cannot be read as symbols of this question (so it may be a sign)."""
        return self._split(word) is None

    def _crossed(self, text: str, found: list[tuple[str, str]], index: int) -> list[tuple[str, str]] | None:
        """A name with x as times signs in it: ``x`` alone, ``HxWxN``, ``xH`` after a factor,
        ``Hx`` before one; None unless every x stands between two factors."""
        pieces = _TIMES_X.split(text)
        if len(pieces) == 1:
            return None
        before = index > 0 and _ends_factor(found[index - 1])
        after = index + 1 < len(found) and _starts_factor(found[index + 1])
        out: list[tuple[str, str]] = []
        for position, piece in enumerate(pieces):
            if position:
                out.append(("op", "*"))
            if piece:
                names = self._split(piece)
                if names is None:
                    return None
                out.extend(("name", name) for name in names)
            elif not ((position == 0 and before) or (position == len(pieces) - 1 and after)):
                return None
        return out

    def _split(self, text: str) -> list[str] | None:
        if len(text) > MAX_NAME:
            return None
        whole = self._match(text)
        if whole:
            return [whole]
        if "_" in text:
            return None
        for size in range(min(len(text) - 1, 8), 0, -1):
            head = self._match(text[:size])
            if head:
                rest = self._split(text[size:])
                if rest is not None:
                    return [head, *rest]
        return None

    def _match(self, text: str) -> str | None:
        if text in self.exact:
            return text
        return self.folded.get(text.lower())

    def add(self, a: Term, b: Term) -> Term:
        return a[0] + b[0], *self._bounded(max(a[1], b[1]), a[2] + b[2] + 1)

    def subtract(self, a: Term, b: Term) -> Term:
        return a[0] - b[0], *self._bounded(max(a[1], b[1]), a[2] + b[2] + 1)

    def multiply(self, a: Term, b: Term) -> Term:
        degree, bits = self._bounded(a[1] + b[1], a[2] + b[2])
        return a[0] * b[0], degree, bits

    def divide(self, a: Term, b: Term) -> Term:
        if b[0] == 0:
            raise ReadError("The formula divides by zero.")
        degree, bits = self._bounded(a[1] + b[1], a[2] + b[2])
        return a[0] / b[0], degree, bits

    def negate(self, a: Term) -> Term:
        return -a[0], a[1], a[2]

    def power(self, base: Term, exponent: Term) -> Term:
        value = exponent[0]
        if not value.is_Integer or abs(int(value)) > MAX_FORMULA_POWER:
            raise ReadError(f"Only whole-number powers up to {MAX_FORMULA_POWER} are read in a formula.")
        if base[0] == 0 and value < 0:
            raise ReadError("The formula divides by zero.")
        times = abs(int(value))
        degree, bits = self._bounded(base[1] * times, base[2] * times)
        return base[0] ** value, degree, bits

    def rounded(self, a: Term, down: bool) -> Term:
        """A number rounded, a whole-valued formula as it is (``⌊H + 1⌋`` is ``H + 1``), anything
        else left as written: sympy's own rounding asks its assumptions about the whole formula,
        which takes seconds on a large one."""
        value = a[0]
        if isinstance(value, sympy.Rational):
            exact = Fraction(int(value.p), int(value.q))
            return sympy.Integer(math.floor(exact) if down else math.ceil(exact)), a[1], a[2]
        if _whole(value):
            return a
        return (sympy.floor if down else sympy.ceiling)(value, evaluate=False), a[1], a[2]

    @staticmethod
    def _bounded(degree: int, bits: int) -> tuple[int, int]:
        """Checked before sympy computes: a power of a large number is refused, not computed."""
        if degree > MAX_DEGREE:
            raise ReadError(f"The formula has degree above {MAX_DEGREE}; the answer is much simpler.")
        if bits > MAX_BITS:
            raise ReadError("The numbers in this formula grow too large; the answer is much simpler.")
        return degree, bits


def _whole(value: sympy.Basic) -> bool:
    """Whether a formula is whole for whole symbols, from its form alone: whole numbers and
    symbols, sums, products, powers that do not divide, and roundings."""
    if isinstance(value, sympy.Rational):
        return int(value.q) == 1
    if isinstance(value, sympy.Symbol | sympy.floor | sympy.ceiling):
        return True
    if isinstance(value, sympy.Pow):
        return isinstance(value.exp, sympy.Integer) and int(value.exp) >= 0 and _whole(value.base)
    return isinstance(value, sympy.Add | sympy.Mul) and all(_whole(arg) for arg in value.args)


class _Parser(Generic[Value]):
    def __init__(self, found: list[tuple[str, str]], semantics: Semantics[Value]):
        self.tokens, self.at, self.depth, self.ops = found, 0, 0, semantics
        self.implicit_numbers = isinstance(semantics, Symbolic)

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
    return _Parser(tokens(text), Exact()).whole()


def formula(text: str, symbols: tuple[str, ...]) -> sympy.Expr:
    """A formula over the declared symbols.

    >>> formula("M K^2 + M N", ("H", "W", "M", "N", "K"))
    K**2*M + M*N
    """
    semantics = Symbolic(symbols)
    found = semantics.separate(tokens(text))
    if len(found) > MAX_FORMULA_TOKENS:
        raise ReadError(f"The formula has more than {MAX_FORMULA_TOKENS} symbols and operators; the answer is shorter.")
    return _Parser(found, semantics).whole()[0]
