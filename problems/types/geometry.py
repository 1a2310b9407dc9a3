"""Detection geometry outside YOLO: boxes (areas, IoU, non-maximum suppression) and anchor grids
(SSD, Faster R-CNN's region proposal network), computed by ``problems.solvers.boxes``; an anchor
level's map given, or derived from the detector's backbone (run by ``problems.solvers.network``)
or from its stride in the image."""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from fractions import Fraction
from itertools import combinations
from typing import Annotated, Literal, Self

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from problems.budgets import MAX_SIDE, MAX_UNITS
from problems.kinds import AnswerKind
from problems.render import to_json, to_text
from problems.solvers import boxes as geometry
from problems.solvers.boxes import Rounding
from problems.solvers.checks import within
from problems.solvers.graph import Repeat, plan
from problems.solvers.layers import LayerError, shape_text
from problems.solvers.steps import NO_TRACE, Derivations, MistakenSteps, Step, Steps, Trace
from problems.types.base import ProblemSpec, Quantity, conclusion
from problems.types.network import NetworkProblem

INTEGER, REAL = AnswerKind.INTEGER, AnswerKind.REAL
Side = Annotated[int, Field(gt=0), AfterValidator(within(MAX_SIDE, "a map's side"))]
Units = Annotated[int, Field(gt=0), AfterValidator(within(MAX_UNITS, "a layer's units"))]
#: The most boxes a problem holds: every pair's IoU is a quantity.
MAX_BOXES = 20


def _power_of_two(value: int) -> int:
    """A stride a network reaches by halving: only then is its map's side the image's over the
    stride rounded once (``boxes.strided_side``)."""
    if value & (value - 1):
        raise ValueError(
            f"{value} is not a power of two: a backbone reaches its strides by halving, and only then is a map's "
            "side the image's over its stride; describe the backbone and take the layer with `from`"
        )
    return value


Stride = Annotated[int, Field(gt=0), AfterValidator(within(MAX_SIDE, "a map's side")), AfterValidator(_power_of_two)]


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
    """One feature map of a detector: its grid, given (``grid``) or derived (``from`` an output of
    the problem's ``backbone``, or its ``stride`` in the image), and its anchors per position (given,
    or a size and an aspect ratio each)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    grid: Side | tuple[Side, Side] | None = Field(default=None, description="The feature map's side (or `[H, W]`).")
    source: str | None = Field(
        default=None,
        alias="from",
        min_length=1,
        description="Instead of `grid`: the name of a layer, block or repeat of the problem's `backbone`; the map "
        "is its output, of the side the backbone's layers give it.",
    )
    stride: Stride | None = Field(
        default=None,
        description="Instead of `grid`: the map's stride in the image, a power of two; its side is the image's over "
        "the stride, rounded as the problem's `rounding` says.",
    )
    anchors: Units | None = Field(default=None, description="Anchors per position (SSD's 4 or 6).")
    sizes: list[float] | None = Field(default=None, min_length=1, description="Anchor sizes (pixels) at this level.")
    ratios: list[float] | None = Field(default=None, min_length=1, description="Aspect ratios at this level.")

    @model_validator(mode="after")
    def _one_way(self) -> Self:
        ways = {"grid": self.grid, "from": self.source, "stride": self.stride}
        given = [name for name, value in ways.items() if value is not None]
        if not given:
            raise ValueError("give the map's `grid`, or derive it: `from` an output of the backbone, or its `stride`")
        if len(given) > 1:
            raise ValueError(f"{given[1]}: give the map one way, not both `{given[0]}` and `{given[1]}`")
        if (self.anchors is None) == (self.sizes is None or self.ratios is None):
            raise ValueError("give `anchors` per position, or `sizes` and `ratios` (one anchor each pair)")
        return self

    def per_location(self) -> int:
        if self.anchors is not None:
            return self.anchors
        assert self.sizes is not None and self.ratios is not None
        return geometry.anchors_per_location(len(self.sizes), len(self.ratios))

    def sides(self) -> tuple[int, int]:
        """The given grid's ``(H, W)``."""
        assert self.grid is not None
        return (self.grid, self.grid) if isinstance(self.grid, int) else self.grid

    def where(self) -> str:
        """The map as the statement names it."""
        if self.grid is not None:
            return "×".join(map(str, self.sides()))
        return f"the output of {self.source}" if self.source is not None else f"the map at stride {self.stride}"


@dataclass(frozen=True)
class _Map:
    """A level's map: its sides, and the steps that find them (the last one names them)."""

    height: int
    width: int
    steps: Steps

    def quantity(self) -> Quantity:
        return _grid(self.height, self.width)


