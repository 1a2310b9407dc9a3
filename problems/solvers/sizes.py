"""Output-size arithmetic along one spatial axis, exactly as PyTorch computes it.

Every function works on Python integers and, where it makes sense, on sympy
symbols too: the formula problems reuse these same functions to derive closed
forms, so a numeric answer and its formula cannot disagree.
"""

from __future__ import annotations

from typing import Literal, Protocol, Self, TypeVar

from problems.solvers.steps import Trace


class Arithmetic(Protocol):
    """What the size and count formulas do with their values; Python integers and sympy
    expressions both do it (sympy's operators are untyped, so any expression qualifies)."""

    def __add__(self, other: Self | int, /) -> Self: ...
    def __radd__(self, other: int, /) -> Self: ...
    def __sub__(self, other: Self | int, /) -> Self: ...
    def __mul__(self, other: Self | int, /) -> Self: ...
    def __rmul__(self, other: int, /) -> Self: ...
    def __floordiv__(self, other: Self | int, /) -> Self: ...
    def __truediv__(self, other: Self | int, /) -> Self | float: ...
    def __neg__(self) -> Self: ...


#: A size or a count: a Python integer, or a sympy expression when a formula problem derives a
#: closed form. Integers in, an integer out; the parameters typed ``Size | int`` take a plain
#: integer (a default, a literal) beside symbols.
Size = TypeVar("Size", bound=Arithmetic)

#: How an output size is computed: ``floor`` is right; the others are known mistakes.
SizeRule = Literal["floor", "ceil", "no_plus_one"]


class SizeError(ValueError):
    """A configuration whose output size is undefined (empty, or not a whole number)."""


def effective_kernel(k: Size | int, d: Size | int = 1) -> Size | int:
    """Span of a dilated kernel: ``d·(k−1)+1``.

    >>> effective_kernel(3, 2)
    5
    """
    return d * (k - 1) + 1


