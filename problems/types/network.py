"""A network as a graph of layers (a chain is the graph where each layer takes the previous
output): shapes, parameters, MACs and receptive fields per layer, per named block or group of
layers and in total."""

from __future__ import annotations

from fractions import Fraction
from itertools import pairwise
from typing import Any, Literal

from pydantic import Field, JsonValue, model_validator

from problems.budgets import MAX_BATCH, MAX_SIDE, MAX_UNITS, over
from problems.kinds import AnswerKind, Layout, SequenceShape
from problems.solvers import counts, rewrites
from problems.solvers.activations import MEMORY_UNITS, Dtype
from problems.solvers.assumptions import MISTAKEN, SLIPS, Assumptions
from problems.solvers.graph import Block, Repeat, Step, instances, plan
from problems.solvers.layers import BatchNorm, Conv, LayerError, Pool, Separable, pair
from problems.solvers.merging import Concat
from problems.solvers.network import Field as ReceptiveFields
from problems.solvers.network import LayerRecord, NetworkRun, changes_a_layer, run, slips
from problems.solvers.sequence import Attention
from problems.solvers.steps import Derivations, MistakenSteps
from problems.solvers.storage import TORCH, StoredValues
from problems.solvers.swin import WindowAttention
from problems.types import network_steps, templates
from problems.types.base import ProblemSpec, Quantity
from problems.types.measures import measures

INTEGER = AnswerKind.INTEGER
#: The most layer instances whose slips (a mistake on one layer alone) are each solved: a
#: course's small networks; a larger one is solved under each mistake on every layer only. The
#: slips cost a run per affected layer and mistake (a 24-instance network: a third of a second).
MAX_SLIP_LAYERS = 12
#: The mistakes that explain a wrong padding (``pad_top.NAME``), and a slip of ``same`` on the layer
#: itself: other mistakes (and slips) change a later layer's ``same`` padding through its input,
#: an unlikely way to reach that answer.
PADDING_MISTAKES = ("padding-ignored", "padding-one-side", "same-padding-symmetric", "same-padding-ignored")

#: What a batch multiplies: the values and memory a forward pass stores and the MACs and FLOPs it does.
BATCHED = frozenset(("values", "macs", "flops", *MEMORY_UNITS))


