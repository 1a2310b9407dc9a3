"""A network's worked steps, layer by layer, from the working its layers recorded in the run
(``run(..., working=True)``: every record carries the steps its own ``output_shape``, ``params``
and ``macs`` wrote while computing). Only the assembling is here: which layers a quantity goes
through, and the sum at the end. Every quantity ``NetworkProblem`` computes gets its steps here;
one it does not know is refused (``MissingSteps``), so a new quantity cannot go unexplained.
"""

from __future__ import annotations

from collections.abc import Callable
from fractions import Fraction

from problems.kinds import JSON, AnswerKind
from problems.render import to_json, to_text
from problems.solvers import activations, counts, norms
from problems.solvers.graph import INPUT
from problems.solvers.inputs import ExtraInput
from problems.solvers.layers import Conv, Pool, Separable, Shape, shape_text
from problems.solvers.network import LayerRecord, NetworkRun
from problems.solvers.receptive import AxisField
from problems.solvers.sequence import Attention
from problems.solvers.steps import Derivations, MissingSteps, Step, Steps, Trace, number_tex, number_text
from problems.solvers.storage import TORCH, StoredValues, why_not_stored, writes_new_values
from problems.solvers.swin import WindowAttention
from problems.solvers.volumes import ConvNd, PoolNd, per_axis
from problems.types.base import Quantity
from problems.types.measures import kernel_spans

#: A field's sizes and jumps along (height, width).
Sides = tuple[tuple[int, int], tuple[Fraction | int, Fraction | int]]
#: Quantities of one output (``problems.types.measures``), and those summed over the network.
OUTPUT_MEASURES = (
    "values",
    *activations.MEMORY_UNITS,
    "channels",
    "height",
    "width",
    "length",
    "frames",
    "side",
    "tokens",
)
TOTALS = ("values", *activations.MEMORY_UNITS, "buffers", "state")
#: The names of a shape's axes in the formulas, by its rank.
AXIS_NAMES = {1: ("n",), 2: ("C", "L"), 3: ("C", "H", "W"), 4: ("C", "T", "H", "W")}


def derivations(
    result: NetworkRun,
    quantities: dict[str, Quantity],
    repeat_text: Callable[[str, int, NetworkRun], str],
    found: Derivations,
    dtype: str = "float32",
    stored: StoredValues = TORCH,
    batch: int = 1,
) -> None:
    """The steps of every quantity in ``quantities`` (the run's own, as ``_quantities`` made them)
    that ``found`` wants, written into it; values, memory, MACs and FLOPs of ``batch`` images."""
    if any(record.working is None for record in result.records):
        raise ValueError("the run was made without working (run(..., working=True))")
    names = {record.name: index for index, record in enumerate(result.records) if record.name}
    walk = _Walk(result)
    for name, quantity in quantities.items():
        if not found.wants(name):
            continue
        what, _, target = name.partition(".")
        final = to_json(quantity.kind, quantity.value)
        if name == "shapes":
            steps = tuple(walk.summaries)
        elif name == "output":
            steps = _shape_steps(walk, result.output)
        elif what == "shape":
            steps = _shape_steps(walk, names.get(target, result.outputs.get(target, INPUT)))
        elif what in ("params", "macs", "flops", "layers") and target in names and what != "layers":
            steps = _layer_count(result.records[names[target]], what, batch)
        elif what in ("params", "macs", "flops", "layers"):
            steps = _scope_count(walk.scopes.get(target, []), target, what, batch)
        elif what == "count":
            steps = (Step(repeat_text(target, int(quantity.value), result), value=final),)
        elif what == "filters":
            channels = int(quantity.value)
            steps = (Step(f"{target} has {channels:,} filters: one per output channel", value=channels),)
        elif what.startswith(("rf", "jump")):
            index = names.get(target, result.outputs.get(target, INPUT))
            steps = _field_steps(walk, index, what)
        elif what.endswith(("_standard", "_reduction")):
            steps = _separable(result.records[names[target]], what)
        elif what in TOTALS and target == "total":
            steps = _total(result, what, dtype, stored, batch)
        elif what in OUTPUT_MEASURES:
            index = names.get(target, result.outputs.get(target, INPUT))
            steps = (*_shape_steps(walk, index), *_measure(result.shape_at(index), what, target, dtype, batch))
        elif what == "fan_in":
            steps = _fan_in(result, names[target])
        elif what.startswith("pad_"):
            steps = _padding(result, names[target], what.removeprefix("pad_"))
        elif what in ("buffers", "state"):
            steps = _norm_state(result.records[names[target]], what)
        elif what == "kernel_eff":
            steps = _kernel_span(result, names[target])
        elif what == "scores_macs":
            steps = _scores(result.records[names[target]])
        elif what in ("windows", "bias_table"):
            steps = _windows(result.records[names[target]], what)
        else:
            raise MissingSteps(f"no worked steps for the network quantity {name!r}: add them in {__name__}")
        if not steps or steps[-1].value != final:
            steps = (*steps, Step(f"{_title(what)} of {target or 'the network'}: {_shown(final)}", value=final))
        found[name] = steps


