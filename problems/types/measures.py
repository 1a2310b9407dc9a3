"""A network's quantities about what its outputs hold rather than its weights: values
(activations) and their memory (in bytes, kB, MB, KiB or MiB) per output and over the network
(what a forward pass stores: ``problems.solvers.storage``), one side or length of an output,
its positions (tokens), a convolution's padding per side, a window's kernel as it spans its
input (dilated), a neuron's fan-in, and a normalisation's buffers and whole state (batch, group,
instance and layer norm; a window attention's relative position index).

Every one is an integer computed from the run (``problems.solvers.network``), so under a
mistaken assumption it follows the shapes and counts the mistake changes.
"""

from __future__ import annotations

from problems.kinds import AnswerKind
from problems.solvers import activations, norms
from problems.solvers.assumptions import Assumptions
from problems.solvers.layers import Conv, Pool, Separable, Shape, pair
from problems.solvers.network import NetworkRun
from problems.solvers.sizes import effective_kernel
from problems.solvers.steps import NO_TRACE, Trace
from problems.solvers.storage import TORCH, StoredValues, writes_new_values
from problems.solvers.swin import WindowAttention
from problems.types.base import Quantity

INTEGER = AnswerKind.INTEGER
#: The names of a map's spatial axes by its rank (C first): a sequence, an image, a clip.
AXES = {1: ("length",), 2: ("height", "width"), 3: ("frames", "height", "width")}


def measures(result: NetworkRun, dtype: str, stored: StoredValues = TORCH, batch: int = 1) -> dict[str, Quantity]:
    """``values``, ``memory`` (and its units), ``side`` and the axes, ``tokens`` per named output;
    ``fan_in``, ``pad_top`` (``_bottom``, ``_left``, ``_right``), ``kernel_eff``, ``buffers`` and
    ``state`` per named layer; ``buffers`` and ``state`` ``.total`` over every layer instance; ``values`` and
    ``memory`` ``.total`` over what the forward pass stores (``stored``: by default the input and
    every output written to new memory, as PyTorch does). Values and memory are of ``batch`` images."""
    found: dict[str, Quantity] = {}
    totals = {"values": activations.values(result.input_shape) if stored.input else 0, "buffers": 0, "state": 0}
    for index, record in enumerate(result.records):
        buffers = norms.buffers(record.layer, record.input_shape)
        if writes_new_values(record.layer, stored):
            totals["values"] += activations.values(record.shape)
        totals["buffers"] += buffers
        totals["state"] += record.params + buffers
        if record.name is None:
            continue
        found.update(output_measures(record.name, record.shape, dtype, batch))
        fan_in = getattr(record.layer, "fan_in", None)
        if fan_in is not None:
            found[f"fan_in.{record.name}"] = Quantity(INTEGER, fan_in(record.input_shape, result.assumed(index)))
        found.update(_padding(record.name, record.layer, record.input_shape, result.assumed(index)))
        found.update(_effective_kernel(record.name, record.layer, record.input_shape, result.assumed(index)))
        if isinstance(record.layer, (*norms.NORMS, WindowAttention)):
            found[f"buffers.{record.name}"] = Quantity(INTEGER, buffers)
            found[f"state.{record.name}"] = Quantity(INTEGER, record.params + buffers)
    for name, index in result.outputs.items():
        found.update(output_measures(name, result.shape_at(index), dtype, batch))
    totals["values"] *= batch
    for label, total in totals.items():
        found[f"{label}.total"] = Quantity(INTEGER, total)
    found.update(_memory("total", totals["values"], dtype))
    return found


def _memory(name: str, count: int, dtype: str) -> dict[str, Quantity]:
    """The memory ``count`` values take, in each unit a part may ask for (``memory.NAME`` in bytes,
    ``memory_mb.NAME`` in MB, ...): a whole number of bytes, an exact fraction of a larger unit."""
    size = activations.memory(count, dtype)
    return {
        f"{unit}.{name}": Quantity(INTEGER if per == 1 else AnswerKind.REAL, activations.in_unit(size, unit))
        for unit, (per, _) in activations.MEMORY_UNITS.items()
    }


def output_measures(name: str, shape: Shape, dtype: str, batch: int = 1) -> dict[str, Quantity]:
    """Of one output: ``values``, ``memory`` (of ``batch`` images); of a map (C first) also
    ``channels``, each spatial axis (``length``; ``height``, ``width``; ``frames``), ``side`` when
    they agree and ``tokens`` (its positions: a patch embedding's patches)."""
    count = activations.values(shape) * batch
    found = {f"values.{name}": Quantity(INTEGER, count), **_memory(name, count, dtype)}
    spatial = shape[1:]
    if spatial in ((), None) or len(spatial) not in AXES:
        return found
    found[f"channels.{name}"] = Quantity(INTEGER, shape[0])
    for axis, size in zip(AXES[len(spatial)], spatial, strict=True):
        found[f"{axis}.{name}"] = Quantity(INTEGER, size)
    if len(set(spatial)) == 1:
        found[f"side.{name}"] = Quantity(INTEGER, spatial[0])
    found[f"tokens.{name}"] = Quantity(INTEGER, activations.values(spatial))
    return found


def _padding(name: str, layer: object, shape: Shape, assume: Assumptions) -> dict[str, Quantity]:
    """A convolution's padding on each side (``same`` at a stride: TensorFlow's, odd pixel after)."""
    conv = layer.standard() if isinstance(layer, Separable) else layer
    if not isinstance(conv, Conv) or len(shape) != 3:
        return {}
    (top, bottom), (left, right) = conv.paddings(assume, shape)
    sides = {"top": top, "bottom": bottom, "left": left, "right": right}
    return {f"pad_{side}.{name}": Quantity(INTEGER, value) for side, value in sides.items()}


def _effective_kernel(name: str, layer: object, shape: Shape, assume: Assumptions) -> dict[str, Quantity]:
    """``kernel_eff`` of a window on an image (:func:`kernel_spans`): a number when both axes agree,
    else H×W."""
    if not isinstance(layer, Conv | Pool | Separable) or len(shape) != 3:
        return {}
    spans = kernel_spans(layer, assume)
    if spans[0] == spans[1]:
        return {f"kernel_eff.{name}": Quantity(INTEGER, spans[0])}
    return {f"kernel_eff.{name}": Quantity(AnswerKind.SHAPE, spans)}


def kernel_spans(layer: Conv | Pool | Separable, assume: Assumptions, trace: Trace = NO_TRACE) -> tuple[int, int]:
    """A convolution's or pooling's kernel as it spans its input, ``d·(k − 1) + 1`` per axis (a 3×3
    kernel at dilation 2 spans 5×5; under ``dilation-ignored``, the kernel itself); one equation
    where both axes agree."""
    kernel, _, _, dilation = layer.window()
    k, d = pair(kernel), pair(dilation) if assume.dilation else (1, 1)
    if k[0] == k[1] and d[0] == d[1]:
        side = trace.equation("span", effective_kernel(trace.given("k", k[0]), trace.given("d", d[0])))
        return side, side
    h, w = (
        trace.equation(f"span_{a}", effective_kernel(trace.given(f"k_{a}", k[i]), trace.given(f"d_{a}", d[i])))
        for i, a in enumerate("hw")
    )
    return h, w
