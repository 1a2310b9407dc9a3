"""Mistakes about one setting a layer declares: ``same`` padding left out, a ceil-mode pool sized
as if it rounded down, and its last window kept where PyTorch drops it; and the transposed size
mistake inside a graph that the mistake leads nowhere later. Each wrong answer is the
figure torch gives for the layer the student builds (``padding=0``, ``ceil_mode=False``, or the
plain ceil formula, which torch has no switch for: written out), never typed in; and each is
named by its own code, not by a mistake that happens to give the same number."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest
import torch
from torch import nn

from grader.comparison.mistakes import EXPLANATIONS
from grader.engine import grade_submission
from grader.results import Status
from problems.loader import load_set
from problems.sets import ProblemSet


def one_layer_set(tmp_path: Path, side: int, channels: int, layer: dict[str, Any]) -> ProblemSet:
    problem = {
        "id": "n",
        "title": "One layer",
        "type": "network",
        "input": [side, side, channels],
        "layers": [{**layer, "name": "l"}],
        "parts": [{"key": "side", "quantity": "side.l"}, {"key": "shape", "quantity": "shape.l"}],
    }
    path = tmp_path / "one.yaml"
    path.write_text(json.dumps({"id": "one", "title": "One layer", "problems": [problem]}))
    return load_set(path)


def side_of(module: nn.Module, side: int, channels: int) -> int:
    with torch.no_grad():
        return int(module(torch.zeros(1, channels, side, side)).shape[-1])


def named(problem_set: ProblemSet, answer: int) -> tuple[Status, str | None, str]:
    part = grade_submission(problem_set, {"n.side": str(answer)}).parts["n.side"]
    return part.status, part.misconception, part.feedback


def test_same_padding_left_out_is_named_as_such(tmp_path: Path) -> None:
    """Keras's Conv2D(3, strides=2, padding='same') on 224: 112; unpadded 111, which is also what
    the size formula without its +1 gives with the one pixel of padding ((224 + 1 − 3)/2 = 111)."""
    problem_set = one_layer_set(tmp_path, 224, 3, {"kind": "conv", "out_channels": 8, "kernel": 3, "stride": 2,
                                                   "padding": "same"})  # fmt: skip
    right = side_of(nn.Sequential(nn.ZeroPad2d((0, 1, 0, 1)), nn.Conv2d(3, 8, 3, 2)), 224, 3)
    unpadded = side_of(nn.Conv2d(3, 8, 3, 2), 224, 3)
    assert (right, unpadded) == (112, 111)
    assert named(problem_set, right)[:2] == (Status.CORRECT, None)
    status, code, feedback = named(problem_set, unpadded)
    assert (status, code) == (Status.INCORRECT, "same-padding-ignored")
    assert feedback.startswith(EXPLANATIONS["same-padding-ignored"])


@pytest.mark.parametrize("side", [112, 56, 28])
def test_a_ceil_mode_pool_sized_by_floor_is_named_ceil_mode_not_padding(tmp_path: Path, side: int) -> None:
    """GoogLeNet's max pools: 3/2 in ceil mode, no padding; the floor answer is ceil_mode=False's."""
    layer = {"kind": "pool", "kernel": 3, "stride": 2, "ceil_mode": True}
    problem_set = one_layer_set(tmp_path, side, 4, layer)
    right = side_of(nn.MaxPool2d(3, 2, ceil_mode=True), side, 4)
    floor = side_of(nn.MaxPool2d(3, 2), side, 4)
    assert right == floor + 1
    assert named(problem_set, right)[:2] == (Status.CORRECT, None)
    status, code, feedback = named(problem_set, floor)
    assert (status, code) == (Status.INCORRECT, "pool-ceil-mode")
    assert feedback.startswith(EXPLANATIONS["pool-ceil-mode"])
    assert "rounds down" not in feedback


def test_the_plain_ceil_formula_where_torch_drops_the_last_window(tmp_path: Path) -> None:
    """A 2×2 pool at stride 3 with padding 1 on 7 pixels: ⌈(7 + 2 − 2)/3⌉ + 1 = 4 windows, but the
    fourth would start at 9, in the right padding: torch gives 3."""
    layer = {"kind": "pool", "kernel": 2, "stride": 3, "padding": 1, "ceil_mode": True}
    problem_set = one_layer_set(tmp_path, 7, 2, layer)
    right = side_of(nn.MaxPool2d(2, 3, 1, ceil_mode=True), 7, 2)
    plain = math.ceil((7 + 2 * 1 - 2) / 3) + 1
    assert (right, plain) == (3, 4)
    status, code, feedback = named(problem_set, plain)
    assert (status, code) == (Status.INCORRECT, "pool-ceil-window")
    assert feedback.startswith(EXPLANATIONS["pool-ceil-window"])
    assert "rounds down" not in feedback


def test_padding_left_out_still_named_where_a_ceil_pool_has_padding(tmp_path: Path) -> None:
    """A 3/1 ceil-mode pool with padding 1 keeps 6 pixels (torch); without its padding 4, which is
    the padding's mistake (the ceil mode kept), and no other's."""
    layer = {"kind": "pool", "kernel": 3, "stride": 1, "padding": 1, "ceil_mode": True}
    problem_set = one_layer_set(tmp_path, 6, 2, layer)
    right = side_of(nn.MaxPool2d(3, 1, 1, ceil_mode=True), 6, 2)
    unpadded = side_of(nn.MaxPool2d(3, 1, 0, ceil_mode=True), 6, 2)
    assert (right, unpadded) == (6, 4)
    assert named(problem_set, unpadded)[:2] == (Status.INCORRECT, "padding-ignored")


UNET_DECODER = """
id: unet-decoder
title: A U-Net decoder step
problems:
  - id: u
    title: u
    type: network
    input: [64, 64, 3]
    layers:
      - {kind: conv, name: enc, out_channels: 32, kernel: 3, padding: 1}
      - {kind: pool, name: down, kernel: 2, stride: 2}
      - {kind: conv, name: mid, out_channels: 64, kernel: 3, padding: 1}
      - {kind: conv_transpose, name: up, out_channels: 32, kernel: 2, stride: 2}
      - {kind: concat, name: skip, from: [up, enc]}
      - {kind: conv, name: dec, out_channels: 32, kernel: 3, padding: 1}
    parts:
      - {key: up, quantity: shape.up}
      - {key: mid, quantity: shape.mid}
