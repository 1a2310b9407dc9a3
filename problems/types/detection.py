"""YOLO detection heads: output depth per grid cell, grid sizes, output tensors, box counts."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, Field

from problems.budgets import MAX_SIDE, MAX_UNITS
from problems.kinds import AnswerKind
from problems.solvers import yolo
from problems.solvers.checks import within
from problems.types.base import ProblemSpec, Quantity

INTEGER = AnswerKind.INTEGER
Units = Annotated[int, Field(gt=0), AfterValidator(within(MAX_UNITS, "a layer's units"))]
Side = Annotated[int, Field(gt=0), AfterValidator(within(MAX_SIDE, "a map's side"))]


class YoloProblem(ProblemSpec):
    """v1: ``grid`` S with ``boxes`` B per cell; v2: ``anchors`` per cell on a stride-32 grid;
    v3 (and v4): ``anchors`` per scale at strides 32, 16 and 8 of ``input_size``."""

    type: Literal["yolo"] = "yolo"
    version: Literal["v1", "v2", "v3"] = Field(
        description="`v1` (an S×S grid, B boxes per cell, one set of class scores per cell), `v2` (anchors on a "
        "stride-32 grid, class scores per anchor) or `v3` (also v4: anchors at strides 32, 16 and 8)."
    )
    classes: Units = Field(description="Number of classes C.")
    boxes: Units = Field(default=2, description="v1: boxes B per grid cell.")
    grid: Side = Field(default=7, description="v1: the grid's side S.")
    anchors: Units | None = Field(
        default=None, description="v2, v3: anchors per cell (per scale); by default 5 (v2) or 3 (v3)."
    )
    input_size: Side = Field(default=416, description="v2, v3: the input image's side, in pixels.")

    def anchor_count(self) -> int:
        return self.anchors if self.anchors is not None else {"v2": 5, "v3": 3}.get(self.version, self.boxes)

    def solve(self) -> dict[str, Quantity]:
        grids: tuple[int, ...]
        if self.version == "v1":
            depth, grids, per_cell = yolo.v1_depth(self.classes, self.boxes), (self.grid,), self.boxes
        else:
            strides = (32,) if self.version == "v2" else yolo.V3_STRIDES
            depth = yolo.anchor_depth(self.classes, self.anchor_count())
            grids, per_cell = yolo.grid_sizes(self.input_size, strides), self.anchor_count()
        shapes = [(depth, g, g) for g in grids]
        found = {
            "depth": Quantity(INTEGER, depth),
            "boxes": Quantity(INTEGER, sum(g * g * per_cell for g in grids)),
            "shapes": Quantity(AnswerKind.SHAPE_LIST, shapes),
            "output_shape": Quantity(AnswerKind.SHAPE, shapes[0]),
        }
        found["grids"] = Quantity(AnswerKind.INTEGER_LIST, grids)
        for index, grid in enumerate(grids, start=1):
            found[f"grid.{index}"] = Quantity(INTEGER, grid)
            found[f"shape.{index}"] = Quantity(AnswerKind.SHAPE, shapes[index - 1])
        return found

    def mistakes(self) -> dict[str, dict[str, Quantity]]:
        """Classes counted once per box (v1 is per cell) or once per cell (v2/v3 are per box);
        from v2 on, the anchors forgotten: one box of 5 + C per cell (and per cell in the count)."""
        if self.version == "v1":
            return {"yolo-classes-per-box": self._with_depth(self.boxes * (5 + self.classes))}
        forgotten = self._with_depth(yolo.anchor_depth(self.classes, 1))
        forgotten["boxes"] = Quantity(INTEGER, self.solve()["boxes"].value // self.anchor_count())
        return {
            "yolo-classes-per-cell": self._with_depth(5 * self.anchor_count() + self.classes),
            "anchors-forgotten": forgotten,
        }

    def _with_depth(self, depth: int) -> dict[str, Quantity]:
        """The output shapes with another depth per cell."""
        found = self.solve()
        changed = {"depth": Quantity(INTEGER, depth)}
        for name in ("output_shape", *(n for n in found if n.startswith("shape."))):
            _, h, w = found[name].value
            changed[name] = Quantity(AnswerKind.SHAPE, (depth, h, w))
        changed["shapes"] = Quantity(AnswerKind.SHAPE_LIST, [(depth, h, w) for _, h, w in found["shapes"].value])
        return changed

    def describe(self) -> str:
        if self.version == "v1":
            grid = f"{self.grid}×{self.grid}"
            return f"YOLOv1 with an S×S = {grid} grid, B = {self.boxes} boxes per cell, {self.classes} classes."
        scales = "one scale (stride 32)" if self.version == "v2" else "three scales (strides 32, 16, 8)"
        return (
            f"YOLO{self.version} on a {self.input_size}×{self.input_size} input, {self.classes} classes, "
            f"{self.anchor_count()} anchors per cell at {scales}."
        )
