"""Every key of the built-in catalogue sets, checked against a value computed independently:
PyTorch for convolutions, pooling, shapes and parameter counts; the textbook formula written
out by hand (not our solver code) for MACs, receptive fields and YOLO depths."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from problems.loader import load_bank
from problems.render import to_json

BANK = load_bank()
RGB = torch.tensor(
    [[[1.0] * 4] * 4, [[2.0] * 4] * 4, [[1.0] * 4, [2.0] * 4, [3.0] * 4, [4.0] * 4]], dtype=torch.float64
).unsqueeze(0)
ONES = torch.ones(1, 3, 3, 3, dtype=torch.float64)
P3_X = torch.tensor([[2, 0, -1, -1], [0, 1, 0, 2], [-2, 0, 1, 1], [1, 1, 0, -1]], dtype=torch.float64)[None, None]
P3_K = torch.tensor([[1, -1, 1], [0, 1, 0], [1, -1, 1]], dtype=torch.float64)[None, None]


def params(*modules: nn.Module) -> int:
    return sum(p.numel() for m in modules for p in m.parameters())


def out_hw(module: nn.Module, c: int, h: int, w: int) -> tuple[int, ...]:
    """(H, W, C) of a module's output on a zero input, as the catalogue writes shapes."""
    with torch.no_grad():
        y = module(torch.zeros(1, c, h, w))
    return y.shape[2], y.shape[3], y.shape[1]


def matrix(t: torch.Tensor) -> list[Any]:
    return t.squeeze().tolist()


def conv_stack_until(size: int) -> int:
    """Count 7×7 convolutions by running them in torch until the map is ``size``."""
    x, count = torch.zeros(1, 3, 224, 224), 0
    conv = nn.Conv2d(3, 3, 7)
    with torch.no_grad():
        while x.shape[-1] > size:
            x, count = conv(x), count + 1
    return count