def _fan_in(result: NetworkRun, index: int) -> Steps:
    """The inputs one output value of a layer reads, as the layer counts them."""
    record = result.records[index]
    fan_in = getattr(record.layer, "fan_in", None)
    if fan_in is None:
        raise MissingSteps(f"a {record.layer.kind_name} layer has no fan-in")
    trace = Trace()
    fan_in(record.input_shape, result.assumed(index), trace)
    return tuple(trace.steps)


def _measure(shape: Shape, what: str, name: str, dtype: str, batch: int = 1) -> Steps:
    """What one output holds, from its shape: its values (and their bytes, of ``batch`` images),
    one of its sizes, or its positions (tokens), computed by ``problems.solvers.activations`` as
    the quantity is."""
    t = Trace()
    sizes = tuple(t.given(axis, size) for axis, size in zip(AXIS_NAMES[len(shape)], shape, strict=True))
    if what == "values" or what in activations.MEMORY_UNITS:
        count = t.equation(f"values of {name}", activations.values(sizes))
        if batch != 1:
            count = t.equation(f"values of {name} for a batch of {batch:,}", count * t.given("N", batch))
        if what != "values":
            return (*t.steps, *_memory_steps(count, what, dtype))
    elif what == "tokens":
        t.equation(f"tokens (positions) of {name}", activations.values(sizes[1:]))
    else:
        axes = dict(zip(("channels", *measures_axes(len(shape) - 1)), shape, strict=True))
        side = shape[1] if what == "side" else axes[what]
        t.note(f"{what} of {name}: {side}", value=side)
    return tuple(t.steps)


def measures_axes(rank: int) -> tuple[str, ...]:
    return {1: ("length",), 2: ("height", "width"), 3: ("frames", "height", "width")}.get(rank, ())


def _total(result: NetworkRun, what: str, dtype: str, stored: StoredValues, batch: int = 1) -> Steps:
    """A sum over every layer instance: each one's term, then the total. Values (and memory) are
    what the forward pass stores (``problems.solvers.storage``): the input when ``stored`` counts
    it, then each output written to new memory; an output that is a view, the same tensor or its
    input overwritten is named with the reason it adds nothing."""
    steps: list[Step] = []
    terms: list[int] = []
    counting_values = what == "values" or what in activations.MEMORY_UNITS
    if counting_values and stored.input:
        term = activations.values(result.input_shape)
        steps.append(Step(f"the input: {shape_text(result.input_shape)} = {number_text(term)} values", value=term))
        terms.append(term)
    for record in result.records:
        if counting_values:
            if not writes_new_values(record.layer, stored):
                steps.append(Step(f"{label(record)}: {why_not_stored(record.layer)}", value=0))
                continue
            term = activations.values(record.shape)
            text = f"{label(record)}: {shape_text(record.shape)} = {number_text(term)} values"
        else:
            buffers = _buffers(record)
            term = buffers if what == "buffers" else record.params + buffers
            if not term:
                continue
            text = (
                f"{label(record)}: {number_text(term)} ({'buffers' if what == 'buffers' else 'parameters and buffers'})"
            )
        steps.append(Step(text, value=term))
        terms.append(term)
    total = sum(terms)
    noun = "values" if counting_values else what
    steps.append(
        Step(f"{noun} of the network: {' + '.join(map(number_text, terms)) or '0'} = {number_text(total)}", value=total)
    )
    if counting_values and batch != 1:
        steps.append(_batch_step(total, batch, "values"))
        total *= batch
    if what in activations.MEMORY_UNITS:
        steps += _memory_steps(total, what, dtype)
    return tuple(steps)


