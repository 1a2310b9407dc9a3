"""Detection geometry outside YOLO: boxes (areas, IoU, non-maximum suppression) and anchor grids
(SSD, Faster R-CNN's region proposal network), computed by ``problems.solvers.boxes``."""

from __future__ import annotations

from fractions import Fraction
from itertools import combinations
from typing import Annotated, Literal, Self

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from problems.budgets import MAX_SIDE, MAX_UNITS
from problems.kinds import AnswerKind
from problems.render import to_json, to_text
from problems.solvers import boxes as geometry
from problems.solvers.checks import within
from problems.solvers.steps import Derivations, MistakenSteps, Step
from problems.types.base import ProblemSpec, Quantity, conclusion

INTEGER, REAL = AnswerKind.INTEGER, AnswerKind.REAL
Side = Annotated[int, Field(gt=0), AfterValidator(within(MAX_SIDE, "a map's side"))]
Units = Annotated[int, Field(gt=0), AfterValidator(within(MAX_UNITS, "a layer's units"))]
#: The most boxes a problem holds: every pair's IoU is a quantity.
MAX_BOXES = 20


def _number(value: float) -> int | Fraction:
    """A coordinate or a score exactly as written (0.1 is 1/10, not the nearest double)."""
    return int(value) if float(value).is_integer() else Fraction(str(value))


def _text(value: int | Fraction) -> str:
    return to_text(REAL, value)


