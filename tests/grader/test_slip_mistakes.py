"""Mistakes made on ONE layer of a five-layer network (a slip), and the mistakes of round three
(groups and dilation ignored, ``same`` taken as symmetric, the bias in the fan-in, buffers as
parameters, anchors forgotten). Every wrong answer is the figure torch gives for the network as
the student builds it (the one layer changed the way the mistake changes it), never typed in."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from grader.engine import grade_submission
from grader.results import Status
from problems.loader import load_set
from problems.sets import ProblemSet

from torch_layers import Spec, measure, tf_same

FULL = {"stride": 1, "padding": 0, "dilation": 1, "groups": 1, "bias": True}
#: Five layers on a 32×32×4 input (H×W×C): padding, a stride, groups, a dilation, strided "same".
LAYERS: list[Spec] = [
    {**FULL, "kind": "conv", "name": "c1", "out_channels": 8, "kernel": 3, "padding": 1},
    {**FULL, "kind": "conv", "name": "c2", "out_channels": 8, "kernel": 5, "stride": 2, "padding": 2},
    {**FULL, "kind": "conv", "name": "c3", "out_channels": 8, "kernel": 3, "padding": 1, "groups": 4},
    {**FULL, "kind": "conv", "name": "c4", "out_channels": 16, "kernel": 3, "padding": 2, "dilation": 2},
    {**FULL, "kind": "conv", "name": "c5", "out_channels": 16, "kernel": 3, "stride": 2, "padding": "same"},
]
WRONG = (Status.INCORRECT, Status.PARTIAL)
PARTS = ["shapes", "params.total", "macs.total", "values.total", "fan_in.c3", "pad_top.c5", "pad_bottom.c5"]


@pytest.fixture(scope="module")
def five(tmp_path_factory: pytest.TempPathFactory) -> ProblemSet:
    problem = {"id": "n", "title": "Five layers", "type": "network", "input": [32, 32, 4], "layers": LAYERS}
    problem["parts"] = [{"key": key.replace(".", "_"), "quantity": key} for key in PARTS]
    path = tmp_path_factory.mktemp("slips") / "five.yaml"
    path.write_text(json.dumps({"id": "five", "title": "Five layers", "problems": [problem]}))
    return load_set(path)


def torch_figures(layers: list[Spec]) -> dict[str, Any]:
    """Shapes (H×W×C), parameters, MACs and values of the network as torch runs it (the values it
    stores: the input's and every convolution's output)."""
    x, measured = torch.zeros(1, 4, 32, 32), []
    for spec in layers:
        x, found = measure(spec, x)
        measured += found
    return {
        "shapes": "; ".join(f"{h}x{w}x{c}" for c, h, w in (m.shape for m in measured)),
        "params.total": sum(m.params for m in measured),
        "macs.total": sum(m.macs for m in measured),
        "values.total": 4 * 32 * 32 + sum(c * h * w for c, h, w in (m.shape for m in measured)),
    }


def grade(problem_set: ProblemSet, quantity: str, answer: Any) -> tuple[Status, str | None]:
    key = f"n.{quantity.replace('.', '_')}"
    part = grade_submission(problem_set, {key: str(answer)}).parts[key]
    return part.status, part.misconception


def slipped(index: int, **change: Any) -> list[Spec]:
    return [{**spec, **change} if i == index else spec for i, spec in enumerate(LAYERS)]


def test_the_right_figures_are_torchs(five: ProblemSet) -> None:
    for quantity, value in torch_figures(LAYERS).items():
        assert grade(five, quantity, value) == (Status.CORRECT, None), quantity


# One slip in the five layers; the figures of the network the student builds with it, from torch.
@pytest.mark.parametrize(
    ("index", "change", "quantity", "code"),
    [
        (0, {"padding": 0}, "shapes", "padding-ignored"),  # conv1 unpadded: 30, then 15, 15, 15, 8
        # conv2 unpadded, 14 (without the +1 it would be 15)
        (1, {"padding": 0}, "shapes", "padding-ignored"),
        (3, {"padding": 0}, "macs.total", "padding-ignored"),
        (3, {"padding": 0}, "values.total", "padding-ignored"),
        (2, {"bias": False}, "params.total", "bias-omitted"),
        (4, {"bias": False}, "params.total", "bias-omitted"),
        (2, {"groups": 1}, "params.total", "groups-ignored"),
        (2, {"groups": 1}, "macs.total", "groups-ignored"),
        (3, {"dilation": 1}, "shapes", "dilation-ignored"),  # a 3-wide kernel with padding 2 grows the map
        (3, {"dilation": 1}, "values.total", "dilation-ignored"),
    ],
)
def test_a_slip_on_one_layer_is_named(five: ProblemSet, index: int, change: Spec, quantity: str, code: str) -> None:
    wrong = torch_figures(slipped(index, **change))[quantity]
    assert wrong != torch_figures(LAYERS)[quantity]
    status, named = grade(five, quantity, wrong)
    assert (status in WRONG, named) == (True, code)  # a list of shapes earns credit for its right ones


def test_one_side_of_padding_on_one_layer_is_named(five: ProblemSet) -> None:
    """conv4 padded on the top and left only (``nn.ZeroPad2d((2, 0, 2, 0))`` before it): 14, where
    no padding gives 12 and the size without its +1 gives 15."""
    p = LAYERS[3]["padding"]
    layers = slipped(3, padding=0)
    x = torch.zeros(1, 4, 32, 32)
    shapes = []
    for i, spec in enumerate(layers):
        if i == 3:
            x = nn.ZeroPad2d((p, 0, p, 0))(x)
        x, found = measure(spec, x)
        shapes += [m.shape for m in found]
    answer = "; ".join(f"{h}x{w}x{c}" for c, h, w in shapes)
    status, named = grade(five, "shapes", answer)
    assert (status in WRONG, named) == (True, "padding-one-side")


def test_same_padding_taken_as_symmetric_is_named(five: ProblemSet) -> None:
    """conv5's ``same`` at stride 2 on 16 pixels is (0, 1): taken as symmetric, 1 on both sides."""
    before, after = tf_same(16, 3, 2)
    assert (before, after) == (0, 1)
    assert grade(five, "pad_top.c5", before) == (Status.CORRECT, None)
    assert grade(five, "pad_top.c5", max(before, after)) == (Status.INCORRECT, "same-padding-symmetric")


