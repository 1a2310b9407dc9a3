"""Every key of the built-in set ``classic-exam`` against torch: each network is built from the
layers its file declares (``tests/torch_layers.py``) and run on zeros; a key's value is read off
torch's modules and tensors (shapes, ``numel()``, ``element_size()``, ``parameters()``,
``buffers()``, ``state_dict()``, the fan-in torch's initialisers use, the ``ZeroPad2d`` in front of
a strided 'same'), never off our solvers. YOLOv3's grids are the sides a Darknet-53 backbone's
stride-2 convolutions make. ViT-B/16 (a repeated block, no chain of layers) is torchvision's
``vit_b_16`` itself, built on the meta device."""

from __future__ import annotations

import math
from typing import Any

import pytest
import torch
from torch import nn
from torchvision.models import vit_b_16

from problems.loader import load_bank
from problems.types.network import NetworkProblem

from torch_layers import LocallyConnected2d, torch_layer

EXAM = load_bank()["classic-exam"]
PROBLEMS = EXAM.variant(None).problems
ANSWERS = EXAM.solve()  # as the grader presents them: shapes in each part's layout

torch.set_num_threads(1)


def channels_last(shape: tuple[int, ...]) -> tuple[int, ...]:
    """Torch's C×... as the set's parts write it (H×W×C, L×C, T×H×W×C)."""
    return (*shape[1:], shape[0])


def figures(spec: NetworkProblem) -> dict[str, Any]:
    """Every quantity the set may ask of this network, from torch."""
    x = torch.zeros(1, *spec.input_chw())
    size = torch.empty(0, dtype=getattr(torch, spec.dtype)).element_size()
    found: dict[str, Any] = {}
    totals = {"buffers": 0, "state": 0, "params": 0}
    held = [x]  # every tensor the pass writes, kept alive: the stored values are the distinct ones
    for layer in spec.layers:
        settings = layer.model_dump(by_alias=True)
        module = torch_layer(settings, x.shape[1:]).eval()
        if hasattr(module, "inplace"):  # ReLU and its kin, in place unless the set keeps them apart
            module.inplace = spec.stored.activations == "in_place"
        with torch.no_grad():
            x = module(x)
        held.append(x)
        out = tuple(x.shape[1:])
        name = settings.get("name")
        params = sum(p.numel() for p in module.parameters())
        buffers = sum(b.numel() for b in module.buffers())
        state = sum(t.numel() for t in module.state_dict().values())
        for label, value in (("buffers", buffers), ("state", state), ("params", params)):
            totals[label] += value
        if name is None:
            continue
        spatial = out[1:]
        axes = {1: ["length"], 2: ["height", "width"], 3: ["frames", "height", "width"]}[len(spatial)]
        found |= {f"{axis}.{name}": side for axis, side in zip(axes, spatial, strict=True)}
        if len(set(spatial)) == 1:
            found[f"side.{name}"] = spatial[0]
        found |= {
            f"shape.{name}": channels_last(out),
            f"channels.{name}": out[0],
            f"tokens.{name}": math.prod(spatial),
            f"values.{name}": x.numel(),
            f"memory.{name}": x.numel() * size,
            f"params.{name}": params,
            f"buffers.{name}": buffers,
            f"state.{name}": state,
        }
        found |= fan_in(name, module)
        pads = [m for m in module.modules() if isinstance(m, nn.ZeroPad2d)]
        if pads:
            left, right, top, bottom = pads[0].padding
            found |= {f"pad_top.{name}": top, f"pad_bottom.{name}": bottom}
            found |= {f"pad_left.{name}": left, f"pad_right.{name}": right}
    found |= {f"{label}.total": value for label, value in totals.items()}
    stored = {id(t): t.numel() for t in held if t._base is None and (spec.stored.input or t is not held[0])}
    found["values.total"] = sum(stored.values())
    found["memory.total"] = found["values.total"] * size
    return found


def fan_in(name: str, module: nn.Module) -> dict[str, int]:
    """The fan-in torch's initialisers compute (``kaiming_uniform_``'s), or a local filter's inputs."""
    if isinstance(module, LocallyConnected2d):
        return {f"fan_in.{name}": module.weight.shape[2]}
    convs = [m for m in module.modules() if isinstance(m, nn.Conv1d | nn.Conv2d | nn.Conv3d)]
    if not convs:
        return {}
    return {f"fan_in.{name}": nn.init._calculate_fan_in_and_fan_out(convs[0].weight)[0]}


def darknet_grids(side: int) -> tuple[int, ...]:
    x, sides = torch.zeros(1, 1, side, side), []
    with torch.no_grad():
        for _ in range(5):
            x = nn.Conv2d(1, 1, 3, 2, 1)(x)
            sides.append(x.shape[-1])
    return sides[4], sides[3], sides[2]


def vit_b16_figures() -> dict[str, int]:
    """The ViT-B/16 problem's parts, by key, from torchvision's model (``weights=None``)."""
    with torch.device("meta"):
        model = vit_b_16()
    block = model.encoder.layers[0]

    def count(module: nn.Module) -> int:
        return sum(p.numel() for p in module.parameters())

    return {
        "params": count(model),
        "embeddings": model.class_token.numel() + model.encoder.pos_embedding.numel(),
        "block": count(block),
        "norm": count(block.ln_1),
    }


@pytest.mark.parametrize("problem", PROBLEMS, ids=[p.id for p in PROBLEMS])
def test_every_key_is_torchs_figure(problem: Any) -> None:
    spec = problem.spec
    if problem.id == "vit_b16":
        for part in problem.parts:
            assert ANSWERS[problem.key(part)].value == vit_b16_figures()[part.key], part.key
        assert ANSWERS["vit_b16.params"].value == 86_567_656
        return
    if isinstance(spec, NetworkProblem):
        expected = figures(spec)
    else:  # YOLOv3: the backbone's grids; the head's last 1×1 convolution has anchors·(5 + classes) filters
        head = nn.Conv2d(1024, spec.anchor_count() * (5 + spec.classes), 1)
        expected = {"grids": darknet_grids(spec.input_size), "depth": head.out_channels}
    for part in problem.parts:
        key = problem.key(part)
        assert ANSWERS[key].value == expected[part.quantity], key