class NetworkProblem(ProblemSpec):
    """``input`` is written in ``input_layout`` (H×W×C by default, like the coursework).

    ``layers`` are steps: layers, ``block`` (named steps), ``repeat`` (a layer or a block stacked
    ``times`` times or ``until`` the map is N×N); a step reads the previous output unless it
    says ``from`` (see ``problems.solvers.graph``). ``blocks`` holds reusable steps with
    ``$placeholders`` (see ``problems.types.templates``).

    Quantities (``NAME`` a layer, a block, a repeat, an instance ``REPEAT.i``, or a group; inside a
    block, names are qualified: ``layer1.0.conv1``; a layer repeated alone keeps its own name,
    which gives its last instance):
    ``shape.NAME``, ``shapes`` (after every layer), ``output``; ``params.NAME``, ``macs.NAME``,
    ``flops.NAME`` (2×MACs), ``params.total``, ``macs.total``, ``flops.total``; ``layers.NAME``
    and ``layers.total`` (layers with weights); ``count.REPEAT``; ``filters.NAME``;
    ``rf.NAME``/``jump.NAME`` (receptive field and cumulative stride, in input pixels: a number
    when both axes agree, else H×W; per axis ``rf_h``, ``rf_w``, ``jump_h``, ``jump_w``; see
    ``problems.solvers.receptive``); ``kernel_eff.NAME`` (a convolution's or pooling's kernel as it
    spans its input: ``d·(k − 1) + 1`` per axis at dilation ``d``); for attention ``scores_macs.NAME``
    (the MACs of ``Q·Kᵀ`` alone, ``L²·d``; a window attention's, ``H·W·N·C``); for window attention
    ``windows.NAME`` (windows of the padded map) and ``bias_table.NAME`` (the relative position bias
    table's parameters, ``(2·w − 1)²·heads``); for separable layers ``params_standard.NAME``,
    ``macs_standard.NAME``, ``params_reduction.NAME`` and ``macs_reduction.NAME`` (percent saved
    against the standard convolution).
    """

    type: Literal["network"] = "network"
    input: list[int] = Field(
        min_length=1,
        max_length=4,
        description=f"The input's size: `[H, W, C]` (in `input_layout`), `[L, C]` (a sequence), `[T, H, W, C]` (a "
        f"clip; channels first in a `CHW` layout), or `[N]` (flat); a side is at most {MAX_SIDE:,} pixels, channels "
        f"or a flat size at most {MAX_UNITS:,}.",
    )
    input_layout: Layout = Field(default=Layout.HWC, description="The order of `input`'s sizes.")
    blocks: dict[str, list[JsonValue]] = Field(
        default_factory=dict,
        description="Reusable lists of steps, by name, whose values may be `$placeholders`; a block or repeat step "
        "says `use: NAME` and `with: {placeholder: value}` in place of its `layers`.",
    )
    layers: list[Step] = Field(
        min_length=1, description="The steps: layers, blocks and repeats, each reading the previous output."
    )
    dtype: Dtype = Field(
        default="float32",
        description="The element type of the outputs, for `memory.NAME` and `memory.total` (bytes; `memory_kb`, "
        "`memory_mb` in 10^3 and 10^6 bytes, `memory_kib`, `memory_mib` in 2^10 and 2^20).",
    )
    stored: StoredValues = Field(
        default=TORCH,
        description="What `values.total` and `memory.total` count: the values a forward pass stores. By default "
        "PyTorch's: the input, and every output written to new memory; a flatten (a view), dropout at inference "
        "(the same tensor), and activations and residual sums done in place (`nn.ReLU(inplace=True)`, "
        "`out += identity`, as in torchvision's models) add none. `{input: false}` leaves the input out; "
        "`{activations: new}` counts each activation's output (kept for back-propagation); `{sums: new}` each "
        "sum's.",
    )
    batch: int = Field(
        default=1,
        gt=0,
        le=MAX_BATCH,
        description="The images a forward pass runs at once: `values`, `memory` (every unit) and `macs`, `flops` "
        "(of a layer, a block or the network) count the whole batch, as torch's counters do on an input of `batch` "
        "images; shapes, parameters, buffers and receptive fields are of one image, as without it. One image's "
        "value where the batch's is asked is named `batch-ignored`.",
    )
    require_exact: bool = Field(
        default=False, description="Refuse configurations whose sliding windows do not tile the input exactly."
    )

    @model_validator(mode="before")
    @classmethod
    def _expand_blocks(cls, data: Any) -> Any:
        return templates.expand(data)

    @model_validator(mode="after")
    def _well_formed(self) -> NetworkProblem:
        """Names unique, every ``from`` in reach, ``until`` only at the top (checked on the plan
        with one instance per ``until``), groups named apart from layers and blocks."""
        for index, step in enumerate(self.layers):
            for where, nested in _nested(step, f"layers.{index}"):
                if isinstance(nested, Repeat) and nested.until is not None and where.count(".") > 1:
                    raise ValueError(f"{where}.until: only a repeat at the top level can repeat until a size")
        self._check_input()
        counts = {s.name: 1 for s in self.layers if isinstance(s, Repeat) and s.until is not None}
        try:
            instances(self.layers, counts)
            layout = plan(self.layers, counts)
        except LayerError as error:
            raise ValueError(str(error)) from None
        names = {n.name for n in layout.nodes if n.name} | set(layout.outputs)
        groups = {n.group for n in layout.nodes if n.group}
        if names & groups:
            raise ValueError(f"layer and group names must be unique: {sorted(names & groups)}")
        return self

    def _check_input(self) -> None:
        """Every size of the input within its budget: pixels on a side, and channels (or a flat size)."""
        axes = self.input_layout.value if len(self.input) == 3 else "C"
        if len(self.input) in (2, 4):  # a sequence or a clip: its sides, channels last unless the layout is CHW
            sides = "S" * (len(self.input) - 1)
            axes = sides + "C" if self.input_layout.value.endswith("C") else "C" + sides
        for index, (axis, size) in enumerate(zip(axes, self.input, strict=False)):
            limit, what = (MAX_UNITS, "a layer's units") if axis == "C" else (MAX_SIDE, "a map's side")
            if size > limit:
                raise ValueError(f"input.{index}: {size:,} is {over(limit, what)}")

    def input_chw(self) -> tuple[int, ...]:
        if len(self.input) == 1:
            return (self.input[0],)
        if len(self.input) in (2, 4):  # a sequence or a clip: channels last unless the layout puts them first
            return self.input_layout.to_chw(tuple(self.input), 0)
        if len(self.input) != 3:
            raise ValueError("input is one size (flat) or three (a layout of C, H and W)")
        axes = dict(zip(self.input_layout.value, self.input, strict=True))
        return axes["C"], axes["H"], axes["W"]

    def network(self, working: bool = False) -> NetworkRun:
        result = run(self.input_chw(), self.layers, working=working, shown=self.shape_shown)
        if self.require_exact:
            for record in result.records:
                _check_exact(record.layer, record.input_shape)
        return result

    def shape_shown(self, shape: tuple[int, ...]) -> str:
        """A solver shape (channels first) as the set file writes its shapes: ``7×7×3 (H×W×C)``."""
        if len(shape) == 1:
            return f"{shape[0]} (features)"
        arranged = self.input_layout.arrange(_map(shape))
        if len(shape) == 3:
            axes = self.input_layout.value
        else:
            sides = "L" if len(shape) == 2 else "THW"
            axes = sides + "C" if self.input_layout.value.endswith("C") else "C" + sides
        return f"{'×'.join(map(str, arranged))} ({'×'.join(axes)})"

    def solve(self, steps: Derivations | None = None) -> dict[str, Quantity]:
        result = self.network(working=steps is not None)
        found = self._quantities(result)
        if steps is not None:
            network_steps.derivations(result, found, self._repeat_text, steps, self.dtype, self.stored, self.batch)
        return found

    def _repeat_text(self, name: str, count: int, result: NetworkRun) -> str:
        """How a repeat's count comes about: declared, or the fewest instances reaching a size."""
        step = next((s for s in self.layers if isinstance(s, Repeat) and s.name == name), None)
        if step is not None and step.until is not None:
            side = result.shape_at(result.outputs[name])
            target, reached = f"{step.until.size}×{step.until.size}", "×".join(map(str, side))
            rule = _repeat_rule(result, name, count)
            return f"{name} is repeated until the map is {target}{rule}: after {count} instances it is {reached}"
        return f"{name} stacks {count} instances (its declared times)"

    def mistakes(self, steps: MistakenSteps | None = None) -> dict[str, dict[str, Quantity]]:
        """The network re-run under each mistaken assumption, with the correct repeat counts; with
        a bias on every layer that feeds a batch norm (``bias-beside-batchnorm``); with the
        projection shortcuts left out of the counts (``projection-shortcut-omitted``); and, on a
        batch, one image's values, memory, MACs and FLOPs (``batch-ignored``)."""
        correct = self.network()
        present = {type(record.layer) for record in correct.records}
        kinds = {getattr(record.layer, "kind", None) for record in correct.records}
        found: dict[str, dict[str, Quantity]] = {}
        for code, assume in MISTAKEN.items():
            if (
                (assume.batchnorm is not None and BatchNorm not in present)
                or (assume.concat != "stack" and Concat not in present)
                or (assume.norm_params_omitted is not None and assume.norm_params_omitted not in kinds)
                or (assume.groupnorm_per_group and "groupnorm" not in kinds)
            ):
                continue  # nothing here for the mistake to change: the same network again
            if code in SLIPS and not changes_a_layer(correct, assume):
                continue  # no layer computes anything else under it: the same network again
            try:
                mistaken = run(self.input_chw(), self.layers, correct.repeats, assume, working=steps is not None)
                found[code] = self._quantities(mistaken)
                if steps is not None:
                    network_steps.derivations(
                        mistaken,
                        found[code],
                        self._repeat_text,
                        steps.collector(code),
                        self.dtype,
                        self.stored,
                        self.batch,
                    )
            except (LayerError, ValueError):  # a later layer refuses what the mistake made: the answers before it
                partial = self._partial(correct, assume, steps.collector(code) if steps is not None else None)
                if partial:
                    found[code] = partial
        found.update(self._slips(correct, steps))
        for code, quantities in found.items():  # a padding changes under a mistake about padding alone
            if code not in PADDING_MISTAKES and not code.startswith(
                ("same-padding-symmetric@", "same-padding-ignored@")
            ):
                for name in [n for n in quantities if n.startswith("pad_")]:
                    del quantities[name]
        biased = rewrites.bias_beside_batchnorm(correct)
        if biased is not None:
            beside = self._quantities(biased)
            found["bias-beside-batchnorm"] = beside
            if "bias-extra" in found:  # where a bias on every layer adds only these, the cause is the same
                extra = found["bias-extra"]
                found["bias-extra"] = {name: q for name, q in extra.items() if beside.get(name) != q}
        omitted = rewrites.projection_omitted(correct)
        if omitted is not None:
            without, shortcuts = omitted
            counted = ("params.", "macs.", "flops.")
            found["projection-shortcut-omitted"] = {
                name: q
                for name, q in self._quantities(without).items()
                if name.startswith(counted) and name.split(".", 1)[1] not in shortcuts
            }
        if self.batch != 1:
            found["batch-ignored"] = self._one_image(steps.collector("batch-ignored") if steps is not None else None)
        return found

    def _one_image(self, steps: Derivations | None) -> dict[str, Quantity]:
        """The quantities a batch multiplies, as one image has them: the batch's divided by its
        size, what a student answers who leaves the batch out (shapes and parameters are one
        image's anyway; a count of none is none for any batch)."""
        one = self.model_copy(update={"batch": 1}).solve(steps)
        return {name: q for name, q in one.items() if name.partition(".")[0] in BATCHED and q.value != 0}

    def _partial(self, correct: NetworkRun, assume: Assumptions, steps: Derivations | None) -> dict[str, Quantity]:
        """Under a mistake that leads a layer nowhere (a transposed size that a later concatenation
        refuses, a map left empty), the quantities of the layers and blocks before that layer: what
        the student answers up to there. Totals over the network are not among them."""
        try:
            mistaken = run(self.input_chw(), self.layers, correct.repeats, assume, working=steps is not None,
                           partial=True)  # fmt: skip
        except (LayerError, ValueError):
            return {}
        if mistaken.stopped is None:
            return {}
        reached = {r.name for r in mistaken.records if r.name} | set(mistaken.outputs)
        found = {name: q for name, q in self._quantities(mistaken).items() if name.partition(".")[2] in reached}
        if steps is not None:
            network_steps.derivations(mistaken, found, self._repeat_text, steps, self.dtype, self.stored, self.batch)
        return found

    def _slips(self, correct: NetworkRun, steps: MistakenSteps | None = None) -> dict[str, dict[str, Quantity]]:
        """A mistake made on one layer instance alone, as ``CODE@LAYER`` (the grader names it
        ``CODE``, and points at the step of that layer): for networks of at most
        ``MAX_SLIP_LAYERS`` instances, each layer it changes."""
        if len(correct.records) > MAX_SLIP_LAYERS:
            return {}
        found: dict[str, dict[str, Quantity]] = {}
        for code in SLIPS:
            for slipped in slips(self.layers, correct, MISTAKEN[code], working=steps is not None):
                assert slipped.at is not None  # a slip is on one instance
                record = slipped.records[slipped.at]
                name = f"{code}@{record.name or record.where}"
                found[name] = self._quantities(slipped)
                if steps is not None:
                    collector = steps.collector(name)
                    network_steps.derivations(
                        slipped, found[name], self._repeat_text, collector, self.dtype, self.stored, self.batch
                    )
        return found

    def follow(self, quantity: str, given: dict[str, Any]) -> Quantity | None:
        """Re-run the network from the student's shapes for named layers or blocks: what follows
        from them is computed from theirs, the rest as it is."""
        shapes = {name[len("shape.") :]: tuple(value) for name, value in given.items() if name.startswith("shape.")}
        if not shapes:
            return None
        try:
            rest = run(self.input_chw(), self.layers, self.network().repeats, given=shapes)
        except (LayerError, ValueError, TypeError):
            return None
        return self._quantities(rest).get(quantity)

    def _quantities(self, result: NetworkRun) -> dict[str, Quantity]:
        found: dict[str, Quantity] = {
            "shapes": Quantity(AnswerKind.SHAPE_LIST, [_map(r.shape) for r in result.records]),
            "output": Quantity(AnswerKind.SHAPE, _map(result.output_shape)),
        }
        totals: dict[str, list[int]] = {label: [0, 0, 0] for label in result.outputs}
        for record in result.records:
            for label in (*record.scopes, record.group, "total"):
                if label:
                    sums = totals.setdefault(label, [0, 0, 0])
                    sums[0] += record.params
                    sums[1] += record.macs
                    sums[2] += int(record.weighted)
            if record.name:
                found.update(_layer_quantities(record))
        for name, index in result.outputs.items():
            found[f"shape.{name}"] = Quantity(AnswerKind.SHAPE, _map(result.shape_at(index)))
            found.update(_field_quantities(name, result.field_at(index), result.shape_at(index)))
        for label, (params, macs, layers) in totals.items():
            found[f"params.{label}"] = Quantity(INTEGER, params)
            found[f"macs.{label}"] = Quantity(INTEGER, macs)
            found[f"flops.{label}"] = Quantity(INTEGER, counts.flops(macs))
            found[f"layers.{label}"] = Quantity(INTEGER, layers)
        for name, count in result.repeats.items():
            found[f"count.{name}"] = Quantity(INTEGER, count)
        found.update(measures(result, self.dtype, self.stored, self.batch))
        if self.batch != 1:  # every image of the batch multiplies the same weights
            for name, quantity in found.items():
                if name.startswith(("macs.", "flops.")):
                    found[name] = Quantity(INTEGER, int(quantity.value) * self.batch)
        return found

    def describe(self) -> str:
        axes = {2: "LC", 4: "THWC"}.get(len(self.input), self.input_layout.value)
        if len(self.input) in (2, 4) and not self.input_layout.value.endswith("C"):
            axes = "C" + axes[:-1]
        lines = [f"Input {'×'.join(map(str, self.input))} ({'×'.join(axes)})."]
        if self.batch != 1:
            lines.append(f"A batch of {self.batch:,} inputs at once.")
        lines += _steps_text(self.layers, "")
        return "\n".join(lines)


