"""Whether two formulas are the same function of their symbols, decided by evaluating both
exactly at random points, never by expanding them: ``((H+W+M+N+K+1)⋯(H+W+M+N+K+6))^2`` expands
to thousands of terms, but its value at a point is a few dozen multiplications.

A formula is compiled once into steps (one per node of its sympy tree, equal subtrees once) and
evaluated on Python integers as an unreduced fraction: no sympy, no gcd, no rounding. Every step
charges a :class:`Work` counter one unit plus one per 64-bit word of its result; the grading of
one answer runs under one counter (:func:`budget`), and an answer whose comparisons would spend
more is refused with :class:`OutOfWork` (the engine grades it ``invalid`` with that sentence)
instead of holding a worker. Reading bounds a formula's size, degree and numbers, so no formula
it accepts comes near: the counter is the backstop.

**Without ⌊⌋ or ⌈⌉** both formulas are rational functions, equal exactly when
``P = f₁·g₂ − f₂·g₁`` is the zero polynomial (``fᵢ/gᵢ`` each formula as one fraction). ``P`` has
total degree at most ``D``, bounded from the two trees (:attr:`Program.numerator_degree`,
:attr:`Program.denominator_degree`). At a point drawn uniformly from ``{1, …, 2^61}^n`` a nonzero
``P`` vanishes with probability at most ``D / 2^61`` (Schwartz–Zippel), so ``k`` independent
points agree by accident with probability at most ``(D / 2^61)^k``: :func:`equivalent` takes the
least ``k ≥ 2`` that makes this at most ``2^-64`` (``k = 2`` for every ``D < 2^29``; reading keeps
``D`` in the hundreds). The arithmetic is exact: no modulus can hide a difference. A point where
either formula divides by zero (a nonzero denominator vanishes with probability at most
``D / 2^61`` too) is skipped and another drawn, of :data:`SPARE_POINTS`; a formula undefined at
all of them is equal to nothing.

**With ⌊⌋ or ⌈⌉** no identity test of that kind is sound (``2⌊H/2⌋`` and ``H`` agree at every
even ``H``). The formulas are compared exactly at :data:`ROUNDING_POINTS` points, most of them
small in every coordinate (1 to 2^12, where a rounding shows: a stride that does or does not
divide a size), every fourth large: a difference found is certain, and agreement at every point
is taken as equality. A difference confined to rare values can be missed (``⌊H/2^40⌋·⌊2^40/H⌋``
is 1 at ``H = 2^40`` alone, 0 elsewhere); the differences of the subject's formulas are not rare.

The points are drawn from a hash of both formulas' text: the same two formulas always get the
same verdict, and a formula crafted to agree at given points moves the points by changing.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import sympy


#: Work units one answer may spend comparing formulas (with its reference, its known mistakes and
#: the value that follows from earlier answers; or, in a report, with the relations a wrong
#: answer may have). A unit takes 0.1 to 0.2 µs, so this is 20 to 40 ms; the largest formulas
#: reading accepts spend at most about 20,000 (``tests/grader/test_bounded_grading.py``).
ANSWER_WORK = 200_000
#: Points are drawn from {1, …, 2^POINT_BITS} in every coordinate.
POINT_BITS = 61
#: Without rounding, a false "equal" has probability at most 2^-ERROR_BITS.
ERROR_BITS = 64
#: Points at which formulas with ⌊⌋ or ⌈⌉ are compared; every LARGE_EVERY-th is drawn from the
#: whole range, the others from 1 … 2^b with b from 1 to SMALL_BITS.
ROUNDING_POINTS = 24
LARGE_EVERY = 4
SMALL_BITS = 12
#: Points drawn beyond those needed, in place of points where a formula divides by zero.
SPARE_POINTS = 8

TOO_COMPLEX = (
    "This formula is too large to be compared with the answer; write it more simply "
    "(the answer is a short sum of products)."
)


class OutOfWork(Exception):
    """An answer's work budget ran out; the message is a sentence for the student."""


@dataclass
class Work:
    """A cooperative budget: evaluation charges it as it goes and stops once it is spent."""

    limit: int
    spent: int = 0

    def charge(self, units: int) -> None:
        self.spent += units
        if self.spent > self.limit:
            raise OutOfWork(TOO_COMPLEX)


