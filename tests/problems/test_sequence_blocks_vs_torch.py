"""The blocks of modern exams against torch: multi-head self-attention (``nn.MultiheadAttention``),
fully connected layers on every token (``nn.Linear`` on ``(L, C)``), LSTM and GRU layers
(``nn.LSTM``, ``nn.GRU``), and the channel-wise product of squeeze-and-excitation
(``torchvision.ops.SqueezeExcitation``).

torch's side: output shapes from a forward pass, parameters from ``parameters()``, MACs as half
the FLOPs ``torch.utils.flop_counter.FlopCounterMode`` counts (matrix products and convolutions;
it counts no element-wise products or softmax, and neither do we). A recurrent layer runs as one
fused operator the counter does not see: its MACs are each step's products of the input and the
hidden state by the weights, ``L·(numel(weight_ih) + numel(weight_hh))`` per layer and direction.
"""

from __future__ import annotations

from typing import Any

import pytest
import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode
from torchvision.ops import SqueezeExcitation

from problems.types.network import NetworkProblem

torch.set_num_threads(1)


def solve(input_: list[int], layers: list[dict[str, Any]]) -> dict[str, Any]:
    """Our quantities by name; shapes in the solvers' order, channels first (``C×L``, ``C×H×W``)."""
    problem = NetworkProblem(type="network", input=input_, layers=layers)
    return {name: quantity.value for name, quantity in problem.solve().items()}


def counted_macs(module: nn.Module, *args: torch.Tensor) -> int:
    """Half the FLOPs of a forward pass with gradients on (so that ``nn.MultiheadAttention`` takes
    its composite path of matrix products, not the fused inference kernel the counter cannot see)."""
    with FlopCounterMode(display=False) as counter:
        module(*args)
    flops = counter.get_total_flops()
    assert flops % 2 == 0
    return flops // 2