def _grid(height: int, width: int) -> Quantity:
    """``grid.I``: the map's side, or H×W where they differ."""
    return Quantity(INTEGER, height) if height == width else Quantity(AnswerKind.SHAPE, (height, width))


#: A backbone's quantities (its ``shape.NAME``s) and, asked for, their steps.
_Run = tuple[dict[str, Quantity], Derivations | None]


class AnchorsProblem(ProblemSpec):
    """Anchor grids of SSD (``head: ssd``: per level, ``A·classes`` class scores and ``4·A`` box
    offsets per position) or of Faster R-CNN's region proposal network (``head: rpn``: ``A``
    objectness scores and ``4·A`` offsets, one head shared by every level). Quantities: ``grid.I``
    (the map's side, H×W where they differ), ``per_location.I``, ``anchors.I`` (``H·W·A``),
    ``anchors`` (all levels), ``cls_channels.I``, ``box_channels.I``.

    A level's map is given (``grid``) or follows from the detector: ``from`` names an output of the
    ``backbone`` (a network, written as a ``network`` problem writes one, on the image), whose side
    its layers give (SSD300's ``conv4_3``: 38×38); ``stride`` divides the image's side, rounded as
    the backbone's halvings round (``rounding``: an FPN's P6 on 800×800 is ⌈800/64⌉ = 13). The image
    is the one the backbone sees: torchvision's detection models resize it, and pad it to a multiple
    of 32, first."""

    type: Literal["anchors"] = "anchors"
    head: Literal["ssd", "rpn"] = Field(description="`ssd` (class scores per anchor) or `rpn` (objectness).")
    levels: list[AnchorLevel] = Field(min_length=1, max_length=16, description="The feature maps, in order.")
    classes: Units = Field(default=2, description="SSD: classes scored per anchor, the background included.")
    input: Side | tuple[Side, Side] | None = Field(
        default=None,
        description="The image's side (or `[H, W]`), in pixels, that a level's `stride` divides (with a `backbone`, "
        "its `input` is the image).",
    )
    backbone: NetworkProblem | None = Field(
        default=None,
        description="The network whose outputs levels take `from`: its `input` (`[H, W, C]`, the image), `layers` "
        "and `blocks`, as a problem of `type: network` writes them.",
    )
    rounding: Rounding = Field(
        default="ceil",
        description="How a `stride` level's side rounds: `ceil`, ⌈n/s⌉, as torchvision's ResNets and their FPN "
        "(every stride-2 layer padded by k // 2; P6 a max_pool2d(1, 2) of P5); `floor`, ⌊n/s⌋, as VGG's unpadded "
        "2×2 pooling.",
    )

    @model_validator(mode="after")
    def _derivable(self) -> Self:
        """Every derived map can be: ``from`` an output the backbone has, ``stride`` of a known
        image that leaves a map; the image given once; ``rounding`` only where a stride rounds."""
        if self.backbone is not None and self.input is not None:
            raise ValueError("input: the backbone's `input` is the image: give its size there alone")
        if self.backbone is not None and len(self.backbone.input) != 3:
            raise ValueError("backbone.input: the backbone takes an image, `[H, W, C]`")
        strided = [level.stride for level in self.levels if level.stride is not None]
        if "rounding" in self.model_fields_set and not strided:
            raise ValueError("rounding: only a level's `stride` is rounded; a backbone's layers round as they say")
        names = self._names()
        for index, level in enumerate(self.levels):
            if level.source is not None:
                self._check_source(f"levels.{index}.from", level.source, names)
            if level.stride is not None:
                self._check_stride(f"levels.{index}.stride", level.stride)
        return self

    def _check_source(self, where: str, name: str, names: set[str] | None) -> None:
        if self.backbone is None:
            raise ValueError(f"{where}: takes an output of the backbone, but the problem has no `backbone`")
        if names is not None and name not in names:
            near = difflib.get_close_matches(name, sorted(names), n=1, cutoff=0.6)
            meant = f": did you mean `{near[0]}`?" if near else ""
            raise ValueError(f"{where}: the backbone has no layer, block or repeat named {name!r}{meant}")

    def _check_stride(self, where: str, stride: int) -> None:
        image = self.image()
        if image is None:
            raise ValueError(f"{where}: a stride divides the image: give the problem's `input` (or a `backbone`)")
        if geometry.strided_side(min(image), stride, self.rounding) == 0:
            raise ValueError(f"{where}: ⌊{min(image)}/{stride}⌋ = 0: the image is smaller than the stride")

    def _names(self) -> set[str] | None:
        """The backbone's named outputs (layers, blocks, repeats, instances); None where they are
        known only once it runs (a repeat ``until`` a size stacks as many instances as it takes)."""
        if self.backbone is None or any(isinstance(s, Repeat) and s.until is not None for s in self.backbone.layers):
            return None
        layout = plan(self.backbone.layers, {})
        return {node.name for node in layout.nodes if node.name} | set(layout.outputs)

    def image(self) -> tuple[int, int] | None:
        """The image's ``(H, W)``: the backbone's input, or ``input``."""
        if self.backbone is not None:
            _, height, width = self.backbone.input_chw()
            return height, width
        if self.input is None:
            return None
        return (self.input, self.input) if isinstance(self.input, int) else self.input

    def solve(self, steps: Derivations | None = None) -> dict[str, Quantity]:
        maps = self._maps(self._backbone(steps is not None), self.rounding, steps is not None)
        found, worked = self._counted(maps)
        if steps is not None:
            for name, quantity_steps in worked.items():
                if steps.wants(name):
                    steps[name] = quantity_steps
        return found

    def _taken(self) -> set[str]:
        """The backbone's quantities the levels read: the shapes of the outputs they take."""
        return {f"shape.{level.source}" for level in self.levels if level.source is not None}

    def _backbone(self, working: bool) -> _Run:
        """The backbone run on the image (its errors named at its fields: ``backbone.layers.3``)."""
        wanted = self._taken()
        derivations = Derivations(wanted) if working else None
        if self.backbone is None or not wanted:
            return {}, derivations
        try:
            return self.backbone.solve(derivations), derivations
        except LayerError as error:
            field = f"backbone.{error.field}" if error.field else "backbone"
            raise LayerError(f"backbone.{error}", field) from None

    def _maps(self, run: _Run, rounding: Rounding, working: bool, partial: bool = False) -> list[_Map | None]:
        """Each level's map; with ``partial`` (a mistaken backbone that stopped early), None for a
        level whose output it did not reach."""
        found: list[_Map | None] = []
        for index, level in enumerate(self.levels):
            number = index + 1
            if level.grid is not None:
                height, width = level.sides()
                given = conclusion(f"level {number}: a {height}×{width} map, given", _grid(height, width))
                drawn: _Map | None = _Map(height, width, (given,))
            elif level.stride is not None:
                drawn = self._strided(number, level.stride, rounding, working)
            else:
                assert level.source is not None  # AnchorLevel._one_way
                drawn = self._output(index, level.source, run, partial)
            found.append(drawn)
        return found

    def _strided(self, number: int, stride: int, rounding: Rounding, working: bool) -> _Map:
        """``⌈n/s⌉`` (or ``⌊n/s⌋``) per side of the image, as ``boxes.strided_side`` rounds."""
        image = self.image()
        assert image is not None  # _check_stride
        t = Trace() if working else NO_TRACE
        s = t.given("s", stride)
        axes = (("S", "I", image[0]),) if image[0] == image[1] else (("H", "H", image[0]), ("W", "W", image[1]))
        sides: list[int] = []
        for label, given, side in axes:
            found = geometry.strided_side(t.given(given, side), s, rounding)
            sides.append(t.equation(f"{label}_{number}", found, f"{label}_{{{number}}}"))
        height, width = sides[0], sides[-1]
        way = "up" if rounding == "ceil" else "down"
        text = (
            f"level {number}: stride {stride} of the {image[0]}×{image[1]} image, each halving rounding {way}: "
            f"a {height}×{width} map"
        )
        return _Map(height, width, (*t.steps, conclusion(text, _grid(height, width))))

    def _output(self, index: int, name: str, run: _Run, partial: bool) -> _Map | None:
        """The map the backbone's output ``name`` is, with the backbone's steps for its shape."""
        shapes, derivations = run
        where = f"levels.{index}.from"
        quantity = shapes.get(f"shape.{name}")
        if quantity is None or len(quantity.value) != 3:
            if partial:
                return None
            if quantity is None:
                raise LayerError(f"{where}: the backbone has no output named {name!r}", where)
            shown = shape_text(tuple(quantity.value))
            raise LayerError(f"{where}: {name}'s output is {shown}, not a feature map (C×H×W)", where)
        _, height, width = quantity.value
        image = self.image()
        assert image is not None  # a backbone's input is an image (_derivable)
        earlier = derivations.get(f"shape.{name}", ()) if derivations is not None else ()
        text = f"level {index + 1}: {name} of the backbone on the {image[0]}×{image[1]} image: a {height}×{width} map"
        return _Map(height, width, (*earlier, conclusion(text, _grid(height, width))))

    def _counted(self, maps: list[_Map | None]) -> tuple[dict[str, Quantity], dict[str, Steps]]:
        """The quantities of the levels whose map is known, and their steps; the total once every
        level's is."""
        found: dict[str, Quantity] = {}
        worked: dict[str, Steps] = {}
        lines: list[Step] = []
        total = 0
        for number, (level, drawn) in enumerate(zip(self.levels, maps, strict=True), start=1):
            if drawn is None:
                continue
            per = level.per_location()
            height, width = drawn.height, drawn.width
            count = geometry.level_anchors(height, width, per)
            total += count
            scores = per if self.head == "rpn" else per * self.classes
            found |= {
                f"grid.{number}": drawn.quantity(),
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
            count_step = Step(f"H·W·A = {height}·{width}·{per} = {count:,}", value=count)
            lines += [drawn.steps[-1], count_step]
            worked[f"grid.{number}"] = drawn.steps
            worked[f"per_location.{number}"] = (per_step,)
            worked[f"anchors.{number}"] = (*drawn.steps, per_step, count_step)
            kind = "A objectness scores" if self.head == "rpn" else f"A·classes = {per}·{self.classes}"
            worked[f"cls_channels.{number}"] = (per_step, Step(f"{kind}: {scores} channels", value=scores))
            worked[f"box_channels.{number}"] = (per_step, Step(f"4·A = 4·{per} = {4 * per} channels", value=4 * per))
        if all(drawn is not None for drawn in maps):
            found["anchors"] = Quantity(INTEGER, total)
            terms = " + ".join(f"{found[f'anchors.{n}'].value:,}" for n in range(1, len(maps) + 1))
            worked["anchors"] = (*lines, Step(f"anchors over the levels: {terms} = {total:,}", value=total))
        return found, worked

    def mistakes(self, steps: MistakenSteps | None = None) -> dict[str, dict[str, Quantity]]:
        """A level's map off by its rounding: the ``stride`` levels rounded the other way
        (``level-side-rounded-down`` where the backbone rounds up, ``level-side-rounded-up`` where it
        rounds down); and every mistake on the backbone that changes a map the levels take from it
        (``pool-ceil-mode`` on SSD300's pool3 makes conv4_3 37×37, not 38×38), by its own code."""
        working = steps is not None
        run = self._backbone(working)
        correct, _ = self._counted(self._maps(run, self.rounding, working=False))
        found: dict[str, dict[str, Quantity]] = {}
        if any(level.stride is not None for level in self.levels):
            other: Rounding = "floor" if self.rounding == "ceil" else "ceil"
            code = f"level-side-rounded-{'down' if other == 'floor' else 'up'}"
            self._mistaken(code, self._maps(run, other, working), correct, found, steps)
        if self.backbone is not None and self._taken():
            collected = MistakenSteps(self._taken()) if working else None
            for code, quantities in self.backbone.mistakes(collected).items():
                derivations = collected.get(code) if collected is not None else None
                maps = self._maps((quantities, derivations), self.rounding, working, partial=True)
                self._mistaken(code, maps, correct, found, steps)
        return found

    def _mistaken(
        self,
        code: str,
        maps: list[_Map | None],
        correct: dict[str, Quantity],
        found: dict[str, dict[str, Quantity]],
        steps: MistakenSteps | None,
    ) -> None:
        """The quantities ``maps`` give that differ from the correct ones, as ``code``'s (with their
        steps); nothing where no map changes, or a map is left with no position."""
        if any(drawn is not None and 0 in (drawn.height, drawn.width) for drawn in maps):
            return
        quantities, worked = self._counted(maps)
        changed = {name: q for name, q in quantities.items() if q != correct.get(name)}
        if not changed:
            return
        found[code] = changed
        if steps is not None:
            collector = steps.collector(code)
            for name in changed:
                if collector.wants(name):
                    collector[name] = worked[name]

    def describe(self) -> str:
        levels = "; ".join(
            f"{level.where()} with "
            + (
                f"{level.anchors} anchors"
                if level.anchors is not None
                else f"sizes {level.sizes}, ratios {level.ratios}"
            )
            for level in self.levels
        )
        head = "SSD" if self.head == "ssd" else "a region proposal network"
        text = f"Anchors of {head} on feature maps {levels}"
        image = self.image()
        if image is not None:
            text += f", on a {image[0]}×{image[1]} image"
        if any(level.stride is not None for level in self.levels):
            text += f" (the backbone rounds each halving {'up' if self.rounding == 'ceil' else 'down'})"
        text += f"; {self.classes} classes." if self.head == "ssd" else "."
        if self.backbone is not None:
            text += "\nThe backbone:\n" + self.backbone.describe()
        return text
