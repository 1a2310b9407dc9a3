"""Output sizes of YOLO detection heads, from the papers.

v1 (Redmon et al. 2016): one class distribution per cell, ``B`` boxes of (x, y, w, h, conf):
depth ``5B + C``. v2 (2017): ``A`` anchors per cell, each with its own classes: ``A·(5+C)``.
v3 (2018) and v4: three scales (strides 32, 16, 8), 3 anchors each: ``3·(5+C)`` per scale.
"""

from __future__ import annotations

V3_STRIDES = (32, 16, 8)


def v1_depth(classes: int, boxes: int = 2) -> int:
    """>>> v1_depth(20)
    30
    """
    return 5 * boxes + classes


def anchor_depth(classes: int, anchors: int) -> int:
    """Depth when each anchor carries its own class scores (v2, v3, v4).

    >>> anchor_depth(80, 3)
    255
    """
    return anchors * (5 + classes)


def grid_sizes(input_size: int, strides: tuple[int, ...] = V3_STRIDES) -> tuple[int, ...]:
    """Grid side per scale; the input must be a multiple of every stride.

    >>> grid_sizes(416)
    (13, 26, 52)
    """
    for stride in strides:
        if input_size % stride:
            raise ValueError(f"input {input_size} is not a multiple of stride {stride}")
    return tuple(input_size // stride for stride in strides)


def total_boxes(input_size: int, anchors: int = 3, strides: tuple[int, ...] = V3_STRIDES) -> int:
    """Boxes predicted over all scales.

    >>> total_boxes(416)
    10647
    """
    return sum(g * g * anchors for g in grid_sizes(input_size, strides))