def _memory_steps(count: int, unit: str, dtype: str) -> list[Step]:
    """Bytes of ``count`` values in ``dtype``, then (for a larger unit) the bytes divided by it."""
    t = Trace()
    size = t.equation(f"bytes in {dtype}", activations.memory(t.given("values", count), dtype))
    per, name = activations.MEMORY_UNITS[unit]
    if per != 1:
        value = activations.in_unit(size, unit)  # every digit: the exact quotient, as graded
        shown = to_text(AnswerKind.REAL, value)
        t.note(f"in {name}: {number_text(size)} / {number_text(per)} = {shown}", value=to_json(AnswerKind.REAL, value))
    return list(t.steps)


def _buffers(record: LayerRecord) -> int:
    return norms.buffers(record.layer, record.input_shape)


def _norm_state(record: LayerRecord, what: str) -> Steps:
    """A normalisation's buffers (its running statistics, as the layer counts them: batch norm's
    mean and variance per channel and the batches counted), and its whole state: those with its
    parameters."""
    t = Trace()
    buffers = norms.buffers(record.layer, record.input_shape, t)
    if what == "state":
        t.equation("state", t.given("parameters", record.params) + t.given("buffers", buffers))
    return tuple(t.steps)


def _padding(result: NetworkRun, index: int, side: str) -> Steps:
    """A convolution's padding on one side, as its layer works it out."""
    record = result.records[index]
    layer = record.layer
    conv = layer.standard() if isinstance(layer, Separable) else layer
    assert isinstance(conv, Conv)
    t = Trace()
    (top, bottom), (left, right) = conv.paddings(result.assumed(index), record.input_shape, t)
    chosen = {"top": top, "bottom": bottom, "left": left, "right": right}[side]
    t.equation(f"P_{side}", chosen, f"P_{{{side}}}")
    return tuple(t.steps)


def _kernel_span(result: NetworkRun, index: int) -> Steps:
    """A window's kernel as it spans its input, per axis, as :func:`problems.types.measures.kernel_spans`
    works it out."""
    layer = result.records[index].layer
    assert isinstance(layer, Conv | Pool | Separable)
    t = Trace()
    kernel_spans(layer, result.assumed(index), t)
    return tuple(t.steps)


def _windows(record: LayerRecord, what: str) -> Steps:
    """A window attention's windows, or its relative position bias table, as the layer counts them."""
    assert isinstance(record.layer, WindowAttention)
    t = Trace()
    (record.layer.windows if what == "windows" else record.layer.bias_table)(record.input_shape, t)
    return tuple(t.steps)


def _scores(record: LayerRecord) -> Steps:
    """The MACs of an attention layer's scores ``Q·Kᵀ``, as the layer counts them."""
    assert isinstance(record.layer, Attention | WindowAttention)
    t = Trace()
    record.layer.scores_macs(record.input_shape, t)
    return tuple(t.steps)


def _title(what: str) -> str:
    return {"shape": "The shape", "params": "Parameters", "macs": "MACs", "flops": "FLOPs"}.get(what, what)


def _shown(value: JSON) -> str:
    if isinstance(value, list):
        return (
            "; ".join(_shown(v) for v in value) if value and isinstance(value[0], list) else "×".join(map(str, value))
        )
    return number_text(value) if isinstance(value, int | float) else str(value)


def label(record: LayerRecord) -> str:
    return record.name or f"{record.layer.kind_name} ({record.where})"


