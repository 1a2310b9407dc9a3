"""A Vision Transformer written as a set file writes it (patch embedding, tokens, class token,
position embedding, encoder blocks of layer norm, attention and MLP, the class token taken for
the head) against torchvision's ``VisionTransformer``, built with ``weights=None`` (nothing is
downloaded): its parameters from ``parameters()`` (the class token and the position embedding are
parameters of the model itself, not of a module), its output from a forward pass on zeros.
ViT-B/16 has 86,567,656 parameters with its head of 1000 classes.
"""

from __future__ import annotations

from typing import Any

import pytest
import torch
from torchvision.models.vision_transformer import VisionTransformer

from problems.types.network import NetworkProblem

torch.set_num_threads(1)


def vit_layers(patch: int, layers: int, heads: int, dim: int, mlp: int, classes: int) -> list[dict[str, Any]]:
    """torchvision's ``VisionTransformer`` in set-file layers, under its module names."""
    block = [
        {"kind": "layernorm", "name": "ln_1"},
        {"kind": "attention", "name": "self_attention", "heads": heads},
        {"kind": "add", "name": "x", "from": ["self_attention", "input"]},
        {"kind": "layernorm", "name": "ln_2"},
        {"kind": "linear", "name": "mlp.0", "out_features": mlp},
        {"kind": "activation", "function": "gelu"},
        {"kind": "linear", "name": "mlp.3", "out_features": dim},
        {"kind": "add", "name": "y", "from": ["mlp.3", "x"]},
    ]
    return [
        {"kind": "patch_embed", "name": "conv_proj", "patch": patch, "dim": dim},
        {"kind": "tokens", "name": "patches"},
        {"kind": "class_token", "name": "class_token"},
        {"kind": "position_embedding", "name": "pos_embedding"},
        {"kind": "repeat", "name": "encoder.layers", "times": layers, "layers": block},
        {"kind": "layernorm", "name": "encoder.ln"},
        {"kind": "take_token", "name": "cls"},
        {"kind": "linear", "name": "heads.head", "out_features": classes},
    ]


def solve(image: int, layers: list[dict[str, Any]]) -> dict[str, Any]:
    problem = NetworkProblem(type="network", input=[image, image, 3], layers=layers)
    return {name: quantity.value for name, quantity in problem.solve().items()}


# ViT-B/16 at 224 (86,567,656 parameters), a small one, one head and one layer, patches of 7 on 28
@pytest.mark.parametrize(
    ("image", "patch", "layers", "heads", "dim", "mlp", "classes"),
    [(224, 16, 12, 12, 768, 3072, 1000), (32, 8, 2, 4, 64, 128, 10), (28, 7, 1, 1, 16, 32, 5)],
)
def test_a_vision_transformer_is_torchvisions(
    image: int, patch: int, layers: int, heads: int, dim: int, mlp: int, classes: int
) -> None:
    ours = solve(image, vit_layers(patch, layers, heads, dim, mlp, classes))
    model = VisionTransformer(image, patch, layers, heads, dim, mlp, num_classes=classes).eval()
    x = torch.zeros(1, 3, image, image)
    with torch.no_grad():
        y = model(x)
        tokens = model._process_input(x)
    patches = (image // patch) ** 2
    assert ours["output"] == tuple(y.shape[1:]) == (classes,)
    assert ours["params.total"] == sum(p.numel() for p in model.parameters())
    assert ours["params.class_token"] == model.class_token.numel() == dim
    assert ours["params.pos_embedding"] == model.encoder.pos_embedding.numel() == (patches + 1) * dim
    assert ours["shape.patches"] == tuple(tokens.shape[1:])[::-1]
    assert ours["shape.pos_embedding"] == (dim, patches + 1) == tuple(model.encoder.pos_embedding.shape[1:])[::-1]
    for index, block in enumerate(model.encoder.layers):
        assert ours[f"params.encoder.layers.{index}"] == sum(p.numel() for p in block.parameters())
    assert ours["params.encoder.ln"] == sum(p.numel() for p in model.encoder.ln.parameters())
    assert ours["buffers.total"] == sum(b.numel() for b in model.buffers()) == 0
    if image == 224:
        assert ours["params.total"] == 86_567_656


def test_a_token_past_the_sequence_is_refused() -> None:
    with pytest.raises(IndexError):
        torch.zeros(1, 4, 8)[:, 4]
    with pytest.raises(ValueError, match="token 4 of a sequence of 4 tokens"):
        solve(
            8, [{"kind": "patch_embed", "patch": 4, "dim": 8}, {"kind": "tokens"}, {"kind": "take_token", "index": 4}]
        )


@pytest.mark.parametrize("kind", ["class_token", "position_embedding", "take_token"])
def test_the_vit_pieces_need_a_sequence(kind: str) -> None:
    """On a map they are refused, naming the way to a sequence (``kind: tokens``)."""
    with pytest.raises(ValueError, match="needs a sequence"):
        solve(8, [{"kind": "patch_embed", "patch": 4, "dim": 8}, {"kind": kind}])
