"""Receptive-field arithmetic (Araujo et al., Distill 2019; google-research/receptive_field).

A layer with effective kernel ``k`` and stride ``s`` grows the field by ``(k−1)`` steps of
the *cumulative* stride of all earlier layers (the jump), not of the previous layer's stride:
``r_out = r_in + (k−1)·j_in``, ``j_out = j_in·s``, ``start_out = start_in + ((k−1)/2 − p)·j_in``.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Literal

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