class BoxesProblem(ProblemSpec):
    """Boxes as ``[x1, y1, x2, y2]`` corners, numbered from 1 in the order given (from 0 with
    ``numbered_from: 0``, as torchvision numbers them). Quantities: ``area.I``,
    ``intersection.I.J``, ``union.I.J``, ``iou.I.J`` for every pair (``I < J``); with ``scores``,
    ``nms`` (the kept boxes' numbers, best first, as ``torchvision.ops.nms`` keeps them at
    ``iou_threshold``) and ``kept`` (how many)."""

    type: Literal["boxes"] = "boxes"
    boxes: list[tuple[float, float, float, float]] = Field(
        min_length=1, max_length=MAX_BOXES, description="The boxes: `[x1, y1, x2, y2]` each, x2 > x1 and y2 > y1."
    )
    scores: list[float] | None = Field(
        default=None, description="Each box's score, for non-maximum suppression (all different)."
    )
    iou_threshold: float = Field(
        default=0.5,
        ge=0,
        le=1,
        description="Non-maximum suppression drops a box whose IoU with a kept one is above it.",
    )
    numbered_from: Literal[0, 1] = Field(
        default=1,
        description="The first box's number, in the quantities' names (`area.0`, `iou.0.1`), in `nms` and in the "
        "steps: 1, or 0 as torchvision numbers them (`torchvision.ops.nms` returns indices from 0).",
    )

    @model_validator(mode="after")
    def _well_formed(self) -> Self:
        for index, (x1, y1, x2, y2) in enumerate(self.boxes):
            if x2 <= x1 or y2 <= y1:
                raise ValueError(f"boxes.{index}: [x1, y1, x2, y2] with x2 > x1 and y2 > y1, not {[x1, y1, x2, y2]}")
        if self.scores is not None:
            if len(self.scores) != len(self.boxes):
                raise ValueError(f"{len(self.scores)} scores for {len(self.boxes)} boxes: one score per box")
            if len(set(self.scores)) != len(self.scores):
                raise ValueError("scores must differ: the order of suppression depends on them")
        return self

    def corners(self) -> list[geometry.Box]:
        return [(_number(a), _number(b), _number(c), _number(d)) for a, b, c, d in self.boxes]

    def solve(self, steps: Derivations | None = None) -> dict[str, Quantity]:
        boxes = self.corners()
        found: dict[str, Quantity] = {}
        worked: dict[str, tuple[Step, ...]] = {}
        first = self.numbered_from
        for number, box in enumerate(boxes, start=first):
            found[f"area.{number}"] = Quantity(INTEGER if isinstance(box[0], int) else REAL, geometry.area(box))
            width, height = box[2] - box[0], box[3] - box[1]
            sides = f"{_text(width)}·{_text(height)}"
            worked[f"area.{number}"] = (
                self._step(f"area of box {number} = (x2 − x1)·(y2 − y1) = {sides}", found[f"area.{number}"]),
            )
        for (i, a), (j, b) in combinations(enumerate(boxes, start=first), 2):
            pair = f"{i}.{j}"
            width, height = geometry.overlap(a, b)
            inter = width * height
            union = geometry.area(a) + geometry.area(b) - inter
            found[f"intersection.{pair}"] = Quantity(REAL, inter)
            found[f"union.{pair}"] = Quantity(REAL, union)
            found[f"iou.{pair}"] = Quantity(REAL, geometry.iou(a, b))
            overlap_step = self._step(
                f"intersection of boxes {i} and {j} = max(0, min(x2) − max(x1))·max(0, min(y2) − max(y1)) = "
                f"{_text(width)}·{_text(height)}",
                found[f"intersection.{pair}"],
            )
            union_step = self._step(
                f"union = area {i} + area {j} − intersection = {_text(geometry.area(a))} + "
                f"{_text(geometry.area(b))} − {_text(inter)}",
                found[f"union.{pair}"],
            )
            worked[f"intersection.{pair}"] = (overlap_step,)
            worked[f"union.{pair}"] = (overlap_step, union_step)
            iou_step = self._step(f"IoU = intersection/union = {_text(inter)}/{_text(union)}", found[f"iou.{pair}"])
            worked[f"iou.{pair}"] = (overlap_step, union_step, iou_step)
        if self.scores is not None:
            self._suppression(boxes, first, found, worked)
        if steps is not None:
            for name, quantity_steps in worked.items():
                if steps.wants(name):
                    steps[name] = quantity_steps
        return found

    def _suppression(
        self, boxes: list[geometry.Box], first: int, found: dict[str, Quantity], worked: dict[str, tuple[Step, ...]]
    ) -> None:
        """``nms`` and ``kept``, the boxes numbered from ``first``."""
        assert self.scores is not None
        scores = [_number(s) for s in self.scores]
        threshold = _number(self.iou_threshold)
        kept = geometry.nms(boxes, scores, threshold)
        lines: list[Step] = []
        chosen: list[int] = []
        for index in sorted(range(len(boxes)), key=lambda i: -scores[i]):
            over = [o for o in chosen if geometry.iou(boxes[index], boxes[o]) > threshold]
            if over:
                overlap = to_text(REAL, geometry.iou(boxes[index], boxes[over[0]]))
                why = f"IoU {overlap} with box {over[0] + first} is above {_text(threshold)}: suppressed"
            else:
                chosen.append(index)
                why = "overlaps no kept box above the threshold: kept"
            lines.append(Step(f"box {index + first} (score {_text(scores[index])}): {why}"))
        found["nms"] = Quantity(AnswerKind.INTEGER_LIST, [i + first for i in kept])
        found["kept"] = Quantity(INTEGER, len(kept))
        order = Step("In decreasing score, each box is kept unless it overlaps a kept box above the threshold.")
        worked["nms"] = (order, *lines, conclusion("the kept boxes, best first", found["nms"]))
        worked["kept"] = (order, *lines, conclusion(f"{len(kept)} boxes kept", found["kept"]))

    def mistakes(self, steps: MistakenSteps | None = None) -> dict[str, dict[str, Quantity]]:
        """The kept boxes numbered the other way: torchvision's indices from 0 where the question
        numbers from 1, or the reverse (the same suppression, every number one off)."""
        if self.scores is None:
            return {}
        other = 1 - self.numbered_from
        code = f"boxes-numbered-from-{other}"
        found: dict[str, Quantity] = {}
        worked: dict[str, tuple[Step, ...]] = {}
        self._suppression(self.corners(), other, found, worked)
        if steps is not None and (collector := steps.collector(code)).wants("nms"):
            collector["nms"] = worked["nms"]
        return {code: {"nms": found["nms"]}}

    @staticmethod
    def _step(text: str, quantity: Quantity) -> Step:
        return Step(f"{text} = {to_text(quantity.kind, quantity.value)}", value=to_json(quantity.kind, quantity.value))

    def describe(self) -> str:
        listed = "; ".join(f"box {i}: {list(box)}" for i, box in enumerate(self.boxes, start=self.numbered_from))
        text = f"Boxes as [x1, y1, x2, y2]: {listed}."
        if self.scores is not None:
            text += f" Scores {self.scores}; non-maximum suppression at IoU {self.iou_threshold}."
        return text


