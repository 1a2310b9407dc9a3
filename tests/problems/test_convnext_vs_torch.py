"""ConvNeXt written as a set file writes it, against torchvision's ``convnext_tiny`` and its
``CNBlock``: layer scale (``layer_scale``), a map permuted channels last and back (``permute``),
and tokens laid back out on a map (``map``), which a pooling of tokens is told to write.

torch's side is built on the meta device (no weights allocated or downloaded): parameters from
``parameters()``, output shapes from a forward pass, MACs as half the FLOPs
``torch.utils.flop_counter.FlopCounterMode`` counts (convolutions and matrix products; layer
norm, GELU, the layer scale's product and the residual sum are none, as in the published counts).
ConvNeXt-T has 28,589,128 parameters and 4,455,531,264 MACs at 224×224 (its model card's 4.456
"GFLOPS" are these MACs).
"""

from __future__ import annotations

import functools
from typing import Any

import pytest
import torch
import torchvision.models as tv
import yaml
from torchvision.models.convnext import CNBlock

from problems.loader import SetFileError, parse_set
from problems.types.network import NetworkProblem

from torch_layers import flop_counter_macs

torch.set_num_threads(1)
META = torch.device("meta")

#: One ConvNeXt block in the three ways a course writes it, each a block of steps: torchvision's
#: (a permute to channels last, 1×1 layers as ``nn.Linear``), with tokens (the map read as tokens
#: and laid back out), and the paper's figure (1×1 convolutions; the layer norm over channels as
#: torchvision's ``LayerNorm2d``, between permutes).
WRITINGS = {
    "torchvision": """
      - {kind: conv, name: dwconv, out_channels: $dim, kernel: 7, padding: 3, groups: depthwise}
      - {kind: permute, dims: [0, 2, 3, 1]}
      - {kind: layernorm, name: norm}
      - {kind: linear, name: pwconv1, out_features: $wide}
      - {kind: activation, function: gelu}
      - {kind: linear, name: pwconv2, out_features: $dim}
      - {kind: permute, dims: [0, 3, 1, 2]}
      - {kind: layer_scale, name: gamma}
      - {kind: add, name: out, from: [gamma, input]}
    """,
    "tokens": """
      - {kind: conv, name: dwconv, out_channels: $dim, kernel: 7, padding: 3, groups: depthwise}
      - {kind: tokens}
      - {kind: layernorm, name: norm}
      - {kind: linear, name: pwconv1, out_features: $wide}
      - {kind: activation, function: gelu}
      - {kind: linear, name: pwconv2, out_features: $dim}
      - {kind: map}
      - {kind: layer_scale, name: gamma}
      - {kind: add, name: out, from: [gamma, input]}
    """,
    "paper": """
      - {kind: conv, name: dwconv, out_channels: $dim, kernel: 7, padding: 3, groups: depthwise}
      - {kind: permute, dims: [0, 2, 3, 1]}
      - {kind: layernorm, name: norm}
      - {kind: permute, dims: [0, 3, 1, 2]}
      - {kind: conv, name: pwconv1, out_channels: $wide, kernel: 1}
      - {kind: activation, function: gelu}
      - {kind: conv, name: pwconv2, out_channels: $dim, kernel: 1}
      - {kind: layer_scale, name: gamma}
      - {kind: add, name: out, from: [gamma, input]}
    """,
}

#: torchvision's ``LayerNorm2d``: a layer norm over each position's channels, between permutes.
NORM2D = """
      - {kind: permute, dims: [0, 2, 3, 1]}
      - {kind: layernorm, name: norm}
      - {kind: permute, dims: [0, 3, 1, 2]}
"""


def convnext(writing: str, depths: tuple[int, ...], dims: tuple[int, ...], classes: int) -> dict[str, Any]:
    """A ConvNeXt as a set file's network: a 4×4 patchify stem and its norm, stages of blocks with a
    norm and a 2×2 convolution of stride 2 between them, global pooling, a norm and the classifier."""
    layers = [
        {"kind": "conv", "name": "stem", "out_channels": dims[0], "kernel": 4, "stride": 4},
        {"kind": "block", "name": "stem_norm", "use": "norm2d"},
    ]
    for index, (depth, dim) in enumerate(zip(depths, dims, strict=True)):
        if index:
            layers += [
                {"kind": "block", "name": f"down{index}_norm", "use": "norm2d"},
                {"kind": "conv", "name": f"down{index}", "out_channels": dim, "kernel": 2, "stride": 2},
            ]
        with_ = {"dim": dim, "wide": 4 * dim}
        layers.append({"kind": "repeat", "name": f"stage{index + 1}", "times": depth, "use": "cnblock", "with": with_})
    layers += [
        {"kind": "global_pool", "name": "avgpool"},
        {"kind": "block", "name": "head_norm", "use": "norm2d"},
        {"kind": "flatten"},
        {"kind": "linear", "name": "fc", "out_features": classes},
    ]
    blocks = {"cnblock": yaml.safe_load(WRITINGS[writing]), "norm2d": yaml.safe_load(NORM2D)}
    return {"type": "network", "input": [224, 224, 3], "blocks": blocks, "layers": layers}