def _repeat_rule(result: NetworkRun, name: str, count: int) -> str:
    """How the side changes from one instance to the next, and the count's arithmetic: a side
    taken off by the same amount each time, ``(224 − 8)/6 = 36``; divided by the same factor,
    ``224/2^5 = 7``; else the sides in turn."""
    first = next((r for r in result.records if f"{name}.0" in r.scopes), None)
    if first is None or len(first.input_shape) != 3:
        return ""
    sides = [first.input_shape[1]] + [result.shape_at(result.outputs[f"{name}.{i}"])[1] for i in range(count)]
    steps = {a - b for a, b in pairwise(sides)}
    if len(steps) == 1 and (taken := steps.pop()) > 0:
        return f": each instance takes {taken} off the side, so ({sides[0]} − {sides[-1]})/{taken} = {count} instances"
    ratios = {Fraction(a, b) for a, b in pairwise(sides)}
    if len(ratios) == 1 and (ratio := ratios.pop()) > 1 and ratio.denominator == 1:
        return f": each instance divides the side by {ratio}, {sides[0]}/{ratio}^{count} = {sides[-1]}"
    return f": the side goes {' → '.join(map(str, sides))}" if len(sides) <= 12 else ""


def _nested(step: Step, where: str) -> list[tuple[str, Step]]:
    """The step and every step inside it, with their field paths."""
    found: list[tuple[str, Step]] = [(where, step)]
    for part in ("layers", "first"):
        inner = getattr(step, part, None) if isinstance(step, Block | Repeat) else None
        for index, nested in enumerate(inner or []):
            found += _nested(nested, f"{where}.{part}.{index}")
    return found