def params_of(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


# ViT-B/16's attention (768, 12 heads, 196 patches), a small one, one without biases, one head
@pytest.mark.parametrize(
    ("dim", "heads", "tokens", "bias"), [(768, 12, 196, True), (64, 4, 10, True), (32, 8, 7, False), (48, 1, 5, True)]
)
def test_self_attention_is_torchs_multihead_attention(dim: int, heads: int, tokens: int, bias: bool) -> None:
    ours = solve([tokens, dim], [{"kind": "attention", "name": "a", "heads": heads, "bias": bias}])
    module = nn.MultiheadAttention(dim, heads, bias=bias, batch_first=True)  # no dropout: train mode is eval's
    x = torch.zeros(1, tokens, dim)
    with torch.no_grad():
        out, _ = module(x, x, x)
    assert ours["shape.a"] == tuple(out.shape[1:])[::-1] == (dim, tokens)
    assert ours["params.a"] == params_of(module)
    assert ours["macs.a"] == counted_macs(module, x, x, x)  # 4·L·d² + 2·L²·d


def test_attention_heads_must_split_the_width() -> None:
    with pytest.raises(ValueError, match="5 heads do not split 64 values per token evenly"):
        solve([10, 64], [{"kind": "attention", "name": "a", "heads": 5}])
    with pytest.raises(AssertionError):  # torch refuses it too
        nn.MultiheadAttention(64, 5)


def test_a_transformer_mlp_acts_on_every_token() -> None:
    """ViT-B/16's MLP: 768 → 3072 → 768 on each of 196 tokens."""
    ours = solve([196, 768], [{"kind": "linear", "name": "fc1", "out_features": 3072}, {"kind": "activation"},
                              {"kind": "linear", "name": "fc2", "out_features": 768}])  # fmt: skip
    fc1, fc2 = nn.Linear(768, 3072), nn.Linear(3072, 768)
    x = torch.zeros(1, 196, 768)
    assert ours["shape.fc1"] == tuple(fc1(x).shape[1:])[::-1] == (3072, 196)
    assert (ours["params.fc1"], ours["params.fc2"]) == (params_of(fc1), params_of(fc2))
    assert ours["macs.total"] == counted_macs(nn.Sequential(fc1, nn.GELU(), fc2), x) == 2 * 196 * 768 * 3072


def test_patches_read_as_tokens_then_attended() -> None:
    """A patch embedding (16×16 patches of a 224×224×3 image into 768) read as 196 tokens."""
    ours = solve([224, 224, 3], [
        {"kind": "patch_embed", "name": "embed", "patch": 16, "dim": 768},
        {"kind": "tokens", "name": "seq"},
        {"kind": "attention", "name": "attn", "heads": 12},
    ])  # fmt: skip
    embed, attention = nn.Conv2d(3, 768, 16, 16), nn.MultiheadAttention(768, 12, batch_first=True)
    with torch.no_grad():
        seq = embed(torch.zeros(1, 3, 224, 224)).flatten(2).transpose(1, 2)
    assert ours["shape.seq"] == tuple(seq.shape[1:])[::-1] == (768, 196)
    assert ours["tokens.seq"] == 196
    assert ours["params.total"] == params_of(embed) + params_of(attention)
    assert ours["macs.attn"] == counted_macs(attention, seq, seq, seq)
    assert ours["values.total"] == 3 * 224 * 224 + 2 * 768 * 196  # the tokens are a view of the embedding


@pytest.mark.parametrize(("dim", "heads", "tokens"), [(768, 12, 197), (64, 4, 10), (48, 1, 5)])
def test_the_scores_alone_are_torchs_q_times_k_transposed(dim: int, heads: int, tokens: int) -> None:
    """``scores_macs``: the product ``Q·Kᵀ`` per head, as torch multiplies it (``L×(d/h)`` by
    ``(d/h)×L`` in each of ``h`` heads); with the weighted values (as many) and the four
    projections it makes the whole layer's count, torch's ``nn.MultiheadAttention``'s."""
    ours = solve([tokens, dim], [{"kind": "attention", "name": "a", "heads": heads}])
    q = k = torch.zeros(1, heads, tokens, dim // heads)
    with FlopCounterMode(display=False) as counter:
        torch.matmul(q, k.transpose(-2, -1))
    assert ours["scores_macs.a"] == counter.get_total_flops() // 2
    module = nn.MultiheadAttention(dim, heads, batch_first=True)
    x = torch.zeros(1, tokens, dim)
    projections = 4 * tokens * dim * dim
    assert ours["macs.a"] == projections + 2 * ours["scores_macs.a"] == counted_macs(module, x, x, x)


@pytest.mark.parametrize(
    ("cell", "inputs", "hidden", "layers", "bidirectional", "steps"),
    [("lstm", 32, 64, 1, False, 5), ("lstm", 300, 512, 2, True, 20), ("gru", 32, 64, 1, False, 5),
     ("gru", 80, 128, 3, False, 12), ("lstm", 10, 20, 1, True, 3)],
)  # fmt: skip
def test_lstm_and_gru_layers_are_torchs(
    cell: str, inputs: int, hidden: int, layers: int, bidirectional: bool, steps: int
) -> None:
    layer = {"kind": cell, "name": "r", "hidden": hidden, "layers": layers, "bidirectional": bidirectional}
    ours = solve([steps, inputs], [layer])
    module = {"lstm": nn.LSTM, "gru": nn.GRU}[cell](inputs, hidden, layers, bidirectional=bidirectional)
    with torch.no_grad():
        out, _ = module(torch.zeros(steps, 1, inputs))
    weights = sum(p.numel() for name, p in module.named_parameters() if name.startswith("weight_"))
    assert ours["shape.r"] == (out.shape[-1], steps)
    assert ours["params.r"] == params_of(module)
    assert ours["macs.r"] == steps * weights


@pytest.mark.parametrize(
    ("cell", "inputs", "hidden", "layers", "bidirectional"),
    [("lstm", 1, 50, 1, False), ("lstm", 32, 64, 2, True), ("gru", 80, 128, 1, False)],
)
def test_one_bias_per_gate_is_torchs_count_without_its_second_bias(
    cell: str, inputs: int, hidden: int, layers: int, bidirectional: bool
) -> None:
    """Keras's LSTM (and its GRU with ``reset_after=False``) adds one bias vector per gate where
    torch adds ``b_ih`` and ``b_hh``: its count is torch's without the ``bias_hh_*`` parameters.
    Keras's summary of ``LSTM(50)`` on one feature per step prints 10,400."""
    layer = {"kind": cell, "name": "r", "hidden": hidden, "layers": layers, "bidirectional": bidirectional}
    ours = solve([7, inputs], [{**layer, "biases": 1}])
    module = {"lstm": nn.LSTM, "gru": nn.GRU}[cell](inputs, hidden, layers, bidirectional=bidirectional)
    one_bias = sum(p.numel() for name, p in module.named_parameters() if not name.startswith("bias_hh"))
    assert ours["params.r"] == one_bias
    assert ours["params.r"] < solve([7, inputs], [layer])["params.r"] == params_of(module)
    if (cell, inputs, hidden) == ("lstm", 1, 50):
        assert ours["params.r"] == 10_400


def test_squeeze_and_excitation_scales_each_channel() -> None:
    """torchvision's SqueezeExcitation(64, 16) on a 56×56×64 map: pool, two 1×1 convolutions,
    ReLU and sigmoid, then ``scale * input``."""
    ours = solve([56, 56, 64], [
        {"kind": "conv", "name": "x", "out_channels": 64, "kernel": 3, "padding": 1},
        {"kind": "global_pool", "name": "avgpool"},
        {"kind": "conv", "name": "fc1", "out_channels": 16, "kernel": 1},
        {"kind": "activation"},
        {"kind": "conv", "name": "fc2", "out_channels": 64, "kernel": 1},
        {"kind": "activation", "function": "sigmoid"},
        {"kind": "multiply", "name": "scaled", "from": ["fc2", "x"]},
    ])  # fmt: skip
    block = SqueezeExcitation(64, 16).eval()
    x = torch.zeros(1, 64, 56, 56)
    with torch.no_grad():
        y = block(x)
    assert ours["shape.scaled"] == tuple(y.shape[1:]) == (64, 56, 56)
    assert ours["params.fc1"] + ours["params.fc2"] == params_of(block)
    assert ours["macs.fc1"] + ours["macs.fc2"] + ours["macs.scaled"] == counted_macs(block, x)


def test_a_product_broadcasts_sizes_of_one_only() -> None:
    with pytest.raises(ValueError, match="a product broadcasts sizes of 1 only"):
        solve([8, 8, 4], [
            {"kind": "pool", "name": "half", "kernel": 2},
            {"kind": "multiply", "from": ["half", "input"]},
        ])  # fmt: skip
    with pytest.raises(RuntimeError):
        torch.zeros(1, 4, 4, 4) * torch.zeros(1, 4, 8, 8)


def torch_field(layers: nn.Module, length: int, channels: int, at: int = 0) -> tuple[int, int]:
    """The receptive field of output step ``at`` (the input steps its gradient reaches, with every
    weight 1 so that nothing cancels) and the jump (how far the next output's field starts on)."""
    for parameter in layers.parameters():
        nn.init.ones_(parameter)
    x = torch.zeros(1, channels, length, requires_grad=True)
    out = layers(x)
    starts = []
    for step in (at, at + 1):
        (grad,) = torch.autograd.grad(out[0, :, step].sum(), x, retain_graph=True)
        reached = grad[0].abs().sum(0).nonzero().flatten()
        starts.append((int(reached.min()), int(reached.max()) - int(reached.min()) + 1))
    return starts[0][1], starts[1][0] - starts[0][0]


def test_a_wavenet_stack_sees_1024_samples() -> None:
    """Ten causal convolutions of kernel 2 with dilations 1, 2, …, 512 (van den Oord et al., 2016:
    a field of 1,024 samples)."""
    dilations = [2**i for i in range(10)]
    ours = solve([2048, 1], [{"kind": "conv1d", "name": f"d{d}", "out_channels": 4, "kernel": 2, "dilation": d}
                             for d in dilations])  # fmt: skip
    torch_stack = nn.Sequential(*(nn.Conv1d(1 if d == 1 else 4, 4, 2, dilation=d) for d in dilations))
    assert ours["rf.d512"] == torch_field(torch_stack, 2048, 1)[0] == 1024
    assert ours["shape.d512"] == (4, 2048 - 1023)


def test_a_strided_sequence_field_and_jump_are_torchs() -> None:
    layers = [
        {"kind": "conv1d", "name": "c1", "out_channels": 2, "kernel": 5, "stride": 2, "padding": 2},
        {"kind": "pool1d", "name": "p1", "kernel": 3, "stride": 2},
        {"kind": "conv1d", "name": "c2", "out_channels": 2, "kernel": 3, "dilation": 3},
    ]
    ours = solve([200, 3], layers)
    torch_stack = nn.Sequential(nn.Conv1d(3, 2, 5, 2, 2), nn.AvgPool1d(3, 2), nn.Conv1d(2, 2, 3, dilation=3))
    assert (ours["rf.c2"], ours["jump.c2"]) == torch_field(torch_stack, 200, 3, at=5)
