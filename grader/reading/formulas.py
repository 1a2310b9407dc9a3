"""Formulas over a question's declared symbols, read by the parser of
:mod:`grader.reading.expression` into sympy trees, within bounds on their size, degree and numbers.

Apart from the arithmetic of numbers so that sympy, about half a second to import, is imported
only where a formula is read: ``grader grade`` on a set of numbers never loads it.
"""

from __future__ import annotations

import math
from fractions import Fraction

import sympy

from grader.reading.expression import (
    MAX_BITS,
    MAX_DEGREE,
    MAX_FORMULA_POWER,
    MAX_FORMULA_TOKENS,
    MAX_NAME,
    TIMES_X,
    Exact,
    Parser,
    ends_factor,
    starts_factor,
    tokens,
)
from grader.reading.values import ReadError
from problems.kinds import formula_symbol

#: A formula read so far: (expression, bound on its degree, bound on the bits of its numbers).
Term = tuple[sympy.Expr, int, int]


class Symbolic:
    """Formulas over declared symbols, as :data:`Term` triples: the bounds are checked before
    sympy builds anything, so neither a degree nor a number can grow past them (the numbers' bound
    adds the bits of a product's factors and of a sum's terms, plus one, and multiplies a power's).

    A name that is not a declared symbol is split into declared ones (``HW`` → ``H·W``,
    longest first); letters match in either case when that is not ambiguous.
    """

    implicit_numbers = True

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
        pieces = TIMES_X.split(text)
        if len(pieces) == 1:
            return None
        before = index > 0 and ends_factor(found[index - 1])
        after = index + 1 < len(found) and starts_factor(found[index + 1])
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


def formula(text: str, symbols: tuple[str, ...]) -> sympy.Expr:
    """A formula over the declared symbols.

    >>> formula("M K^2 + M N", ("H", "W", "M", "N", "K"))
    K**2*M + M*N
    """
    semantics = Symbolic(symbols)
    found = semantics.separate(tokens(text))
    if len(found) > MAX_FORMULA_TOKENS:
        raise ReadError(f"The formula has more than {MAX_FORMULA_TOKENS} symbols and operators; the answer is shorter.")
    return Parser(found, semantics).whole()[0]