def _layer_quantities(record: LayerRecord) -> dict[str, Quantity]:
    name, found = record.name, {}
    assert name is not None  # only named layers are asked about
    found[f"shape.{name}"] = Quantity(AnswerKind.SHAPE, _map(record.shape))
    found[f"params.{name}"] = Quantity(INTEGER, record.params)
    found[f"macs.{name}"] = Quantity(INTEGER, record.macs)
    found[f"flops.{name}"] = Quantity(INTEGER, counts.flops(record.macs))
    if hasattr(record.layer, "out_channels"):
        found[f"filters.{name}"] = Quantity(INTEGER, record.layer.out_channels)
    found.update(_field_quantities(name, record.field, record.shape))
    if isinstance(record.layer, Attention | WindowAttention):
        found[f"scores_macs.{name}"] = Quantity(INTEGER, record.layer.scores_macs(record.input_shape))
    if isinstance(record.layer, WindowAttention):
        found[f"windows.{name}"] = Quantity(INTEGER, record.layer.windows(record.input_shape))
        found[f"bias_table.{name}"] = Quantity(INTEGER, record.layer.bias_table(record.input_shape))
    if isinstance(record.layer, Separable):
        standard = record.layer.standard()
        std_params, std_macs = standard.params(record.input_shape), standard.macs(record.input_shape)
        found[f"params_standard.{name}"] = Quantity(INTEGER, std_params)
        found[f"macs_standard.{name}"] = Quantity(INTEGER, std_macs)
        found[f"params_reduction.{name}"] = Quantity(
            AnswerKind.PERCENT, counts.saved_percent(record.params, std_params)
        )
        found[f"macs_reduction.{name}"] = Quantity(AnswerKind.PERCENT, counts.saved_percent(record.macs, std_macs))
    return found