def conv_out(
    n: Size,
    k: Size | int,
    s: Size | int = 1,
    p: Size | int = 0,
    d: Size | int = 1,
    p_end: Size | int | None = None,
    rule: SizeRule = "floor",
) -> Size:
    """Convolution output size ``⌊(n + p + p_end − d·(k−1) − 1)/s⌋ + 1``.

    ``p_end`` is the padding on the far side when it differs from ``p``
    (asymmetric "same" padding); by default both sides get ``p``. ``rule`` computes the
    size the way a known mistake does: ``ceil`` rounds up, ``no_plus_one`` forgets the +1.

    >>> conv_out(128, 3, s=2)
    63
    >>> conv_out(128, 3, s=2, rule="ceil")
    64
    """
    far = p if p_end is None else p_end
    span = n + p + far - d * (k - 1) - 1  # the effective kernel, written out for worked steps
    if rule == "ceil":
        out = -(-span // s) + 1
    elif rule == "no_plus_one":
        out = span // s
    else:
        out = span // s + 1
    if isinstance(out, int) and out < 1:
        raise SizeError(
            f"input {n} with padding {p}+{far} is smaller than the kernel span {effective_kernel(k, d)}: no output"
        )
    return out


def same_padding(k: int, d: int = 1) -> tuple[int, int]:
    """Padding (before, after) that keeps the size at stride 1; PyTorch puts the odd pixel after.

    >>> same_padding(5)
    (2, 2)
    """
    return split_padding(same_padding_total_at_1(k, d))


def same_padding_total_at_1(k: int, d: int = 1) -> int:
    """``same`` padding in all along one axis at stride 1: ``d·(k − 1)``.

    >>> same_padding_total_at_1(5)
    4
    """
    return d * (k - 1)


def same_padding_at(n: int, k: int, s: int = 1, d: int = 1) -> tuple[int, int]:
    """TensorFlow/Keras ``same`` padding (before, after) at any stride: the output is ``⌈n/s⌉``,
    the total ``max((⌈n/s⌉ − 1)·s + d·(k−1) + 1 − n, 0)``, the odd pixel after. At stride 1 it
    is ``same_padding``.

    >>> same_padding_at(224, 3, 2)
    (0, 1)
    >>> same_padding_at(5, 3, 2)
    (1, 1)
    """
    return split_padding(same_padding_total(n, k, s, d))


def same_padding_total(n: int, k: int, s: int = 1, d: int = 1) -> int:
    """TensorFlow's ``same`` padding in all along one axis: ``max((⌈n/s⌉ − 1)·s + d·(k−1) + 1 − n, 0)``.

    >>> same_padding_total(224, 3, 2)
    1
    """
    out = -(-n // s)
    return max((out - 1) * s + effective_kernel(k, d) - n, 0)


def split_padding(total: int) -> tuple[int, int]:
    """(before, after): half before, the odd pixel after.

    >>> split_padding(3)
    (1, 2)
    """
    return total // 2, total - total // 2


def pool_out(n: int, k: int, s: int, p: int = 0, d: int = 1, ceil_mode: bool = False) -> int:
    """Pooling output size, PyTorch's rule: in ceil mode a last window that would start
    inside the right padding (or past the input) is dropped.

    >>> pool_out(10, 2, 2, 1)
    6
    >>> pool_out(5, 2, 2, ceil_mode=True)
    3
    """
    if p * 2 > k:
        raise SizeError(f"pooling padding {p} exceeds half the kernel {k}")
    span = n + 2 * p - d * (k - 1) - 1 + (s - 1 if ceil_mode else 0)
    out = span // s + 1
    if ceil_mode and (out - 1) * s >= n + p:
        out -= 1
    if out < 1:
        raise SizeError(f"input {n} is smaller than the pooling window {effective_kernel(k, d)}")
    return out


def transposed_out(
    n: Size, k: Size | int, s: Size | int = 1, p: Size | int = 0, op: Size | int = 0, d: Size | int = 1
) -> Size:
    """Transposed-convolution output size ``(n−1)·s − 2p + d·(k−1) + op + 1``.

    >>> transposed_out(2, 2)
    3
    """
    out = (n - 1) * s - 2 * p + d * (k - 1) + op + 1
    if isinstance(out, int) and out < 1:
        raise SizeError(f"transposed convolution of size {n} with padding {p} leaves no output")
    return out


def kernel_for(n_in: int, n_out: int, s: int = 1, p: int = 0, rule: SizeRule = "floor") -> int:
    """The kernel side that maps ``n_in`` to ``n_out`` (stride ``s``, padding ``p``):
    ``n + 2p − (out − 1)·s``; under ``rule="no_plus_one"`` (a known mistake) the size formula is
    solved without its +1, ``n + 2p − out·s``.

    Inverts ``conv_out``; refuses when no whole kernel does it.

    >>> kernel_for(512, 504), kernel_for(512, 504, rule="no_plus_one")
    (9, 8)
    """
    k = n_in + 2 * p - (n_out - (0 if rule == "no_plus_one" else 1)) * s
    if k < 1 or conv_out(n_in, k, s, p, rule=rule) != n_out:
        raise SizeError(f"no kernel maps {n_in} to {n_out} with stride {s} and padding {p}")
    return k


def padding_to_keep(k: int, d: int = 1, rule: SizeRule = "floor") -> int:
    """The symmetric padding that keeps the size at stride 1: ``d·(k−1)/2``. Under
    ``rule="no_plus_one"`` (a known mistake) the +1 is dropped, ``n = n + 2p − d·(k−1) − 1``,
    so half the whole span, rounded up to keep at least the size: ``⌈(d·(k−1) + 1)/2⌉``.

    >>> padding_to_keep(5), padding_to_keep(5, rule="no_plus_one")
    (2, 3)
    """
    if rule == "no_plus_one":
        return -(-effective_kernel(k, d) // 2)
    total = d * (k - 1)
    if total % 2:
        raise SizeError(f"kernel {k} (dilation {d}) has an even span: no symmetric padding keeps the size")
    return total // 2


def conv_out_steps(
    trace: Trace,
    axis: str,
    n: int,
    k: int,
    s: int = 1,
    p: int = 0,
    d: int = 1,
    p_end: int | None = None,
    rule: SizeRule = "floor",
) -> int:
    """``conv_out`` along ``axis`` (``H`` or ``W``), its working written in ``trace``."""
    t = trace
    far = None if p_end is None or p_end == p else t.given("P_end", p_end, "P_{end}")
    out = conv_out(
        t.given(axis, n),
        t.given("K", k),
        t.given("S", s, neutral=1),
        t.given("P", p, neutral=0),
        t.given("D", d, neutral=1),
        far,
        rule,
    )
    return t.equation(f"{axis}_out", out, f"{axis}_{{out}}")


def pool_out_steps(
    trace: Trace, axis: str, n: int, k: int, s: int, p: int = 0, d: int = 1, ceil_mode: bool = False
) -> int:
    """``pool_out`` along ``axis``, its working written in ``trace``."""
    t = trace
    out = pool_out(
        t.given(axis, n),
        t.given("K", k),
        t.given("S", s, neutral=1),
        t.given("P", p, neutral=0),
        t.given("D", d, neutral=1),
        ceil_mode,
    )
    return t.equation(f"{axis}_out", out, f"{axis}_{{out}}")


def transposed_out_steps(
    trace: Trace, axis: str, n: int, k: int, s: int = 1, p: int = 0, op: int = 0, d: int = 1
) -> int:
    """``transposed_out`` along ``axis``, its working written in ``trace``."""
    t = trace
    out = transposed_out(
        t.given(axis, n),
        t.given("K", k),
        t.given("S", s, neutral=1),
        t.given("P", p, neutral=0),
        t.given("P_out", op, "P_{out}", neutral=0),
        t.given("D", d, neutral=1),
    )
    return t.equation(f"{axis}_out", out, f"{axis}_{{out}}")
