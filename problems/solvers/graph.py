"""A network as a graph of layers: the steps a set file writes (layers, named blocks, repeated
blocks) and their plan, the layer instances in order with the earlier outputs each one reads.

A step takes the output of the step before it unless it says ``from``: a name, or a list of
names for a merge (``add``, ``concat``). A name is looked up in the innermost block first, then
outwards; ``input`` is the input of the innermost block (at the top: the network's). Inside a
block, names are qualified by the block's name (``layer1.0.conv1`` for ``conv1`` in the first
instance of the repeated block ``layer1``), which is how quantities name them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, Literal, Self

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator

from problems import budgets
from problems.budgets import MAX_LAYERS, MAX_SIDE, over
from problems.solvers.checks import within
from problems.solvers.inputs import ExtraInput
from problems.solvers.layers import (
    Activation,
    BatchNorm,
    Conv,
    ConvTranspose,
    Dropout,
    Flatten,
    LayerError,
    Linear,
    Pool,
    Separable,
)
from problems.solvers.merging import Add, Concat, Multiply
from problems.solvers.norms import GroupNorm, InstanceNorm, LayerNorm
from problems.solvers.permutes import Permute
from problems.solvers.resampling import AdaptivePool, Pad, Upsample
from problems.solvers.scaling import LayerScale
from problems.solvers.sequence import Attention, ClassToken, PositionEmbedding, Recurrent, TakeToken, Tokens, ToMap
from problems.solvers.swin import PatchMerging, WindowAttention
from problems.solvers.unshared import Local, PatchEmbed, PixelShuffle
from problems.solvers.volumes import ConvNd, PoolNd

#: Every kind of layer: one step of a network that is not a block or a repeat.
LayerKinds = (
    Conv
    | ConvTranspose
    | Separable
    | Pool
    | AdaptivePool
    | Upsample
    | Pad
    | Activation
    | Dropout
    | BatchNorm
    | GroupNorm
    | InstanceNorm
    | LayerNorm
    | Flatten
    | Linear
    | Add
    | Multiply
    | Concat
    | ConvNd
    | PoolNd
    | Local
    | PixelShuffle
    | PatchEmbed
    | Tokens
    | ToMap
    | Permute
    | LayerScale
    | WindowAttention
    | PatchMerging
    | ExtraInput
    | ClassToken
    | PositionEmbedding
    | TakeToken
    | Attention
    | Recurrent
)
Layer = Annotated[LayerKinds, Field(discriminator="kind")]

#: The node index that stands for the network's input.
INPUT = -1


class _Named(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    name: str = Field(min_length=1)
    group: str | None = Field(default=None, min_length=1)
    sources: tuple[str] | None = Field(default=None, alias="from")

    @field_validator("sources", mode="before")
    @classmethod
    def _one_name(cls, value: object) -> object:
        return (value,) if isinstance(value, str) else value


class Block(_Named):
    """Named steps run once: their totals count under the block's name, its output is the last
    step's output."""

    kind: Literal["block"] = "block"
    layers: list[Step] = Field(min_length=1, description="The block's steps, run in order.")