"""


def test_the_transposed_size_mistake_is_named_inside_a_graph(tmp_path: Path) -> None:
    """The forward formula on the decoder's 2×2/2 transposed convolution gives 16 → 8 (torch's
    Conv2d(64, 32, 2, 2)), which the concatenation with the 64×64 skip then refuses: the answer
    for ``up`` is still the mistake's, named."""
    path = tmp_path / "unet.yaml"
    path.write_text(UNET_DECODER)
    problem_set = load_set(path)
    with torch.no_grad():
        enc = nn.Conv2d(3, 32, 3, padding=1)(torch.zeros(1, 3, 64, 64))
        mid = nn.Conv2d(32, 64, 3, padding=1)(nn.MaxPool2d(2)(enc))
        right = nn.ConvTranspose2d(64, 32, 2, 2)(mid)
        forward = nn.Conv2d(64, 32, 2, 2)(mid)
    assert (tuple(right.shape[1:]), tuple(forward.shape[1:])) == ((32, 64, 64), (32, 16, 16))
    with pytest.raises(RuntimeError):  # the concatenation refuses the mistaken size
        torch.cat([forward, enc], dim=1)
    part = grade_submission(problem_set, {"u.up": "16 x 16 x 32"}).parts["u.up"]
    assert (part.status, part.misconception) == (Status.INCORRECT, "transposed-size-formula")
    assert EXPLANATIONS["transposed-size-formula"] in part.feedback
    assert "step 5: up: H_out = ⌊(H − (K − 1) − 1)/S⌋ + 1 = ⌊(32 − (2 − 1) − 1)/2⌋ + 1 = 16." in part.feedback
    assert grade_submission(problem_set, {"u.up": "64 x 64 x 32"}).parts["u.up"].status is Status.CORRECT


DERIVED_COUNTS = """
id: derived-counts
title: Counts combined
problems:
  - id: c
    title: c
    type: network
    input: [32, 32, 3]
    layers:
      - {kind: conv, name: conv1, out_channels: 8, kernel: 3, padding: 1}
      - {kind: conv, name: conv2, out_channels: 16, kernel: 3, padding: 1}
    parts:
      - {key: both, quantity: {sum: [macs.conv1, macs.conv2]}}
      - {key: per_param, quantity: {ratio: [macs.total, params.total]}, tolerance: {rel: 0.001}}
      - {key: share, quantity: {ratio: [macs.conv1, macs.total]}, tolerance: {rel: 0.001}}
"""