def _map(shape: tuple[int, ...]) -> tuple[int, ...]:
    """A shape as a quantity: a pair is a sequence's map (C, L), which a layout may write as L×C."""
    return SequenceShape(shape) if len(shape) == 2 else shape


def _field_quantities(name: str, field: ReceptiveFields | None, shape: tuple[int, ...] = ()) -> dict[str, Quantity]:
    """``rf``/``jump`` (a number when both axes agree, else H×W) and per axis ``rf_h``, ``rf_w``,
    ``jump_h``, ``jump_w``; a jump that is a fraction of a pixel (after upsampling) is a real. A
    sequence's (``shape`` C×L) are along its length alone: ``rf`` and ``jump``, in input steps."""
    if field is None:
        return {}
    h, w = field
    if len(shape) == 2:
        return {"rf." + name: _number(Fraction(w.size)), "jump." + name: _number(Fraction(w.jump))}
    found: dict[str, Quantity] = {}
    for label, (along_h, along_w) in (("rf", (h.size, w.size)), ("jump", (h.jump, w.jump))):
        values = {"h": Fraction(along_h), "w": Fraction(along_w)}
        for axis, value in values.items():
            found[f"{label}_{axis}.{name}"] = _number(value)
        if along_h == along_w:
            found[f"{label}.{name}"] = _number(values["h"])
        elif all(v.denominator == 1 for v in values.values()):
            found[f"{label}.{name}"] = Quantity(AnswerKind.SHAPE, (int(along_h), int(along_w)))
    return found


