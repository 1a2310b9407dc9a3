"""A network of several inputs: a feature pyramid over ResNet-50's C2..C5 (the network's input is
C2, and C3, C4 and C5 are further inputs, ``kind: input``), with its lateral 1×1 convolutions,
top-down nearest upsampling and sums, and 3×3 output convolutions, against torchvision's
``FeaturePyramidNetwork`` built on the meta device: C2..C5's sizes from torchvision's
``resnet50`` run at 224×224, parameters from ``parameters()``, MACs as half the FLOPs
``FlopCounterMode`` counts (the convolutions; upsampling and sums are none), P2..P5's shapes from
its forward pass. The lateral convolutions are no projection shortcuts, over further inputs
or over a backbone in the same network."""

from __future__ import annotations

from collections import OrderedDict
from itertools import pairwise
from typing import Any

import pytest
import torch
import torchvision.models as tv
import yaml
from torch.utils.flop_counter import FlopCounterMode
from torchvision.models._utils import IntermediateLayerGetter
from torchvision.ops import FeaturePyramidNetwork

from grader.engine import grade_submission
from grader.results import Status
from problems.loader import SetFileError, parse_set
from problems.types.network import NetworkProblem

from torch_layers import flop_counter_macs

torch.set_num_threads(1)
META = torch.device("meta")


def resnet50_features(side: int) -> list[tuple[int, int, int]]:
    """C2..C5 of torchvision's ResNet-50 on a ``side×side`` image: (C, H, W) each."""
    with META:
        body = IntermediateLayerGetter(tv.resnet50(), {f"layer{i}": f"C{i + 1}" for i in range(1, 5)})
        with torch.no_grad():
            found = body(torch.zeros(1, 3, side, side))
    return [tuple(found[f"C{i}"].shape[1:]) for i in range(2, 6)]  # type: ignore[misc]  # four sizes each


def fpn(features: list[tuple[int, int, int]], width: int) -> dict[str, Any]:
    """The pyramid as a set file writes it: C2 the input, C3..C5 further inputs; from the top, a
    lateral 1×1 convolution, the level above upsampled to its size and added, a 3×3 output."""
    (channels, height, width_2), *others = features
    layers: list[dict[str, Any]] = [
        {"kind": "input", "name": f"C{level}", "channels": c, "height": h, "width": w}
        for level, (c, h, w) in enumerate(others, start=3)
    ]
    above = None
    for level in (5, 4, 3, 2):
        source = "input" if level == 2 else f"C{level}"
        layers.append({"kind": "conv", "name": f"lateral{level}", "from": source, "out_channels": width, "kernel": 1})
        inner = f"lateral{level}"
        if above is not None:
            size = [height, width_2] if level == 2 else list(others[level - 3][1:])
            layers.append({"kind": "upsample", "name": f"up{level}", "from": above, "size": size})
            layers.append({"kind": "add", "name": f"inner{level}", "from": [inner, f"up{level}"]})
            inner = f"inner{level}"
        layers.append({"kind": "conv", "name": f"P{level}", "from": inner, "out_channels": width, "kernel": 3,
                       "padding": 1})  # fmt: skip
        above = inner
    return {"type": "network", "input": [height, width_2, channels], "layers": layers}


@pytest.mark.parametrize(("side", "width"), [(224, 256), (800, 256), (97, 64)])
def test_a_pyramid_over_resnet50_is_torchvisions_feature_pyramid(side: int, width: int) -> None:
    features = resnet50_features(side)
    ours = {n: q.value for n, q in NetworkProblem.model_validate(fpn(features, width)).solve().items()}
    with META:
        model = FeaturePyramidNetwork([c for c, _, _ in features], width).eval()
        x = OrderedDict((f"C{i}", torch.zeros(1, *f)) for i, f in enumerate(features, start=2))
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        out = model(x)
    assert ours["params.total"] == sum(p.numel() for p in model.parameters())
    assert ours["macs.total"] == counter.get_total_flops() // 2
    for level, shape in zip((2, 3, 4, 5), out.values(), strict=True):
        assert ours[f"shape.P{level}"] == tuple(shape.shape[1:])
    # the four inputs (further inputs count as the input does), each level's lateral and output,
    # and the three upsampled maps; the sums in place, as the default ``stored`` has them
    inputs = sum(c * h * w for c, h, w in features)
    positions = [h * w for _, h, w in features]
    assert ours["values.total"] == inputs + width * (2 * sum(positions) + sum(positions[:3]))
    if side == 224:
        assert features == [(256, 56, 56), (512, 28, 28), (1024, 14, 14), (2048, 7, 7)]
        assert ours["params.total"] == 3_344_384


