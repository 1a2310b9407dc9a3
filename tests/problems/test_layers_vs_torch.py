"""Layer chains run through our shape solvers (``problems.solvers.layers`` and ``network.run``,
built from the same dicts a set file holds) and through the same chain of torch modules.

Shapes, parameter counts and MACs come from torch itself: the output tensors of a forward
pass on zeros, ``p.numel()`` over ``module.parameters()``, and forward hooks that count the
multiplications from the tensors they see. Receptive fields come from impulse responses:
every input pixel in turn is 1 (a batch of one-hot inputs) through all-ones windows, and the
input pixels an output pixel responds to are its field. That is the gradient of each output
pixel with respect to the input, computed for all of them in one forward pass.

Each case draws from ``numpy.random.default_rng((SEED, family, index))``: reproducible by id.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest
import torch
from torch import nn

from problems.solvers.layers import LayerError
from problems.solvers.network import NetworkRun
from problems.types.network import NetworkProblem

from impulse import assert_field_matches, impulses
from torch_layers import ACTIVATIONS, Measured, Spec, measure, tf_same

SEED = 20_260_523
CASES = 500
MAX_DRAWS = 200

torch.set_num_threads(1)  # tiny tensors: threads only add overhead under pytest -n 2


def pair_of(rng: np.random.Generator, lo: int, hi: int) -> int | list[int]:
    """An int or, half of the time, a per-axis pair (a list, as YAML gives it)."""
    if rng.random() < 0.5:
        return int(rng.integers(lo, hi + 1))
    return [int(rng.integers(lo, hi + 1)), int(rng.integers(lo, hi + 1))]


def both(value: int | list[int]) -> tuple[int, int]:
    return (value, value) if isinstance(value, int) else (value[0], value[1])


def solve_chain(shape: tuple[int, ...], specs: list[Spec]) -> NetworkRun:
    """Our answer, through the pydantic models a set file is validated with."""
    problem = NetworkProblem(type="network", input=list(shape), input_layout="CHW", layers=specs)
    return problem.network()


def draw_spatial(rng: np.random.Generator, c: int) -> Spec:
    """One layer for a C×H×W input: convolutions (grouped, depthwise, "same"), transposed
    convolutions, separable convolutions, the three poolings, and shape-neutral layers."""
    kind = str(rng.choice(["conv"] * 6 + ["conv_transpose"] * 2 + ["separable"] * 2 + ["pool"] * 4 + ["other"] * 2))
    out = int(rng.integers(1, 9))
    if kind == "conv":
        groups: int | str = int(rng.choice([g for g in (1, 2, 3, 4) if c % g == 0]))
        if rng.random() < 0.2:
            groups, out = "depthwise", c * int(rng.integers(1, 3))
        elif isinstance(groups, int):
            out = groups * int(rng.integers(1, 4))
        stride = pair_of(rng, 1, 3)
        padding: Any = "same" if rng.random() < 0.2 else pair_of(rng, 0, 2)  # strided "same": TensorFlow's
        return {
            "kind": "conv",
            "out_channels": out,
            "kernel": pair_of(rng, 1, 5),
            "stride": stride,
            "padding": padding,
            "dilation": pair_of(rng, 1, 2),
            "groups": groups,
            "bias": bool(rng.random() < 0.5),
        }
    if kind == "conv_transpose":
        groups = int(rng.choice([g for g in (1, 2) if c % g == 0]))
        stride, dilation = pair_of(rng, 1, 2), pair_of(rng, 1, 2)
        top = max(*both(stride), *both(dilation))
        return {
            "kind": "conv_transpose",
            "out_channels": groups * int(rng.integers(1, 4)),
            "kernel": pair_of(rng, 1, 4),
            "stride": stride,
            "padding": pair_of(rng, 0, 2),
            "output_padding": int(rng.integers(0, top)),
            "dilation": dilation,
            "groups": groups,
            "bias": bool(rng.random() < 0.5),
        }
    if kind == "separable":
        stride_1 = int(rng.integers(1, 3))
        return {
            "kind": "separable",
            "out_channels": out,
            "kernel": int(rng.integers(1, 6)),
            "stride": stride_1,
            "padding": "same" if rng.random() < 0.2 else int(rng.integers(0, 3)),
            "bias": bool(rng.random() < 0.5),
        }
    if kind == "pool":
        mode = str(rng.choice(["max", "avg", "min"]))
        kernel = pair_of(rng, 1, 4)
        spec: Spec = {
            "kind": "pool",
            "mode": mode,
            "kernel": kernel,
            "padding": int(rng.integers(0, min(both(kernel)) // 2 + 1)),
            "dilation": 1 if mode == "avg" else pair_of(rng, 1, 2),
            "ceil_mode": bool(rng.random() < 0.5),
            "count_include_pad": bool(rng.random() < 0.5),
        }
        if rng.random() < 0.7:
            spec["stride"] = pair_of(rng, 1, 3)
        return spec
    return draw_neutral(rng)


def draw_neutral(rng: np.random.Generator) -> Spec:
    """A layer that keeps the shape: activation, batch norm (affine or not) or dropout."""
    which = str(rng.choice(["activation", "batchnorm", "dropout"]))
    if which == "activation":
        return {"kind": "activation", "function": str(rng.choice(list(ACTIVATIONS)))}
    if which == "batchnorm":
        return {"kind": "batchnorm", "affine": bool(rng.random() < 0.7)}
    return {"kind": "dropout", "p": float(rng.choice([0.0, 0.25, 0.5]))}


def draw_flat(rng: np.random.Generator, n_in: int) -> Spec:
    """A layer for a flat input: mostly fully connected (absolute or relative width)."""
    if rng.random() < 0.3:
        return draw_neutral(rng)
    spec: Spec = {"kind": "linear", "bias": bool(rng.random() < 0.7)}
    ratio = float(rng.choice([0.5, 0.25, 2.0]))
    if rng.random() < 0.3 and (n_in * ratio).is_integer() and n_in * ratio <= 256:
        spec["out_ratio"] = ratio
    else:
        spec["out_features"] = int(rng.integers(1, 17))
    return spec


def refused_by_us(shape: tuple[int, ...], spec: Spec) -> bool:
    try:
        solve_chain(shape, [spec])
    except (LayerError, ValueError):
        return True
    return False


@dataclass
class Chain:
    shape: tuple[int, ...]
    specs: list[Spec]
    measured: list[Measured]
    refusals: int


def draw_chain(rng: np.random.Generator) -> Chain:
    """A random chain that torch accepts; each draw torch refuses must be refused by us too."""
    shape = (int(rng.integers(1, 5)), int(rng.integers(4, 17)), int(rng.integers(4, 17)))
    x = torch.zeros(1, *shape)
    specs: list[Spec] = []
    measured: list[Measured] = []
    refusals = 0
    spatial = int(rng.integers(1, 6))
    flat = int(rng.integers(0, 4)) + 1 if rng.random() < 0.6 else 0  # flatten, then 0–3 layers
    while len(specs) < spatial + flat:
        if len(specs) < spatial:
            spec = draw_spatial(rng, x.shape[1])
            if rng.random() < 0.1:  # a block repeated a fixed number of times
                spec = {"kind": "repeat", "name": f"block{len(specs)}", "layer": spec, "times": int(rng.integers(1, 4))}
        elif len(specs) == spatial:
            spec = {"kind": "flatten"}
        else:
            spec = draw_flat(rng, x.shape[1])
        try:
            y, found = measure(spec, x)
        except (RuntimeError, ValueError):
            refusals += 1
            assert refused_by_us(tuple(x.shape[1:]), spec), f"torch refuses {spec} on {tuple(x.shape[1:])}, we do not"
            assert refusals < MAX_DRAWS
            continue
        specs.append(spec)
        measured.extend(found)
        x = y
    return Chain(shape, specs, measured, refusals)


# 500 seeded random chains of 1–5 spatial layers (conv incl. grouped/depthwise/"same"/dilated,
# transposed conv, separable, max/avg/min pooling with ceil mode, activations, batch norm,
# dropout, repeat blocks), then in 60% of them flatten and 0–3 fully connected/neutral layers.
@pytest.mark.filterwarnings("ignore:Using padding='same'")
@pytest.mark.parametrize("index", range(CASES))
def test_chain_shapes_params_and_macs_match_torch(index: int) -> None:
    """Per layer instance: output shape, parameters and MACs equal to torch's; totals too."""
    chain = draw_chain(np.random.default_rng((SEED, 11, index)))
    problem = NetworkProblem(type="network", input=list(chain.shape), input_layout="CHW", layers=chain.specs)
    records = problem.network().records
    ours = [Measured(r.shape, r.params, r.macs) for r in records]
    assert ours == chain.measured
    totals = problem.solve()
    assert totals["params.total"].value == sum(m.params for m in chain.measured)
    assert totals["macs.total"].value == sum(m.macs for m in chain.measured)


