"""The kinds of answer a part can ask for, and the layouts a shape can be written in.

A closed set: the grading engine dispatches on it exhaustively. The value a reference
solver produces for each kind:

- ``integer``: ``int``
- ``real`` and ``percent``: ``fractions.Fraction`` (exact) or ``float``; ``percent`` values
  are in percent (95.2 means 95.2 %)
- ``matrix``: 2-D ``numpy.ndarray``; ``tensor``: 3-D ``numpy.ndarray`` (C, H, W)
- ``shape``: ``tuple[int, ...]`` in the part's layout; ``shape_list``: ``list`` of those
- ``integer_list``: ``tuple[int, ...]``, in order (the grid sizes of a detection head)
- ``formula``: a sympy expression; ``formula_shape``: ``tuple`` of sympy expressions
"""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING, TypeAlias

from problems.solvers.activations import MEMORY_UNITS

if TYPE_CHECKING:
    import sympy

#: A JSON value: an answer as a request or a batch file sends it, a reference answer as
#: ``problems.render.to_json`` writes it, a set file's parameters. For type checking only: a
#: pydantic field takes ``pydantic.JsonValue`` (this alias's forward references recurse there).
JSON: TypeAlias = str | int | float | bool | list["JSON"] | dict[str, "JSON"] | None


class AnswerKind(StrEnum):
    INTEGER = "integer"
    REAL = "real"
    PERCENT = "percent"
    MATRIX = "matrix"
    TENSOR = "tensor"
    SHAPE = "shape"
    SHAPE_LIST = "shape_list"
    FORMULA = "formula"
    FORMULA_SHAPE = "formula_shape"
    INTEGER_LIST = "integer_list"


class Dimension(StrEnum):
    """What a number answer measures, so that a unit the student states can be checked and
    converted (``61.0 MB`` on a ``bytes`` part is 61,000,000): a count of values, bytes,
    multiply-accumulates, floating-point operations, parameters, a percentage, or a length in pixels."""

    COUNT = "count"
    BYTES = "bytes"
    MACS = "macs"
    FLOPS = "flops"
    PARAMETERS = "parameters"
    PERCENT = "percent"
    LENGTH = "length"


#: The dimension of each family of quantities, by the name before the dot (``memory.conv1``).
_DIMENSIONS = {"macs": Dimension.MACS, "flops": Dimension.FLOPS}
_DIMENSIONS |= {family: Dimension.BYTES for family in MEMORY_UNITS}
_DIMENSIONS |= {name: Dimension.PARAMETERS for name in ("params", "fan_in")}
_DIMENSIONS |= {name: Dimension.COUNT for name in ("values", "tokens", "buffers", "state", "boxes", "count")}
_DIMENSIONS |= {name: Dimension.COUNT for name in ("filters", "channels", "layers", "depth", "frames")}
_LENGTHS = ("side", "height", "width", "length", "rf", "rf_h", "rf_w", "kernel", "kernel_eff", "padding", "grid")
_DIMENSIONS |= {name: Dimension.LENGTH for name in (*_LENGTHS, "pad_top", "pad_bottom", "pad_left", "pad_right")}


def dimension_of(quantity: str) -> Dimension | None:
    """The dimension of a named quantity, or None where it is not known (its unit is not checked).

    >>> dimension_of("memory.conv1"), dimension_of("params_reduction.total"), dimension_of("avg.pool")
    (<Dimension.BYTES: 'bytes'>, <Dimension.PERCENT: 'percent'>, None)
    """
    family = quantity.split(".")[0]
    return Dimension.PERCENT if family.endswith("_reduction") else _DIMENSIONS.get(family)


def unit_size(quantity: str) -> int:
    """How many of its dimension's base units one unit of a named quantity is: a memory asked in
    MiB (``memory_mib.conv1``) is counted in 2**20 bytes, so an answer stated in a unit is read in
    that unit (``4.82 MB`` is 4.5967… there); 1 for every other quantity.

    >>> unit_size("memory_mib.total"), unit_size("memory.total"), unit_size("macs.conv1")
    (1048576, 1, 1)
    """
    family = quantity.split(".")[0]
    return MEMORY_UNITS[family][0] if family in MEMORY_UNITS else 1


class SequenceShape(tuple[int, ...]):
    """A sequence's map (C, L) in solver order, which a layout writes channels last where it puts
    channels last (``L×C``); a plain pair is something else (a receptive field's H×W)."""

    __slots__ = ()


class Layout(StrEnum):
    """How a shape is written: the letters name the axes in order (C channels, H height, W width)."""

    HWC = "HWC"
    CHW = "CHW"
    WHC = "WHC"
    HW = "HW"

    def arrange(self, chw: tuple[int, ...]) -> tuple[int, ...]:
        """Reorder a solver shape ``(C, H, W)`` into this layout; flat shapes stay as they are.

        >>> Layout.WHC.arrange((40, 10, 12))
        (12, 10, 40)

        A clip (C, T, H, W) or a sequence (C, L) (a ``SequenceShape``: other pairs, a receptive
        field's H×W, stay as they are) keeps its axes in order, channels last where the layout puts
        them last: ``Layout.HWC.arrange((3, 16, 112, 112)) == (16, 112, 112, 3)``.
        """
        if len(chw) == 4 or isinstance(chw, SequenceShape):
            return (*chw[1:], chw[0]) if self.value.endswith("C") else tuple(chw)
        if len(chw) != 3:
            return chw
        axes = {"C": chw[0], "H": chw[1], "W": chw[2]}
        return tuple(axes[letter] for letter in self.value)

    def to_chw(self, shape: tuple[int, ...], channels: int) -> tuple[int, ...]:
        """A shape written in this layout back in solver order; ``channels`` fills a layout without C.

        >>> Layout.WHC.to_chw((12, 10, 40), 0)
        (40, 10, 12)
        """
        if len(shape) in (2, 4):
            return (shape[-1], *shape[:-1]) if self.value.endswith("C") else shape
        if len(shape) != len(self.value):
            return shape
        axes = dict(zip(self.value, shape, strict=True))
        return axes.get("C", channels), axes["H"], axes["W"]


def formula_symbol(name: str) -> sympy.Symbol:
    """The one way to make a formula symbol: a reference formula and a student's formula only
    cancel when their symbols carry the same assumptions (positive integers: sizes and counts)."""
    import sympy  # (imported as a formula is met: see grader.reading.formulas)

    return sympy.Symbol(name, positive=True, integer=True)
