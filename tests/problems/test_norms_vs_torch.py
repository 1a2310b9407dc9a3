"""Group norm, instance norm and layer norm (``problems.solvers.norms``) against torch's modules
(``nn.GroupNorm``, ``nn.InstanceNorm1d/2d/3d``, ``nn.LayerNorm``), and a ViT-B/16 encoder block
against torchvision's.

torch's side: the output shape from a forward pass on zeros, parameters from ``parameters()``,
buffers from ``buffers()``; torch refuses what it refuses (a group count that does not divide the
channels, a layer norm over axes its input does not end with), and so must a set file, at its line.
A sequence reaches ``nn.LayerNorm`` tokens first, ``(L, C)``, as a transformer holds it; group and
instance norm read it channels first, ``(C, L)``, as after a 1-D convolution.
"""

from __future__ import annotations

from typing import Any

import pytest
import torch
from torch import nn
from torchvision.models.vision_transformer import EncoderBlock

from grader.comparison.mistakes import EXPLANATIONS
from grader.comparison.reference import reference_for
from problems.loader import Issue, SetFileError, load_bank, parse_set
from problems.solvers.steps import Derivations
from problems.types.network import NetworkProblem

from torch_layers import VIT_ENCODER_BLOCK, Spec, torch_layer

torch.set_num_threads(1)


def problem(shape: tuple[int, ...], layers: list[Spec]) -> NetworkProblem:
    """Shapes channels first, as the solvers hold them (``C``, ``C×L``, ``C×H×W``, ``C×T×H×W``)."""
    return NetworkProblem(type="network", input=list(shape), input_layout="CHW", layers=layers)


def solve(shape: tuple[int, ...], layers: list[Spec]) -> dict[str, Any]:
    return {name: quantity.value for name, quantity in problem(shape, layers).solve().items()}


def torch_input(spec: Spec, shape: tuple[int, ...]) -> torch.Tensor:
    """Zeros of ``shape`` with a batch of one; a sequence tokens first for a layer norm."""
    if spec["kind"] == "layernorm" and len(shape) == 2:
        return torch.zeros(1, shape[1], shape[0])
    return torch.zeros(1, *shape)


def assert_like_torch(shape: tuple[int, ...], spec: Spec) -> dict[str, Any]:
    """Our shape, parameters, buffers and state of one named layer equal torch's."""
    ours = solve(shape, [{**spec, "name": "n"}])
    x = torch_input(spec, shape)
    module = torch_layer(spec, x.shape[1:]).eval()
    with torch.no_grad():
        y = module(x)
    params = sum(p.numel() for p in module.parameters())
    buffers = sum(b.numel() for b in module.buffers())
    assert tuple(y.shape) == tuple(x.shape)
    assert ours["shape.n"] == shape
    assert (ours["params.n"], ours["buffers.n"], ours["state.n"]) == (params, buffers, params + buffers)
    assert (ours["params.total"], ours["buffers.total"]) == (params, buffers)
    assert ours["macs.n"] == 0
    return ours


@pytest.mark.parametrize(
    ("shape", "groups", "affine"),
    [((64, 56, 56), 32, True), ((64, 56, 56), 32, False), ((6, 5, 7), 3, True), ((6, 5, 7), 1, True),
     ((6, 5, 7), 6, True), ((12, 9), 4, True), ((8,), 2, True), ((4, 3, 5, 5), 2, True)],
)  # fmt: skip
def test_group_norm_is_torchs(shape: tuple[int, ...], groups: int, affine: bool) -> None:
    ours = assert_like_torch(shape, {"kind": "groupnorm", "groups": groups, "affine": affine})
    assert ours["params.n"] == (2 * shape[0] if affine else 0)


@pytest.mark.parametrize(
    ("shape", "affine", "tracked"),
    [((64, 32, 32), False, False), ((64, 32, 32), True, False), ((64, 32, 32), False, True),
     ((3, 7, 5), True, True), ((16, 20), True, False), ((16, 20), False, True), ((4, 3, 6, 6), True, True)],
)  # fmt: skip
def test_instance_norm_is_torchs(shape: tuple[int, ...], affine: bool, tracked: bool) -> None:
    """torch's defaults (no scale and shift, no running statistics) and each of them asked for."""
    spec = {"kind": "instancenorm", "affine": affine, "track_running_stats": tracked}
    ours = assert_like_torch(shape, spec)
    assert ours["buffers.n"] == (2 * shape[0] + 1 if tracked else 0)


@pytest.mark.parametrize(
    ("shape", "settings"),
    [((768, 197), {}), ((768, 197), {"normalized_shape": 768}), ((64, 10), {"bias": False}),
     ((64, 10), {"elementwise_affine": False}), ((8, 6, 5), {"normalized_shape": [8, 6, 5]}),
     ((8, 6, 5), {"normalized_shape": [6, 5]}), ((8, 6, 5), {"normalized_shape": [5], "bias": False}),
     ((10, 197), {"normalized_shape": [197, 10]}), ((100,), {})],
)  # fmt: skip
def test_layer_norm_is_torchs(shape: tuple[int, ...], settings: dict[str, Any]) -> None:
    """ViT's LayerNorm(768) on 197 tokens, without its shift or affine, and over a map's last axes."""
    assert_like_torch(shape, {"kind": "layernorm", **settings})


