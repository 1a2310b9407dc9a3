"""YOLO detection heads: output depth per grid cell, grid sizes, output tensors, box counts."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, model_validator

from problems.budgets import MAX_SIDE, MAX_UNITS
from problems.kinds import AnswerKind
from problems.solvers import yolo
from problems.solvers.checks import SettingError, within
from problems.solvers.steps import NO_TRACE, Derivations, MistakenSteps, Trace
from problems.types.base import ProblemSpec, Quantity, conclusion

INTEGER = AnswerKind.INTEGER
Units = Annotated[int, Field(gt=0), AfterValidator(within(MAX_UNITS, "a layer's units"))]
Side = Annotated[int, Field(gt=0), AfterValidator(within(MAX_SIDE, "a map's side"))]


class YoloProblem(ProblemSpec):
    """v1: ``grid`` S with ``boxes`` B per cell; v2: ``anchors`` per cell on a stride-32 grid;
    v3 (and v4): ``anchors`` per scale at strides 32, 16 and 8 of ``input_size``; v8: anchor-free,
    one prediction per cell at strides 8, 16 and 32, a box branch of ``4·reg_max`` channels (DFL)
    and a class branch of ``classes``. Quantities: ``depth`` (channels per cell), ``boxes``
    (predictions per image), ``grids``, ``grid.i``, ``shape.i`` (each scale's output, C×H×W),
    ``shapes``, ``output_shape``; for v8 also ``box_channels``, ``class_channels``, and ``decoded``
    (the decoded output, ``(4 + C)×predictions``, which is v8's ``output_shape``)."""

    type: Literal["yolo"] = "yolo"
    version: Literal["v1", "v2", "v3", "v8"] = Field(
        description="`v1` (an S×S grid, B boxes per cell, one set of class scores per cell), `v2` (anchors on a "
        "stride-32 grid, class scores per anchor), `v3` (also v4: anchors at strides 32, 16 and 8) or `v8` "
        "(anchor-free at strides 8, 16 and 32, a decoupled head: box branch with DFL, class branch)."
    )
    classes: Units = Field(description="Number of classes C.")
    boxes: Units = Field(default=2, description="v1: boxes B per grid cell.")
    grid: Side = Field(default=7, description="v1: the grid's side S.")
    anchors: Units | None = Field(
        default=None, description="v2, v3: anchors per cell (per scale); by default 5 (v2) or 3 (v3)."
    )
    input_size: Side | None = Field(
        default=None, description="v2, v3, v8: the input image's side, in pixels; by default 416 (v2, v3) or 640 (v8)."
    )
    reg_max: Units = Field(default=16, description="v8: DFL's bins per box side (the box branch has 4·reg_max).")

    @model_validator(mode="after")
    def _whole_grids(self) -> YoloProblem:
        """An input every grid divides, refused at ``input_size`` (v1's grid is given, not derived)."""
        grids = {
            "v2": "YOLOv2's grid is the input over stride 32",
            "v3": "YOLOv3's grids are the input over strides 32, 16 and 8",
            "v8": "YOLOv8's grids are the input over strides 8, 16 and 32",
        }
        if self.version in grids and self.side % 32:
            raise SettingError("input_size", f"{self.side} is not a multiple of 32: {grids[self.version]}")
        return self

    @property
    def side(self) -> int:
        return self.input_size if self.input_size is not None else (640 if self.version == "v8" else 416)

    def anchor_count(self) -> int:
        return self.anchors if self.anchors is not None else {"v2": 5, "v3": 3}.get(self.version, self.boxes)

    def solve(self, steps: Derivations | None = None) -> dict[str, Quantity]:
        if self.version == "v8":
            return self._solve_v8(steps)
        t = Trace() if steps is not None else NO_TRACE
        grids: tuple[int, ...]
        classes = t.given("C", self.classes)
        if self.version == "v1":
            per_cell = t.given("B", self.boxes)
            depth, grids = yolo.v1_depth(classes, per_cell), (t.given("S", self.grid),)
        else:
            strides = (32,) if self.version == "v2" else yolo.V3_STRIDES
            per_cell = t.given("A", self.anchor_count())
            depth = yolo.anchor_depth(classes, per_cell)
            grids = yolo.grid_sizes(t.given("I", self.side), strides)
        depth = t.equation("depth per cell", depth)
        if self.version != "v1":  # each grid is the input over its stride: its own step, then a name
            grids = tuple(
                t.given(f"S_{index}", t.equation(f"S_{index}", grid, f"S_{{{index}}}"), f"S_{{{index}}}")
                for index, grid in enumerate(grids, start=1)
            )
        boxes = t.equation("boxes", sum(g * g * per_cell for g in grids))
        grids = tuple(int(g) for g in grids)
        shapes = [(depth, g, g) for g in grids]
        found = {
            "depth": Quantity(INTEGER, depth),
            "boxes": Quantity(INTEGER, boxes),
            "shapes": Quantity(AnswerKind.SHAPE_LIST, shapes),
            "output_shape": Quantity(AnswerKind.SHAPE, shapes[0]),
        }
        found["grids"] = Quantity(AnswerKind.INTEGER_LIST, grids)
        for index, grid in enumerate(grids, start=1):
            found[f"grid.{index}"] = Quantity(INTEGER, grid)
            found[f"shape.{index}"] = Quantity(AnswerKind.SHAPE, shapes[index - 1])
        if steps is not None:
            self._steps(t, found, steps)
        return found

    def _solve_v8(self, steps: Derivations | None) -> dict[str, Quantity]:
        """YOLOv8's anchor-free head: per cell ``4·reg_max + C`` channels, one prediction per cell of
        the three grids, decoded to ``(4 + C)×predictions``; each quantity's steps as computed."""
        t = Trace() if steps is not None else NO_TRACE
        classes, reg_max = t.given("C", self.classes), t.given("reg_max", self.reg_max)
        box = t.equation("box branch channels (4 sides × reg_max bins)", 4 * reg_max)
        depth = t.equation("channels per cell", yolo.v8_depth(classes, reg_max))
        sides = [
            t.equation(f"S_{index}", grid, f"S_{{{index}}}")
            for index, grid in enumerate(yolo.grid_sizes(t.given("I", self.side), yolo.V8_STRIDES), start=1)
        ]
        named = [t.given(f"S_{index}", side, f"S_{{{index}}}") for index, side in enumerate(sides, start=1)]
        cells = named[0] * named[0]
        for side in named[1:]:
            cells = cells + side * side
        predictions = t.equation("predictions (one per cell of every grid)", cells)
        decoded = t.equation("numbers per prediction once decoded (4 box + C classes)", yolo.v8_decoded(classes))
        grids = tuple(int(side) for side in sides)
        shapes = [(int(depth), g, g) for g in grids]
        found = {
            "depth": Quantity(INTEGER, int(depth)),
            "box_channels": Quantity(INTEGER, int(box)),
            "class_channels": Quantity(INTEGER, self.classes),
            "boxes": Quantity(INTEGER, int(predictions)),
            "shapes": Quantity(AnswerKind.SHAPE_LIST, shapes),
            "grids": Quantity(AnswerKind.INTEGER_LIST, grids),
            "decoded": Quantity(AnswerKind.SHAPE, (int(decoded), int(predictions))),
        }
        found["output_shape"] = found["decoded"]
        for index, grid in enumerate(grids, start=1):
            found[f"grid.{index}"] = Quantity(INTEGER, grid)
            found[f"shape.{index}"] = Quantity(AnswerKind.SHAPE, shapes[index - 1])
        if steps is not None:
            box_step, depth_step, *grid_steps, count_step, decoded_step = t.steps
            steps["box_channels"] = (box_step,)
            steps["class_channels"] = (conclusion(f"the class branch: one score per class, {self.classes}",
                                                  found["class_channels"]),)  # fmt: skip
            steps["depth"] = (box_step, depth_step)
            steps["boxes"] = (*grid_steps, count_step)
            for index, side_step in enumerate(grid_steps, start=1):
                steps[f"grid.{index}"] = (side_step,)
                shown = f"{_shape(shapes[index - 1])} (C×H×W)"
                text = f"a {side_step.value}×{side_step.value} grid, {depth} channels per cell: {shown}"
                steps[f"shape.{index}"] = (depth_step, side_step, conclusion(text, found[f"shape.{index}"]))
            listed = "; ".join(_shape(s) for s in shapes)
            steps["shapes"] = (depth_step, *grid_steps, conclusion(f"one output per scale: {listed}", found["shapes"]))
            sides_text = ", ".join(map(str, grids))
            steps["grids"] = (*grid_steps, conclusion(f"the grids' sides: {sides_text}", found["grids"]))
            text = f"{decoded} numbers for each of {predictions:,} predictions: {decoded}×{predictions}"
            steps["decoded"] = steps["output_shape"] = (*grid_steps, count_step, decoded_step,
                                                        conclusion(text, found["decoded"]))  # fmt: skip
        return found

    def _steps(self, t: Trace, found: dict[str, Quantity], steps: Derivations) -> None:
        """The depth, each grid and the boxes as they were computed; shapes put them together."""
        depth, *grid_steps, boxes = t.steps
        if self.version == "v1":
            grid_steps = [conclusion(f"S = {self.grid}: the declared grid", found["grid.1"])]
        steps["depth"] = (depth,)
        steps["boxes"] = (*grid_steps, boxes)
        for index, grid in enumerate(grid_steps, start=1):
            steps[f"grid.{index}"] = (grid,)
            shape = found[f"shape.{index}"]
            cells = f"a {grid.value}×{grid.value} grid of cells, {depth.value} numbers per cell"
            text = f"{cells}: {_shape(shape.value)} (C×H×W)"
            steps[f"shape.{index}"] = (depth, grid, conclusion(text, shape))
        steps["output_shape"] = steps["shape.1"]
        listed = "; ".join(_shape(s) for s in found["shapes"].value)
        steps["shapes"] = (depth, *grid_steps, conclusion(f"one output per scale: {listed} (C×H×W)", found["shapes"]))
        sides = ", ".join(str(side) for side in found["grids"].value)
        steps["grids"] = (*grid_steps, conclusion(f"the grids' sides, one per scale: {sides}", found["grids"]))

    def mistakes(self, steps: MistakenSteps | None = None) -> dict[str, dict[str, Quantity]]:
        """Classes counted once per box (v1 is per cell) or once per cell (v2/v3 are per box);
        from v2 on, the anchors forgotten: one box of 5 + C per cell (and per cell in the count).
        v8 has none of these (no anchors, one set of class scores per prediction)."""
        if self.version == "v8":
            return {}
        if self.version == "v1":
            per_box = "yolo-classes-per-box"
            return {per_box: self._with_depth(per_box, lambda t, c: t.given("B", self.boxes) * (5 + c), steps)}
        per_cell, forgotten = "yolo-classes-per-cell", "anchors-forgotten"
        found = {
            per_cell: self._with_depth(per_cell, lambda t, c: 5 * t.given("A", self.anchor_count()) + c, steps),
            forgotten: self._with_depth(forgotten, lambda t, c: yolo.anchor_depth(c, t.given("A", 1)), steps),
        }
        found[forgotten]["boxes"] = Quantity(INTEGER, self.solve()["boxes"].value // self.anchor_count())
        return found

    def _with_depth(
        self, code: str, depth_of: Callable[[Trace, int], int], steps: MistakenSteps | None
    ) -> dict[str, Quantity]:
        """The output shapes with the depth per cell a mistake computes (``depth_of`` the classes),
        and, asked for, the mistake's steps: its depth, then the right grids."""
        t = Trace() if steps is not None else NO_TRACE
        depth = t.equation("depth per cell", depth_of(t, t.given("C", self.classes)))
        worked = Derivations() if steps is not None else None
        found = self.solve() if worked is None else self.solve(worked)
        changed = {"depth": Quantity(INTEGER, depth)}
        for name in ("output_shape", *(n for n in found if n.startswith("shape."))):
            _, h, w = found[name].value
            changed[name] = Quantity(AnswerKind.SHAPE, (depth, h, w))
        changed["shapes"] = Quantity(AnswerKind.SHAPE_LIST, [(depth, h, w) for _, h, w in found["shapes"].value])
        if steps is not None and worked is not None:  # the right grid, the mistaken depth
            wrong = t.steps[0]
            collector = steps.collector(code)
            collector["depth"] = (wrong,)
            for name, quantity in changed.items():
                if name != "depth":
                    shown = "; ".join(map(_shape, quantity.value)) if name == "shapes" else _shape(quantity.value)
                    text = f"{depth} numbers per cell: {shown} (C×H×W)"
                    collector[name] = (wrong, *worked[name][1:-1], conclusion(text, quantity))
        return changed

    def describe(self) -> str:
        if self.version == "v1":
            grid = f"{self.grid}×{self.grid}"
            return f"YOLOv1 with an S×S = {grid} grid, B = {self.boxes} boxes per cell, {self.classes} classes."
        if self.version == "v8":
            return (
                f"YOLOv8's anchor-free head on a {self.side}×{self.side} input, {self.classes} classes, strides 8, 16 "
                f"and 32, a box branch with DFL (reg_max {self.reg_max}) and a class branch."
            )
        scales = "one scale (stride 32)" if self.version == "v2" else "three scales (strides 32, 16, 8)"
        return (
            f"YOLO{self.version} on a {self.side}×{self.side} input, {self.classes} classes, "
            f"{self.anchor_count()} anchors per cell at {scales}."
        )


def _shape(shape: tuple[int, ...]) -> str:
    return "×".join(map(str, shape))
