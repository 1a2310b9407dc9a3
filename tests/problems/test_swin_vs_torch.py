"""Swin-T written as a set file writes it, against torchvision's ``swin_t``: window attention
(``window_attention``, shifted in every second block, with its relative position bias table) and
patch merging (``patch_merging``, then its layer norm and linear layer), on a map held channels
last as torchvision's Swin holds it (``permute`` after the stem).

torch's side is built on the meta device: parameters from ``parameters()``, buffers from
``buffers()`` (each block's ``relative_position_index``), MACs as half the FLOPs
``torch.utils.flop_counter.FlopCounterMode`` counts, the convention of torchvision's model card
(its 4.491 "GFLOPS" are these MACs): the projections on every position of the map padded to whole
windows, and per window ``Q·Kᵀ`` and the weighted values; the bias added to the scores, the
softmax, the shift and its mask are none. Swin-T: 28,288,354 parameters, 4,490,566,656 MACs.
"""

from __future__ import annotations

from typing import Any

import pytest
import torch
import torchvision.models as tv
from torchvision.models.swin_transformer import PatchMerging, ShiftedWindowAttention

from problems.types.network import NetworkProblem

from torch_layers import flop_counter_macs

torch.set_num_threads(1)
META = torch.device("meta")

SWIN_BLOCK = [
    {"kind": "layernorm", "name": "norm1"},
    {"kind": "window_attention", "name": "attn", "heads": "$heads", "window_size": 7, "shift_size": "$shift"},
    {"kind": "add", "name": "x", "from": ["attn", "input"]},
    {"kind": "layernorm", "name": "norm2"},
    {"kind": "linear", "name": "mlp.0", "out_features": "$wide"},
    {"kind": "activation", "function": "gelu"},
    {"kind": "linear", "name": "mlp.3", "out_features": "$dim"},
    {"kind": "add", "name": "y", "from": ["mlp.3", "x"]},
]
MERGING = [
    {"kind": "patch_merging"},
    {"kind": "layernorm", "name": "norm"},
    {"kind": "linear", "name": "reduction", "out_features": "$out", "bias": False},
]


def swin(depths: tuple[int, ...], heads: tuple[int, ...], dim: int, classes: int) -> dict[str, Any]:
    """torchvision's ``SwinTransformer`` as a set file's network: a 4×4 patchify stem, permuted
    channels last, its norm; stages of blocks (every second one shifted by half a window) with
    patch merging between them; a norm, back channels first, global pooling and the classifier."""
    layers: list[dict[str, Any]] = [
        {"kind": "conv", "name": "stem", "out_channels": dim, "kernel": 4, "stride": 4},
        {"kind": "permute", "dims": [0, 2, 3, 1]},
        {"kind": "layernorm", "name": "stem_norm"},
    ]
    for stage, (depth, head) in enumerate(zip(depths, heads, strict=True), start=1):
        width = dim * 2 ** (stage - 1)
        if stage > 1:
            layers.append({"kind": "block", "name": f"merge{stage}", "use": "merging", "with": {"out": width}})
        for index in range(depth):
            with_ = {"dim": width, "wide": 4 * width, "heads": head, "shift": 3 * (index % 2)}
            layers.append({"kind": "block", "name": f"s{stage}b{index}", "use": "swin", "with": with_})
    layers += [
        {"kind": "layernorm", "name": "norm"},
        {"kind": "permute", "dims": [0, 3, 1, 2]},
        {"kind": "global_pool"},
        {"kind": "flatten"},
        {"kind": "linear", "name": "head", "out_features": classes},
    ]
    blocks = {"swin": SWIN_BLOCK, "merging": MERGING}
    return {"type": "network", "input": [224, 224, 3], "blocks": blocks, "layers": layers}


def solve(entry: dict[str, Any]) -> dict[str, Any]:
    return {name: quantity.value for name, quantity in NetworkProblem.model_validate(entry).solve().items()}


def count(tensors: Any) -> int:
    return sum(t.numel() for t in tensors)


def test_swin_t_is_torchvisions() -> None:
    ours = solve(swin((2, 2, 6, 2), (3, 6, 12, 24), 96, 1000))
    with META:
        model = tv.swin_t().eval()
        x = torch.zeros(1, 3, 224, 224)
    assert ours["params.total"] == count(model.parameters()) == 28_288_354
    assert ours["macs.total"] == flop_counter_macs(model, x) == 4_490_566_656
    assert round(ours["macs.total"] / 1e9, 3) == tv.Swin_T_Weights.IMAGENET1K_V1.meta["_ops"]
    assert ours["buffers.total"] == count(model.buffers()) == 12 * 49 * 49
    first = model.features[1][0]
    assert ours["bias_table.s1b0.attn"] == first.attn.relative_position_bias_table.numel() == 507
    assert ours["windows.s1b0.attn"] == (56 // 7) ** 2 == 64
    assert ours["params.s1b0"] == count(first.parameters())
    assert ours["params.merge2"] == count(model.features[2].parameters())
    assert ours["shape.s4b1"] == (768, 7, 7) and ours["output"] == (1000,)


@pytest.mark.parametrize(
    ("dim", "heads", "side", "shift"), [(96, 3, 56, 0), (96, 3, 56, 3), (32, 4, 10, 3), (24, 2, 9, 0)]
)
def test_window_attention_is_torchvisions_shifted_window_attention(dim: int, heads: int, side: int, shift: int) -> None:
    """Maps of whole windows and maps padded to them (10 and 9 to 14), shifted or not."""
    entry = {"type": "network", "input": [side, side, dim], "layers": [
        {"kind": "permute", "dims": [0, 2, 3, 1]},
        {"kind": "window_attention", "name": "a", "heads": heads, "window_size": 7, "shift_size": shift},
    ]}  # fmt: skip
    ours = solve(entry)
    with META:
        module = ShiftedWindowAttention(dim, [7, 7], [shift, shift], heads).eval()
        x = torch.zeros(1, side, side, dim)
    with torch.no_grad():
        out = module(x)
    windows = (-(-side // 7)) ** 2
    assert ours["params.a"] == count(module.parameters())
    assert ours["bias_table.a"] == module.relative_position_bias_table.numel() == 13 * 13 * heads
    assert ours["buffers.a"] == count(module.buffers())
    assert ours["windows.a"] == windows
    assert ours["macs.a"] == flop_counter_macs(module, x)
    assert ours["scores_macs.a"] == windows * heads * 49 * 49 * (dim // heads)  # each head's Q·Kᵀ in each window
    assert ours["shape.a"] == (out.shape[3], *out.shape[1:3])


@pytest.mark.parametrize(("dim", "side"), [(96, 56), (48, 9)])
def test_patch_merging_is_torchvisions(dim: int, side: int) -> None:
    entry = {"type": "network", "input": [side, side, dim], "blocks": {"merging": MERGING},
             "layers": [{"kind": "permute", "dims": [0, 2, 3, 1]},
                        {"kind": "block", "name": "m", "use": "merging", "with": {"out": 2 * dim}}]}  # fmt: skip
    ours = solve(entry)
    with META:
        module = PatchMerging(dim).eval()
        x = torch.zeros(1, side, side, dim)
    with torch.no_grad():
        out = module(x)
    assert ours["params.m"] == count(module.parameters())
    assert ours["macs.m"] == flop_counter_macs(module, x)
    assert ours["shape.m"] == (out.shape[3], *out.shape[1:3]) == (2 * dim, (side + 1) // 2, (side + 1) // 2)