HEADER = "id: norms\ntitle: Norms\nproblems:\n  - id: q1\n    type: network\n    input: [8, 8, 6]\n    layers:\n"


def refused(layer: str) -> Issue:
    """The one issue of a set file whose third layer (line 10) is ``layer``."""
    text = (
        HEADER
        + "      - {kind: conv, out_channels: 6, kernel: 3, padding: 1}\n      - {kind: batchnorm}\n"
        + f"      - {layer}\n"
        + "    parts:\n      - {key: out, quantity: output}\n"
    )
    with pytest.raises(SetFileError) as caught:
        parse_set(text, "norms.yaml")
    assert len(caught.value.issues) == 1, caught.value.issues
    return caught.value.issues[0]


def test_groups_that_do_not_divide_the_channels_are_refused_at_their_line() -> None:
    with pytest.raises(ValueError, match="must be divisible by num_groups"):
        nn.GroupNorm(4, 6)
    issue = refused("{kind: groupnorm, groups: 4}")
    assert issue.line == 10 and "6 channels do not split into 4 groups of group norm" in issue.message
    assert issue.field is not None and issue.field.endswith("groups")


def test_a_layer_norm_over_axes_the_input_does_not_end_with_is_refused_at_its_line() -> None:
    with pytest.raises(RuntimeError):
        nn.LayerNorm([6, 8])(torch.zeros(1, 6, 8, 8))
    issue = refused("{kind: layernorm, normalized_shape: [6, 8]}")
    assert issue.line == 10 and "does not match the last axes of its input (the input is 6×8×8)" in issue.message
    assert "give normalized_shape" in refused("{kind: layernorm}").message


def test_instance_norm_needs_positions() -> None:
    with pytest.raises(ValueError, match="instance norm needs channels and positions"):
        solve((16,), [{"kind": "instancenorm"}])


@pytest.mark.parametrize(
    ("layer", "name"),
    [({"kind": "groupnorm", "groups": 4}, "group norm"), ({"kind": "instancenorm", "affine": True}, "instance norm"),
     ({"kind": "layernorm", "normalized_shape": [8, 8]}, "layer norm")],
)  # fmt: skip
def test_the_working_names_the_layer_and_never_batch_norm(layer: Spec, name: str) -> None:
    found = Derivations()
    problem((8, 8, 8), [{**layer, "name": "n"}]).solve(steps=found)
    texts = [step.text for key in ("shape.n", "params.n", "buffers.n", "state.n") for step in found[key]]
    assert any(name in text for text in texts), texts
    assert not any("batch" in text for text in texts), texts
    assert any(text.startswith("parameters (") for text in texts), texts


def test_a_vit_b16_encoder_block_is_torchvisions() -> None:
    """torchvision's ``EncoderBlock(12, 768, 3072)`` on 197 tokens: layer norm, attention, a sum,
    layer norm, the MLP, a sum; 7,087,872 parameters, no buffers."""
    layers = VIT_ENCODER_BLOCK
    ours = solve((768, 197), layers)
    block = EncoderBlock(12, 768, 3072, 0.0, 0.0).eval()
    with torch.no_grad():
        y = block(torch.zeros(1, 197, 768))
    assert ours["output"] == tuple(y.shape[1:])[::-1]
    assert ours["params.total"] == sum(p.numel() for p in block.parameters()) == 7_087_872
    assert ours["params.ln_1"] == sum(p.numel() for p in block.ln_1.parameters()) == 1536
    assert ours["buffers.total"] == sum(b.numel() for b in block.buffers()) == 0


def test_no_mistake_of_batch_norm_is_named_on_the_other_norms() -> None:
    """The bank's problems on group, instance and layer norm and on ViT-B/16 offer no mistake that
    speaks of batch norm (its affine parameters, the bias beside it): each norm's scale and shift
    left out has its own, and the running statistics counted as parameters are the tracking
    instance norm's, explained for any normalisation."""
    reference = reference_for(load_bank()["classic-exam"], None)
    parts = [part for key, part in reference.parts.items() if key.startswith(("norms.", "vit_b16."))]
    codes = {code.partition("@")[0] for part in parts for code, _ in part.mistakes}
    assert len(parts) == 10
    assert {f"{kind}-params-omitted" for kind in ("groupnorm", "instancenorm", "layernorm")} < codes
    assert "buffers-counted-as-params" in codes
    assert not any("batchnorm" in code or "batch norm" in EXPLANATIONS[code].lower() for code in codes), codes
