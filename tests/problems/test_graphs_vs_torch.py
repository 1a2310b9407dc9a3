"""Random network graphs run through our solvers and through torch: branches that read earlier
outputs, sums, concatenations, upsampling, adaptive and global pooling, zero padding and
cropping, convolutions with per-side, ``valid`` and ``same`` padding, residual blocks repeated.

Each graph is drawn step by step against torch: a step is built as torch modules on the
tensors it reads and run; a step torch refuses must be refused by us too (and is drawn again).
Then the whole graph, as a set file would write it, must give torch's output shape, parameter
count and MACs for every layer instance. A sum or concatenation of maps that do not fit is
refused with the step's field named. Receptive fields are checked on graphs of windows by
impulse response (see ``tests/impulse.py``): through branches, the field of a merge is the
hull of its branches' fields, pixel by pixel.

Each graph draws from ``numpy.random.default_rng((SEED, family, index))``: reproducible by id.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pytest
import torch
from torch import nn

from problems.solvers.layers import LayerError
from problems.types.network import NetworkProblem

from impulse import assert_field_matches, impulses

SEED = 20_260_601
CHUNKS = 20
PER_CHUNK = 150  # 3,000 graphs in all
FIELD_CASES = 300
MAX_DRAWS = 100

torch.set_num_threads(1)  # tiny tensors: threads only add overhead under pytest -n 2

Spec = dict[str, Any]
Shape = tuple[int, ...]


def ints(rng: np.random.Generator, lo: int, hi: int) -> int:
    return int(rng.integers(lo, hi + 1))


def pair_of(rng: np.random.Generator, lo: int, hi: int) -> int | list[int]:
    """An int or, half of the time, a per-axis pair (a list, as YAML gives it)."""
    return ints(rng, lo, hi) if rng.random() < 0.5 else [ints(rng, lo, hi), ints(rng, lo, hi)]


def per_side(value: Any) -> tuple[tuple[int, int], tuple[int, int]]:
    """((top, bottom), (left, right)) of ``p``, ``[ph, pw]`` or ``[[t, b], [l, r]]``."""
    if isinstance(value, int):
        return (value, value), (value, value)
    rows, cols = ((v, v) if isinstance(v, int) else (v[0], v[1]) for v in value)
    return rows, cols


# --- torch -------------------------------------------------------------------------------------------


def torch_module(spec: Spec, c: int) -> nn.Module:
    """The torch module(s) for one single-input layer on ``c`` channels."""
    kind = spec["kind"]
    if kind == "conv":
        groups = spec.get("groups", 1)
        padding = spec.get("padding", 0)
        conv = nn.Conv2d(
            c, spec["out_channels"], spec["kernel"], spec.get("stride", 1),
            padding if isinstance(padding, str) else 0, spec.get("dilation", 1), groups, spec.get("bias", True),
        )  # fmt: skip
        if isinstance(padding, str):
            return conv
        (top, bottom), (left, right) = per_side(padding)
        return nn.Sequential(nn.ZeroPad2d((left, right, top, bottom)), conv)
    if kind == "conv_transpose":
        return nn.ConvTranspose2d(
            c, spec["out_channels"], spec["kernel"], spec["stride"], spec["padding"], spec["output_padding"],
            bias=spec["bias"], dilation=spec["dilation"],
        )  # fmt: skip
    if kind == "pool":
        args = (spec["kernel"], spec["stride"], spec["padding"])
        if spec["mode"] == "avg":
            return nn.AvgPool2d(*args, ceil_mode=spec["ceil_mode"])
        return nn.MaxPool2d(*args, ceil_mode=spec["ceil_mode"])
    if kind in ("adaptive_pool", "global_pool"):
        size = spec.get("size", 1)
        return nn.AdaptiveAvgPool2d(size) if spec["mode"] == "avg" else nn.AdaptiveMaxPool2d(size)
    if kind == "upsample":
        if "size" in spec:
            return nn.Upsample(size=spec["size"], mode=spec["mode"])
        scale = spec["scale"]
        return nn.Upsample(scale_factor=tuple(scale) if isinstance(scale, list) else scale, mode=spec["mode"])
    if kind == "pad":
        (top, bottom), (left, right) = per_side(spec["padding"])
        return nn.ZeroPad2d((left, right, top, bottom))
    if kind == "batchnorm":
        return nn.BatchNorm2d(c)
    if kind == "activation":
        return nn.ReLU()
    if kind == "flatten":
        return nn.Flatten()
    if kind == "linear":
        return nn.Linear(c, spec["out_features"])
    raise AssertionError(f"no torch module for {kind}")


@dataclass(frozen=True)
class Measured:
    shape: Shape
    params: int
    macs: int


def run_module(module: nn.Module, x: torch.Tensor) -> tuple[torch.Tensor, Measured]:
    """Run ``module`` on ``x``: its output, and the multiplications its convolutions and
    linear layers made (counted from the tensors they saw)."""
    tally: list[int] = []

    def count(m: nn.Module, args: tuple[torch.Tensor, ...], y: torch.Tensor) -> None:
        if isinstance(m, nn.Conv2d):
            kh, kw = m.kernel_size
            tally.append(y.numel() * (m.in_channels // m.groups) * kh * kw)
        elif isinstance(m, nn.ConvTranspose2d):
            kh, kw = m.kernel_size
            tally.append(args[0].numel() * (m.out_channels // m.groups) * kh * kw)
        elif isinstance(m, nn.Linear):
            tally.append(m.in_features * m.out_features)

    handles = [m.register_forward_hook(count) for m in module.modules()]
    try:
        with torch.no_grad():
            y = module.eval()(x)
    finally:
        for handle in handles:
            handle.remove()
    if 0 in y.shape:
        raise RuntimeError("empty output")
    return y, Measured(tuple(y.shape[1:]), sum(p.numel() for p in module.parameters()), sum(tally))


def merge(kind: str, xs: list[torch.Tensor]) -> torch.Tensor:
    if kind == "concat":
        return torch.cat(xs, dim=1)
    if len({x.shape for x in xs}) != 1:  # a residual sum adds maps of one shape (no broadcasting)
        raise RuntimeError("shapes differ")
    return torch.stack(xs).sum(dim=0)


# --- drawing a graph ---------------------------------------------------------------------------------


def draw_layer(rng: np.random.Generator, shape: Shape) -> Spec:
    """One single-input layer for a C×H×W map."""
    c, h, _ = shape
    kind = str(rng.choice(["conv"] * 5 + ["conv_transpose", "pool", "pool", "adaptive_pool", "global_pool"]
                          + ["upsample"] * 3 + ["pad", "pad", "batchnorm", "activation"]))  # fmt: skip
    if kind == "conv":
        groups = int(rng.choice([g for g in (1, 2) if c % g == 0]))
        stride = pair_of(rng, 1, 2)
        padding: Any = pair_of(rng, 0, 2)
        if rng.random() < 0.3:  # per side, either axis maybe a single number
            padding = [[ints(rng, 0, 2), ints(rng, 0, 2)], [ints(rng, 0, 2), ints(rng, 0, 2)]]
            if rng.random() < 0.3:
                padding[int(rng.integers(2))] = ints(rng, 0, 2)
        elif rng.random() < 0.2:
            padding = str(rng.choice(["valid", "same"]))
            stride = 1 if padding == "same" else stride
        return {
            "kind": "conv",
            "out_channels": groups * ints(rng, 1, 4),
            "kernel": pair_of(rng, 1, 4),
            "stride": stride,
            "padding": padding,
            "dilation": pair_of(rng, 1, 2),
            "groups": groups,
            "bias": bool(rng.random() < 0.5),
        }
    if kind == "conv_transpose":
        stride = ints(rng, 1, 2)
        return {
            "kind": "conv_transpose",
            "out_channels": ints(rng, 1, 4),
            "kernel": ints(rng, 1, 4),
            "stride": stride,
            "padding": ints(rng, 0, 1),
            "output_padding": ints(rng, 0, stride - 1),
            "dilation": 1,
            "bias": bool(rng.random() < 0.5),
        }
    if kind == "pool":
        k = ints(rng, 1, 3)
        return {
            "kind": "pool",
            "mode": str(rng.choice(["max", "avg"])),
            "kernel": k,
            "stride": ints(rng, 1, 3),
            "padding": ints(rng, 0, k // 2),
            "ceil_mode": bool(rng.random() < 0.5),
        }
    if kind == "adaptive_pool":
        return {"kind": "adaptive_pool", "mode": str(rng.choice(["avg", "max"])), "size": pair_of(rng, 1, h + 2)}
    if kind == "global_pool":
        return {"kind": "global_pool", "mode": str(rng.choice(["avg", "max"]))}
    if kind == "upsample":
        spec: Spec = {"kind": "upsample", "mode": str(rng.choice(["nearest", "bilinear"]))}
        if rng.random() < 0.3:
            spec["size"] = pair_of(rng, 1, 24)
        else:
            spec["scale"] = rng.choice([1, 2, 3, 1.5, 0.5, 2.5]).item()
            if rng.random() < 0.2:
                spec["scale"] = [spec["scale"], rng.choice([1, 2, 0.75]).item()]
        return spec
    if kind == "pad":
        return {"kind": "pad", "padding": [[ints(rng, -2, 3), ints(rng, -2, 3)], [ints(rng, -2, 3), ints(rng, -2, 3)]]}
    return {"kind": kind}


@dataclass
class Graph:
    """A graph being drawn: its steps, torch's tensor for every named output, and what torch
    measured for every layer instance in order."""

    input: Shape
    specs: list[Spec] = field(default_factory=list)
    tensors: dict[str, torch.Tensor] = field(default_factory=dict)
    order: list[str] = field(default_factory=list)
    measured: list[Measured] = field(default_factory=list)
    refusals: int = 0

    def solve(self, specs: list[Spec]) -> NetworkProblem:
        problem = NetworkProblem(type="network", input=list(self.input), input_layout="CHW", layers=specs)
        problem.network()
        return problem

    def try_step(self, spec: Spec, run: Any) -> bool:
        """Measure ``spec`` with torch (``run`` gives the output and the instances' measurements);
        keep it when torch accepts it, else check that we refuse it too."""
        try:
            y, found = run()
        except (RuntimeError, ValueError):
            self.refusals += 1
            with pytest.raises((LayerError, ValueError)):
                self.solve([*self.specs, spec])
            assert self.refusals < MAX_DRAWS
            return False
        name = spec["name"]
        self.specs.append(spec)
        self.tensors[name] = y
        self.order.append(name)
        self.measured.extend(found)
        return True

    def latest(self) -> str:
        return self.order[-1]


def draw_graph(rng: np.random.Generator) -> Graph:
    """3–8 steps: single layers on the previous output or an earlier one, sums and concatenations
    of earlier outputs (with a branch drawn to fit when none do), residual blocks repeated."""
    shape = (ints(rng, 1, 4), ints(rng, 4, 14), ints(rng, 4, 14))
    graph = Graph(shape)
    graph.tensors["input"] = torch.zeros(1, *shape)
    graph.order.append("input")
    steps = ints(rng, 3, 8)
    while len(graph.specs) < steps:
        name = f"n{len(graph.specs)}"
        spatial = [n for n in graph.order if graph.tensors[n].dim() == 4]
        roll = rng.random()
        if roll < 0.55 or len(spatial) < 1:
            source = graph.latest() if rng.random() < 0.6 else str(rng.choice(spatial))
            x = graph.tensors[source]
            if x.dim() != 4:
                spec: Spec = {"kind": "linear", "out_features": ints(rng, 1, 8)}
            else:
                spec = draw_layer(rng, tuple(x.shape[1:]))
            spec["name"] = name
            if source != graph.latest():
                spec["from"] = source
            graph.try_step(spec, lambda spec=spec, x=x: _single(spec, x))
        elif roll < 0.85:
            draw_merge(rng, graph, name, str(rng.choice(["add", "concat"])), spatial)
        else:
            draw_residual(rng, graph, name)
    if rng.random() < 0.2:  # a classifier head
        graph.try_step(
            {"kind": "flatten", "name": "flat"}, lambda: _single({"kind": "flatten"}, graph.tensors[graph.latest()])
        )
        spec = {"kind": "linear", "name": "fc", "out_features": ints(rng, 1, 8)}
        graph.try_step(spec, lambda: _single(spec, graph.tensors["flat"]))
    return graph


def _single(spec: Spec, x: torch.Tensor) -> tuple[torch.Tensor, list[Measured]]:
    y, measured = run_module(torch_module(spec, x.shape[1]), x)
    return y, [measured]


def fit(graph: Graph, name: str, kind: str) -> Shape:
    """What must agree for a merge: the whole shape for a sum, the spatial size for a concatenation."""
    shape = tuple(graph.tensors[name].shape[1:])
    return shape if kind == "add" else shape[1:]


def draw_merge(rng: np.random.Generator, graph: Graph, name: str, kind: str, spatial: list[str]) -> None:
    """A sum (of maps of one shape) or a concatenation (of maps of one size) of 2–3 earlier
    outputs; when none fit, first a convolution branch from one of them that does."""
    groups: dict[Shape, list[str]] = {}
    for n in spatial:
        groups.setdefault(fit(graph, n, kind), []).append(n)
    fitting = [g for g in groups.values() if len(g) >= 2]
    if not fitting:
        base = str(rng.choice(spatial))
        k = int(rng.choice([1, 3, 5]))
        channels = graph.tensors[base].shape[1] if kind == "add" else ints(rng, 1, 6)
        branch = {"kind": "conv", "name": name, "from": base, "kernel": k, "padding": k // 2, "out_channels": channels}
        graph.try_step(branch, lambda: _single(branch, graph.tensors[base]))
        return
    group = fitting[int(rng.integers(len(fitting)))]
    chosen = [str(n) for n in rng.permutation(group)[: ints(rng, 2, 3)]]

    def run() -> tuple[torch.Tensor, list[Measured]]:
        y = merge(kind, [graph.tensors[n] for n in chosen])
        return y, [Measured(tuple(y.shape[1:]), 0, 0)]

    graph.try_step({"kind": kind, "name": name, "from": chosen}, run)


def draw_residual(rng: np.random.Generator, graph: Graph, name: str) -> None:
    """A residual block (a convolution keeping the shape, batch norm, ReLU, the sum with the
    block's input) repeated 1–3 times on the latest map."""
    x = graph.tensors[graph.latest()]
    if x.dim() != 4:
        return
    k = int(rng.choice([1, 3]))
    times = ints(rng, 1, 3)
    body: list[Spec] = [
        {"kind": "conv", "name": "conv", "out_channels": x.shape[1], "kernel": k, "padding": k // 2},
        {"kind": "batchnorm"},
        {"kind": "activation", "name": "relu"},
        {"kind": "add", "from": ["input", "relu"]},
    ]

    def run() -> tuple[torch.Tensor, list[Measured]]:
        y, found = x, []
        for _ in range(times):
            start = y
            for layer in body[:3]:
                y, measured = run_module(torch_module(layer, y.shape[1]), y)
                found.append(measured)
            y = merge("add", [start, y])
            found.append(Measured(tuple(y.shape[1:]), 0, 0))
        return y, found

    graph.try_step({"kind": "repeat", "name": name, "times": times, "layers": body}, run)


# 20 chunks of 150 seeded random graphs (3,000): 3–8 steps each, a fifth with a classifier head.
@pytest.mark.filterwarnings("ignore:Using padding='same'")
@pytest.mark.parametrize("chunk", range(CHUNKS))
def test_graph_shapes_params_and_macs_match_torch(chunk: int) -> None:
    """Per layer instance: output shape, parameters and MACs equal to torch's; named outputs'
    shapes and the totals too."""
    for index in range(chunk * PER_CHUNK, (chunk + 1) * PER_CHUNK):
        graph = draw_graph(np.random.default_rng((SEED, 21, index)))
        problem = graph.solve(graph.specs)
        ours = [Measured(r.shape, r.params, r.macs) for r in problem.network().records]
        assert ours == graph.measured, graph.specs
        solved = problem.solve()
        for name in graph.order[1:]:
            assert solved[f"shape.{name}"].value == tuple(graph.tensors[name].shape[1:]), (name, graph.specs)
        assert solved["params.total"].value == sum(m.params for m in graph.measured)
        assert solved["macs.total"].value == sum(m.macs for m in graph.measured)


# Sums and concatenations of maps that do not fit, in 200 random graphs: refused, the step named.
@pytest.mark.filterwarnings("ignore:Using padding='same'")
@pytest.mark.parametrize("chunk", range(4))
def test_merges_that_do_not_fit_are_refused_with_the_field_named(chunk: int) -> None:
    for index in range(chunk * 50, (chunk + 1) * 50):
        rng = np.random.default_rng((SEED, 22, index))
        graph = draw_graph(rng)
        spatial = [n for n in graph.order if graph.tensors[n].dim() == 4]
        for kind in ("add", "concat"):
            apart = {fit(graph, n, kind): n for n in spatial}
            if len(apart) < 2:
                continue
            chosen = [str(n) for n in rng.permutation(list(apart.values()))[:2]]
            spec = {"kind": kind, "name": "bad", "from": chosen}
            with pytest.raises(LayerError, match=rf"^layers\.{len(graph.specs)}\.from \({kind} bad\) of .*: a "):
                graph.solve([*graph.specs, spec])


# --- receptive fields through branches ---------------------------------------------------------------

#: Impulses of the field test (on a canvas of ``MARGIN`` more rows on either side).
FIELD_IMPULSES = 256


def draw_window(rng: np.random.Generator, side: int) -> Spec:
    """A layer that moves pixels, square (the test measures the height axis): convolutions with
    per-side padding, pooling, transposed convolutions, whole-factor upsampling, adaptive
    pooling, zero padding and cropping."""
    kind = str(rng.choice(["conv"] * 4 + ["pool", "conv_transpose", "upsample", "adaptive_pool", "pad"]))
    k = ints(rng, 1, 5)
    if kind == "conv":
        top, bottom = ints(rng, 0, 2), ints(rng, 0, 2)
        padding = [[top, bottom], [top, bottom]] if rng.random() < 0.5 else top
        return {"kind": "conv", "out_channels": 1, "kernel": k, "stride": ints(rng, 1, 2), "padding": padding,
                "dilation": ints(rng, 1, 2), "bias": False}  # fmt: skip
    if kind == "pool":
        k = min(k, 3)
        return {"kind": "pool", "mode": "max", "kernel": k, "stride": ints(rng, 1, 2), "padding": ints(rng, 0, k // 2)}
    if kind == "conv_transpose":
        return {"kind": "conv_transpose", "out_channels": 1, "kernel": k, "stride": ints(rng, 1, 3),
                "padding": ints(rng, 0, min(2, k - 1)), "bias": False}  # fmt: skip
    if kind == "upsample":
        mode = str(rng.choice(["nearest", "bilinear"]))
        return {"kind": "upsample", "mode": mode, "scale": int(rng.choice([2, 3] if mode == "nearest" else [2, 4]))}
    if kind == "adaptive_pool":
        ratio = float(rng.choice([0.5, 2 / 3, 0.75, 1.0, 1.5]))
        return {"kind": "adaptive_pool", "mode": "max", "size": max(1, round(side * ratio))}
    crop = [ints(rng, -3, 2), ints(rng, -3, 2)]
    return {"kind": "pad", "padding": [crop, crop]}


def impulse_module(spec: Spec, c: int) -> nn.Module:
    """The height-axis window of a layer on an N×1 column: all-ones weights, max pooling then
    ReLU (a window of padding only, −inf, does not respond), summing over the channels."""
    kind = spec["kind"]
    if kind in ("conv", "conv_transpose"):
        if kind == "conv":
            (top, bottom), _ = per_side(spec["padding"])
            d = spec["dilation"]
            window: nn.Module = nn.Conv2d(c, 1, (spec["kernel"], 1), (spec["stride"], 1), 0, (d, 1), bias=False)
            module: nn.Module = nn.Sequential(nn.ZeroPad2d((0, 0, top, bottom)), window)
        else:
            k, s, p = spec["kernel"], spec["stride"], spec["padding"]
            window = module = nn.ConvTranspose2d(c, 1, (k, 1), (s, 1), (p, 0), bias=False)
        nn.init.ones_(window.weight)
        return module.double()
    if kind == "pool":
        k, s, p = spec["kernel"], spec["stride"], spec["padding"]
        return nn.Sequential(nn.MaxPool2d((k, 1), (s, 1), (p, 0)), nn.ReLU())
    if kind == "upsample":
        return nn.Upsample(scale_factor=(spec["scale"], 1), mode=spec["mode"])
    if kind == "adaptive_pool":
        return nn.Sequential(nn.AdaptiveMaxPool2d((spec["size"], 1)), nn.ReLU())
    (top, bottom), _ = per_side(spec["padding"])
    return nn.ZeroPad2d((0, 0, top, bottom))


def draw_window_graph(rng: np.random.Generator, canvas: int) -> tuple[list[Spec], list[torch.Tensor]]:
    """2–7 steps of windows on the latest or an earlier output, and sums and concatenations of
    outputs that fit (with a size-keeping branch drawn first when none do, sometimes off-centre),
    with each step's impulse response."""
    x = impulses(FIELD_IMPULSES)
    outputs: dict[str, torch.Tensor] = {"input": x}
    specs: list[Spec] = []
    responses: list[torch.Tensor] = []
    for _ in range(MAX_DRAWS):
        if len(specs) >= ints(rng, 2, 7):
            break
        name, roll = f"n{len(specs)}", rng.random()
        names = list(outputs)
        if roll < 0.6:
            source = names[-1] if rng.random() < 0.6 else str(rng.choice(names))
            spec = {**draw_window(rng, outputs[source].shape[2]), "name": name, "from": source}
        else:
            kind = "add" if roll < 0.8 else "concat"
            groups: dict[Any, list[str]] = {}
            for n in names:
                shape = tuple(outputs[n].shape[1:])
                groups.setdefault(shape if kind == "add" else shape[1:], []).append(n)
            fitting = [g for g in groups.values() if len(g) >= 2]
            if fitting:
                chosen = [str(n) for n in rng.permutation(fitting[int(rng.integers(len(fitting)))])[: ints(rng, 2, 3)]]
                spec = {"kind": kind, "name": name, "from": chosen}
            else:  # a branch of the same size, its field maybe off-centre
                k = int(rng.choice([1, 3, 5]))
                top = k // 2 + int(rng.choice([0, -1, 1])) if k > 1 else 0
                sides = [top, k - 1 - top]
                spec = {"kind": "conv", "name": name, "from": str(rng.choice(names)), "out_channels": 1,
                        "kernel": k, "padding": [sides, sides], "dilation": 1, "stride": 1, "bias": False}  # fmt: skip
        with torch.no_grad():
            if spec["kind"] == "add":
                xs = [outputs[n] for n in spec["from"]]
                y = torch.stack(xs).sum(dim=0)
            elif spec["kind"] == "concat":
                y = torch.cat([outputs[n] for n in spec["from"]], dim=1)
            else:
                source_tensor = outputs[spec["from"]]
                try:
                    y = impulse_module(spec, source_tensor.shape[1])(source_tensor)
                except RuntimeError:
                    continue
        if y.shape[2] < 1 or y.shape[2] > 4 * canvas:
            continue
        specs.append(spec)
        responses.append(y)
        outputs[name] = y
    return specs, responses


@pytest.mark.parametrize("index", range(FIELD_CASES))
def test_receptive_field_through_branches_matches_impulse_response(index: int) -> None:
    """After every step of a random graph (branches, sums, concatenations, upsampling, adaptive
    pooling, cropping): each output pixel responds only inside the field we give it and reaches
    both ends of it when it lies among the impulses; the widest such response is our size."""
    rng = np.random.default_rng((SEED, 23, index))
    canvas = impulses(FIELD_IMPULSES).shape[2]
    specs, responses = draw_window_graph(rng, canvas)
    problem = NetworkProblem(type="network", input=[1, canvas, canvas], input_layout="CHW", layers=specs)
    records = problem.network().records
    for spec, record, y in zip(specs, records, responses, strict=True):
        assert record.shape[1] == y.shape[2], spec
        if record.field is None:  # branches moving at different rates: no common pattern
            continue
        reach = (y > 0).any(dim=1)[:, :, 0].numpy()
        assert_field_matches(reach, record.field[0], (spec, specs))