def _summary(record: LayerRecord) -> Step:
    """One layer in one line: what it does to the shape (its own working for a layer that changes it)."""
    if isinstance(record.layer, ExtraInput):  # it reads nothing
        return Step(f"{label(record)}: an input of its own, {shape_text(record.shape)}", value=list(record.shape))
    inputs = " and ".join(shape_text(s) for s in record.input_shapes)
    assert record.working is not None
    formulas = [s.text for s in record.working[0] if "keeps the shape" not in s.text]
    how = f": {'; '.join(formulas)}" if formulas else ""
    return Step(f"{label(record)}: {inputs} → {shape_text(record.shape)}{how}", value=list(record.shape))


class _Walk:
    """What many quantities share, made once per run: each layer's line, the layers each one is
    computed from, and the layers of each block, repeat, group and the whole."""

    def __init__(self, result: NetworkRun) -> None:
        self.result = result
        self.summaries = [_summary(r) for r in result.records]
        self._ancestors: dict[int, frozenset[int]] = {}
        self._fields: dict[int, tuple[str, str | None, Sides] | None] = {}
        self.scopes: dict[str, list[LayerRecord]] = {"total": list(result.records)}
        for record in result.records:
            for scope in {*record.scopes, record.group, record.name} - {None, "total"}:
                assert scope is not None
                self.scopes.setdefault(scope, []).append(record)

    def field_text(self, index: int) -> tuple[str, str | None, Sides] | None:
        """The line of a layer in a receptive field's steps, its TeX, and the field's sizes and
        jumps per axis (None: the layer has no exact field)."""
        if index not in self._fields:
            record = self.result.records[index]
            field = record.field
            if field is None or not all(isinstance(f, AxisField) for f in field):
                self._fields[index] = None
            else:
                h, w = field
                previous = [self.result.field_at(source) for source in record.inputs]
                text, tex = _field_line(record, previous[0] if len(previous) == 1 else None)
                self._fields[index] = text, tex, ((h.size, w.size), (h.jump, w.jump))
        return self._fields[index]

    def ancestors(self, index: int) -> list[int]:
        """The layers ``index`` is computed from, itself included, in the order they run."""
        return sorted(self._closure(index))

    def _closure(self, index: int) -> frozenset[int]:
        if index == INPUT:
            return frozenset()
        found = self._ancestors.get(index)
        if found is None:
            for current in range(index + 1):  # records come after the records they read
                if current not in self._ancestors:
                    inputs = [i for i in self.result.records[current].inputs if i != INPUT]
                    self._ancestors[current] = frozenset({current}).union(*(self._ancestors[i] for i in inputs))
            found = self._ancestors[index]
        return found


def _shape_steps(walk: _Walk, index: int) -> Steps:
    result = walk.result
    if index == INPUT:
        shape = result.input_shape
        return (Step(f"the input: {shape_text(shape)} ({axes_text(shape)})", value=list(shape)),)
    chain = walk.ancestors(index)
    record = result.records[index]
    assert record.working is not None
    shape = result.input_shape
    steps = [Step(f"The input is {shape_text(shape)} ({axes_text(shape)}).", value=list(shape))]
    steps += [walk.summaries[i] for i in chain[:-1]]
    steps += [
        Step(f"{label(record)}: {s.text}", s.tex and rf"\text{{{label(record)}: }} {s.tex}", s.value)
        for s in record.working[0]
    ]
    steps.append(
        Step(f"{label(record)} gives {shape_text(record.shape)} ({axes_text(record.shape)})", value=list(record.shape))
    )
    return tuple(steps)


def axes_text(shape: Shape) -> str:
    """What a shape's sizes are, in the solvers' order (channels first): a flat vector's features,
    a sequence's C×L, a map's C×H×W, a clip's C×T×H×W."""
    return {1: "features", 2: "C×L", 3: "C×H×W", 4: "C×T×H×W"}.get(len(shape), "sizes")


def _batch_step(count: int, batch: int, noun: str) -> Step:
    """A count of one image multiplied by the images of the batch."""
    t = Trace()
    t.equation(f"{noun} for a batch of {batch:,}", t.given(f"{noun} of one image", count) * t.given("N", batch))
    return t.steps[-1]