def test_the_bias_in_the_fan_in_is_named(five: ProblemSet) -> None:
    conv = nn.Conv2d(8, 8, 3, groups=4)
    fan_in = nn.init._calculate_fan_in_and_fan_out(conv.weight)[0]
    assert grade(five, "fan_in.c3", fan_in) == (Status.CORRECT, None)
    assert grade(five, "fan_in.c3", fan_in + 1) == (Status.INCORRECT, "bias-in-fan-in")


def test_buffers_counted_as_parameters_are_named(tmp_path: Path) -> None:
    """Keras's "Total params" counts batch norm's running mean and variance: 4·C, not 2·C."""
    layers = [{"kind": "conv", "name": "c", "out_channels": 16, "kernel": 3}, {"kind": "batchnorm", "name": "bn"}]
    problem = {"id": "n", "title": "BN", "type": "network", "input": [8, 8, 3], "layers": layers}
    problem["parts"] = [{"key": k, "quantity": f"{k}.bn"} for k in ("params", "buffers", "state")]
    path = tmp_path / "bn.yaml"
    path.write_text(json.dumps({"id": "bn", "title": "BN", "problems": [problem]}))
    norm = nn.BatchNorm2d(16)
    learned = sum(p.numel() for p in norm.parameters())
    running = norm.running_mean.numel() + norm.running_var.numel()
    problem_set = load_set(path)
    graded = grade_submission(problem_set, {"n.params": str(learned + running)}).parts["n.params"]
    assert (graded.status, graded.misconception) == (Status.INCORRECT, "buffers-counted-as-params")
    right = {
        "n.params": str(learned),
        "n.buffers": str(sum(b.numel() for b in norm.buffers())),
        "n.state": str(sum(t.numel() for t in norm.state_dict().values())),
    }
    assert all(p.status is Status.CORRECT for p in grade_submission(problem_set, right).parts.values())


def test_anchors_forgotten_are_named(tmp_path: Path) -> None:
    """YOLOv3 on COCO: 3·(5 + 80) = 255 per cell; one box's 5 + 80 = 85 forgets the anchors."""
    problem = {"id": "y", "title": "Y", "type": "yolo", "version": "v3", "classes": 80}
    problem["parts"] = [{"key": "depth", "quantity": "depth"}, {"key": "boxes", "quantity": "boxes"}]
    path = tmp_path / "yolo.yaml"
    path.write_text(json.dumps({"id": "yolo", "title": "Y", "problems": [problem]}))
    head = nn.Conv2d(1024, 3 * (5 + 80), 1)  # YOLOv3's last 1×1 convolution on the 13×13 map
    forgot = head.out_channels // 3
    graded = grade_submission(load_set(path), {"y.depth": str(forgot), "y.boxes": str(13 * 13 + 26 * 26 + 52 * 52)})
    assert {k: (p.status, p.misconception) for k, p in graded.parts.items()} == {
        "y.depth": (Status.INCORRECT, "anchors-forgotten"),
        "y.boxes": (Status.INCORRECT, "anchors-forgotten"),
    }


def test_same_taken_as_symmetric_in_a_convolution_problem(tmp_path: Path) -> None:
    """A 4×4 image, a 3×3 kernel, stride 2, 'same': TensorFlow pads (0, 1) per axis (torch, after
    ``F.pad``, gives the right output); padding 1 on every side gives the symmetric student's."""
    image = torch.arange(1, 17, dtype=torch.float64).reshape(1, 1, 4, 4)
    kernel = torch.tensor([[1, 0, 2], [0, 1, 0], [1, 0, 1]], dtype=torch.float64)
    problem = {"id": "c", "title": "C", "type": "conv2d", "input": image[0, 0].int().tolist()}
    problem |= {"kernel": kernel.int().tolist(), "stride": 2, "padding": "same"}
    problem["parts"] = [{"key": "out", "quantity": "output"}]
    path = tmp_path / "conv.yaml"
    path.write_text(json.dumps({"id": "conv", "title": "C", "problems": [problem]}))
    problem_set = load_set(path)
    top, bottom = tf_same(4, 3, 2)
    right = F.conv2d(F.pad(image, (top, bottom, top, bottom)), kernel[None, None], stride=2)[0, 0]
    wrong = F.conv2d(image, kernel[None, None], stride=2, padding=max(top, bottom))[0, 0]
    graded = grade_submission(problem_set, {"c.out": right.int().tolist()}).parts["c.out"]
    assert graded.status is Status.CORRECT
    graded = grade_submission(problem_set, {"c.out": wrong.int().tolist()}).parts["c.out"]
    assert (graded.status in WRONG, graded.misconception) == (True, "same-padding-symmetric")