@functools.cache
def p4_stages() -> tuple[list[nn.Module], list[nn.Module]]:
    """The two stages as torch modules on the meta device: shapes and parameter counts without
    the ~2 TFLOP a real forward pass through a hundred 256-channel layers would cost."""
    meta = {"device": "meta"}
    down: list[nn.Module] = [
        nn.Conv2d(a, b, 3, **meta) for a, b in [(3, 16), (16, 32), (32, 64), (64, 128), (128, 256)]
    ]
    down += [nn.Conv2d(256, 256, 3, **meta) for _ in range((214 - 16) // 2)]
    tail = [nn.ConvTranspose2d(a, b, 9, **meta) for a, b in [(256, 128), (128, 64), (64, 32), (32, 16), (16, 3)]]
    up: list[nn.Module] = [nn.ConvTranspose2d(256, 256, 9, **meta) for _ in range((224 - 16) // 8 - len(tail))] + tail
    with torch.no_grad():  # the stages really end at 16×16 and 224×224×3
        assert nn.Sequential(*down)(torch.zeros(1, 3, 224, 224, **meta)).shape[-1] == 16
        assert nn.Sequential(*up)(torch.zeros(1, 256, 16, 16, **meta)).shape[1:] == (3, 224, 224)
    return down, up


def t1g_layers() -> list[nn.Module]:
    return [
        nn.Conv2d(3, 32, 5, padding=2),
        nn.Conv2d(32, 64, 5, padding=2),
        nn.Conv2d(64, 128, 5, padding=2),
        nn.Linear(128 * 4 * 4, 64),
        nn.Linear(64, 10),
    ]


def ex4_shapes() -> list[tuple[int, ...]]:
    layers = [
        nn.Conv2d(10, 40, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(3, 1, 1),
        nn.Conv2d(40, 20, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2, 2, 1),
    ]
    x, shapes = torch.zeros(1, 10, 10, 10), []  # W = H here, so N×C×H×W reads as W×H×C reversed
    with torch.no_grad():
        for layer in layers:
            x = layer(x)
            shapes.append((x.shape[3], x.shape[2], x.shape[1]))
    return shapes


def sep(m: int, n: int, k: int) -> int:
    return params(nn.Conv2d(m, m, k, groups=m, bias=False), nn.Conv2d(m, n, 1, bias=False))


def std(m: int, n: int, k: int) -> int:
    return params(nn.Conv2d(m, n, k, bias=False))


ORACLES: dict[str, Callable[[], Any]] = {
    # fc-vs-conv: parameter counts of torch modules; the conv stack run until 8×8. The hidden
    # layer (11 G weights) is too large to allocate: nn.Linear's weight (out, in) plus bias by hand.
    "fc-vs-conv/p2a.hidden_params": lambda: 150528 * 75264 + 75264,
    "fc-vs-conv/p2a.output_params": lambda: params(nn.Linear(75264, 100)),
    "fc-vs-conv/p2a.total": lambda: 150528 * 75264 + 75264 + params(nn.Linear(75264, 100)),
    "fc-vs-conv/p2b.conv_params": lambda: params(nn.Conv2d(3, 3, 7)),
    "fc-vs-conv/p2b.num_layers": lambda: conv_stack_until(8),
    "fc-vs-conv/p2b.fc_params": lambda: params(nn.Linear(3 * 8 * 8, 100)),
    "fc-vs-conv/p2b.total": lambda: conv_stack_until(8) * params(nn.Conv2d(3, 3, 7)) + params(nn.Linear(192, 100)),
    "fc-vs-conv/p3.conv": lambda: matrix(F.conv2d(P3_X, P3_K)),
    "fc-vs-conv/p3.transposed": lambda: matrix(F.conv_transpose2d(P3_X, P3_K)),
    "fc-vs-conv/p4.down_layers": lambda: len(p4_stages()[0]),
    "fc-vs-conv/p4.down_params": lambda: params(*p4_stages()[0]),
    "fc-vs-conv/p4.up_layers": lambda: len(p4_stages()[1]),
    "fc-vs-conv/p4.up_params": lambda: params(*p4_stages()[1]),
    "fc-vs-conv/p4.total": lambda: params(*p4_stages()[0], *p4_stages()[1]),
    # rgb-convolution: torch convolution and pooling of the RGB image
    "rgb-convolution/q1.output": lambda: matrix(F.conv2d(RGB, ONES)),
    "rgb-convolution/q2.output": lambda: matrix(F.conv2d(RGB, ONES, padding=1)),
    "rgb-convolution/q3.output": lambda: matrix(F.conv2d(RGB, ONES, padding=1, dilation=2)),
    "rgb-convolution/q7.shape": lambda: list(out_hw(nn.Conv2d(32, 16, 3), 32, 128, 128)),
    "rgb-convolution/q8.shape": lambda: list(out_hw(nn.Conv2d(32, 16, 3, stride=2), 32, 128, 128)),
    "rgb-convolution/q9.filters": lambda: out_hw(nn.Conv2d(32, 16, 1), 32, 28, 28)[2],
    "rgb-convolution/q9.params": lambda: params(nn.Conv2d(32, 16, 1)),
    "rgb-convolution/q11.R": lambda: F.max_pool2d(RGB, 2, 2)[0, 0].tolist(),
    "rgb-convolution/q11.G": lambda: F.max_pool2d(RGB, 2, 2)[0, 1].tolist(),
    "rgb-convolution/q11.B": lambda: F.max_pool2d(RGB, 2, 2)[0, 2].tolist(),
    # conv-pool-basics: the lecture's worked examples
    "conv-pool-basics/ex1.output": lambda: matrix(
        F.conv2d(
            torch.tensor(
                [[1, 1, 1, 0, 0], [0, 1, 1, 1, 0], [0, 0, 1, 1, 1], [0, 0, 1, 1, 0], [0, 1, 1, 0, 0]],
                dtype=torch.float64,
            )[None, None],
            torch.tensor([[1, 0, 1], [0, 1, 0], [1, 0, 1]], dtype=torch.float64)[None, None],
        )
    ),
    "conv-pool-basics/ex2.output": lambda: matrix(
        F.conv2d(
            torch.tensor(
                [
                    [60, 113, 56, 139, 85],
                    [73, 121, 54, 84, 128],
                    [131, 99, 70, 129, 127],
                    [80, 57, 115, 69, 134],
                    [104, 126, 123, 95, 130],
                ],
                dtype=torch.float64,
            )[None, None],
            torch.tensor([[0, -1, 0], [-1, 5, -1], [0, -1, 0]], dtype=torch.float64)[None, None],
            padding=1,
        )
    ),
    "conv-pool-basics/ex3.max": lambda: matrix(F.max_pool2d(EX3, 2, 2)),
    "conv-pool-basics/ex3.avg": lambda: matrix(F.avg_pool2d(EX3, 2, 2)),
    "conv-pool-basics/ex4.shapes": lambda: [list(s) for s in ex4_shapes()],
    "conv-pool-basics/ex4.conv1_params": lambda: params(nn.Conv2d(10, 40, 3)),
    "conv-pool-basics/ex4.conv2_params": lambda: params(nn.Conv2d(40, 20, 3)),
    "conv-pool-basics/ex4.params": lambda: params(nn.Conv2d(10, 40, 3), nn.Conv2d(40, 20, 3)),
    "conv-pool-basics/ex5.params": lambda: params(nn.Conv2d(20, 10, 3)),
    # mobilenet-yolo: MACs as H_out·W_out·C_out·C_in·K² by hand, the receptive field by the
    # jump recursion by hand, torch parameter counts, YOLO depths from the papers
    "mobilenet-yolo/q1a.output_shape": lambda: ["H", "W", "N"],
    "mobilenet-yolo/q1a.macs": lambda: "H*K**2*M*N*W",
    "mobilenet-yolo/q1b.shape1": lambda: list(out_hw(nn.Conv2d(3, 64, 5, 2, 2), 3, 128, 128)),
    "mobilenet-yolo/q1b.shape2": lambda: list(out_hw(nn.Conv2d(64, 128, 5, 2, 2), 64, 64, 64)),
    "mobilenet-yolo/q1b.shape3": lambda: list(out_hw(nn.Conv2d(128, 256, 5, 2, 2), 128, 32, 32)),
    "mobilenet-yolo/q1b.macs1": lambda: 64 * 64 * 64 * 3 * 25,
    "mobilenet-yolo/q1b.macs2": lambda: 32 * 32 * 128 * 64 * 25,
    "mobilenet-yolo/q1b.macs3": lambda: 16 * 16 * 256 * 128 * 25,
    "mobilenet-yolo/q1b.rf1": lambda: 5,
    "mobilenet-yolo/q1b.rf2": lambda: 5 + (5 - 1) * 2,
    "mobilenet-yolo/q1b.rf3": lambda: 5 + (5 - 1) * 2 + (5 - 1) * 2 * 2,
    "mobilenet-yolo/q1c.params_formula": lambda: "K**2*M + M*N",
    "mobilenet-yolo/q1c.macs_formula": lambda: "H*K**2*M*W + H*M*N*W",
    "mobilenet-yolo/q1c.params2": lambda: sep(64, 128, 5),
    "mobilenet-yolo/q1c.params3": lambda: sep(128, 256, 5),
    "mobilenet-yolo/q1c.macs2": lambda: 32 * 32 * (64 * 25 + 64 * 128),
    "mobilenet-yolo/q1c.macs3": lambda: 16 * 16 * (128 * 25 + 128 * 256),
    "mobilenet-yolo/q1c.param_reduction2": lambda: 100 * (1 - sep(64, 128, 5) / std(64, 128, 5)),
    "mobilenet-yolo/q1c.macs_reduction2": lambda: 100 * (1 - (64 * 25 + 64 * 128) / (128 * 64 * 25)),
    "mobilenet-yolo/q1c.param_reduction3": lambda: 100 * (1 - sep(128, 256, 5) / std(128, 256, 5)),
    "mobilenet-yolo/q1c.macs_reduction3": lambda: 100 * (1 - (128 * 25 + 128 * 256) / (256 * 128 * 25)),
    "mobilenet-yolo/q1d.fc_params": lambda: params(nn.Linear(16 * 16 * 256, 200)),
    "mobilenet-yolo/q1d.total_standard": lambda: std(64, 128, 5) + std(128, 256, 5) + params(nn.Linear(65536, 200)),
    "mobilenet-yolo/q1d.total_separable": lambda: sep(64, 128, 5) + sep(128, 256, 5) + params(nn.Linear(65536, 200)),
    "mobilenet-yolo/q3c.output": lambda: matrix(F.conv_transpose2d(Q3C, Q3C)),
    "mobilenet-yolo/q4a.yolov1_depth": lambda: 2 * 5 + 80,
    "mobilenet-yolo/q4a.yolov3_depth": lambda: 255,  # the published YOLOv3 COCO head
    # cifar-convnet: true convolution is torch's cross-correlation with the kernel flipped
    "cifar-convnet/t1a.output": lambda: matrix(
        F.conv2d(
            torch.tensor([[1, 0, 2, 3, 1], [3, 2, 0, 7, 0], [0, 6, 1, 1, 4]], dtype=torch.float64)[None, None],
            torch.flip(torch.tensor([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]], dtype=torch.float64), (0, 1))[None, None],
            padding=1,
        )
    ),
    "cifar-convnet/t1c.padding": lambda: next(
        p for p in range(5) if out_hw(nn.Conv2d(1, 1, 5, padding=p), 1, 9, 9)[0] == 9
    ),
    "cifar-convnet/t1d.kernel": lambda: next(
        k for k in range(1, 20) if out_hw(nn.Conv2d(1, 1, k), 1, 512, 512)[0] == 504
    ),
    "cifar-convnet/t1e.shape": lambda: list(out_hw(nn.MaxPool2d(2, 2), 1, 504, 504)[:2]),
    "cifar-convnet/t1f.shape": lambda: list(
        out_hw(nn.Sequential(nn.MaxPool2d(2, 2), nn.Conv2d(1, 1, 3)), 1, 504, 504)[:2]
    ),
    "cifar-convnet/t1g.conv1": lambda: params(t1g_layers()[0]),
    "cifar-convnet/t1g.conv2": lambda: params(t1g_layers()[1]),
    "cifar-convnet/t1g.conv3": lambda: params(t1g_layers()[2]),
    "cifar-convnet/t1g.fc1": lambda: params(t1g_layers()[3]),
    "cifar-convnet/t1g.fc2": lambda: params(t1g_layers()[4]),
    "cifar-convnet/t1g.total": lambda: params(*t1g_layers()),
}
EX3 = torch.tensor([[2, 2, 7, 3], [9, 4, 6, 1], [8, 5, 2, 4], [3, 1, 2, 6]], dtype=torch.float64)[None, None]
Q3C = torch.tensor([[1, 2], [3, 4]], dtype=torch.float64)[None, None]
CATALOGUE_SETS = ("fc-vs-conv", "rgb-convolution", "conv-pool-basics", "mobilenet-yolo", "cifar-convnet")


def test_every_catalogue_key_has_an_oracle() -> None:
    """The table below covers the catalogue exactly: no key unchecked, no stale entry."""
    keys = {f"{set_id}/{key}" for set_id in CATALOGUE_SETS for key in BANK[set_id].answer_keys()}
    assert keys == set(ORACLES)


@pytest.mark.parametrize("entry", sorted(ORACLES))
def test_catalogue_answer_matches_oracle(entry: str) -> None:
    set_id, key = entry.split("/")
    answer = BANK[set_id].solve()[key]
    ours, expected = to_json(answer.kind, answer.value), ORACLES[entry]()
    if isinstance(expected, float):
        assert ours == pytest.approx(expected, rel=1e-12)
    elif isinstance(expected, list) and expected and isinstance(expected[0], list | float):
        np.testing.assert_allclose(np.asarray(ours, dtype=float), np.asarray(expected, dtype=float), rtol=1e-12)
    else:
        assert ours == expected