class AnchorLevel(BaseModel):
    """One feature map of a detector: its grid, and its anchors per position (given, or a size and
    an aspect ratio each)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    grid: Side | tuple[Side, Side] = Field(description="The feature map's side (or `[H, W]`).")
    anchors: Units | None = Field(default=None, description="Anchors per position (SSD's 4 or 6).")
    sizes: list[float] | None = Field(default=None, min_length=1, description="Anchor sizes (pixels) at this level.")
    ratios: list[float] | None = Field(default=None, min_length=1, description="Aspect ratios at this level.")

    @model_validator(mode="after")
    def _one_way(self) -> Self:
        if (self.anchors is None) == (self.sizes is None or self.ratios is None):
            raise ValueError("give `anchors` per position, or `sizes` and `ratios` (one anchor each pair)")
        return self

    def per_location(self) -> int:
        if self.anchors is not None:
            return self.anchors
        assert self.sizes is not None and self.ratios is not None
        return geometry.anchors_per_location(len(self.sizes), len(self.ratios))

    def sides(self) -> tuple[int, int]:
        return (self.grid, self.grid) if isinstance(self.grid, int) else self.grid


class AnchorsProblem(ProblemSpec):
    """Anchor grids of SSD (``head: ssd``: per level, ``A·classes`` class scores and ``4·A`` box
    offsets per position) or of Faster R-CNN's region proposal network (``head: rpn``: ``A``
    objectness scores and ``4·A`` offsets, one head shared by every level). Quantities:
    ``per_location.I``, ``anchors.I`` (``H·W·A``), ``anchors`` (all levels), ``cls_channels.I``,
    ``box_channels.I``."""

    type: Literal["anchors"] = "anchors"
    head: Literal["ssd", "rpn"] = Field(description="`ssd` (class scores per anchor) or `rpn` (objectness).")
    levels: list[AnchorLevel] = Field(min_length=1, max_length=16, description="The feature maps, in order.")
    classes: Units = Field(default=2, description="SSD: classes scored per anchor, the background included.")

    def solve(self, steps: Derivations | None = None) -> dict[str, Quantity]:
        found: dict[str, Quantity] = {}
        worked: dict[str, tuple[Step, ...]] = {}
        total, terms = 0, []
        for number, level in enumerate(self.levels, start=1):
            per = level.per_location()
            height, width = level.sides()
            count = geometry.level_anchors(height, width, per)
            total += count
            terms.append(count)
            scores = per if self.head == "rpn" else per * self.classes
            found |= {
                f"per_location.{number}": Quantity(INTEGER, per),
                f"anchors.{number}": Quantity(INTEGER, count),
                f"cls_channels.{number}": Quantity(INTEGER, scores),
                f"box_channels.{number}": Quantity(INTEGER, 4 * per),
            }
            how = (
                f"{len(level.sizes or [])} sizes × {len(level.ratios or [])} ratios"
                if level.anchors is None
                else "declared"
            )
            per_step = Step(f"level {number}: A = {per} anchors per position ({how})", value=per)
            worked[f"per_location.{number}"] = (per_step,)
            worked[f"anchors.{number}"] = (per_step, Step(f"H·W·A = {height}·{width}·{per} = {count:,}", value=count))
            kind = "A objectness scores" if self.head == "rpn" else f"A·classes = {per}·{self.classes}"
            worked[f"cls_channels.{number}"] = (per_step, Step(f"{kind}: {scores} channels", value=scores))
            worked[f"box_channels.{number}"] = (per_step, Step(f"4·A = 4·{per} = {4 * per} channels", value=4 * per))
        found["anchors"] = Quantity(INTEGER, total)
        listed = " + ".join(f"{t:,}" for t in terms)
        worked["anchors"] = (
            *(worked[f"anchors.{n}"][-1] for n in range(1, len(self.levels) + 1)),
            Step(f"anchors over the levels: {listed} = {total:,}", value=total),
        )
        if steps is not None:
            for name, quantity_steps in worked.items():
                if steps.wants(name):
                    steps[name] = quantity_steps
        return found

    def describe(self) -> str:
        levels = "; ".join(
            f"{'×'.join(map(str, level.sides()))} with "
            + (
                f"{level.anchors} anchors"
                if level.anchors is not None
                else f"sizes {level.sizes}, ratios {level.ratios}"
            )
            for level in self.levels
        )
        head = "SSD" if self.head == "ssd" else "a region proposal network"
        return f"Anchors of {head} on feature maps {levels}" + (
            f"; {self.classes} classes." if self.head == "ssd" else "."
        )
