"""A network as a chain of layers: shapes, parameters, MACs and receptive fields per layer,
per named group of layers and in total."""

from __future__ import annotations

from fractions import Fraction
from itertools import pairwise
from typing import Any, Literal

from pydantic import Field, model_validator

from problems.kinds import AnswerKind, Layout
from problems.solvers.assumptions import MISTAKEN
from problems.solvers.layers import BatchNorm, Conv, LayerError, Pool, Separable, pair
from problems.solvers.network import LayerRecord, NetworkRun, Repeat, Step, expand, run
from problems.types.base import ProblemSpec, Quantity

INTEGER = AnswerKind.INTEGER


class NetworkProblem(ProblemSpec):
    """``input`` is written in ``input_layout`` (H×W×C by default, like the coursework).

    Quantities (``NAME`` a layer, repeat block or group name; a repeated layer's own name
    gives one instance, its block's name all of them):
    ``shape.NAME``, ``shapes`` (after every layer), ``output``; ``params.NAME``, ``macs.NAME``,
    ``flops.NAME`` (2×MACs), ``params.total``, ``macs.total``, ``flops.total``; ``layers.NAME``
    and ``layers.total`` (layers with weights); ``count.REPEAT``; ``filters.NAME``;
    ``rf.NAME``/``jump.NAME`` (receptive field and cumulative stride); for separable layers
    ``params_standard.NAME``, ``macs_standard.NAME``, ``params_reduction.NAME`` and
    ``macs_reduction.NAME`` (percent saved against the standard convolution).
    """

    type: Literal["network"] = "network"
    input: list[int] = Field(min_length=1, max_length=3)
    input_layout: Layout = Layout.HWC
    layers: list[Step] = Field(min_length=1)
    #: Refuse configurations whose sliding windows do not tile the input exactly.
    require_exact: bool = False

    @model_validator(mode="after")
    def _names_unique(self) -> NetworkProblem:
        names = [s.name for s in self.layers if s.name] + [
            s.layer.name for s in self.layers if isinstance(s, Repeat) and s.layer.name
        ]
        groups = {s.group for s in self.layers if s.group}
        clash = {n for n in names if names.count(n) > 1} | (set(names) & groups)
        if clash:
            raise ValueError(f"layer and group names must be unique: {sorted(clash)}")
        return self

    def input_chw(self) -> tuple[int, ...]:
        if len(self.input) == 1:
            return (self.input[0],)
        if len(self.input) != 3:
            raise ValueError("input is one size (flat) or three (a layout of C, H and W)")
        axes = dict(zip(self.input_layout.value, self.input, strict=True))
        return axes["C"], axes["H"], axes["W"]

    def network(self) -> NetworkRun:
        result = run(self.input_chw(), self.layers)
        if self.require_exact:
            for record in result.records:
                _check_exact(record.layer, record.input_shape)
        return result

    def solve(self) -> dict[str, Quantity]:
        return self._quantities(self.network())

    def mistakes(self) -> dict[str, dict[str, Quantity]]:
        """The network re-run under each mistaken assumption, with the correct repeat counts;
        and with a bias on every layer that feeds a batch norm (``bias-beside-batchnorm``)."""
        correct = self.network()
        batchnorm = any(isinstance(record.layer, BatchNorm) for record in correct.records)
        found: dict[str, dict[str, Quantity]] = {}
        for code, assume in MISTAKEN.items():
            if assume.batchnorm is not None and not batchnorm:
                continue  # no batch norm here: the same network again
            try:
                found[code] = self._quantities(run(self.input_chw(), self.layers, correct.repeats, assume))
            except (LayerError, ValueError):
                continue  # the mistake leads nowhere here (e.g. an empty map): nothing to match
        biased = _biased_before_batchnorm(self.layers)
        if biased is not None:
            beside = self._quantities(run(self.input_chw(), biased, correct.repeats))
            found["bias-beside-batchnorm"] = beside
            if "bias-extra" in found:  # where a bias on every layer adds only these, the cause is the same
                extra = found["bias-extra"]
                found["bias-extra"] = {name: q for name, q in extra.items() if beside.get(name) != q}
        return found

    def follow(self, quantity: str, given: dict[str, Any]) -> Quantity | None:
        """Re-run the layers after a named layer from the student's shape for it."""
        shapes = {name[len("shape.") :]: value for name, value in given.items() if name.startswith("shape.")}
        if not shapes:
            return None
        layers = [layer for layer, _, _ in expand(self.layers, self.network().repeats)]
        # the last layer the student gave a shape for: the rest runs from there
        given_at = [(i, n) for i, layer in enumerate(layers) if (n := layer.name) is not None and n in shapes]
        if not given_at:
            return None
        start, name = given_at[-1]
        try:
            rest = run(tuple(shapes[name]), list(layers[start + 1 :]))
        except (LayerError, ValueError):
            return None
        return self._quantities(rest).get(quantity)

    def _quantities(self, result: NetworkRun) -> dict[str, Quantity]:
        found: dict[str, Quantity] = {
            "shapes": Quantity(AnswerKind.SHAPE_LIST, [r.shape for r in result.records]),
            "output": Quantity(AnswerKind.SHAPE, result.output_shape),
        }
        totals: dict[str, list[int]] = {}
        for record in result.records:
            for label in (record.block, record.group, "total"):
                if label:
                    sums = totals.setdefault(label, [0, 0, 0])
                    sums[0] += record.params
                    sums[1] += record.macs
                    sums[2] += int(record.weighted)
            if record.name:
                found.update(_layer_quantities(record))
        for label, (params, macs, layers) in totals.items():
            found[f"params.{label}"] = Quantity(INTEGER, params)
            found[f"macs.{label}"] = Quantity(INTEGER, macs)
            found[f"flops.{label}"] = Quantity(INTEGER, 2 * macs)
            found[f"layers.{label}"] = Quantity(INTEGER, layers)
        for step in self.layers:
            if isinstance(step, Repeat):
                found[f"count.{step.name}"] = Quantity(INTEGER, result.repeats[step.name])
        return found

    def describe(self) -> str:
        lines = [f"Input {'×'.join(map(str, self.input))} ({'×'.join(self.input_layout.value)})."]
        lines += [f"{i}. {_step_text(step)}" for i, step in enumerate(self.layers, start=1)]
        return "\n".join(lines)