def test_flops_for_macs_is_named_through_sums_and_ratios(tmp_path: Path) -> None:
    """torch's multiply-accumulates (Conv2d: every output value a C_in·3·3 dot product) summed and
    divided; the FLOPs (twice each) in their place are the mistake. A ratio of two MAC counts is
    the same in FLOPs: there the mistake changes nothing and is never named."""
    path = tmp_path / "derived.yaml"
    path.write_text(DERIVED_COUNTS)
    problem_set = load_set(path)
    conv1, conv2 = nn.Conv2d(3, 8, 3, padding=1), nn.Conv2d(8, 16, 3, padding=1)
    with torch.no_grad():
        y1 = conv1(torch.zeros(1, 3, 32, 32))
        y2 = conv2(y1)
    macs1, macs2 = y1.numel() * 3 * 9, y2.numel() * 8 * 9
    params = sum(p.numel() for m in (conv1, conv2) for p in m.parameters())
    answers = {"c.both": str(2 * (macs1 + macs2)), "c.per_param": str(2 * (macs1 + macs2) / params)}
    graded = grade_submission(problem_set, answers).parts
    for key in answers:
        assert (graded[key].status, graded[key].misconception) == (Status.INCORRECT, "macs-vs-flops"), key
        assert EXPLANATIONS["macs-vs-flops"] in graded[key].feedback
    right = grade_submission(problem_set, {"c.both": str(macs1 + macs2), "c.share": str(macs1 / (macs1 + macs2))})
    assert [p.status for k, p in right.parts.items() if k != "c.per_param"] == [Status.CORRECT, Status.CORRECT]


def torch_field_side(stack: nn.Module, side: int, channels: int) -> int:
    """How many input rows one output pixel's gradient reaches (every weight 1: nothing cancels)."""
    for parameter in stack.parameters():
        nn.init.ones_(parameter)
    x = torch.zeros(1, channels, side, side, requires_grad=True)
    (grad,) = torch.autograd.grad(stack(x)[0, :, 0, 0].sum(), x)
    rows = grad[0].abs().sum((0, 2)).nonzero().flatten()
    return int(rows.max() - rows.min() + 1)


def test_a_dilation_left_out_of_a_receptive_field_is_named(tmp_path: Path) -> None:
    """A 3×3 convolution with dilation 2, then a plain 3×3: torch's field 7; undilated 5."""
    problem = {
        "id": "f",
        "title": "f",
        "type": "network",
        "input": [32, 32, 3],
        "layers": [
            {"kind": "conv", "name": "c1", "out_channels": 4, "kernel": 3, "dilation": 2},
            {"kind": "conv", "name": "c2", "out_channels": 4, "kernel": 3},
        ],
        "parts": [{"key": "rf", "quantity": "rf.c2"}],
    }
    path = tmp_path / "field.yaml"
    path.write_text(json.dumps({"id": "field", "title": "Field", "problems": [problem]}))
    problem_set = load_set(path)
    right = torch_field_side(nn.Sequential(nn.Conv2d(3, 4, 3, dilation=2), nn.Conv2d(4, 4, 3)), 32, 3)
    undilated = torch_field_side(nn.Sequential(nn.Conv2d(3, 4, 3), nn.Conv2d(4, 4, 3)), 32, 3)
    assert (right, undilated) == (7, 5)
    assert grade_submission(problem_set, {"f.rf": str(right)}).parts["f.rf"].status is Status.CORRECT
    part = grade_submission(problem_set, {"f.rf": str(undilated)}).parts["f.rf"]
    assert (part.status, part.misconception) == (Status.INCORRECT, "dilation-ignored")
    assert EXPLANATIONS["dilation-ignored"] in part.feedback


