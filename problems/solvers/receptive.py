"""Receptive-field arithmetic (Araujo et al., Distill 2019; google-research/receptive_field).

A layer with effective kernel ``k`` and stride ``s`` grows the field by ``(k−1)`` steps of
the *cumulative* stride of all earlier layers (the jump), not of the previous layer's stride:
``r_out = r_in + (k−1)·j_in``, ``j_out = j_in·s``, ``start_out = start_in + ((k−1)/2 − p)·j_in``.

``AxisField`` computes the same exactly for any layer that reads a periodic pattern of input
pixels (``Taps``): sliding windows, transposed convolutions, whole-factor upsampling, adaptive
pooling. Through branches, the field of a sum or concatenation is the hull of its branches'
fields, pixel by pixel: the largest over the paths when they are centred alike (residual and
inception blocks, U-Net skips), and the true extent when they are not. ``ReceptiveField`` is the
textbook recurrence, kept for the mistake of growing by the local stride.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from fractions import Fraction
from math import gcd, lcm
from typing import Literal

from problems import budgets
from problems.budgets import MAX_FIELD_WORK

#: How the field grows: ``jump`` is right; ``local_stride`` (a known mistake) steps by the previous
#: layer's stride alone; ``stride_ignored`` (another) never applies a stride, so every layer adds k − 1.
FieldGrowth = Literal["jump", "local_stride", "stride_ignored"]


@dataclass(frozen=True)
class ReceptiveField:
    """Field size in input pixels, jump (cumulative stride) and the centre of the first field."""

    size: int = 1
    jump: int = 1
    start: Fraction = Fraction(0)

    def through(self, k: int, s: int = 1, p: int = 0, d: int = 1, growth: FieldGrowth = "jump") -> ReceptiveField:
        """The field after one sliding-window layer; ``growth`` models the mistakes of growing it
        by the previous layer's stride alone, or by no stride at all, instead of the cumulative jump.

        >>> ReceptiveField().through(5, 2, 2).through(5, 2, 2).through(5, 2, 2).size
        29
        >>> ReceptiveField().through(5, 2, 2, growth="stride_ignored").through(5, 2, 2, growth="stride_ignored").size
        9
        """
        span = d * (k - 1) + 1
        jump = {"jump": self.jump * s, "local_stride": s, "stride_ignored": 1}[growth]
        return ReceptiveField(
            size=self.size + (span - 1) * self.jump,
            jump=jump,
            start=self.start + (Fraction(span - 1, 2) - p) * self.jump,
        )


#: A field whose pattern repeats over more output pixels than this is not offered.
MAX_PERIOD = 4096

Span = tuple[int, int] | None


class IrregularField(ValueError):
    """A layer or a merge after which the field is not the same pattern at every output pixel."""


@dataclass(frozen=True)
class Taps:
    """Which input pixels each output pixel of a layer reads, along one axis: output pixel
    ``o = q·period + r`` reads the input pixels ``reads[r]`` shifted by ``q·shift``.

    >>> Taps.window(3, 2, 1).reads
    ((-1, 0, 1),)
    >>> Taps.transposed(3, 2, 1).reads  # even outputs read one input pixel, odd ones two
    ((0,), (0, 1))
    """

    period: int
    shift: int
    reads: tuple[tuple[int, ...], ...]

    @classmethod
    def window(cls, k: int, s: int = 1, p: int = 0, d: int = 1) -> Taps:
        """A sliding window (convolution, pooling, padding): output ``o`` reads ``o·s − p + t·d``, ``t < k``."""
        return cls(1, s, (tuple(t * d - p for t in range(k)),))

    @classmethod
    def transposed(cls, k: int, s: int = 1, p: int = 0, d: int = 1) -> Taps:
        """A transposed convolution: input ``x`` stamps its kernel on ``x·s − p + t·d``, so output
        ``o`` reads every ``x`` with ``x·s = o + p − t·d`` (none at all between sparse taps)."""
        if s * k > MAX_FIELD_WORK:
            raise IrregularField(f"a {k}-tap window with stride {s} has more taps to follow than {MAX_FIELD_WORK}")
        reads = (tuple(sorted({(r + p - t * d) // s for t in range(k) if (r + p - t * d) % s == 0})) for r in range(s))
        return cls(s, 1, tuple(reads))

    @classmethod
    def adaptive(cls, n_in: int, n_out: int) -> Taps:
        """Adaptive pooling: output ``o`` reads ``⌊o·n_in/n_out⌋`` to ``⌈(o+1)·n_in/n_out⌉ − 1`` (PyTorch's windows)."""
        g = gcd(n_in, n_out)
        if n_in // g + n_out // g > MAX_FIELD_WORK:
            raise IrregularField(f"pooling {n_in} pixels to {n_out} has more taps to follow than {MAX_FIELD_WORK}")
        reads = (tuple(range(r * n_in // n_out, -(-(r + 1) * n_in // n_out))) for r in range(n_out // g))
        return cls(n_out // g, n_in // g, tuple(reads))

    @classmethod
    def nearest(cls, factor: int) -> Taps:
        """Nearest upsampling by a whole factor: output ``o`` reads ``⌊o/f⌋``."""
        return cls(factor, 1, ((0,),) * factor)

    @classmethod
    def bilinear(cls, factor: int) -> Taps:
        """Bilinear upsampling by a whole factor (``align_corners=False``): output ``o`` sits at
        ``(o + ½)/f − ½`` in the input and reads its two neighbours, the far one only when its
        weight is not 0 (odd factors hit input pixels exactly)."""
        reads = []
        for r in range(factor):
            num, den = 2 * r + 1 - factor, 2 * factor
            reads.append((num // den,) if num % den == 0 else (num // den, num // den + 1))
        return cls(factor, 1, tuple(reads))


@dataclass(frozen=True)
class AxisField:
    """The receptive field along one axis, exactly, for every output pixel: pixel ``o = q·period + r``
    responds to the input pixels ``spans[r]`` shifted by ``q·shift`` (the extent from the first to
    the last; None when no input pixel reaches it). An ordinary network has period 1: one field
    for every pixel, moving by the jump (cumulative stride). Upsampling makes the jump a fraction
    ``shift/period`` and the field may differ from pixel to pixel; ``size`` is then the largest.
    Positions outside the input are counted (padding, as in Araujo et al.): the field of a pixel
    near the border is the same as in the middle.

    >>> AxisField().through(Taps.window(5, 2, 2)).through(Taps.window(5, 2, 2)).size
    13
    >>> up = AxisField().through(Taps.window(3, 2, 1)).through(Taps.transposed(3, 2, 1))
    >>> up.size, up.jump, up.spans
    (5, Fraction(1, 1), ((-1, 1), (-1, 3)))
    """

    period: int = 1
    shift: int = 1
    spans: tuple[Span, ...] = ((0, 0),)

    def span(self, o: int) -> Span:
        """Input pixels (first, last) that output pixel ``o`` responds to."""
        q, r = divmod(o, self.period)
        found = self.spans[r]
        return None if found is None else (found[0] + q * self.shift, found[1] + q * self.shift)

    @property
    def size(self) -> int:
        """The largest field of any output pixel, in input pixels."""
        return max((s[1] - s[0] + 1 for s in self.spans if s is not None), default=0)

    @property
    def jump(self) -> Fraction:
        """Input pixels between neighbouring output pixels, on average: the cumulative stride."""
        return Fraction(self.shift, self.period)

    def through(self, taps: Taps) -> AxisField:
        """The field after a layer that reads ``taps``."""
        repeat = self.period // gcd(self.period, taps.shift)
        period = taps.period * repeat
        if period > MAX_PERIOD:
            raise IrregularField(f"the field repeats only every {period} pixels")
        work = period * max(len(reads) for reads in taps.reads)
        if work > MAX_FIELD_WORK:
            raise IrregularField(f"the field has {work} taps to follow, more than {MAX_FIELD_WORK}")
        budgets.charge(work // budgets.TAPS_PER_STEP)
        spans = []
        for o in range(period):
            q, r = divmod(o, taps.period)
            spans.append(_hull(self.span(x + q * taps.shift) for x in taps.reads[r]))
        return AxisField(period, self.shift * repeat * taps.shift // self.period, tuple(spans)).reduced()

    def union(self, other: AxisField) -> AxisField:
        """The field of a sum or concatenation: per output pixel, from the first input pixel any
        branch reaches to the last. Branches that move at different rates have no common pattern."""
        if self.shift * other.period != other.shift * self.period:
            raise IrregularField(f"branches move by {self.jump} and {other.jump} input pixels per output pixel")
        period = lcm(self.period, other.period)
        if period > MAX_PERIOD:
            raise IrregularField(f"the branches' fields repeat only every {period} pixels together")
        spans = tuple(_hull((self.span(o), other.span(o))) for o in range(period))
        return AxisField(period, self.shift * (period // self.period), spans).reduced()

    def reduced(self) -> AxisField:
        """The same field written with its shortest period."""
        for period in range(1, self.period):
            if self.period % period or (self.shift * period) % self.period:
                continue
            shift = self.shift * period // self.period
            candidate = AxisField(period, shift, self.spans[:period])
            if all(candidate.span(o) == self.spans[o] for o in range(self.period)):
                return candidate
        return self


def _hull(spans: Iterable[Span]) -> Span:
    found = [s for s in spans if s is not None]
    if not found:
        return None
    return min(s[0] for s in found), max(s[1] for s in found)