_current: ContextVar[Work | None] = ContextVar("formula_work", default=None)


@contextmanager
def budget(limit: int | None = None) -> Iterator[Work]:
    """The work counter of one answer (of :data:`ANSWER_WORK` units unless ``limit`` says):
    every comparison made inside charges it."""
    work = Work(ANSWER_WORK if limit is None else limit)
    token = _current.set(work)
    try:
        yield work
    finally:
        _current.reset(token)


def current() -> Work:
    """The answer's work counter, or a fresh one for a comparison made outside :func:`budget`."""
    return _current.get() or Work(ANSWER_WORK)


class Undefined(ArithmeticError):
    """The formula divides by zero at this point."""


#: An exact value: an unreduced fraction (numerator, nonzero denominator).
Pair = tuple[int, int]
#: A step: its operation, the steps it reads (earlier ones), and a constant — a number's
#: numerator and denominator, a symbol's index, a power's exponent, or 1 for ⌊⌋ and 0 for ⌈⌉.
Step = tuple[str, tuple[int, ...], int, int]


@dataclass(frozen=True, slots=True)
class Program:
    """A formula compiled for evaluation: steps in order (operands before their use), its
    symbols, bounds on the degrees of its numerator and denominator written as one fraction, and
    whether it rounds (⌊⌋ or ⌈⌉); ``text`` spells the steps out, to seed the points."""

    steps: tuple[Step, ...]
    symbols: tuple[sympy.Symbol, ...]
    numerator_degree: int
    denominator_degree: int
    rounds: bool
    text: str

    def at(self, point: dict[sympy.Symbol, int], work: Work) -> Pair:
        """The exact value at ``point``; :class:`Undefined` where a divisor is zero there."""
        values: list[Pair] = []
        for operation, operands, first, second in self.steps:
            if operation == "number":
                n, d = first, second
            elif operation == "symbol":
                n, d = point[self.symbols[first]], 1
            elif operation == "add":
                n, d = values[operands[0]]
                for index in operands[1:]:
                    a, b = values[index]
                    n, d = (n + a, d) if b == d else (n * b + a * d, d * b)
            elif operation == "mul":
                n, d = values[operands[0]]
                for index in operands[1:]:
                    a, b = values[index]
                    n, d = n * a, d * b
            elif operation == "pow":
                n, d = values[operands[0]]
                if first < 0:
                    if n == 0:
                        raise Undefined
                    n, d = d, n
                n, d = n ** abs(first), d ** abs(first)
            else:  # ⌊⌋ (first = 1) or ⌈⌉ (first = 0)
                n, d = values[operands[0]]
                n, d = (n, d) if d > 0 else (-n, -d)
                n, d = (n // d if first else -(-n // d)), 1
            work.charge(1 + (n.bit_length() + d.bit_length()) // 64)
            values.append((n, d))
        return values[-1]


@lru_cache(maxsize=4096)
def program(expression: sympy.Expr) -> Program:
    """``expression`` compiled (once: a reference formula is compared many times); a formula
    that holds anything but numbers, symbols, sums, products, whole powers, ⌊⌋ and ⌈⌉ is a
    ``TypeError`` (reading builds none, and the solvers' formulas are of the same kinds)."""
    return _Compiler().run(expression)


class _Compiler:
    def __init__(self) -> None:
        self.steps: list[Step] = []
        self.degrees: list[tuple[int, int]] = []
        self.index: dict[sympy.Basic, int] = {}
        self.symbols: dict[sympy.Symbol, int] = {}
        self.rounds = False

    def run(self, expression: sympy.Expr) -> Program:
        self.visit(expression)
        numerator, denominator = self.degrees[-1]
        symbols = tuple(self.symbols)
        text = repr((self.steps, [symbol.name for symbol in symbols]))  # canonical: sympy sorts its args
        return Program(tuple(self.steps), symbols, numerator, denominator, self.rounds, text)

    def visit(self, node: sympy.Basic) -> int:
        found = self.index.get(node)
        if found is not None:
            return found
        operands = tuple(self.visit(arg) for arg in node.args)
        step, degrees = self._step(node, operands)
        self.steps.append(step)
        self.degrees.append(degrees)
        self.index[node] = len(self.steps) - 1
        return self.index[node]

    def _step(self, node: sympy.Basic, operands: tuple[int, ...]) -> tuple[Step, tuple[int, int]]:
        """The step of one node, with bounds on its degrees (numerator, denominator)."""
        import sympy  # (imported as a formula is met: see grader.reading.formulas)

        if isinstance(node, sympy.Rational):
            return ("number", (), int(node.p), int(node.q)), (0, 0)
        if isinstance(node, sympy.Symbol):
            position = self.symbols.setdefault(node, len(self.symbols))
            return ("symbol", (), position, 0), (1, 0)
        parts = [self.degrees[i] for i in operands]
        if isinstance(node, sympy.Add):
            numerator, denominator = parts[0]
            for n, d in parts[1:]:
                numerator, denominator = max(numerator + d, n + denominator), denominator + d
            return ("add", operands, 0, 0), (numerator, denominator)
        if isinstance(node, sympy.Mul):
            return ("mul", operands, 0, 0), (sum(n for n, _ in parts), sum(d for _, d in parts))
        if isinstance(node, sympy.Pow) and isinstance(node.exp, sympy.Integer):
            exponent = int(node.exp)
            n, d = parts[0]
            degrees = (n * exponent, d * exponent) if exponent >= 0 else (-d * exponent, -n * exponent)
            return ("pow", operands[:1], exponent, 0), degrees
        if isinstance(node, sympy.floor | sympy.ceiling):
            self.rounds = True
            return ("round", operands, int(isinstance(node, sympy.floor)), 0), parts[0]
        raise TypeError(f"a formula cannot hold {type(node).__name__}: {node}")


def points_needed(degree: int) -> int:
    """The least k ≥ 2 with (degree / 2^POINT_BITS)^k ≤ 2^-ERROR_BITS."""
    if degree >= 2**POINT_BITS:
        raise OutOfWork(TOO_COMPLEX)
    k = 2
    while degree**k * 2**ERROR_BITS > 2 ** (POINT_BITS * k):
        k += 1
    return k


class _Draws:
    """A deterministic stream of random numbers from a seed (BLAKE2b in counter mode)."""

    def __init__(self, seed: bytes):
        self.seed, self.count = seed, 0

    def bits(self, size: int) -> int:
        self.count += 1
        digest = hashlib.blake2b(self.count.to_bytes(8, "little"), key=self.seed, digest_size=8).digest()
        return int.from_bytes(digest, "little") & ((1 << size) - 1)

    def coordinate(self, small: bool) -> int:
        size = 1 + self.bits(8) % SMALL_BITS if small else POINT_BITS
        return 1 + self.bits(size)


def _seed(first: str, second: str) -> bytes:
    text = "\0".join(sorted((first, second)))
    return hashlib.blake2b(text.encode(), digest_size=32).digest()


@lru_cache(maxsize=4096)
def equivalent(first: sympy.Expr, second: sympy.Expr) -> bool:
    """Whether two formulas are the same function of positive whole symbols (see the module's
    docstring for how, and the probability of a false "equal": at most 2^-64 without rounding).
    Charges the current answer's :class:`Work`; :class:`OutOfWork` once it is spent."""
    if first == second:
        return True
    work = current()
    a, b = program(first), program(second)
    work.charge(len(a.steps) + len(b.steps))
    symbols = sorted(set(a.symbols) | set(b.symbols), key=lambda symbol: symbol.name)
    rounds = a.rounds or b.rounds
    degree = max(a.numerator_degree + b.denominator_degree, b.numerator_degree + a.denominator_degree)
    needed = ROUNDING_POINTS if rounds else points_needed(degree)
    draws = _Draws(_seed(a.text, b.text))
    agreed = 0
    for index in range(needed + SPARE_POINTS):
        small = rounds and index % LARGE_EVERY != LARGE_EVERY - 1
        point = {symbol: draws.coordinate(small) for symbol in symbols}
        try:
            (n, d), (m, e) = a.at(point, work), b.at(point, work)
        except Undefined:
            continue
        work.charge((n.bit_length() + d.bit_length() + m.bit_length() + e.bit_length()) // 64)
        if n * e != m * d:
            return False
        agreed += 1
        if agreed == needed:
            return True
    return False  # undefined almost everywhere: no equality established