# --- receptive fields by impulse response ---------------------------------------------------

#: Impulses of the field test: more rows than any field the bounded draws below can make
#: (5 layers, d·(k−1) ≤ 8, cumulative stride ≤ 8, padding ≤ 2), so some fields fit inside.
FIELD_INPUT = 512


def draw_window(rng: np.random.Generator, jump: int) -> Spec:
    """A square sliding-window layer whose stride keeps the cumulative stride at 8 or less, or
    a transposed convolution (stride 1, or 2: upsampling, where the field of even and odd pixels differs)."""
    kind = str(rng.choice(["conv"] * 3 + ["separable", "pool", "pool", "neutral", "conv_transpose"]))
    stride = int(rng.integers(1, 4))
    while jump * stride > 8:
        stride -= 1
    k = int(rng.integers(1, 6))
    if kind == "neutral":
        return draw_neutral(rng)
    if kind == "conv_transpose":
        # Padding up to the kernel span − 1: more crops the map, so that pixels near its border
        # lose taps even when their field lies inside the input (the field itself stays right).
        dilation = int(rng.integers(1, 3))
        return {
            "kind": "conv_transpose",
            "out_channels": 2,
            "kernel": k,
            "stride": 1 if rng.random() < 0.7 else 2,
            "padding": int(rng.integers(0, min(2, dilation * (k - 1)) + 1)),
            "dilation": dilation,
        }
    if kind == "pool":
        k = min(k, 4)
        mode = str(rng.choice(["max", "avg", "min"]))
        return {
            "kind": "pool",
            "mode": mode,
            "kernel": k,
            "stride": stride,
            "padding": int(rng.integers(0, k // 2 + 1)),
            "dilation": 1 if mode == "avg" else int(rng.integers(1, 3)),
            "ceil_mode": bool(rng.random() < 0.5),
        }
    padding: Any = "same" if rng.random() < 0.3 else int(rng.integers(0, 3))  # strided: TensorFlow's
    if kind == "separable":
        return {"kind": "separable", "out_channels": 2, "kernel": k, "stride": stride, "padding": padding}
    return {"kind": "conv", "out_channels": 2, "kernel": k, "stride": stride, "padding": padding, "dilation": 1}


def impulse_layer(spec: Spec, n: int) -> nn.Module:
    """The height-axis window of a layer as a one-channel torch module on an N×1 input: all-ones
    weights and no bias for convolutions (a separable layer's pointwise 1×1 adds nothing), and
    max pooling followed by ReLU for every pooling mode (a window's reach does not depend on what
    it computes; ReLU turns a window of padding only, −inf, into "no response")."""
    kind = spec["kind"]
    if kind == "conv_transpose":  # every input pixel stamps the all-ones kernel on the output
        up = nn.ConvTranspose2d(
            1,
            1,
            (spec["kernel"], 1),
            (spec["stride"], 1),
            (spec["padding"], 0),
            dilation=(spec["dilation"], 1),
            bias=False,
        ).double()
        nn.init.ones_(up.weight)
        return up
    if kind in ("conv", "separable"):
        padding = spec["padding"] if spec["padding"] == "same" else (spec["padding"], 0)
        pad = nn.Identity()
        if padding == "same" and spec["stride"] > 1:  # TensorFlow's, on an input of n rows
            pad, padding = nn.ZeroPad2d((0, 0, *tf_same(n, spec["kernel"], spec["stride"]))), 0
        conv = nn.Conv2d(
            1, 1, (spec["kernel"], 1), (spec["stride"], 1), padding, (spec.get("dilation", 1), 1), bias=False
        ).double()
        nn.init.ones_(conv.weight)
        return nn.Sequential(pad, conv)
    if kind == "pool":
        k, s, p, d = spec["kernel"], spec["stride"], spec["padding"], spec["dilation"]
        return nn.Sequential(nn.MaxPool2d((k, 1), (s, 1), (p, 0), (d, 1), ceil_mode=spec["ceil_mode"]), nn.ReLU())
    return nn.Identity()  # activations, batch norm and dropout move no pixel


def responses(x: torch.Tensor, layer: nn.Module) -> torch.Tensor:
    with torch.no_grad():
        return layer(x)


# 500 seeded random chains of 1–5 square-window layers (conv with padding, "same" and dilation,
# separable, max/avg/min pooling with padding, dilation and ceil mode, transposed convolutions
# with and without a stride, neutral layers): the field of every output pixel, after every layer.
@pytest.mark.filterwarnings("ignore:Using padding='same'")
@pytest.mark.parametrize("index", range(CASES))
def test_receptive_field_matches_impulse_response(index: int) -> None:
    """For every output pixel, the input pixels it responds to lie in the field we predict and,
    when that field is inside the input, reach both of its ends; the widest response of a layer
    is our field size (after a strided transposed convolution the field differs between even and
    odd pixels: the largest)."""
    rng = np.random.default_rng((SEED, 12, index))
    specs: list[Spec] = []
    jump = 1
    for _ in range(int(rng.integers(1, 6))):
        spec = draw_window(rng, jump)
        if spec["kind"] == "conv" and rng.random() < 0.4 and not (spec["padding"] == "same" and spec["stride"] > 1):
            spec["dilation"] = 2
        specs.append(spec)
        if spec["kind"] != "conv_transpose":
            jump *= spec.get("stride", 1)
    x = impulses(FIELD_INPUT)
    records = solve_chain((2, x.shape[2], x.shape[2]), specs).records
    for spec, record in zip(specs, records, strict=True):
        x = responses(x, impulse_layer(spec, x.shape[2]))
        reach = (x[:, 0, :, 0] > 0).numpy()  # reach[j, i]: output pixel i responds to input pixel j
        assert record.field is not None
        assert reach.shape[1] == record.shape[1]
        assert_field_matches(reach, record.field[0], specs)


def test_transposed_output_padding_is_checked_per_axis() -> None:
    """Output padding 1 on an axis with stride 1 and dilation 1: torch refuses the layer, and so
    does the set-file model (it used to give the width a row no input pixel reaches)."""
    spec: Spec = {"kind": "conv_transpose", "out_channels": 3, "kernel": 3, "stride": [2, 1], "output_padding": 1}
    with pytest.raises(RuntimeError, match="output padding"):
        nn.ConvTranspose2d(3, 3, 3, (2, 1), output_padding=1)(torch.zeros(1, 3, 2, 4))
    with pytest.raises(ValueError, match="output_padding: 1 along the width"):
        solve_chain((3, 2, 4), [spec])