def _layer_count(record: LayerRecord, what: str, batch: int = 1) -> Steps:
    assert record.working is not None
    if what == "params":
        return record.working[1]
    macs, total = record.working[2], record.macs
    if batch != 1:
        macs, total = (*macs, _batch_step(total, batch, "MACs")), total * batch
    if what == "macs":
        return macs
    return (*macs, _flops_step(total))


#: The most layers a count of layers lists by name; more are grouped by where they are.
MAX_LISTED_LAYERS = 8


def _layers_step(weighted: list[LayerRecord], scope: str) -> Step:
    """The layers with weights in ``scope``: by name when they are few, else in runs of one kind
    in one block (``5 × conv in down, then 99 × conv in layers.5``) and their sum."""
    if len(weighted) <= MAX_LISTED_LAYERS:
        names = ", ".join(label(r) for r in weighted) or "none"
        return Step(f"Layers with weights in {scope}: {names}", value=len(weighted))
    runs: list[tuple[tuple[str, str], int]] = []
    for record in weighted:
        depth = record.scopes.index(scope) + 1 if scope in record.scopes else 0
        where = record.scopes[depth] if len(record.scopes) > depth else label(record)
        key = (record.layer.kind_name, where)
        if runs and runs[-1][0] == key:
            runs[-1] = (key, runs[-1][1] + 1)
        else:
            runs.append((key, 1))
    listed = ", then ".join(f"{count} × {kind} in {where}" for (kind, where), count in runs)
    total = " + ".join(str(count) for _, count in runs)
    return Step(f"Layers with weights in {scope}: {listed}: {total} = {len(weighted)}", value=len(weighted))


def _flops_step(macs: int) -> Step:
    trace = Trace()
    trace.equation("FLOPs", counts.flops(trace.given("MACs", macs)))
    return trace.steps[0]


def _scope_count(inside: list[LayerRecord], scope: str, what: str, batch: int = 1) -> Steps:
    """A block's, a group's or the whole network's count: each layer's, then the sum."""
    if what == "layers":
        return (_layers_step([r for r in inside if r.weighted], scope),)
    aspect = 1 if what == "params" else 2
    steps: list[Step] = []
    terms: list[int] = []
    for record in inside:
        value = record.params if aspect == 1 else record.macs
        if not value:
            continue
        assert record.working is not None
        last = record.working[aspect][-1]
        steps.append(Step(f"{label(record)}: {last.text}", f"\\text{{{label(record)}: }} {last.tex}", value))
        terms.append(value)
    total = sum(terms)
    listed = " + ".join(number_text(t) for t in terms) or "0"
    noun = "parameters" if aspect == 1 else "MACs"
    steps.append(
        Step(
            f"{noun} of {scope}: {listed} = {number_text(total)}",
            f"{' + '.join(number_tex(t) for t in terms) or '0'} = {number_tex(total)}",
            total,
        )
    )
    if aspect == 2 and batch != 1:
        steps.append(_batch_step(total, batch, "MACs"))
        total *= batch
    if what == "flops":
        steps.append(_flops_step(total))
    return tuple(steps)


def _field_steps(walk: _Walk, index: int, what: str) -> Steps:
    """Layer by layer, the field grows by ``(k − 1)·jump`` and the jump by the stride."""
    steps = [Step("At the input a pixel sees itself: field 1, jump 1.", value=1)]
    if index == INPUT:
        return tuple(steps)
    for i in walk.ancestors(index):
        line = walk.field_text(i)
        if line is not None:
            text, tex, (sizes, jumps) = line
            steps.append(Step(text, tex, _field_value(what, sizes, jumps)))
    return tuple(steps)


