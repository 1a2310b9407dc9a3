"""What a network's outputs hold, against torch: the values of every output (``numel()`` seen by
forward hooks), the values a pass stores (the distinct tensors that are no views, the input if
counted, ReLU in place or not) and their memory (``element_size()`` of the dtype), one side of an output, the
fan-in of a neuron (``torch.nn.init._calculate_fan_in_and_fan_out``), batch norm's buffers and
state dict, and TensorFlow's ``same`` padding at a stride (``nn.ZeroPad2d`` before the module).

Each case draws from ``numpy.random.default_rng((SEED, family, index))``: reproducible by id.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from torch import nn

from problems.loader import load_set
from problems.solvers.storage import StoredValues
from problems.types.network import NetworkProblem

from torch_layers import Spec, tf_same, torch_layer

SEED = 20_261_124
CASES = 200
DTYPES = ["float64", "float32", "float16", "bfloat16", "int8", "uint8"]

torch.set_num_threads(1)


def draw_layer(rng: np.random.Generator, c: int) -> Spec:
    """A convolution (grouped, strided, ``same`` at any stride), pooling, batch norm or activation."""
    kind = str(rng.choice(["conv"] * 4 + ["pool", "batchnorm", "activation"]))
    if kind == "conv":
        stride = int(rng.integers(1, 4))
        groups = int(rng.choice([g for g in (1, 2) if c % g == 0]))
        return {
            "kind": "conv",
            "out_channels": groups * int(rng.integers(1, 5)),
            "kernel": int(rng.integers(1, 6)),
            "stride": stride,
            "padding": "same" if rng.random() < 0.5 else int(rng.integers(0, 3)),
            "dilation": 1 if stride > 1 else int(rng.integers(1, 3)),
            "groups": groups,
            "bias": bool(rng.random() < 0.5),
        }
    if kind == "pool":
        return {"kind": "pool", "mode": "max", "kernel": 2, "stride": 2, "padding": 0, "dilation": 1,
                "ceil_mode": True, "count_include_pad": True}  # fmt: skip
    if kind == "batchnorm":
        return {"kind": "batchnorm", "affine": bool(rng.random() < 0.8)}
    return {"kind": "activation", "function": "relu"}


def named(specs: list[Spec]) -> list[Spec]:
    return [{**spec, "name": f"l{i}"} for i, spec in enumerate(specs)]


def torch_run(
    shape: tuple[int, ...], specs: list[Spec], in_place: bool = False
) -> tuple[list[tuple[nn.Module, torch.Size]], list[torch.Tensor]]:
    """Each layer's torch module and the shape of its output, seen by a forward hook; and every
    tensor the pass held, the input first (kept alive: distinct tensors, distinct ids). With
    ``in_place``, ReLU overwrites its input (``nn.ReLU(inplace=True)``, torchvision's)."""
    x = torch.zeros(1, *shape)
    found, held = [], [x]
    for spec in specs:
        module = torch_layer(spec, x.shape[1:]).eval()
        if isinstance(module, nn.ReLU):
            module.inplace = in_place
        seen: list[torch.Size] = []
        handle = module.register_forward_hook(lambda m, i, o, seen=seen: seen.append(o.shape))
        with torch.no_grad():
            x = module(x)
        handle.remove()
        found.append((module, seen[0][1:]))
        held.append(x)
    return found, held


def stored_values(held: list[torch.Tensor], count_input: bool) -> int:
    """Values of the distinct tensors that are no views, the input (and what overwrote it in place)
    only if counted."""
    distinct = {id(t): t.numel() for t in held if t._base is None and (count_input or t is not held[0])}
    return sum(distinct.values())


def weight_of(module: nn.Module) -> torch.Tensor | None:
    convs = [m for m in module.modules() if isinstance(m, nn.Conv2d | nn.Linear)]
    return convs[0].weight if convs else None


# 200 seeded random chains of 1–6 layers on a map of 5–40 pixels, 1–4 channels
@pytest.mark.filterwarnings("ignore:Using padding='same'")
@pytest.mark.parametrize("index", range(CASES))
def test_values_memory_sides_fan_in_and_state_match_torch(index: int) -> None:
    rng = np.random.default_rng((SEED, 1, index))
    shape = (int(rng.integers(1, 5)), int(rng.integers(5, 41)), int(rng.integers(5, 41)))
    specs, c = [], shape[0]
    for _ in range(int(rng.integers(1, 7))):
        specs.append(draw_layer(rng, c))
        c = specs[-1].get("out_channels", c)
    dtype = str(rng.choice(DTYPES))
    stored = StoredValues(input=bool(rng.random() < 0.5), activations="new" if rng.random() < 0.5 else "in_place")
    specs = named(specs)
    try:
        run, held = torch_run(shape, specs, in_place=stored.activations == "in_place")
    except RuntimeError:  # torch refuses the chain (a map too small): so does the model
        with pytest.raises(ValueError):
            NetworkProblem(type="network", input=list(shape), input_layout="CHW", layers=specs).solve()
        return
    problem = NetworkProblem(
        type="network", input=list(shape), input_layout="CHW", layers=specs, dtype=dtype, stored=stored
    )
    ours = problem.solve()
    size = torch.empty(0, dtype=getattr(torch, dtype)).element_size()
    for spec, (module, out) in zip(specs, run, strict=True):
        name = spec["name"]
        assert ours[f"values.{name}"].value == out.numel()
        assert ours[f"memory.{name}"].value == out.numel() * size
        assert (ours[f"channels.{name}"].value, ours[f"height.{name}"].value, ours[f"width.{name}"].value) == out
        assert (f"side.{name}" in ours) == (out[1] == out[2])
        assert ours[f"tokens.{name}"].value == out[1] * out[2]
        weight = weight_of(module)
        if weight is not None:
            assert ours[f"fan_in.{name}"].value == nn.init._calculate_fan_in_and_fan_out(weight)[0]
        if isinstance(module, nn.BatchNorm2d):
            assert ours[f"params.{name}"].value == sum(p.numel() for p in module.parameters())
            assert ours[f"buffers.{name}"].value == sum(b.numel() for b in module.buffers())
            assert ours[f"state.{name}"].value == sum(t.numel() for t in module.state_dict().values())
    assert ours["values.total"].value == stored_values(held, stored.input)
    assert ours["memory.total"].value == size * stored_values(held, stored.input)
    assert ours["buffers.total"].value == sum(b.numel() for m, _ in run for b in m.buffers())
    assert ours["state.total"].value == sum(t.numel() for m, _ in run for t in m.state_dict().values())


# TensorFlow's "same": ⌈n/s⌉ at any stride, the odd pixel of padding after (tf.nn.convolution's docs)
@pytest.mark.parametrize(
    ("n", "k", "s", "sides", "out"),
    [
        (224, 3, 2, (0, 1), 112),  # a ResNet/MobileNet stem in Keras: one pixel at the end only
        (224, 7, 2, (2, 3), 112),
        (5, 3, 2, (1, 1), 3),
        (13, 3, 3, (1, 1), 5),
        (8, 2, 1, (0, 1), 8),  # stride 1, an even kernel: PyTorch's "same" too
        (7, 1, 2, (0, 0), 4),
    ],
)
def test_same_padding_at_a_stride_is_tensorflows(n: int, k: int, s: int, sides: tuple[int, int], out: int) -> None:
    assert tf_same(n, k, s) == sides
    layer: Spec = {"kind": "conv", "name": "c", "out_channels": 1, "kernel": k, "stride": s, "padding": "same"}
    ours = NetworkProblem(type="network", input=[n, n, 1], layers=[layer]).solve()
    assert (ours["pad_top.c"].value, ours["pad_bottom.c"].value) == sides
    full: Spec = {"dilation": 1, "groups": 1, "bias": True, **layer}
    y = torch_layer(full, torch.Size([1, n, n]))(torch.zeros(1, 1, n, n))
    assert ours["shape.c"].value == (1, out, out) == tuple(y.shape[1:])
    assert ours["side.c"].value == out


def test_same_with_a_stride_and_a_dilation_is_refused_as_keras_refuses_it() -> None:
    layer: Any = {"kind": "conv", "out_channels": 1, "kernel": 3, "stride": 2, "padding": "same", "dilation": 2}
    with pytest.raises(ValueError, match="padding: 'same' with stride 2 and dilation 2"):
        NetworkProblem(type="network", input=[9, 9, 1], layers=[layer])


def test_a_pair_is_written_channels_last_only_when_it_is_a_sequence(tmp_path: Path) -> None:
    """A sequence's map (torch's C×L) is written L×C in the default layout; a receptive field of a
    3×5 kernel stays H×W (it is no map with channels)."""
    conv1d, conv2d = nn.Conv1d(4, 6, 3), nn.Conv2d(3, 4, (3, 5))
    sequence = {"id": "s", "title": "S", "type": "network", "input": [20, 4]}
    sequence |= {"layers": [{"kind": "conv1d", "name": "c", "out_channels": 6, "kernel": 3}]}
    sequence["parts"] = [{"key": "shape", "quantity": "shape.c"}]
    image = {"id": "i", "title": "I", "type": "network", "input": [32, 32, 3]}
    image |= {"layers": [{"kind": "conv", "name": "c", "out_channels": 4, "kernel": [3, 5]}]}
    image["parts"] = [{"key": "rf", "quantity": "rf.c"}]
    path = tmp_path / "pairs.yaml"
    path.write_text(json.dumps({"id": "pairs", "title": "P", "problems": [sequence, image]}))
    answers = load_set(path).solve()
    c, length = conv1d(torch.zeros(1, 4, 20)).shape[1:]
    assert answers["s.shape"].value == (length, c)
    assert answers["i.rf"].value == conv2d.kernel_size
