"""Output sizes of YOLO detection heads, from the papers.

v1 (Redmon et al. 2016): one class distribution per cell, ``B`` boxes of (x, y, w, h, conf):
depth ``5B + C``. v2 (2017): ``A`` anchors per cell, each with its own classes: ``A·(5+C)``.
v3 (2018) and v4: three scales (strides 32, 16, 8), 3 anchors each: ``3·(5+C)`` per scale.
v8 (Ultralytics, 2023): anchor-free, one prediction per cell at strides 8, 16 and 32, a decoupled
head of a box branch (``4·reg_max`` channels: a distribution over ``reg_max`` bins per side, which
DFL decodes to one distance) and a class branch (``C``): ``4·reg_max + C`` per cell, decoded to
``4 + C`` numbers per prediction.
"""

from __future__ import annotations

V3_STRIDES = (32, 16, 8)
V8_STRIDES = (8, 16, 32)


def v8_depth(classes: int, reg_max: int = 16) -> int:
    """Channels per cell of YOLOv8's head before decoding: the box branch's ``4·reg_max`` and the
    class branch's ``C``.

    >>> v8_depth(80)
    144
    """
    return 4 * reg_max + classes


def v8_decoded(classes: int) -> int:
    """Numbers per prediction once decoded: the box (DFL's four distances made x, y, w, h) and the
    class scores.

    >>> v8_decoded(80)
    84
    """
    return 4 + classes


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