def _field_line(record: LayerRecord, previous: object) -> tuple[str, str | None]:
    assert record.field is not None
    h, w = record.field
    sequence = len(record.shape) == 2  # a sequence's field is along its length: the second axis
    if sequence:
        h, sizes, jumps = w, (w.size, w.size), (w.jump, w.jump)
    else:
        sizes, jumps = (h.size, w.size), (h.jump, w.jump)
    window = _sequence_window(record.layer) if sequence else record.layer.window()
    grew, tex = "", None
    if isinstance(previous, tuple) and window is not None and isinstance(previous[int(sequence)], AxisField):
        before = previous[int(sequence)]
        kernel, stride, _, dilation = window
        k, s, d = (v if isinstance(v, int) else v[0] for v in (kernel, stride, dilation))
        if before.jump.denominator == 1 and h.size == before.size + d * (k - 1) * int(before.jump):
            trace = Trace()
            span = trace.given("D", d, neutral=1) * (trace.given("k", k) - 1)
            trace.equation(
                "r", trace.given("r_in", before.size, "r_{in}") + span * trace.given("j_in", int(before.jump), "j_{in}")
            )
            trace.equation("j", trace.given("j_in", int(before.jump), "j_{in}") * trace.given("s", s))
            grew = ": " + "; ".join(step.text for step in trace.steps)
            tex = r";\ ".join(step.tex or "" for step in trace.steps)
    elif record.layer.merges:
        grew = ": the widest of its inputs' fields"
    axes = f"{sizes[0]}" if sizes[0] == sizes[1] else f"{sizes[0]}×{sizes[1]}"
    jump = number_text(jumps[0]) if jumps[0] == jumps[1] else f"{number_text(jumps[0])}×{number_text(jumps[1])}"
    where = f" (field {axes}, jump {jump})"
    text = f"{label(record)}{grew}{where}"
    if tex is None:
        return text, None
    return text, rf"\text{{{label(record)}: }} {tex} \quad \text{{{where.strip()}}}"


def _sequence_window(layer: object) -> tuple[int, int, int, int] | None:
    """(kernel, stride, padding, dilation) of a window along a sequence (``conv1d``, ``pool1d``)."""
    if not isinstance(layer, ConvNd | PoolNd) or not layer.kind.endswith("1d"):
        return None
    kernel, dilation = per_axis(layer.kernel, 1, "kernel")[0], per_axis(layer.dilation, 1, "dilation")[0]
    stride = per_axis(layer.stride, 1, "stride")[0] if layer.stride is not None else kernel
    return kernel, stride, 0, dilation


def _field_value(what: str, sizes: tuple[int, int], jumps: tuple[Fraction | int, Fraction | int]) -> JSON:
    pair = sizes if what.startswith("rf") else jumps
    if what.endswith("_h"):
        return _json_number(pair[0])
    if what.endswith("_w"):
        return _json_number(pair[1])
    if pair[0] == pair[1]:
        return _json_number(pair[0])
    return [_json_number(v) for v in pair]


def _json_number(value: int | Fraction) -> int | float:
    fraction = Fraction(value)
    return fraction.numerator if fraction.denominator == 1 else float(fraction)


def _separable(record: LayerRecord, what: str) -> Steps:
    """The standard convolution's count beside the separable one's, and the saving in percent."""
    assert isinstance(record.layer, Separable) and record.working is not None
    standard = record.layer.standard()
    counted = "params" if what.startswith("params") else "macs"
    trace = Trace()
    if counted == "params":
        old = standard.params(record.input_shape, trace=trace)
        new, own = record.params, record.working[1]
    else:
        old = standard.macs(record.input_shape, trace=trace)
        new, own = record.macs, record.working[2]
    steps = [
        Step(f"a standard {standard.kernel}×{standard.kernel} convolution: {s.text}", s.tex, s.value)
        for s in trace.steps
    ]
    if what.endswith("_standard"):
        return tuple(steps)
    saved = counts.saved_percent(new, old)
    percent = to_text(AnswerKind.PERCENT, saved)
    steps += own
    steps.append(
        Step(
            f"reduction = 100·(1 − separable/standard) = 100·(1 − {new:,}/{old:,}) = {percent}",
            rf"100 \cdot \left(1 - \frac{{{number_tex(new)}}}{{{number_tex(old)}}}\right) = {percent[:-1]}\%",
            _json_number(saved),
        )
    )
    return tuple(steps)