def _number(value: Fraction) -> Quantity:
    return Quantity(INTEGER, int(value)) if value.denominator == 1 else Quantity(AnswerKind.REAL, value)


def _check_exact(layer: object, shape: tuple[int, ...]) -> None:
    if not isinstance(layer, Conv | Pool | Separable) or len(shape) != 3:
        return
    k, s, _, d = (pair(v) for v in layer.window())
    if isinstance(layer, Conv):
        padded = tuple(sum(side) for side in layer.paddings(shape=shape))
    else:
        p = pair(layer.window()[2])
        padded = (2 * p[0], 2 * p[1])
    for axis, n in enumerate(shape[1:]):
        if (n + padded[axis] - d[axis] * (k[axis] - 1) - 1) % s[axis]:
            raise LayerError(f"a {k[axis]}-wide window with stride {s[axis]} does not tile {n} pixels exactly")


def _steps_text(steps: list[Step], number: str) -> list[str]:
    lines = []
    for i, step in enumerate(steps, start=1):
        label = f"{number}{i}."
        indent = "   " * label.count(".")
        lines.append(f"{indent[3:]}{label} {_step_text(step)}")
        if isinstance(step, Block):
            lines += _steps_text(step.layers, label)
        elif isinstance(step, Repeat) and step.layers is not None:
            if step.first is not None:
                lines.append(f"{indent}the first time:")
                lines += _steps_text(step.first, f"{label}0.")
                lines.append(f"{indent}then:")
            lines += _steps_text(step.layers, label)
    return lines