def solve(entry: dict[str, Any]) -> dict[str, Any]:
    return {name: quantity.value for name, quantity in NetworkProblem.model_validate(entry).solve().items()}


def params_of(module: torch.nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


@functools.cache
def convnext_tiny() -> tuple[tv.ConvNeXt, int]:
    """torchvision's ConvNeXt-T on the meta device and its MACs at 224×224, built once."""
    with META:
        model = tv.convnext_tiny().eval()
        x = torch.zeros(1, 3, 224, 224)
    return model, flop_counter_macs(model, x)


@pytest.mark.parametrize("writing", sorted(WRITINGS))
def test_convnext_tiny_is_torchvisions(writing: str) -> None:
    ours = solve(convnext(writing, (3, 3, 9, 3), (96, 192, 384, 768), 1000))
    model, macs = convnext_tiny()
    assert ours["params.total"] == params_of(model) == 28_589_128
    assert ours["macs.total"] == macs == 4_455_531_264
    assert round(ours["macs.total"] / 1e9, 3) == tv.ConvNeXt_Tiny_Weights.IMAGENET1K_V1.meta["_ops"]
    assert ours["output"] == (1000,)
    stages = [model.features[i] for i in (1, 3, 5, 7)]
    for index, stage in enumerate(stages, start=1):
        assert ours[f"params.stage{index}"] == params_of(stage)
    assert ours["params.stage1.0.gamma"] == stages[0][0].layer_scale.numel() == 96
    assert ours["macs.stage1.0.gamma"] == 0
    assert ours["params.stem_norm"] == params_of(model.features[0][1]) == 2 * 96
    assert ours["shape.stage4"] == (768, 7, 7)


@pytest.mark.parametrize("writing", sorted(WRITINGS))
@pytest.mark.parametrize(("dim", "side"), [(96, 56), (384, 14), (8, 5)])
def test_a_convnext_block_is_torchvisions_cnblock(writing: str, dim: int, side: int) -> None:
    """Its parameters (the layer scale γ among them), MACs and output shape, block by block; the
    paper's 1×1 convolutions count as the linear layers on each position do."""
    blocks = {"cnblock": yaml.safe_load(WRITINGS[writing])}
    block_step = {"kind": "block", "name": "b", "use": "cnblock", "with": {"dim": dim, "wide": 4 * dim}}
    entry = {"type": "network", "input": [side, side, dim], "blocks": blocks, "layers": [block_step]}
    ours = solve(entry)
    with META:
        block = CNBlock(dim, layer_scale=1e-6, stochastic_depth_prob=0.0).eval()
        x = torch.zeros(1, dim, side, side)
    with torch.no_grad():
        out = block(x)
    assert ours["params.b"] == params_of(block)
    assert ours["params.b.gamma"] == block.layer_scale.numel() == dim
    assert ours["params.b.norm"] == params_of(block.block[2]) == 2 * dim
    assert ours["macs.b"] == flop_counter_macs(block, x)
    assert ours["shape.b"] == tuple(out.shape[1:]) == (dim, side, side)


POOLED = """\
id: pooled
title: Tokens pooled
problems:
  - id: n
    title: n
    type: network
    input: [56, 56, 96]
    layers:
      - {{kind: tokens}}
      - {{kind: layernorm, name: norm}}
{back}      - {{kind: {layer}, name: p}}
    parts:
      - {{key: a, quantity: shape.p}}
"""


@pytest.mark.parametrize(
    ("layer", "module"), [("pool, kernel: 2", torch.nn.MaxPool2d(2)), ("global_pool", torch.nn.AdaptiveAvgPool2d(1))]
)
def test_pooling_tokens_says_it_got_a_token_sequence_and_names_the_map_step(
    layer: str, module: torch.nn.Module
) -> None:
    """Refused at the layer's line, for what it is (no flat vector), naming ``map``; written so, the
    pooling reads the map and its shape is torch's."""
    with pytest.raises(SetFileError) as refused:
        parse_set(POOLED.format(back="", layer=layer))
    found = [(issue.line, issue.message) for issue in refused.value.issues]
    said = "needs a C×H×W map, got a token sequence (3,136 tokens of 96 channels, L×C): lay the tokens back out on"
    assert any(line == 11 and said in text and "`kind: map`" in text for line, text in found), found
    assert not any("flat vector" in text for _, text in found), found
    fixed = parse_set(POOLED.format(back="      - {kind: map}\n", layer=layer)).solve()["n.a"].value
    with torch.no_grad():
        out = module(torch.zeros(1, 96, 56, 56, device=META))
    assert fixed == (*out.shape[2:], out.shape[1])
