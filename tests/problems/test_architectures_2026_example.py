"""The example ``examples/architectures-2026.yaml`` against torch and torchvision, key by key: a
ConvNeXt block (torchvision's ``CNBlock``), Swin-T's first stage (two ``SwinTransformerBlock``\\ s,
the second shifted), a feature pyramid over ResNet-50's C2..C5 (``FeaturePyramidNetwork``, the
sizes from ``resnet50`` itself), YOLOv8's head (the independent torch build of
``torch_layers.YoloV8Detect``) and ResNet-18's stem and first block on a batch of 32 in float16
(the bytes a forward pass writes). Every module is built on the meta device; MACs are half the
FLOPs ``FlopCounterMode`` counts. The set validates as ``grader sets validate`` checks it."""

from __future__ import annotations

from collections import OrderedDict
from fractions import Fraction
from pathlib import Path
from typing import Any

import torch
import torchvision.models as tv
from torch import nn
from torchvision.models._utils import IntermediateLayerGetter
from torchvision.models.convnext import CNBlock
from torchvision.models.resnet import BasicBlock
from torchvision.models.swin_transformer import SwinTransformerBlock
from torchvision.ops import FeaturePyramidNetwork
from typer.testing import CliRunner

from cli.app import app
from problems.loader import load_set

from torch_layers import YoloV8Detect, flop_counter_macs, stored_bytes

torch.set_num_threads(1)
META = torch.device("meta")
EXAMPLE = Path(__file__).parents[2] / "examples" / "architectures-2026.yaml"


def params_of(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def hwc(shape: torch.Size) -> tuple[int, ...]:
    """A channels-first map's shape (batch dropped) as the parts ask it, H×W×C."""
    return (*shape[-2:], shape[-3])


def convnext() -> dict[str, Any]:
    with META:
        block = CNBlock(96, layer_scale=1e-6, stochastic_depth_prob=0.0).eval()
        x = torch.zeros(1, 96, 56, 56)
    with torch.no_grad():
        out = block(x)
    return {"params": params_of(block), "gamma": block.layer_scale.numel(), "norm": params_of(block.block[2]),
            "macs": flop_counter_macs(block, x), "output": hwc(out.shape)}  # fmt: skip


def swin() -> dict[str, Any]:
    with META:
        blocks = [SwinTransformerBlock(96, 3, [7, 7], [shift, shift], stochastic_depth_prob=0.0) for shift in (0, 3)]
        stage = nn.Sequential(*blocks).eval()
        x = torch.zeros(1, 56, 56, 96)
    attn = blocks[1].attn
    windows = (56 // 7) ** 2
    return {
        "windows": windows,
        "bias_table": attn.relative_position_bias_table.numel(),
        "attn_params": params_of(attn),
        "scores_macs": windows * attn.num_heads * 49 * 49 * (96 // attn.num_heads),
        "attn_macs": flop_counter_macs(attn, x),
        "params": params_of(stage),
        "macs": flop_counter_macs(stage, x),
    }


def fpn() -> dict[str, Any]:
    with META:
        body = IntermediateLayerGetter(tv.resnet50(), {f"layer{i}": f"C{i + 1}" for i in range(1, 5)})
        with torch.no_grad():
            features = OrderedDict(body(torch.zeros(1, 3, 224, 224)))
        pyramid = FeaturePyramidNetwork([f.shape[1] for f in features.values()], 256).eval()
    with torch.no_grad():
        out = pyramid(features)
    return {"lateral5": params_of(pyramid.inner_blocks[3]), "params": params_of(pyramid),
            "macs": flop_counter_macs(pyramid, features), "p2": hwc(out["C2"].shape), "p5": hwc(out["C5"].shape),
            "inputs": [hwc(f.shape) for f in features.values()]}  # fmt: skip


def yolov8() -> dict[str, Any]:
    strides = (8, 16, 32)
    with META:
        head = YoloV8Detect(80, (64, 128, 256), 16).eval()
        maps = [torch.zeros(1, c, 640 // s, 640 // s) for c, s in zip((64, 128, 256), strides, strict=True)]
        with torch.no_grad():
            raw, decoded = head(maps, strides)
    return {"box_channels": head.box[0][-1].out_channels, "depth": raw[0].shape[1], "boxes": decoded.shape[2],
            "decoded": tuple(decoded.shape[1:])}  # fmt: skip


def batch() -> dict[str, Any]:
    with META:
        stem = [nn.Conv2d(3, 64, 7, 2, 3, bias=False), nn.BatchNorm2d(64), nn.ReLU(inplace=True)]
        model = nn.Sequential(*stem, nn.MaxPool2d(3, 2, 1), BasicBlock(64, 64)).eval().half()
        x = torch.zeros(32, 3, 224, 224, dtype=torch.float16)
    return {"memory": Fraction(stored_bytes(model, x), 2**20), "macs": flop_counter_macs(model, x),
            "params": params_of(model)}  # fmt: skip


def test_every_key_is_torchs() -> None:
    problem_set = load_set(EXAMPLE)
    ours = {key: answer.value for key, answer in problem_set.solve().items()}
    theirs = {f"{name}.{key}": value for name, build in (("convnext", convnext), ("swin", swin), ("fpn", fpn),
              ("yolov8", yolov8), ("batch", batch)) for key, value in build().items()}  # fmt: skip
    inputs = theirs.pop("fpn.inputs")
    assert inputs == [(56, 56, 256), (28, 28, 512), (14, 14, 1024), (7, 7, 2048)]  # the sizes the text states
    fpn_problem = next(p for p in problem_set.problems if p.id == "fpn")
    assert [q.value for n, q in fpn_problem.quantities.items() if n in ("shape.C3", "shape.C4", "shape.C5")] == [
        (512, 28, 28), (1024, 14, 14), (2048, 7, 7)]  # fmt: skip
    assert set(ours) == set(theirs)
    assert {key: ours[key] for key in theirs} == theirs
    assert (ours["yolov8.decoded"], ours["swin.bias_table"], ours["fpn.params"]) == ((84, 8400), 507, 3_344_384)


def test_the_example_validates() -> None:
    result = CliRunner().invoke(app, ["sets", "validate", str(EXAMPLE)])
    assert result.exit_code == 0, result.output
    assert ": OK (set 'architectures-2026', 24 answer keys" in result.output