def torch_kernel_span(layer: nn.Module, side: int, channels: int) -> tuple[int, int]:
    """The rows and columns of outputs one input pixel reaches at stride 1 (an impulse through the
    layer, every weight 1 and no bias: nothing cancels): as many as the input pixels one output reads."""
    for name, parameter in layer.named_parameters():
        (nn.init.zeros_ if name == "bias" else nn.init.ones_)(parameter)
    x = torch.zeros(1, channels, side, side)
    x[0, :, side // 2, side // 2] = 1
    with torch.no_grad():
        reached = layer(x)[0].abs().sum(0).nonzero()
    rows, columns = reached[:, 0], reached[:, 1]
    return int(rows.max() - rows.min() + 1), int(columns.max() - columns.min() + 1)


@pytest.mark.parametrize(
    ("layer", "module"),
    [
        ({"kind": "conv", "out_channels": 4, "kernel": 3, "dilation": 2}, nn.Conv2d(3, 4, 3, dilation=2)),
        ({"kind": "conv", "out_channels": 4, "kernel": [3, 5], "dilation": [4, 1]},
         nn.Conv2d(3, 4, (3, 5), dilation=(4, 1))),
        ({"kind": "separable", "out_channels": 4, "kernel": 3}, nn.Conv2d(3, 3, 3, groups=3)),
        ({"kind": "pool", "kernel": 2, "stride": 1, "dilation": 3}, nn.MaxPool2d(2, stride=1, dilation=3)),
        ({"kind": "conv", "out_channels": 4, "kernel": 5}, nn.Conv2d(3, 4, 5)),
    ],
)  # fmt: skip
def test_a_dilated_kernels_span_is_torchs_and_the_kernel_alone_is_dilation_ignored(
    tmp_path: Path, layer: dict[str, Any], module: nn.Module
) -> None:
    """``kernel_eff``: the input a window reads, ``d·(k − 1) + 1`` per axis, read off torch (the layer
    at stride 1); answering the kernel's own size for a dilated one names ``dilation-ignored``."""
    problem = {"id": "k", "title": "k", "type": "network", "input": [32, 32, 3], "layers": [{**layer, "name": "x"}]}
    problem["parts"] = [{"key": "eff", "quantity": "kernel_eff.x"}]
    path = tmp_path / "span.yaml"
    path.write_text(json.dumps({"id": "span", "title": "Span", "problems": [problem]}))
    problem_set = load_set(path)
    span = torch_kernel_span(module, 32, 3)
    expected = span[0] if span[0] == span[1] else span
    assert problem_set.problems[0].quantities["kernel_eff.x"].value == expected
    key = "k.eff"
    written = str(span[0]) if span[0] == span[1] else f"{span[0]} × {span[1]}"
    assert grade_submission(problem_set, {key: written}).parts[key].status is Status.CORRECT
    kernel = layer["kernel"] if isinstance(layer["kernel"], list) else [layer["kernel"]] * 2
    if tuple(kernel) != span:
        naive = str(kernel[0]) if kernel[0] == kernel[1] else f"{kernel[0]} × {kernel[1]}"
        part = grade_submission(problem_set, {key: naive}).parts[key]
        assert (part.status, part.misconception) == (Status.INCORRECT, "dilation-ignored"), part


def _network(tmp_path: Path, layers: list[dict[str, Any]], side: int = 16) -> ProblemSet:
    problem = {"id": "n", "title": "n", "type": "network", "input": [side, side, 3], "layers": layers}
    problem["parts"] = [{"key": "out", "quantity": "output"}]
    path = tmp_path / "net.yaml"
    path.write_text(json.dumps({"id": "net", "title": "Net", "problems": [problem]}))
    return load_set(path)


def _written(shape: torch.Size) -> str:
    """torch's ``(1, C, H, W)`` as a student writes it, ``H×W×C``."""
    return f"{shape[2]}x{shape[3]}x{shape[1]}"


@pytest.mark.parametrize(
    ("layers", "right", "mistaken", "code"),
    [
        (  # a strided convolution then a pool: every window moved one pixel at a time
            [{"kind": "conv", "out_channels": 4, "kernel": 3, "stride": 2, "padding": 1},
             {"kind": "pool", "kernel": 2}],
            nn.Sequential(nn.Conv2d(3, 4, 3, stride=2, padding=1), nn.MaxPool2d(2)),
            nn.Sequential(nn.Conv2d(3, 4, 3, stride=1, padding=1), nn.MaxPool2d(2, stride=1)),
            "stride-ignored",
        ),
        (  # a transposed convolution at stride 2 sized as if at stride 1
            [{"kind": "conv_transpose", "out_channels": 4, "kernel": 4, "stride": 2, "padding": 1}],
            nn.ConvTranspose2d(3, 4, 4, stride=2, padding=1),
            nn.ConvTranspose2d(3, 4, 4, stride=1, padding=1),
            "stride-ignored",
        ),
        (  # a transposed convolution's padding (what it crops) left out
            [{"kind": "conv_transpose", "out_channels": 4, "kernel": 4, "stride": 2, "padding": 1}],
            nn.ConvTranspose2d(3, 4, 4, stride=2, padding=1),
            nn.ConvTranspose2d(3, 4, 4, stride=2, padding=0),
            "padding-ignored",
        ),
    ],
)  # fmt: skip
def test_a_stride_or_a_transposed_padding_left_out_is_named(
    tmp_path: Path, layers: list[dict[str, Any]], right: nn.Module, mistaken: nn.Module, code: str
) -> None:
    """The shape torch gives without the setting is what the student who left it out computes."""
    problem_set = _network(tmp_path, layers)
    x = torch.zeros(1, 3, 16, 16)
    with torch.no_grad():
        expected, wrong = right(x).shape, mistaken(x).shape
    assert expected != wrong
    assert grade_submission(problem_set, {"n.out": _written(expected)}).parts["n.out"].status is Status.CORRECT
    part = grade_submission(problem_set, {"n.out": _written(wrong)}).parts["n.out"]
    assert (part.status, part.misconception) == (Status.INCORRECT, code)
    assert EXPLANATIONS[code] in part.feedback