def _layer_quantities(record: LayerRecord) -> dict[str, Quantity]:
    name, found = record.name, {}
    found[f"shape.{name}"] = Quantity(AnswerKind.SHAPE, record.shape)
    found[f"params.{name}"] = Quantity(INTEGER, record.params)
    found[f"macs.{name}"] = Quantity(INTEGER, record.macs)
    found[f"flops.{name}"] = Quantity(INTEGER, 2 * record.macs)
    if hasattr(record.layer, "out_channels"):
        found[f"filters.{name}"] = Quantity(INTEGER, record.layer.out_channels)
    if record.field is not None:
        found[f"rf.{name}"] = Quantity(INTEGER, record.field.size)
        found[f"jump.{name}"] = Quantity(INTEGER, record.field.jump)
    if isinstance(record.layer, Separable):
        standard = record.layer.standard()
        std_params, std_macs = standard.params(record.input_shape), standard.macs(record.input_shape)
        found[f"params_standard.{name}"] = Quantity(INTEGER, std_params)
        found[f"macs_standard.{name}"] = Quantity(INTEGER, std_macs)
        found[f"params_reduction.{name}"] = Quantity(AnswerKind.PERCENT, _saved(record.params, std_params))
        found[f"macs_reduction.{name}"] = Quantity(AnswerKind.PERCENT, _saved(record.macs, std_macs))
    return found


def _biased_before_batchnorm(steps: list[Step]) -> list[Step] | None:
    """The steps with a bias on each layer that has none and feeds a batch norm directly (by
    convention such a layer has no bias), or None when there is no such layer."""
    biased = list(steps)
    for index, (step, after) in enumerate(pairwise(steps)):
        if isinstance(after, BatchNorm) and getattr(step, "bias", None) is False:
            biased[index] = step.model_copy(update={"bias": True})
    return biased if biased != steps else None


def _saved(new: int, old: int) -> Fraction:
    """Relative reduction in percent: ``100·(1 − new/old)``."""
    return 100 * (1 - Fraction(new, old))


def _check_exact(layer: object, shape: tuple[int, ...]) -> None:
    if not isinstance(layer, Conv | Pool | Separable) or len(shape) != 3:
        return
    k, s, p, d = (pair(v) for v in layer.window())
    for axis, n in enumerate(shape[1:]):
        if (n + 2 * p[axis] - d[axis] * (k[axis] - 1) - 1) % s[axis]:
            raise LayerError(f"a {k[axis]}-wide window with stride {s[axis]} does not tile {n} pixels exactly")


def _step_text(step: Step) -> str:
    if isinstance(step, Repeat):
        how = (
            f"{step.times} times"
            if step.times is not None
            else (f"until the map is {step.until.size}×{step.until.size}" if step.until else "")
        )
        return f"repeat: {_step_text(step.layer)}, {how}"
    fields = step.model_dump(exclude={"kind", "name", "group"}, exclude_defaults=True)
    settings = ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in fields.items())
    label = {
        "conv": "convolution",
        "conv_transpose": "transposed convolution",
        "separable": "depthwise separable convolution",
        "pool": "pooling",
        "linear": "fully connected",
        "batchnorm": "batch norm",
    }.get(step.kind, step.kind)
    return f"{label} ({settings})" if settings else label
