"""Whole networks written as layer chains, the way a set file would, against the figures
published for them and against the same network written in torch.

Published figures:
- torchvision's model cards: AlexNet 61,100,840 parameters and 0.714 GMACs (shown as 0.71
  "GFLOPS"), VGG-16 138,357,544 parameters and 15.47 GMACs (shown as 15.47 "GFLOPS"), both
  on 224×224 inputs. Those "GFLOPS" are multiply-accumulates of convolutions and linear
  layers, the convention of ``problems.solvers.counts``.
- Araujo, Norris and Sim, "Computing Receptive Fields of Convolutional Neural Networks"
  (Distill, 2019), table of receptive fields: AlexNet 195, VGG-16 212 (at the last pooling).
- Redmon and Farhadi, "YOLOv3: An Incremental Improvement" (2018): three scales with strides
  32, 16 and 8, 3 anchors per scale, COCO's 80 classes: N×N×[3·(4+1+80)] = 255 channels;
  at 416×416 the grids are 13, 26 and 52, (13² + 26² + 52²)·3 = 10,647 boxes; Darknet-53 has
  53 layers with weights, 52 of them convolutions. YOLOv1 (2016): 7×7×30, 98 boxes on VOC;
  YOLOv2 (2017): 13×13×125, 845 boxes on VOC at 416×416.

The torch models follow torchvision's ``alexnet`` and ``vgg16`` definitions, written out as plain
chains like the ones here (the built-in set ``classic-architectures`` is checked against
torchvision's own models in ``test_classic_architectures.py``), and are built on the meta
device: shapes and parameter counts without allocating 138 M weights; MACs come from forward
hooks on that meta forward pass.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest
import torch
from torch import nn

from problems.solvers.network import NetworkRun
from problems.types.detection import YoloProblem
from problems.types.network import NetworkProblem

META = torch.device("meta")
Spec = dict[str, Any]


# --- the torch side ---------------------------------------------------------------------------


def torch_alexnet() -> list[nn.Module]:
    """torchvision.models.AlexNet: features, adaptive average pool to 6×6, flatten, classifier."""
    with META:
        features = [
            nn.Conv2d(3, 64, kernel_size=11, stride=4, padding=2),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2),
            nn.Conv2d(64, 192, kernel_size=5, padding=2),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2),
            nn.Conv2d(192, 384, kernel_size=3, padding=1),
            nn.ReLU(inplace=True),
            nn.Conv2d(384, 256, kernel_size=3, padding=1),
            nn.ReLU(inplace=True),
            nn.Conv2d(256, 256, kernel_size=3, padding=1),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2),
        ]
        classifier = [
            nn.Dropout(p=0.5),
            nn.Linear(256 * 6 * 6, 4096),
            nn.ReLU(inplace=True),
            nn.Dropout(p=0.5),
            nn.Linear(4096, 4096),
            nn.ReLU(inplace=True),
            nn.Linear(4096, 1000),
        ]
        return [*features, nn.AdaptiveAvgPool2d((6, 6)), nn.Flatten(), *classifier]


VGG16_CFG: list[int | str] = [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"]


def torch_vgg16() -> list[nn.Module]:
    """torchvision.models.vgg16 (configuration "D", no batch norm)."""
    layers: list[nn.Module] = []
    with META:
        channels = 3
        for v in VGG16_CFG:
            if v == "M":
                layers.append(nn.MaxPool2d(kernel_size=2, stride=2))
            else:
                layers += [nn.Conv2d(channels, int(v), kernel_size=3, padding=1), nn.ReLU(inplace=True)]
                channels = int(v)
        classifier = [
            nn.Linear(512 * 7 * 7, 4096),
            nn.ReLU(True),
            nn.Dropout(),
            nn.Linear(4096, 4096),
            nn.ReLU(True),
            nn.Dropout(),
            nn.Linear(4096, 1000),
        ]
        return [*layers, nn.AdaptiveAvgPool2d((7, 7)), nn.Flatten(), *classifier]


def torch_macs(module: nn.Module, inputs: tuple[torch.Tensor, ...], output: torch.Tensor) -> int:
    """Multiplications from the tensors the module saw: one (C_in/groups)·kh·kw dot product per
    convolution output value, in·out per sample for a linear layer (batch of one)."""
    if isinstance(module, nn.Conv2d):
        kh, kw = module.kernel_size
        return output.numel() * (module.in_channels // module.groups) * kh * kw
    if isinstance(module, nn.Linear):
        return module.in_features * module.out_features * (output.numel() // module.out_features)
    return 0


def run_torch(layers: list[nn.Module], input_chw: tuple[int, int, int]) -> list[tuple[tuple[int, ...], int, int]]:
    """(output shape, parameters, MACs) per module, from a meta forward pass with hooks."""
    found: list[tuple[tuple[int, ...], int, int]] = []
    x = torch.empty(1, *input_chw, device=META)
    for layer in layers:
        tally: list[int] = []
        handle = layer.register_forward_hook(lambda m, i, o, tally=tally: tally.append(torch_macs(m, i, o)))
        x = layer.eval()(x)
        handle.remove()
        found.append((tuple(x.shape[1:]), sum(p.numel() for p in layer.parameters()), sum(tally)))
    return found


def without_identity_pool(layers: list[nn.Module], measured: list[Any]) -> list[Any]:
    """Drop the adaptive average pool, after checking it changes nothing at 224×224 (these chains
    leave it out; torchvision's resizes to 6×6 or 7×7, which the map already is)."""
    index = next(i for i, m in enumerate(layers) if isinstance(m, nn.AdaptiveAvgPool2d))
    assert measured[index][0] == measured[index - 1][0]
    return measured[:index] + measured[index + 1 :]


def impulse_field(layers: list[nn.Module], side: int = 512) -> int:
    """The widest input span an output pixel of the last layer responds to, along the height:
    every torch window (Conv2d, MaxPool2d) rebuilt from its own kernel/stride/padding/dilation
    as a one-channel all-ones window (max pooling kept, followed by ReLU), fed a batch of
    one-hot columns. ``side`` is larger than the input so that whole fields fit."""
    x = torch.eye(side, dtype=torch.float64).reshape(side, 1, side, 1)
    with torch.no_grad():
        for layer in layers:
            if isinstance(layer, nn.Conv2d):
                window = nn.Conv2d(
                    1,
                    1,
                    (layer.kernel_size[0], 1),
                    (layer.stride[0], 1),
                    (layer.padding[0], 0),
                    (layer.dilation[0], 1),
                    bias=False,
                ).double()
                nn.init.ones_(window.weight)
                x = window(x)
            elif isinstance(layer, nn.MaxPool2d):
                x = torch.relu(nn.MaxPool2d((layer.kernel_size, 1), (layer.stride, 1), (layer.padding, 0))(x))
    reach = (x[:, 0, :, 0] > 0).numpy()
    rows = np.arange(side)[:, None]
    first = np.where(reach, rows, side).min(axis=0)
    last = np.where(reach, rows, -1).max(axis=0)
    return int((last - first + 1).max())


# --- our side ------------------------------------------------------------------------------------


def conv(name: str, out: int, kernel: int, stride: int = 1, padding: int = 0) -> Spec:
    return {"kind": "conv", "name": name, "out_channels": out, "kernel": kernel, "stride": stride, "padding": padding}


RELU: Spec = {"kind": "activation", "function": "relu"}
DROPOUT: Spec = {"kind": "dropout", "p": 0.5}


def alexnet() -> NetworkProblem:
    """AlexNet as a set file would write it (torchvision's single-tower variant)."""
    layers = [
        conv("conv1", 64, 11, 4, 2), RELU, {"kind": "pool", "name": "pool1", "kernel": 3, "stride": 2},
        conv("conv2", 192, 5, padding=2), RELU, {"kind": "pool", "name": "pool2", "kernel": 3, "stride": 2},
        conv("conv3", 384, 3, padding=1), RELU,
        conv("conv4", 256, 3, padding=1), RELU,
        conv("conv5", 256, 3, padding=1), RELU, {"kind": "pool", "name": "pool5", "kernel": 3, "stride": 2},
        {"kind": "flatten"},
        DROPOUT, {"kind": "linear", "name": "fc6", "out_features": 4096}, RELU,
        DROPOUT, {"kind": "linear", "name": "fc7", "out_features": 4096}, RELU,
        {"kind": "linear", "name": "fc8", "out_features": 1000},
    ]  # fmt: skip
    return NetworkProblem(type="network", input=[224, 224, 3], layers=layers)


def vgg16() -> NetworkProblem:
    """VGG-16 (configuration "D"): five blocks of 3×3 convolutions, each block a group."""
    layers: list[Spec] = []
    for block, (channels, times) in enumerate([(64, 2), (128, 2), (256, 3), (512, 3), (512, 3)], start=1):
        unit = {"kind": "conv", "out_channels": channels, "kernel": 3, "padding": 1, "group": f"block{block}"}
        layers += [unit, RELU] * times
        layers.append({"kind": "pool", "name": f"pool{block}", "kernel": 2, "stride": 2})
    layers += [
        {"kind": "flatten"},
        {"kind": "linear", "name": "fc6", "out_features": 4096}, RELU, DROPOUT,
        {"kind": "linear", "name": "fc7", "out_features": 4096}, RELU, DROPOUT,
        {"kind": "linear", "name": "fc8", "out_features": 1000},
    ]  # fmt: skip
    return NetworkProblem(type="network", input=[224, 224, 3], layers=layers)


def per_layer(run: NetworkRun) -> list[tuple[tuple[int, ...], int, int]]:
    return [(r.shape, r.params, r.macs) for r in run.records]


def significant(value: float, digits: int) -> float:
    """``value`` rounded to ``digits`` significant digits, as a figure is published."""
    return float(f"{value:.{digits - 1}e}")


# --- AlexNet and VGG-16 -------------------------------------------------------------------------


@dataclass(frozen=True)
class Classic:
    """A network with its published figures (see the module docstring for the sources)."""

    name: str
    ours: Callable[[], NetworkProblem]
    model: Callable[[], list[nn.Module]]
    params: int
    gmacs: float
    digits: int  # significant digits of the published GMACs
    field: int  # receptive field at pool5


# AlexNet and VGG-16 on 224×224 inputs.
CLASSICS = [
    Classic("alexnet", alexnet, torch_alexnet, 61_100_840, 0.714, 3, 195),
    Classic("vgg16", vgg16, torch_vgg16, 138_357_544, 15.47, 4, 212),
]


@pytest.mark.parametrize("net", CLASSICS, ids=[c.name for c in CLASSICS])
def test_classic_network_matches_torch_layer_by_layer(net: Classic) -> None:
    """Every layer's output shape, parameters and MACs equal the torch model's."""
    layers = net.model()
    measured = without_identity_pool(layers, run_torch(layers, (3, 224, 224)))
    assert per_layer(net.ours().network()) == measured


@pytest.mark.parametrize("net", CLASSICS, ids=[c.name for c in CLASSICS])
def test_classic_network_matches_published_figures(net: Classic) -> None:
    """Parameters exactly, MACs to the published digits, receptive field at pool5 exactly; the
    torch model reaches the same figures (numel, hooks, impulse response)."""
    solved = net.ours().solve()
    layers = net.model()
    torch_params = sum(p.numel() for m in layers for p in m.parameters())
    torch_total_macs = sum(macs for _, _, macs in run_torch(layers, (3, 224, 224)))
    assert solved["params.total"].value == net.params == torch_params
    assert significant(solved["macs.total"].value / 1e9, net.digits) == net.gmacs
    assert significant(torch_total_macs / 1e9, net.digits) == net.gmacs
    features = layers[: next(i for i, m in enumerate(layers) if isinstance(m, nn.AdaptiveAvgPool2d))]
    assert solved["rf.pool5"].value == net.field == impulse_field(features)


def test_vgg16_groups_add_up() -> None:
    """The five blocks hold 13 convolutions and all convolutional parameters: the total minus
    the three fully connected layers (counted by torch)."""
    solved = vgg16().solve()
    blocks = [f"block{b}" for b in range(1, 6)]
    assert sum(solved[f"layers.{b}"].value for b in blocks) == 13
    with META:
        fc = [nn.Linear(25088, 4096), nn.Linear(4096, 4096), nn.Linear(4096, 1000)]
    fc_params = sum(p.numel() for m in fc for p in m.parameters())
    assert sum(solved[f"params.{b}"].value for b in blocks) == 138_357_544 - fc_params


# --- YOLOv3 ----------------------------------------------------------------------------------------


# (version, classes, input, depth, grids, boxes): YOLOv1 on VOC, a 7×7 grid of 2 boxes and 20
# classes, 7×7×30 and 98 boxes (Redmon et al. 2016); YOLOv2 on VOC at 416, 5 anchors of
# 5 + 20 values, 13×13×125 and 845 boxes (Redmon and Farhadi 2017); YOLOv3 on COCO as above.
PUBLISHED_YOLO = [
    ("v1", 20, 448, 30, [7], 98),
    ("v2", 20, 416, 125, [13], 845),
    ("v3", 80, 416, 255, [13, 26, 52], 10_647),
]


@pytest.mark.parametrize(("version", "classes", "side", "depth", "grids", "boxes"), PUBLISHED_YOLO)
def test_yolo_heads_match_the_papers(
    version: str, classes: int, side: int, depth: int, grids: list[int], boxes: int
) -> None:
    """Depth per cell, grid sides, output tensors and box counts as the three papers give them."""
    solved = YoloProblem(type="yolo", version=version, classes=classes, input_size=side).solve()
    assert solved["depth"].value == depth
    assert [solved[f"grid.{i}"].value for i in range(1, len(grids) + 1)] == grids
    assert solved["shapes"].value == [(depth, g, g) for g in grids]
    assert solved["boxes"].value == boxes


def darknet53_with_heads() -> tuple[list[Spec], dict[str, int]]:
    """Darknet-53's convolutional body as a chain (3×3 stem, five stride-2 stages of 1, 2, 8, 8, 4
    residual units of 1×1 then 3×3; a residual sum changes no shape), with the index of the last
    layer of each of the three stages YOLOv3 predicts from."""
    layers: list[Spec] = [conv("stem", 32, 3, padding=1), {"kind": "batchnorm"}, RELU]
    taps: dict[str, int] = {}
    channels = 32
    for stage, units in enumerate([1, 2, 8, 8, 4], start=1):
        channels *= 2
        layers += [conv(f"down{stage}", channels, 3, 2, 1), {"kind": "batchnorm"}, RELU]
        for _ in range(units):
            layers += [{"kind": "conv", "out_channels": channels // 2, "kernel": 1, "bias": False}]
            layers += [{"kind": "conv", "out_channels": channels, "kernel": 3, "padding": 1, "bias": False}]
        if stage >= 3:
            taps[f"stage{stage}"] = len(layers) - 1
    return layers, taps


def test_yolov3_grids_match_darknet53_run_in_torch() -> None:
    """Darknet-53 run as our chain and as torch convolutions on a 416×416 meta input: the three
    stages YOLOv3 reads are 52, 26 and 13 wide; a 1×1 head of 3·(5+80) filters on each gives the
    YOLO type's shapes and box count; the body has the 52 convolutions of Darknet-53."""
    specs, taps = darknet53_with_heads()
    problem = NetworkProblem(type="network", input=[416, 416, 3], layers=specs)
    records = problem.network().records
    assert problem.solve()["layers.total"].value == 52
    x, channels, torch_shapes = torch.empty(1, 3, 416, 416, device=META), 3, []
    with META:
        for spec in specs:
            if spec["kind"] == "conv":
                k, s, p = spec["kernel"], spec.get("stride", 1), spec.get("padding", 0)
                x = nn.Conv2d(channels, spec["out_channels"], k, s, p, bias=spec.get("bias", True))(x)
                channels = spec["out_channels"]
            torch_shapes.append(tuple(x.shape[1:]))
        heads = {i: nn.Conv2d(torch_shapes[i][0], 3 * (5 + 80), 1) for i in taps.values()}
        outputs = [head(torch.empty(1, *torch_shapes[i], device=META)) for i, head in heads.items()]
    assert [r.shape for r in records] == torch_shapes
    grids = [records[i].shape[1] for i in reversed(taps.values())]
    solved = YoloProblem(type="yolo", version="v3", classes=80, input_size=416).solve()
    assert grids == [solved[f"grid.{i}"].value for i in (1, 2, 3)] == [13, 26, 52]
    assert sorted(tuple(o.shape[1:]) for o in outputs) == sorted(solved["shapes"].value)
    assert sum(o.shape[2] * o.shape[3] * (o.shape[1] // 85) for o in outputs) == solved["boxes"].value
