"""A chain of layers run on shapes: per-layer output shape, parameters, MACs and receptive
field, with blocks repeated a fixed number of times or "until the map is N×N".
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from problems.solvers.assumptions import CORRECT, Assumptions
from problems.solvers.layers import Layer, LayerError, Shape, grow_field
from problems.solvers.receptive import ReceptiveField

#: Upper bound when solving "repeat until": far past any network in a course.
MAX_REPEATS = 10_000


class Until(BaseModel):
    """Repeat until the spatial side equals ``size``, measured after this block or at the end."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    size: int = Field(gt=0)
    at: Literal["self", "end"] = "self"


class Repeat(BaseModel):
    """``layer`` stacked ``times`` times, or as many times as ``until`` needs."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    kind: Literal["repeat"] = "repeat"
    name: str
    layer: Layer
    times: int | None = Field(default=None, ge=0)
    until: Until | None = None
    group: str | None = None


Step = Layer | Repeat


@dataclass(frozen=True)
class LayerRecord:
    """What one layer instance did."""

    name: str | None
    group: str | None
    block: str | None
    weighted: bool
    layer: Layer
    input_shape: Shape
    shape: Shape
    params: int
    macs: int
    field: ReceptiveField | None


@dataclass(frozen=True)
class NetworkRun:
    input_shape: Shape
    records: tuple[LayerRecord, ...]
    repeats: dict[str, int]

    @property
    def output_shape(self) -> Shape:
        return self.records[-1].shape if self.records else self.input_shape


def expand(steps: list[Step], counts: dict[str, int]) -> list[tuple[Layer, str | None, str | None]]:
    """Flatten repeats into (layer, group, block) instances; a layer takes its block's group
    when it has none of its own."""
    flat: list[tuple[Layer, str | None, str | None]] = []
    for step in steps:
        if isinstance(step, Repeat):
            group = step.layer.group or step.group
            flat.extend((step.layer, group, step.name) for _ in range(counts[step.name]))
        else:
            flat.append((step, step.group, None))
    return flat


def run(
    input_shape: Shape, steps: list[Step], counts: dict[str, int] | None = None, assume: Assumptions = CORRECT
) -> NetworkRun:
    """Run the chain; repeat counts come from ``counts``, ``times``, or are solved from ``until``
    (always under the correct assumptions: a mistake changes the layers, not the architecture)."""
    counts = dict(counts or {})
    for step in steps:
        if isinstance(step, Repeat) and step.name not in counts:
            if step.times is not None:
                counts[step.name] = step.times
            elif step.until is not None:
                counts[step.name] = _solve_repeat(input_shape, steps, step, counts)
            else:
                raise LayerError(f"repeat {step.name!r} needs 'times' or 'until'")
    records: list[LayerRecord] = []
    shape = input_shape
    field: ReceptiveField | None = ReceptiveField()
    for index, (layer, group, block) in enumerate(expand(steps, counts), start=1):
        try:
            out = layer.output_shape(shape, assume)
            params, macs = layer.params(shape, assume), layer.macs(shape, assume)
        except (LayerError, ValueError) as error:
            label = layer.name or f"layer {index}"
            raise LayerError(f"{label} ({layer.kind}) on input {'×'.join(map(str, shape))}: {error}") from None
        if field is not None:
            field = None if len(out) != 3 else grow_field(field, layer, assume)
        records.append(LayerRecord(layer.name, group, block, layer.weighted, layer, shape, out, params, macs, field))
        shape = out
    return NetworkRun(input_shape, tuple(records), counts)


def _solve_repeat(input_shape: Shape, steps: list[Step], block: Repeat, known: dict[str, int]) -> int:
    """Smallest count that reaches the target side; refuses when none does exactly."""
    assert block.until is not None
    position = steps.index(block)
    upto = steps if block.until.at == "end" else steps[: position + 1]
    later = [s for s in upto[position + 1 :] if isinstance(s, Repeat) and s.name not in known and s.times is None]
    if later:
        raise LayerError(f"repeat {block.name!r} measures at the end, but {later[0].name!r} after it is unsolved too")
    fixed = {s.name: s.times for s in upto if isinstance(s, Repeat) and s.times is not None}
    previous: int | None = None
    for count in range(MAX_REPEATS + 1):
        try:
            side = run(input_shape, upto, {**fixed, **known, block.name: count}).output_shape
        except LayerError:
            break
        if len(side) == 3 and side[1] == block.until.size:
            return count
        if previous is not None and len(side) == 3 and side[1] == previous:
            break  # the block does not change the size: no count will reach the target
        previous = side[1] if len(side) == 3 else None
    raise LayerError(f"repeating {block.name!r} never makes the map {block.until.size}×{block.until.size}")
