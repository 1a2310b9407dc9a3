"""The output size of a sliding window, right and under each known mistake, with the working a
student reads: a wrong output shape is explained by the size formula before any value is."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from problems.code.kinds.base import Shape, ShapeReading


@dataclass(frozen=True)
class Side:
    """One axis of a window's slide: its name (``H``), the input's size, the kernel, stride, padding."""

    name: str
    n: int
    k: int
    s: int
    p: int

    def size(self, *, plus_one: bool = True, pad: int | None = None, stride: int | None = None) -> int:
        p = self.p if pad is None else pad
        s = self.s if stride is None else stride
        return (self.n + 2 * p - self.k) // s + (1 if plus_one else 0)

    def working(self) -> str:
        """``H' = ⌊(H + 2P − K)/S⌋ + 1 = ⌊(5 + 2·1 − 3)/1⌋ + 1 = 5``."""
        padding = " + 2P" if self.p else ""
        numbers = f" + 2·{self.p}" if self.p else ""
        return (
            f"{self.name}' = ⌊({self.name}{padding} − K)/S⌋ + 1 = ⌊({self.n}{numbers} − {self.k})/{self.s}⌋ + 1 "
            f"= {self.size()}"
        )


#: Each mistake's output size of one side, and what it leaves out, in the order they are named.
_MISTAKEN: tuple[tuple[str, str, Callable[[Side], int | None]], ...] = (
    ("missing-plus-one", "without the +1 of the size formula", lambda side: side.size(plus_one=False)),
    ("padding-ignored", "without the padding", lambda side: side.size(pad=0) if side.p and side.n >= side.k else None),
    (
        "padding-one-side",
        "with the padding on one side only",
        lambda side: (side.n + side.p - side.k) // side.s + 1 if side.p and side.n + side.p >= side.k else None,
    ),
    ("stride-ignored", "at stride 1", lambda side: side.size(stride=1) if side.s > 1 else None),
)


def side_readings(sides: tuple[Side, Side], shapes: Callable[[int, int], tuple[Shape, ...]]) -> list[ShapeReading]:
    """The right shapes (``shapes(H', W')``) with their working, then each mistake's that differs."""
    first, second = sides
    right = shapes(first.size(), second.size())
    readings = [ShapeReading(None, right, f"{first.working()}; {second.working()}")]
    for code, what, size in _MISTAKEN:
        h, w = size(first), size(second)
        if h is None or w is None or h < 1 or w < 1:
            continue
        mistaken = shapes(h, w)
        if mistaken != right:
            readings.append(ShapeReading(code, mistaken, f"the size {what} ({h}×{w})"))
    return readings


def map_readings(sides: tuple[Side, Side], batch: int, channels: int, letter: str) -> list[ShapeReading]:
    """The readings of a forward pass's (N, C, H', W') output: the sizes right and under each
    mistake, then the right sizes with the channels last (N×H'×W'×C, named by ``letter``)."""
    readings = side_readings(sides, lambda h, w: ((batch, channels, h, w),))
    _, _, h_out, w_out = readings[0].shapes[0]
    described = f"the right sizes with the channels last (N×H'×W'×{letter})"
    readings.append(ShapeReading("channel-order", ((batch, h_out, w_out, channels),), described))
    return readings