SET = """\
id: fpn
title: FPN
problems:
  - id: n
    title: n
    type: network
    input: [56, 56, 256]
    layers:
      - {step}
      - {{kind: conv, from: input, out_channels: 8, kernel: 1}}
    parts:
      - {{key: a, quantity: params.total}}
"""


@pytest.mark.parametrize(
    ("step", "message"),
    [
        ("{kind: input, channels: 512, side: 28}", "an input needs a name, for the steps that take it (from)"),
        ("{kind: input, name: C3, channels: 512}", "give side, or height and width"),
        ("{kind: input, name: C3, channels: 512, height: 28}", "give both height and width"),
        ("{kind: input, name: C3, channels: 512, side: 28, from: input}", "an input reads no earlier output"),
        ("{kind: input, name: C3, channels: 512, side: 5000}", "a map's side"),
    ],
)
def test_a_bad_input_step_is_refused_at_its_line(step: str, message: str) -> None:
    with pytest.raises(SetFileError) as refused:
        parse_set(SET.format(step=step))
    found = [(issue.line, issue.message) for issue in refused.value.issues]
    assert any(line == 9 and message in text for line, text in found), found


def backbone_and_pyramid(width: int) -> dict[str, Any]:
    """A backbone of four stride-2 convolutions (C2..C5) and a pyramid over them in one network:
    the lateral convolutions read the backbone's outputs, the top-down path comes from C5."""
    layers: list[dict[str, Any]] = [
        {"kind": "conv", "name": f"C{level}", "out_channels": c, "kernel": 3, "stride": 2, "padding": 1}
        for level, c in zip((2, 3, 4, 5), (16, 32, 64, 128), strict=True)
    ]
    above = None
    for level in (5, 4, 3, 2):
        layers.append(
            {"kind": "conv", "name": f"lateral{level}", "from": f"C{level}", "out_channels": width, "kernel": 1}
        )
        inner = f"lateral{level}"
        if above is not None:
            layers.append({"kind": "upsample", "name": f"up{level}", "from": above, "scale": 2})
            layers.append({"kind": "add", "name": f"inner{level}", "from": [inner, f"up{level}"]})
            inner = f"inner{level}"
        layers.append({"kind": "conv", "name": f"P{level}", "from": inner, "out_channels": width, "kernel": 3,
                       "padding": 1})  # fmt: skip
        above = inner
    return {"type": "network", "input": [64, 64, 3], "layers": layers}


def params_of(module: torch.nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def graded(entry: dict[str, Any], answers: dict[str, str]) -> dict[str, tuple[Status, str | None]]:
    parts = [{"key": "params", "quantity": "params.total"}, {"key": "macs", "quantity": "macs.total"}]
    text = yaml.safe_dump(
        {"id": "fpn", "title": "FPN", "problems": [{"id": "n", "title": "n", **entry, "parts": parts}]}
    )
    found = grade_submission(parse_set(text), {f"n.{key}": value for key, value in answers.items()}).parts
    return {key: (found[f"n.{key}"].status, found[f"n.{key}"].misconception) for key in answers}


def test_a_pyramids_lateral_convolutions_are_no_projection_shortcuts() -> None:
    """A count without a lateral 1×1 convolution (torch's, the pyramid's own ``inner_blocks``
    left out) is no residual block counted without its projection shortcut: the sum's other input
    comes down from the level above, over further inputs or over the backbone in the same network."""
    features = resnet50_features(224)
    with META:
        over_inputs = FeaturePyramidNetwork([c for c, _, _ in features], 256).eval()
        x = OrderedDict((f"C{i}", torch.zeros(1, *f)) for i, f in enumerate(features, start=2))
        channels = (3, 16, 32, 64, 128)
        backbone = [torch.nn.Conv2d(a, b, 3, 2, 1) for a, b in pairwise(channels)]
        over_backbone = FeaturePyramidNetwork(list(channels[1:]), 32).eval()
    cases = [
        (fpn(features, 256), over_inputs, 0),
        (backbone_and_pyramid(32), over_backbone, sum(map(params_of, backbone))),
    ]
    for entry, pyramid, total in cases:
        assert NetworkProblem.model_validate(entry).solve()["params.total"].value == total + params_of(pyramid)
        assert "projection-shortcut-omitted" not in NetworkProblem.model_validate(entry).mistakes()
        for lateral in pyramid.inner_blocks:
            found = graded(entry, {"params": str(total + params_of(pyramid) - params_of(lateral))})
            assert found == {"params": (Status.INCORRECT, None)}, found
    with torch.no_grad():
        lateral_macs = flop_counter_macs(over_inputs.inner_blocks[0], x["C2"])
    found = graded(fpn(features, 256), {"macs": str(flop_counter_macs(over_inputs, x) - lateral_macs)})
    assert found == {"macs": (Status.INCORRECT, None)}, found