class Until(BaseModel):
    """Repeat until the spatial side equals ``size``, measured after this block or at the end."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    size: Annotated[int, AfterValidator(within(MAX_SIDE, "a map's side"))] = Field(
        gt=0, description="The spatial side to reach."
    )
    at: Literal["self", "end"] = Field(
        default="self", description="Where the side is measured: after this repeat (`self`) or at the network's end."
    )


class Repeat(_Named):
    """A layer (``layer``) or a block of steps (``layers``) stacked ``times`` times, or as many
    times as ``until`` needs; ``first`` replaces the block in the first instance (a stage whose
    first unit changes the size). Instance ``i`` is named ``NAME.i``."""

    kind: Literal["repeat"] = "repeat"
    layer: Layer | None = Field(default=None, description="One layer to stack.")
    layers: list[Step] | None = Field(
        default=None, min_length=1, description="Instead of `layer`: a block of steps to stack."
    )
    first: list[Step] | None = Field(
        default=None,
        min_length=1,
        description="The steps of the first instance, in place of `layers` (a stage whose "
        "first unit changes the size).",
    )
    times: Annotated[int, AfterValidator(within(MAX_LAYERS, "the layer instances of a network"))] | None = Field(
        default=None,
        ge=0,
        description=f"How many instances (a network has at most {MAX_LAYERS:,} layer instances once stacked).",
    )
    until: Until | None = Field(default=None, description="Instead of `times`: stack until the map has this side.")

    @model_validator(mode="after")
    def _one_body(self) -> Self:
        if (self.layer is None) == (self.layers is None):
            raise ValueError("give exactly one of layer (one layer) and layers (a block of steps)")
        if self.first is not None and self.layers is None:
            raise ValueError("first replaces the first instance of a block (layers), not of one layer")
        if self.layer is not None and self.layer.sources is not None:
            raise ValueError("a repeated layer takes its previous instance's output: put 'from' on the repeat")
        if self.times is not None and self.until is not None:
            raise ValueError("give times or until, not both")
        return self


Step = Annotated[LayerKinds | Block | Repeat, Field(discriminator="kind")]

Block.model_rebuild()
Repeat.model_rebuild()


@dataclass(frozen=True)
class Node:
    """One layer instance: the node indices it reads (``INPUT`` for the network's input), its
    qualified name, its group, the blocks it lies in (outermost first) and where the set file
    declares it (``layers.4.layers.2``)."""

    layer: Layer
    inputs: tuple[int, ...]
    name: str | None
    group: str | None
    scopes: tuple[str, ...]
    where: str


@dataclass(frozen=True)
class Plan:
    nodes: tuple[Node, ...]
    #: The output of every block, repeat and instance, by qualified name (``INPUT`` when empty).
    outputs: dict[str, int]
    output: int
    #: Instances of every repeat, by qualified name.
    repeats: dict[str, int]


def instances(steps: list[Step], counts: dict[str, int] | None = None, where: str = "layers") -> int:
    """The layer instances ``steps`` plan to (repeats stacked ``counts[name]`` or ``times``
    times, once without either), counted without planning them. Refuses, as a ``LayerError``
    naming its field, the innermost repeat that stacks more than the budget, then a network
    that has more."""
    total = sum(_instances(step, counts or {}, f"{where}.{i}") for i, step in enumerate(steps))
    if total > MAX_LAYERS:
        budget = over(MAX_LAYERS, "the layer instances of a network")
        raise LayerError(f"{where}: the network has {total:,} layer instances, {budget}", where)
    return total


def _all(steps: list[Step], where: str) -> int:
    return sum(_instances(step, {}, f"{where}.{i}") for i, step in enumerate(steps))


def _instances(step: Step, counts: dict[str, int], where: str) -> int:
    if isinstance(step, Block):
        return _all(step.layers, f"{where}.layers")
    if not isinstance(step, Repeat):
        return 1
    times = counts.get(step.name, step.times)
    times = 1 if times is None else times
    body = 1 if step.layers is None else _all(step.layers, f"{where}.layers")
    first = body if step.first is None else _all(step.first, f"{where}.first")
    total = 0 if times == 0 else first + (times - 1) * body
    if total > MAX_LAYERS:
        setting = f"{where}.{'times' if step.times is not None else 'until'}"
        budget = over(MAX_LAYERS, "the layer instances of a network")
        raise LayerError(
            f"{setting}: {times:,} instances of {body:,} layer{'s' if body != 1 else ''} make {total:,} layer "
            f"instances, {budget}",
            setting,
        )
    return total


def plan(steps: list[Step], counts: dict[str, int]) -> Plan:
    """The layer instances of ``steps`` in order, with repeats stacked ``counts[name]`` times
    (qualified names; a repeat missing there stacks ``times``). Refuses a ``from`` that names no
    earlier output in reach and a name used twice, naming the field."""
    planner = _Planner(counts)
    output = planner.scope(steps, ("",), INPUT, (), None, "layers")
    budgets.charge(1 + len(planner.nodes) // budgets.NODES_PER_STEP)
    return Plan(tuple(planner.nodes), planner.outputs, output, planner.repeats)


@dataclass
class _Planner:
    counts: dict[str, int]
    nodes: list[Node] = field(default_factory=list)
    outputs: dict[str, int] = field(default_factory=dict)
    repeats: dict[str, int] = field(default_factory=dict)
    #: Every named output so far (layers, blocks, repeats, instances): qualified name → node.
    known: dict[str, int] = field(default_factory=dict)
    taken: set[str] = field(default_factory=set)
    #: Names a repeated single layer gives each of its instances (the last one answers to it).
    reused: set[str] = field(default_factory=set)

    def scope(
        self,
        steps: list[Step],
        prefixes: tuple[str, ...],
        start: int,
        scopes: tuple[str, ...],
        group: str | None,
        where: str,
    ) -> int:
        """Plan ``steps`` inside the block whose names start with ``prefixes[-1]`` (the enclosing
        blocks' prefixes before it) and whose input is node ``start``; returns its output."""
        previous = start
        for index, step in enumerate(steps):
            here = f"{where}.{index}"
            inputs = self._resolve(step.sources, prefixes, start, here) if step.sources else (previous,)
            if isinstance(step, ExtraInput):  # reads nothing: it stands beside the network's input
                inputs = (INPUT,)
            if isinstance(step, Block):
                name = self._take(prefixes[-1] + step.name, here)
                inner = (*prefixes, f"{name}.")
                group_in = step.group or group
                previous = self.scope(step.layers, inner, inputs[0], (*scopes, name), group_in, f"{here}.layers")
                self._output(name, previous)
            elif isinstance(step, Repeat):
                previous = self._repeat(step, prefixes, inputs[0], scopes, step.group or group, here)
            else:
                previous = self._layer(step, inputs, prefixes[-1], scopes, step.group or group, here)
        return previous

    def _repeat(
        self, step: Repeat, prefixes: tuple[str, ...], start: int, scopes: tuple[str, ...], group: str | None, here: str
    ) -> int:
        name = self._take(prefixes[-1] + step.name, here)
        count = self.counts.get(name, step.times)
        if count is None:
            raise LayerError(f"{here}: repeat {name!r} needs 'times' or 'until'")
        self.repeats[name] = count
        if step.layer is not None and step.layer.name:
            self.reused.add(prefixes[-1] + step.layer.name)
        previous = start
        for i in range(count):
            instance = self._take(f"{name}.{i}", here)
            inner = (*scopes, name, instance)
            if step.layer is not None:
                layer_group = step.layer.group or group
                previous = self._layer(step.layer, (previous,), prefixes[-1], inner, layer_group, f"{here}.layer")
            else:
                body, part = (step.first, "first") if i == 0 and step.first is not None else (step.layers, "layers")
                assert body is not None  # _one_body: layers is given when layer is not
                previous = self.scope(body, (*prefixes, f"{instance}."), previous, inner, group, f"{here}.{part}")
            self._output(instance, previous)
        self._output(name, previous)
        return previous

    def _layer(
        self, layer: Layer, inputs: tuple[int, ...], prefix: str, scopes: tuple[str, ...], group: str | None, here: str
    ) -> int:
        name = self._take(prefix + layer.name, here) if layer.name else None
        self.nodes.append(Node(layer, inputs, name, group, scopes, here))
        if name is not None:
            self.known[name] = len(self.nodes) - 1
        return len(self.nodes) - 1

    def _take(self, name: str, here: str) -> str:
        if name.rsplit(".", 1)[-1] == "input":
            raise LayerError(f"{here}.name: 'input' names the input of a block; call the step something else")
        if name in self.taken and name not in self.reused:
            raise LayerError(f"{here}.name: the name {name!r} is used twice")
        self.taken.add(name)
        return name

    def _output(self, name: str, index: int) -> None:
        self.known[name] = index
        self.outputs[name] = index

    def _resolve(self, sources: tuple[str, ...], prefixes: tuple[str, ...], start: int, here: str) -> tuple[int, ...]:
        """Each name in the innermost block first, then outwards; ``input`` is this block's input."""
        found = []
        for source in sources:
            if source == "input":
                found.append(start)
                continue
            for prefix in reversed(prefixes):
                if prefix + source in self.known:
                    found.append(self.known[prefix + source])
                    break
            else:
                raise LayerError(f"{here}.from: no earlier output is named {source!r} here")
        return tuple(found)