def _step_text(step: Step) -> str:
    source = f" from {', '.join(step.sources)}" if step.sources else ""
    if isinstance(step, Block):
        return f"block {step.name}{source}:"
    if isinstance(step, Repeat):
        how = (
            f"{step.times} times"
            if step.times is not None
            else (f"until the map is {step.until.size}×{step.until.size}" if step.until else "")
        )
        if step.layer is not None:
            return f"repeat{source}: {_step_text(step.layer)}, {how}"
        return f"repeat {step.name}{source}, {how}:"
    fields = step.model_dump(exclude={"kind", "name", "group", "sources"}, exclude_defaults=True)
    settings = ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in fields.items())
    label = {
        "conv": "convolution",
        "conv_transpose": "transposed convolution",
        "separable": "depthwise separable convolution",
        "pool": "pooling",
        "adaptive_pool": "adaptive pooling",
        "global_pool": "global pooling",
        "pad": "zero padding",
        "linear": "fully connected",
        "batchnorm": "batch norm",
        "groupnorm": "group norm",
        "instancenorm": "instance norm",
        "layernorm": "layer norm",
        "add": "sum",
        "multiply": "element-wise product",
        "concat": "concatenation",
        "tokens": "tokens",
        "map": "tokens laid out on a map",
        "permute": "permute",
        "layer_scale": "layer scale",
        "input": "a further input",
        "window_attention": "window attention",
        "patch_merging": "patch merging",
        "class_token": "class token",
        "position_embedding": "position embedding",
        "take_token": "token taken",
        "attention": "multi-head self-attention",
        "lstm": "LSTM",
        "gru": "GRU",
    }.get(step.kind, step.kind)
    text = f"{label} ({settings})" if settings else label
    named = step.name and step.kind in ("add", "multiply", "concat", "input")
    return f"{text}{source}" + (f" → {step.name}" if named else "")
