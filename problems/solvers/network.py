"""A network's plan run on shapes: per layer instance its output shape, parameters, MACs and
receptive field, with blocks repeated a fixed number of times or "until the map is N×N".
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace

from problems import budgets
from problems.budgets import MAX_LAYERS, MAX_SIDE, MAX_UNITS, over
from problems.solvers.assumptions import CORRECT, Assumptions
from problems.solvers.graph import INPUT, Layer, Node, Plan, Repeat, Step, instances, plan
from problems.solvers.layers import Conv, LayerBase, LayerError, Separable, Shape, pair, shape_text
from problems.solvers.layouts import ChannelsLast
from problems.solvers.merging import MergeLayer
from problems.solvers.permutes import TO_FIRST, TO_LAST
from problems.solvers.receptive import AxisField, IrregularField, ReceptiveField
from problems.solvers.steps import NO_TRACE, MissingSteps, Steps, Trace

#: The most features a flat vector may have: the largest map flattened.
MAX_FEATURES = MAX_UNITS * MAX_SIDE * MAX_SIDE
SIDE, UNITS = "a map's side", "a layer's units"

#: The receptive field along (height, width): exact (``AxisField``), or under the mistake of
#: growing it by the local stride (``ReceptiveField``).
Field = tuple[AxisField, AxisField] | tuple[ReceptiveField, ReceptiveField]


@dataclass(frozen=True)
class LayerRecord:
    """What one layer instance did."""

    name: str | None
    group: str | None
    scopes: tuple[str, ...]
    weighted: bool
    layer: Layer
    input_shapes: tuple[Shape, ...]
    shape: Shape
    params: int
    macs: int
    field: Field | None
    where: str
    #: The node indices the layer reads (``INPUT``: the network's input).
    inputs: tuple[int, ...] = ()
    #: The layer's working for its shape, parameters and MACs, when the run was asked for steps.
    working: tuple[Steps, Steps, Steps] | None = None

    @property
    def input_shape(self) -> Shape:
        return self.input_shapes[0]


@dataclass(frozen=True)
class NetworkRun:
    input_shape: Shape
    records: tuple[LayerRecord, ...]
    #: Instances of every repeat, by qualified name.
    repeats: dict[str, int]
    #: The node index of every block's, repeat's and instance's output (``INPUT``: the input).
    outputs: dict[str, int]
    output: int = INPUT
    #: The assumptions the run was computed under, on every layer or (``at``) on one node alone.
    assume: Assumptions = CORRECT
    at: int | None = None
    #: The node a partial run (``run(..., partial=True)``) stopped at, refused under its
    #: assumptions; its records are the nodes before it, its outputs the blocks that end before it.
    stopped: int | None = None

    def assumed(self, index: int) -> Assumptions:
        """The assumptions node ``index`` was computed under."""
        return self.assume if self.at is None or self.at == index else CORRECT

    def shape_at(self, index: int) -> Shape:
        return self.input_shape if index == INPUT else self.records[index].shape

    def field_at(self, index: int, assume: Assumptions = CORRECT) -> Field | None:
        return _input_field(assume) if index == INPUT else self.records[index].field

    @property
    def output_shape(self) -> Shape:
        return self.shape_at(self.output)


def run(
    input_shape: Shape,
    steps: list[Step],
    counts: dict[str, int] | None = None,
    assume: Assumptions = CORRECT,
    given: dict[str, Shape] | None = None,
    working: bool = False,
    at: int | None = None,
    partial: bool = False,
    shown: Callable[[Shape], str] = shape_text,
) -> NetworkRun:
    """Run the network; repeat counts come from ``counts``, ``times``, or are solved from ``until``
    (always under the correct assumptions: a mistake changes the layers, not the architecture).
    ``given`` replaces the output shape of the named layers or blocks (a student's own values);
    with ``working``, every record keeps the working of its layer (``LayerRecord.working``); ``at``
    applies ``assume`` to that node alone (a slip on one layer); with ``partial``, a layer that
    refuses its input ends the run there rather than failing it (a mistake that leads a later
    layer nowhere still gives the shapes before it: ``NetworkRun.stopped``); ``shown`` writes a
    shape in a refusal's message (the set file's own layout)."""
    counts = dict(counts or {})
    for step in steps:
        if isinstance(step, Repeat) and step.name not in counts:
            if step.times is not None:
                counts[step.name] = step.times
            elif step.until is not None:
                counts[step.name] = _solve_repeat(input_shape, steps, step, counts)
    layout = plan(steps, counts)
    replaced = _replaced(layout, given or {})
    records: list[LayerRecord] = []
    for index, node in enumerate(layout.nodes):
        budgets.charge(budgets.STEPS_PER_LAYER)
        try:
            record = _record(
                node, input_shape, records, assume if at is None or at == index else CORRECT, working, shown
            )
        except LayerError:
            if not partial:
                raise
            reached = {name: i for name, i in layout.outputs.items() if i < index}
            return NetworkRun(input_shape, tuple(records), layout.repeats, reached, INPUT, assume, at, stopped=index)
        if index in replaced:  # a student's shape: what follows from it, with no field
            record = replace(record, shape=replaced[index], field=None)
        records.append(record)
    return NetworkRun(input_shape, tuple(records), layout.repeats, layout.outputs, layout.output, assume, at)


def slips(steps: list[Step], result: NetworkRun, assume: Assumptions, working: bool = False) -> Iterator[NetworkRun]:
    """The network run again with ``assume`` on one layer instance at a time (its index ``at``),
    for each instance whose own output, counts or fan-in the mistake changes (``working``: each
    run keeps its layers' working, for the steps of the slip)."""
    for index, record in enumerate(result.records):
        try:
            slipped = _record_again(record, assume)
        except (LayerError, ValueError):
            continue
        if slipped == _record_again(record, CORRECT):
            continue
        try:
            yield run(result.input_shape, steps, dict(result.repeats), assume, at=index, working=working)
        except (LayerError, ValueError):
            continue


def changes_a_layer(result: NetworkRun, assume: Assumptions) -> bool:
    """Whether ``assume`` changes what any layer instance computes from its correct inputs (if
    none, the network run under it is the correct one again)."""
    for record in result.records:
        try:
            if _record_again(record, assume) != _record_again(record, CORRECT):
                return True
        except (LayerError, ValueError):
            return True
    return False


def _record_again(record: LayerRecord, assume: Assumptions) -> tuple[object, ...]:
    """What a layer instance computes from its (correct) inputs under ``assume``."""
    layer, shapes = record.layer, list(record.input_shapes)
    if isinstance(layer, MergeLayer):
        return (layer.merge_shape(shapes, assume),)
    fan_in = getattr(layer, "fan_in", None)
    conv = layer.standard() if isinstance(layer, Separable) else layer
    return (
        layer.output_shape(shapes[0], assume),
        layer.params(shapes[0], assume),
        layer.macs(shapes[0], assume),
        fan_in(shapes[0], assume) if fan_in is not None else None,
        conv.paddings(assume, shapes[0]) if isinstance(conv, Conv) and len(shapes[0]) == 3 else None,
    )


def _replaced(layout: Plan, given: dict[str, Shape]) -> dict[int, Shape]:
    """Node index → the shape given for its name (a layer's, or a block's output)."""
    found: dict[int, Shape] = {}
    for index, node in enumerate(layout.nodes):
        if node.name in given:
            found[index] = given[node.name]
    for name, index in layout.outputs.items():
        if name in given and index != INPUT:
            found[index] = given[name]
    return found


def _record(
    node: Node,
    input_shape: Shape,
    records: list[LayerRecord],
    assume: Assumptions,
    steps: bool = False,
    shown: Callable[[Shape], str] = shape_text,
) -> LayerRecord:
    layer = node.layer
    shapes = [input_shape if i == INPUT else records[i].shape for i in node.inputs]
    traces = (Trace(), Trace(), Trace()) if steps else (NO_TRACE, NO_TRACE, NO_TRACE)
    # without steps the layer is called as before traces existed, so a layer that takes none still
    # solves; asked for steps, it must write them (a layer that cannot fails the steps tests)
    working = {"trace": traces[0]} if steps else {}
    try:
        _check_layout(layer, shapes)
        if isinstance(layer, MergeLayer):
            out, params, macs = layer.merge_shape(shapes, assume, **working), 0, 0
        elif steps:
            out = layer.output_shape(shapes[0], assume, trace=traces[0])
            params = layer.params(shapes[0], assume, trace=traces[1])
            macs = layer.macs(shapes[0], assume, trace=traces[2])
        else:
            out = layer.output_shape(shapes[0], assume)
            params, macs = layer.params(shapes[0], assume), layer.macs(shapes[0], assume)
        _check_budget(out)
        if steps and not all(t.steps for t in traces[: 1 if isinstance(layer, MergeLayer) else 3]):
            raise MissingSteps(f"a {layer.kind_name} layer computed its shape, parameters or MACs without steps")
    except (LayerError, ValueError) as error:
        label = f"{layer.kind} {node.name}" if node.name else layer.kind
        if isinstance(layer, MergeLayer) and layer.sources is not None:
            taken = " and ".join(f"{n} {shown(s)}" for n, s in zip(layer.sources, shapes, strict=True))
            raise LayerError(f"{node.where}.from ({label}) of {taken}: {error}", f"{node.where}.from") from None
        setting = error.field if isinstance(error, LayerError) else None
        where = f"{node.where}.{setting}" if setting else node.where
        raise LayerError(f"{node.where} ({label}) on input {shown(shapes[0])}: {error}", where) from None
    fields = [_input_field(assume) if i == INPUT else records[i].field for i in node.inputs]
    field = _grow(layer, fields, shapes[0], out, assume)
    return LayerRecord(
        node.name,
        node.group,
        node.scopes,
        layer.weighted,
        layer,
        tuple(shapes),
        out,
        params,
        macs,
        field,
        node.where,
        node.inputs,
        tuple(tuple(t.steps) for t in traces) if steps else None,  # type: ignore[arg-type]  # three, as made
    )


def _check_layout(layer: LayerBase, shapes: list[Shape]) -> None:
    """Refuse a map held channels last (after a permute) where the layer reads channels first, as
    torch's module would compute something else on it, and inputs of a merge held in both orders."""
    last = [isinstance(shape, ChannelsLast) for shape in shapes]
    if not any(last):
        return
    if not layer.channels_last:
        raise LayerError(
            f"{layer.kind_name} reads a map channels first (N, C, H, W), and this one is held channels last after a "
            f"permute: permute it back first (dims {list(TO_FIRST)})"
        )
    if not all(last):
        orders = f"dims {list(TO_FIRST)} or {list(TO_LAST)}"
        raise LayerError(f"its inputs are held in two orders, channels last and first: permute one ({orders})")


def _check_budget(shape: Shape) -> None:
    """Refuse an output over the budgets: a side, channels, or a flat vector larger than any map."""
    if len(shape) == 3:
        channels, height, width = shape
        if max(height, width) > MAX_SIDE:
            raise LayerError(f"it makes a {height}×{width} map, {over(MAX_SIDE, SIDE)}")
        if channels > MAX_UNITS:
            raise LayerError(f"it makes {channels:,} channels, {over(MAX_UNITS, UNITS)}")
    elif len(shape) in (2, 4):  # a sequence or a clip
        if max(shape[1:]) > MAX_SIDE:
            raise LayerError(f"it makes a {shape_text(shape[1:])} map, {over(MAX_SIDE, SIDE)}")
        if shape[0] > MAX_UNITS:
            raise LayerError(f"it makes {shape[0]:,} channels, {over(MAX_UNITS, UNITS)}")
    elif shape[0] > MAX_FEATURES:
        raise LayerError(f"it makes {shape[0]:,} features, more than the largest map flattened ({MAX_FEATURES:,})")


def _input_field(assume: Assumptions) -> Field:
    if assume.field_growth != "jump":  # a mistaken growth: the textbook recurrence, grown wrong
        return ReceptiveField(), ReceptiveField()
    return AxisField(), AxisField()


def _grow(layer: LayerBase, fields: list[Field | None], shape: Shape, out: Shape, assume: Assumptions) -> Field | None:
    """The receptive field after ``layer``; None where it has none (a flat output, or a field
    that is not one pattern for every pixel)."""
    if len(out) not in (2, 3) or any(f is None for f in fields):
        return None  # a flat vector or a clip: no field followed
    known = [f for f in fields if f is not None]
    if not assume.dilation and getattr(layer, "dilation", 1) not in (1, (1, 1)):
        layer = layer.model_copy(update={"dilation": 1})  # the window as the student slides it, undilated
    try:
        if assume.field_growth != "jump":
            return _grow_mistaken(layer, known, assume)
        exact = [f for f in known if isinstance(f[0], AxisField) and isinstance(f[1], AxisField)]
        if isinstance(layer, MergeLayer):
            h, w = exact[0]
            for other_h, other_w in exact[1:]:
                h, w = h.union(other_h), w.union(other_w)
            return h, w
        taps = layer.taps(shape, out)
        if taps is None:
            return fields[0]
        return exact[0][0].through(taps[0]), exact[0][1].through(taps[1])
    except IrregularField:
        return None


def _grow_mistaken(layer: LayerBase, fields: list[Field], assume: Assumptions) -> Field | None:
    """The textbook recurrence grown the mistaken way (``assume.field_growth``: by the previous
    layer's stride alone); a merge keeps the larger field. No recurrence exists past a layer that
    is no sliding window (upsampling, adaptive pooling, a strided transposed convolution)."""
    textbook = [f for f in fields if isinstance(f[0], ReceptiveField) and isinstance(f[1], ReceptiveField)]
    if isinstance(layer, MergeLayer):
        h = max((f[0] for f in textbook), key=lambda r: (r.size, r.jump))
        w = max((f[1] for f in textbook), key=lambda r: (r.size, r.jump))
        return h, w
    window = layer.window()
    if window is None:
        # a layer that moves no pixel keeps the field; any other (upsampling, ...) has no recurrence
        return fields[0] if type(layer).taps is LayerBase.taps else None
    k, s, p, d = (pair(v) for v in window)
    h, w = textbook[0]
    growth = assume.field_growth
    return h.through(k[0], s[0], p[0], d[0], growth), w.through(k[1], s[1], p[1], d[1], growth)


def _solve_repeat(input_shape: Shape, steps: list[Step], block: Repeat, known: dict[str, int]) -> int:
    """Smallest count that reaches the target side; refuses when none does exactly, among the
    counts that keep the network within the budget on layer instances."""
    assert block.until is not None
    position = steps.index(block)
    upto = steps if block.until.at == "end" else steps[: position + 1]
    later = [s for s in upto[position + 1 :] if isinstance(s, Repeat) and s.name not in known and s.times is None]
    if later:
        raise LayerError(f"repeat {block.name!r} measures at the end, but {later[0].name!r} after it is unsolved too")
    fixed = {s.name: s.times for s in upto if isinstance(s, Repeat) and s.times is not None}
    counts = {**fixed, **known}
    most = _most_instances(upto, counts, block.name)
    search = _sides_here if block.until.at == "self" else _sides_by_running
    previous: int | None = None
    tried = 0
    for count, side in enumerate(search(input_shape, upto, counts, block.name, most)):
        tried = count + 1
        if len(side) == 3 and side[1] == block.until.size:
            return count
        if previous is not None and len(side) == 3 and side[1] == previous:
            tried = 0  # the block does not change the size: no count will reach the target
            break
        previous = side[1] if len(side) == 3 else None
    target = f"{block.until.size}×{block.until.size}"
    if tried == most + 1 and tried > 0:
        raise LayerError(
            f"repeating {block.name!r} does not make the map {target} in {most:,} instances; more would go "
            f"{over(MAX_LAYERS, 'the layer instances of a network')}",
            f"layers.{position}.until",
        )
    raise LayerError(f"repeating {block.name!r} never makes the map {target}", f"layers.{position}.until")


def _most_instances(steps: list[Step], counts: dict[str, int], name: str) -> int:
    """The largest count of the repeat ``name`` that keeps the steps within the budget on layer
    instances (-1: none does), found by bisection on the count (the instances grow with it)."""

    def fits(count: int) -> bool:
        try:
            instances(steps, {**counts, name: count})
        except LayerError:
            return False
        return True

    low, high = -1, MAX_LAYERS  # fits(low) holds (or low is -1), and nothing above high can
    while low < high:
        middle = (low + high + 1) // 2
        if fits(middle):
            low = middle
        else:
            high = middle - 1
    return low


def _sides_by_running(
    input_shape: Shape, steps: list[Step], counts: dict[str, int], name: str, most: int, start: int = 0
) -> Iterator[Shape]:
    """The output shape for each count from ``start`` to ``most``, until one fails: each count
    planned anew, and the records of the nodes its plan begins with as the last one did kept (a
    record depends on its node and the records before it alone)."""
    nodes: tuple[Node, ...] = ()
    records: list[LayerRecord] = []
    for count in range(start, most + 1):
        try:
            layout = plan(steps, {**counts, name: count})
        except LayerError:
            return
        same = 0
        while same < min(len(nodes), len(layout.nodes)) and nodes[same] == layout.nodes[same]:
            same += 1
        del records[same:]
        for node in layout.nodes[same:]:
            budgets.charge(1)
            try:
                records.append(_record(node, input_shape, records, CORRECT))
            except LayerError:
                return
        nodes = layout.nodes
        yield input_shape if layout.output == INPUT else records[layout.output].shape


def _sides_here(input_shape: Shape, steps: list[Step], counts: dict[str, int], name: str, most: int) -> Iterator[Shape]:
    """The output shape of the last step, the repeat ``name``, for each count from 0 to ``most``,
    until one fails. The plan of more instances begins with the plan of fewer, so the instances are
    planned in batches growing fourfold and walked once: a count costs one instance's work, not a
    run of the whole network (counts whose plan fails are run alone)."""
    if most < 0:
        return
    try:
        yield run(input_shape, steps, {**counts, name: 0}).output_shape
    except LayerError:
        return
    records: list[LayerRecord] = []
    count = planned = 1
    while count <= most:
        planned = min(most, max(4 * planned, 8))
        try:
            layout = plan(steps, {**counts, name: planned})
        except LayerError:
            yield from _sides_by_running(input_shape, steps, counts, name, most, start=count)
            return
        for instance in range(count - 1, planned):
            end = layout.outputs[f"{name}.{instance}"]
            while len(records) <= end:
                budgets.charge(1)
                try:
                    records.append(_record(layout.nodes[len(records)], input_shape, records, CORRECT))
                except LayerError:
                    return
            yield input_shape if end == INPUT else records[end].shape
        count = planned + 1
