"""Detection geometry: boxes' areas and overlaps (IoU), non-maximum suppression, and the anchor
grids of SSD and Faster R-CNN's region proposal network, as ``torchvision.ops`` and
``torchvision.models.detection`` compute them. Boxes are ``(x1, y1, x2, y2)`` corners in pixels;
the arithmetic is exact (fractions), so an IoU is the ratio of two areas, not a rounded float.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Literal

Number = int | Fraction
Box = tuple[Number, Number, Number, Number]
#: How a backbone's halvings round a map's side: up (a stride-2 layer padded by ``k // 2``) or
#: down (unpadded 2×2 pooling).
Rounding = Literal["ceil", "floor"]


def area(box: Box) -> Number:
    """``(x2 − x1)·(y2 − y1)`` (``torchvision.ops.box_area``).

    >>> area((0, 0, 4, 3))
    12
    """
    x1, y1, x2, y2 = box
    return (x2 - x1) * (y2 - y1)


def overlap(a: Box, b: Box) -> tuple[Number, Number]:
    """The intersection's width and height: ``max(0, min(x2) − max(x1))`` and the same along y."""
    width = max(0, min(a[2], b[2]) - max(a[0], b[0]))
    height = max(0, min(a[3], b[3]) - max(a[1], b[1]))
    return width, height


def iou(a: Box, b: Box) -> Fraction:
    """Intersection over union, ``I/(A_a + A_b − I)`` (``torchvision.ops.box_iou``).

    >>> iou((0, 0, 2, 2), (1, 1, 3, 3))
    Fraction(1, 7)
    """
    width, height = overlap(a, b)
    inter = width * height
    return Fraction(inter) / (area(a) + area(b) - inter)


def nms(boxes: list[Box], scores: list[Number], threshold: Number) -> list[int]:
    """Non-maximum suppression (``torchvision.ops.nms``): the boxes in decreasing score, each kept
    unless its IoU with a box kept before it is above ``threshold``; the kept indices, best first.

    >>> nms([(0, 0, 2, 2), (0, 0, 2, 3), (5, 5, 6, 6)], [0.9, 0.8, 0.7], Fraction(1, 2))
    [0, 2]
    """
    order = sorted(range(len(boxes)), key=lambda i: -scores[i])
    kept: list[int] = []
    for index in order:
        if all(iou(boxes[index], boxes[other]) <= threshold for other in kept):
            kept.append(index)
    return kept


def anchors_per_location(sizes: int, ratios: int) -> int:
    """Anchors at each position of one level: a size and an aspect ratio each
    (``AnchorGenerator.num_anchors_per_location``).

    >>> anchors_per_location(1, 3)  # Faster R-CNN with an FPN: one size per level, three ratios
    3
    """
    return sizes * ratios


def level_anchors(height: int, width: int, per_location: int) -> int:
    """Anchors of one level: every position of its ``H×W`` map, ``H·W·A``.

    >>> level_anchors(38, 38, 4)  # SSD300's conv4_3
    5776
    """
    return height * width * per_location


def strided_side(n: int, stride: int, rounding: Rounding = "ceil") -> int:
    """A map's side at ``stride`` (a power of two) of an ``n``-pixel image, halved by layers that
    all round the same way: ``⌈n/s⌉`` where each stride-2 layer is padded by ``k // 2`` (torchvision's
    ResNets, so their FPN's P2–P5; its P6 is ``max_pool2d(P5, 1, 2)``, which rounds up too), ``⌊n/s⌋``
    where unpadded 2×2 pooling halves (VGG). Rounding at each halving is rounding once:
    ``⌈⌈n/2⌉/2⌉ = ⌈n/4⌉``, which is why the stride is a power of two.

    >>> strided_side(800, 64)  # P6 of an FPN on an 800×800 image
    13
    >>> strided_side(600, 16, "floor")  # conv5_3 of VGG-16 on Faster R-CNN's 600-pixel side
    37
    """
    return -(-n // stride) if rounding == "ceil" else n // stride
