"""Mistakes about a network's structure rather than one layer's arithmetic: the correct run
rewritten as a student who makes the mistake counts it.

- ``bias-beside-batchnorm``: a bias counted on every layer that has none and feeds a batch norm
  (by convention such a layer has no bias: batch norm's shift takes its place), in blocks and
  repeats as at the top level.
- ``projection-shortcut-omitted``: the layers of every projection shortcut (the 1×1 convolution
  with its batch norm that a residual block puts on its shortcut where the shape changes) left out
  of the counts. The shapes stay: only parameters and multiply-accumulates change. A feature
  pyramid's lateral 1×1 convolutions are no shortcuts: the sum's other input comes down from a
  coarser level (upsampled) or from a further input, not along a block's main path.
"""

from __future__ import annotations

from dataclasses import replace

from problems.solvers.graph import INPUT
from problems.solvers.inputs import ExtraInput
from problems.solvers.layers import BatchNorm, Conv, ConvTranspose
from problems.solvers.merging import Add
from problems.solvers.network import LayerRecord, NetworkRun
from problems.solvers.resampling import Upsample
from problems.solvers.unshared import PixelShuffle

#: Layers that enlarge a map: a path through one comes down from a coarser level (a feature
#: pyramid's top-down path, a decoder's), never a residual block's main path.
ENLARGING = (Upsample, ConvTranspose, PixelShuffle)


def bias_beside_batchnorm(result: NetworkRun) -> NetworkRun | None:
    """The run with a bias on each layer that has none and is read by a batch norm, or None when
    there is no such layer.

    >>> from problems.solvers.network import run
    >>> steps = [Conv(out_channels=8, kernel=3, bias=False), BatchNorm()]
    >>> [r.params for r in bias_beside_batchnorm(run((3, 8, 8), steps)).records]  # 3·3·3·8 + 8, 2·8
    [224, 16]
    """
    normalised = {i for record in result.records if isinstance(record.layer, BatchNorm) for i in record.inputs}
    records = list(result.records)
    for index in sorted(normalised - {INPUT}):
        record = records[index]
        if getattr(record.layer, "bias", None) is False:
            biased = record.layer.model_copy(update={"bias": True})
            records[index] = replace(record, params=biased.params(record.input_shape))
    return replace(result, records=tuple(records)) if records != list(result.records) else None


def projection_shortcuts(records: tuple[LayerRecord, ...]) -> set[int]:
    """The indices of the layers on projection shortcuts. A sum's input is one when it is reached
    by convolutions and batch norms alone (a convolution at least, each read by the next only)
    from a fork that another input of the sum is reached from the long way (the block's main
    path). An identity shortcut has no layers; where two inputs would qualify, the sum is no
    residual block and has none."""
    readers: dict[int, int] = {}
    for record in records:
        for source in record.inputs:
            readers[source] = readers.get(source, 0) + 1
    found: set[int] = set()
    for record in records:
        if not isinstance(record.layer, Add):
            continue
        short = []
        for source in record.inputs:
            chain, fork = _branch(records, readers, source)
            others = [other for other in record.inputs if other != source]
            if any(isinstance(records[i].layer, Conv) for i in chain) and any(
                _reads(records, other, fork) for other in others
            ):
                short.append(chain)
        if len(short) == 1:
            found.update(short[0])
    return found


def projection_omitted(result: NetworkRun) -> tuple[NetworkRun, set[str]] | None:
    """The run with the projection shortcuts' parameters and MACs left out, and the names of
    those layers (their own counts are not the mistake's); None when the network has none."""
    shortcuts = projection_shortcuts(result.records)
    if not shortcuts:
        return None
    records = tuple(replace(r, params=0, macs=0) if i in shortcuts else r for i, r in enumerate(result.records))
    names = {result.records[i].name for i in shortcuts}
    return replace(result, records=records), {name for name in names if name}


def _branch(records: tuple[LayerRecord, ...], readers: dict[int, int], start: int) -> tuple[list[int], int]:
    """The convolutions and batch norms that lead to ``start`` one after the other, each read by
    the next alone, and the node where that chain begins (the fork)."""
    chain: list[int] = []
    index = start
    while index != INPUT and isinstance(records[index].layer, Conv | BatchNorm) and readers.get(index, 0) == 1:
        chain.append(index)
        (index,) = records[index].inputs
    return chain, index


def _reads(records: tuple[LayerRecord, ...], node: int, ancestor: int) -> bool:
    """Whether ``node`` reads ``ancestor`` as a residual block's main path does: directly or
    through other layers, none of which enlarges the map (a top-down path) or is a further input
    (it reads nothing: the network's input is not behind it)."""
    seen: set[int] = set()
    stack = [node]
    while stack:
        index = stack.pop()
        if index == INPUT or index in seen or isinstance(records[index].layer, (ExtraInput, *ENLARGING)):
            continue
        seen.add(index)
        for source in records[index].inputs:
            if source == ancestor:
                return True
            stack.append(source)
    return False
