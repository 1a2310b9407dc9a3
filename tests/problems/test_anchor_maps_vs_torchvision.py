"""Anchor levels whose maps follow from the detector, against torchvision's own models: SSD300's six
levels taken `from` its VGG-16 backbone written as a network (``ssd300_vgg16``'s backbone run on the
same image: 38, 19, 10, 5, 3, 1 on 300×300, 8,732 default boxes), an FPN's P2–P6 at strides 4–64
rounded up (``fasterrcnn_resnet50_fpn``'s backbone), and Faster R-CNN's stride-16 map of VGG-16
rounded down (``vgg16``'s conv5_3: 37×62 on 600×1000, 20,646 anchors, the paper's "roughly 20000").
The backbones run on the meta device: the shapes, without the arithmetic. Anchors are counted by the
models' own generators (``weights=None``: nothing is downloaded). Then the worked steps, a side off by
the backbone's mistake or by the other rounding graded as its named mistake, and the refusals.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

import pytest
import torch
from torchvision.models import vgg16
from torchvision.models.detection import fasterrcnn_resnet50_fpn, ssd300_vgg16
from torchvision.models.detection.anchor_utils import AnchorGenerator
from torchvision.models.detection.image_list import ImageList

from cli.reference import ANCHORS_EXAMPLE
from grader.comparison.mistakes import EXPLANATIONS
from grader.engine import grade_submission
from grader.results import Status
from grader.selftest import check_set
from problems.loader import load_set, parse_set
from problems.solvers.steps import Derivations
from problems.types.geometry import AnchorsProblem

from set_texts import issues_of

Sides = list[tuple[int, int]]


def extra(name: str, width: int, out: int, **window: int) -> dict[str, Any]:
    """One of SSD300's extra blocks: a 1×1 convolution to ``width``, then a 3×3 one to ``out``."""
    return {
        "kind": "block",
        "name": name,
        "layers": [
            {"kind": "conv", "out_channels": width, "kernel": 1},
            {"kind": "activation"},
            {"kind": "conv", "out_channels": out, "kernel": 3, **window},
            {"kind": "activation"},
        ],
    }


def convs(name: str, times: int, width: int) -> dict[str, Any]:
    return {"kind": "repeat", "name": name, "times": times, "use": "convs", "with": {"width": width}}


#: torchvision's ``SSDFeatureExtractorVGG``, as a set file writes it: VGG-16's features with the
#: third pooling in ceil mode, pool5 3×3 at stride 1, fc6 dilated 6, fc7, and the extra blocks.
SSD300_LAYERS: list[dict[str, Any]] = [
    convs("conv1", 2, 64),
    {"kind": "pool", "kernel": 2},
    convs("conv2", 2, 128),
    {"kind": "pool", "kernel": 2},
    convs("conv3", 3, 256),
    {"kind": "pool", "kernel": 2, "ceil_mode": True},
    convs("conv4", 3, 512),
    {"kind": "pool", "kernel": 2},
    convs("conv5", 3, 512),
    {"kind": "pool", "kernel": 3, "stride": 1, "padding": 1},
    {"kind": "conv", "name": "fc6", "out_channels": 1024, "kernel": 3, "padding": 6, "dilation": 6},
    {"kind": "activation"},
    {"kind": "conv", "name": "fc7", "out_channels": 1024, "kernel": 1},
    {"kind": "activation"},
    extra("conv8", 256, 512, stride=2, padding=1),
    extra("conv9", 128, 256, stride=2, padding=1),
    extra("conv10", 128, 256),
    extra("conv11", 128, 256),
]
SSD300_TAPS = ("conv4", "fc7", "conv8", "conv9", "conv10", "conv11")
SSD300_ANCHORS = (4, 6, 6, 6, 4, 4)
CONVS = [{"kind": "conv", "out_channels": "$width", "kernel": 3, "padding": 1}, {"kind": "activation"}]


def ssd300(height: int, width: int) -> dict[str, Any]:
    """SSD300 on an image of ``height × width``, its levels taken from its backbone."""
    backbone = {"input": [height, width, 3], "blocks": {"convs": CONVS}, "layers": SSD300_LAYERS}
    levels = [{"from": tap, "anchors": a} for tap, a in zip(SSD300_TAPS, SSD300_ANCHORS, strict=True)]
    return {"type": "anchors", "head": "ssd", "classes": 91, "backbone": backbone, "levels": levels}


def fpn(height: int, width: int) -> dict[str, Any]:
    """Faster R-CNN's RPN on an FPN's P2–P6: strides 4 to 64, one size and three ratios each."""
    levels = [{"stride": 4 * 2**k, "sizes": [32 * 2**k], "ratios": [0.5, 1, 2]} for k in range(5)]
    return {"type": "anchors", "head": "rpn", "input": [height, width], "levels": levels}


def vgg_rpn(height: int, width: int) -> dict[str, Any]:
    """The original Faster R-CNN's RPN: VGG-16's conv5_3 at stride 16, 3 sizes × 3 ratios."""
    level = {"stride": 16, "sizes": [128, 256, 512], "ratios": [0.5, 1, 2]}
    return {"type": "anchors", "head": "rpn", "input": [height, width], "rounding": "floor", "levels": [level]}


def solved(problem: dict[str, Any], steps: Derivations | None = None) -> dict[str, Any]:
    return {name: q.value for name, q in AnchorsProblem.model_validate(problem).solve(steps).items()}


def grids(ours: dict[str, Any]) -> Sides:
    """The levels' maps as ``(H, W)``: ``grid.I`` is the side, or H×W where they differ."""
    count = sum(name.startswith("grid.") for name in ours)
    found = [ours[f"grid.{n}"] for n in range(1, count + 1)]
    return [(g, g) if isinstance(g, int) else (int(g[0]), int(g[1])) for g in found]


def meta_sides(backbone: torch.nn.Module, height: int, width: int) -> Sides:
    """The sides of the maps a torchvision backbone makes of an image, run on the meta device."""
    with torch.no_grad():
        out = backbone.to("meta").eval()(torch.empty(1, 3, height, width, device="meta"))
    maps = out.values() if isinstance(out, dict) else [out]
    return [(int(m.shape[-2]), int(m.shape[-1])) for m in maps]


def generated(generator: torch.nn.Module, height: int, width: int, sides: Sides) -> int:
    """How many anchors a torchvision generator makes on maps of these sides of the image."""
    image = ImageList(torch.zeros(1, 3, height, width), [(height, width)])
    return int(generator(image, [torch.zeros(1, 1, h, w) for h, w in sides])[0].shape[0])


@pytest.fixture(scope="module")
def ssd_model() -> torch.nn.Module:
    return ssd300_vgg16(weights=None, weights_backbone=None)


@pytest.fixture(scope="module")
def fpn_model() -> torch.nn.Module:
    return fasterrcnn_resnet50_fpn(weights=None, weights_backbone=None)


@pytest.fixture(scope="module")
def conv5_3() -> torch.nn.Module:
    """VGG-16's features up to conv5_3 and its ReLU (the last pooling left out): stride 16, made on
    the meta device (its weights are never read)."""
    with torch.device("meta"):
        features = vgg16(weights=None).features
    assert isinstance(features[-1], torch.nn.MaxPool2d)
    return features[:-1]


@pytest.mark.parametrize(("height", "width"), [(300, 300), (320, 320), (301, 333), (300, 400)])
def test_ssd300_levels_from_its_backbone_are_torchvisions(ssd_model: Any, height: int, width: int) -> None:
    ours = solved(ssd300(height, width))
    sides = meta_sides(ssd_model.backbone, height, width)
    assert grids(ours) == sides
    assert ours["anchors"] == generated(ssd_model.anchor_generator, height, width, sides)
    if (height, width) == (300, 300):
        assert sides == [(38, 38), (19, 19), (10, 10), (5, 5), (3, 3), (1, 1)]
        assert ours["anchors"] == 8732


@pytest.mark.parametrize(("height", "width"), [(800, 800), (600, 1000), (333, 517), (800, 1216), (97, 65)])
def test_fpn_levels_at_strides_rounded_up_are_torchvisions(fpn_model: Any, height: int, width: int) -> None:
    """P2–P5 are ResNet-50's C2–C5 (each stride-2 layer padded by k // 2), P6 a max_pool2d(1, 2) of
    P5: every halving rounds up, so the side at stride s is ⌈n/s⌉ however s does not divide n."""
    ours = solved(fpn(height, width))
    sides = meta_sides(fpn_model.backbone, height, width)
    assert grids(ours) == sides
    assert ours["anchors"] == generated(fpn_model.rpn.anchor_generator, height, width, sides)
    if (height, width) == (800, 800):
        assert sides[-1] == (13, 13) and ours["anchors"] == 159_882


@pytest.mark.parametrize(("height", "width"), [(600, 1000), (480, 640), (375, 500), (599, 799)])
def test_a_vgg_rpn_at_stride_16_rounded_down_is_torchvisions(conv5_3: Any, height: int, width: int) -> None:
    """VGG-16's unpadded 2×2 poolings round each halving down: ⌊n/16⌋. The same map taken `from`
    the backbone written out agrees."""
    ours = solved(vgg_rpn(height, width))
    sides = meta_sides(conv5_3, height, width)
    assert grids(ours) == sides
    generator = AnchorGenerator(((128, 256, 512),), ((0.5, 1.0, 2.0),))
    assert ours["anchors"] == generated(generator, height, width, sides)
    layers = [*SSD300_LAYERS[:5], {"kind": "pool", "kernel": 2}, *SSD300_LAYERS[6:8], convs("conv5", 3, 512)]
    written = {"input": [height, width, 3], "blocks": {"convs": CONVS}, "layers": layers}
    taken = {"type": "anchors", "head": "rpn", "backbone": written, "levels": [{"from": "conv5", "anchors": 9}]}
    assert grids(solved(taken)) == sides
    if (height, width) == (600, 1000):
        assert sides == [(37, 62)] and ours["anchors"] == 20_646


def test_the_steps_show_how_each_map_was_found() -> None:
    steps = Derivations()
    ours = solved(ssd300(300, 300), steps)
    first = [step.text for step in steps["grid.1"]]
    assert first[0].startswith("The input is 3×300×300")
    (third,) = [text for text in first if text.startswith("pool (layers.5): 256×75×75 → 256×38×38")]
    assert "⌊(H − (K − 1) − 1 + S − 1)/S⌋ + 1" in third  # in ceil mode: a last partial window kept
    assert first[-1] == "level 1: conv4 of the backbone on the 300×300 image: a 38×38 map"
    assert steps["anchors.1"][-1].text == "H·W·A = 38·38·4 = 5,776"
    assert steps["anchors"][-1].value == ours["anchors"] == 8732
    steps = Derivations()
    solved(fpn(800, 800), steps)
    texts = [step.text for step in steps["grid.5"]]
    assert texts == [
        "S_5 = ⌈(I)/s⌉ = ⌈(800)/64⌉ = 13",
        "level 5: stride 64 of the 800×800 image, each halving rounding up: a 13×13 map",
    ]
    steps = Derivations()
    solved(vgg_rpn(600, 1000), steps)
    assert [step.text for step in steps["grid.1"]][:2] == [
        "H_1 = ⌊H/s⌋ = ⌊600/16⌋ = 37",
        "W_1 = ⌊W/s⌋ = ⌊1000/16⌋ = 62",
    ]
    assert steps["grid.1"][-1].value == [37, 62]


def anchors_set(tmp_path: Path, problem: dict[str, Any], parts: list[dict[str, str]]) -> Path:
    entry = {"id": "a", "title": "Anchors", **problem, "parts": parts}
    path = tmp_path / "anchors.yaml"
    path.write_text(json.dumps({"id": "anchors", "title": "Anchors", "problems": [entry]}))
    return path


def graded(problem_set: Any, key: str, answer: str) -> tuple[Status, str | None]:
    part = grade_submission(problem_set, {key: answer}).parts[key]
    if part.misconception is not None:
        assert EXPLANATIONS[part.misconception.partition("@")[0]] in part.feedback
    return part.status, part.misconception


def test_ssd300_with_its_third_pooling_rounding_down_is_pool_ceil_mode(tmp_path: Path, ssd_model: Any) -> None:
    """The classic slip: 300/8 = 37.5 taken as 37. torchvision's backbone with its third pooling
    put back in floor mode gives the student's maps, graded as the backbone's own mistake."""
    parts = [{"key": "side", "quantity": "grid.1"}, {"key": "first", "quantity": "anchors.1"}]
    parts.append({"key": "all", "quantity": "anchors"})
    problem_set = load_set(anchors_set(tmp_path, ssd300(300, 300), parts))
    pools = [m for m in ssd_model.backbone.features if isinstance(m, torch.nn.MaxPool2d)]
    pools[2].ceil_mode = False
    try:
        floored = meta_sides(ssd_model.backbone, 300, 300)
    finally:
        pools[2].ceil_mode = True
    assert floored[0] == (37, 37)
    wrong = generated(ssd_model.anchor_generator, 300, 300, floored)
    assert graded(problem_set, "a.side", "38") == (Status.CORRECT, None)
    assert graded(problem_set, "a.all", "8732") == (Status.CORRECT, None)
    assert graded(problem_set, "a.side", "37") == (Status.INCORRECT, "pool-ceil-mode")
    assert graded(problem_set, "a.first", str(37 * 37 * 4)) == (Status.INCORRECT, "pool-ceil-mode")
    assert graded(problem_set, "a.all", str(wrong)) == (Status.INCORRECT, "pool-ceil-mode")


@pytest.mark.parametrize(
    ("problem", "key", "quantity", "right", "wrong", "code"),
    [
        # P6 of an 800×800 image: ⌈800/64⌉ = 13, not 12; over the five levels 159,882, not 159,807
        (fpn(800, 800), "p6", "grid.5", 13, 12, "level-side-rounded-down"),
        (fpn(800, 800), "all", "anchors", 159_882, 159_882 - (13 * 13 - 12 * 12) * 3, "level-side-rounded-down"),
        # VGG-16 on 600×1000: ⌊600/16⌋·⌊1000/16⌋·9 = 37·62·9, not ⌈·⌉: 38·63·9
        (vgg_rpn(600, 1000), "all", "anchors", 37 * 62 * 9, 38 * 63 * 9, "level-side-rounded-up"),
    ],
)
def test_a_stride_level_rounded_the_other_way_is_named(
    tmp_path: Path, problem: dict[str, Any], key: str, quantity: str, right: int, wrong: int, code: str
) -> None:
    problem_set = load_set(anchors_set(tmp_path, problem, [{"key": key, "quantity": quantity}]))
    assert graded(problem_set, f"a.{key}", str(right)) == (Status.CORRECT, None)
    assert graded(problem_set, f"a.{key}", str(wrong)) == (Status.INCORRECT, code)


def test_the_reference_example_loads_solves_and_passes_its_self_test() -> None:
    """The set-file reference's example of derived levels (docs/set-files.md), as an author copies it."""
    (block,) = [part.split("```")[0] for part in ANCHORS_EXAMPLE.split("```yaml\n")[1:]]
    problem_set = parse_set("id: example\ntitle: Example\nproblems:\n" + textwrap.indent(block, "  "))
    answers = problem_set.solve(None)
    assert {key: answer.value for key, answer in answers.items()} == {
        "ssd.side": 38,
        "ssd.boxes": 38 * 38 * 4 + 19 * 19 * 6,
        "fpn.p6": 13,
        "fpn.anchors": 159_882,
    }
    assert check_set(problem_set) == []


#: A good file; each case below breaks one line of it, marked ``# <-``.
GOOD = """\
id: anchors
title: Anchors refused at their lines
problems:
  - id: ssd
    title: SSD on its own map
    type: anchors
    head: ssd
    backbone:
      input: [32, 32, 3]
      layers:
        - {kind: conv, name: conv1, out_channels: 8, kernel: 3, padding: 1}
        - {kind: pool, name: pool1, kernel: 2}
        - {kind: flatten}
        - {kind: linear, name: fc, out_features: 10}
    levels:
      - {from: pool1, anchors: 4}
    parts:
      - {key: boxes, quantity: anchors}
  - id: fpn
    title: An FPN's last map
    type: anchors
    head: rpn
    input: 800
    levels:
      - {stride: 64, sizes: [512], ratios: [0.5, 1, 2]}
    parts:
      - {key: p6, quantity: grid.1}
"""


def broken(old: str, new: str) -> str:
    assert old in GOOD
    return GOOD.replace(old, new + "  # <-", 1)


SSD_LEVEL = "      - {from: pool1, anchors: 4}"
FPN_LEVEL = "      - {stride: 64, sizes: [512], ratios: [0.5, 1, 2]}"


@pytest.mark.parametrize(
    ("text", "token", "field", "message"),
    [
        # a level that takes an output the backbone does not have, or one that is no map
        (broken(SSD_LEVEL, "      - {from: pool2, anchors: 4}"), "pool2", "levels.0.from", "did you mean `pool1`?"),
        (broken(SSD_LEVEL, "      - {from: fc, anchors: 4}"), "fc", "levels.0.from", "not a feature map"),
        # a level given two ways, or none
        (broken(SSD_LEVEL, "      - {grid: 16, from: pool1, anchors: 4}"), "pool1", "levels.0.from", "not both"),
        (broken(SSD_LEVEL, "      - {anchors: 4}"), "{anchors", "levels.0", "give the map's `grid`"),
        # a stride that is no halving, or that leaves no map; a stride without an image
        (broken(FPN_LEVEL, FPN_LEVEL.replace("64", "48")), "48", "levels.0.stride", "48 is not a power of two"),
        (
            broken(FPN_LEVEL, FPN_LEVEL.replace("64", "1024")).replace("input: 800", "input: 800\n    rounding: floor"),
            "1024",
            "levels.0.stride",
            "⌊800/1024⌋ = 0",
        ),
        (broken(FPN_LEVEL, FPN_LEVEL).replace("    input: 800\n", ""), "64", "levels.0.stride", "give the problem's"),
        # a level from a backbone the problem lacks; the image given twice; a rounding nothing rounds
        (broken(FPN_LEVEL, "      - {from: p6, anchors: 3}"), "p6", "levels.0.from", "has no `backbone`"),
        (broken("    head: ssd", "    head: ssd\n    input: 32"), "32", "input", "give its size there alone"),
        (broken("    head: ssd", "    head: ssd\n    rounding: floor"), "floor", "rounding", "only a level's"),
        # a backbone's layer that cannot run on its input: at the layer's setting
        (
            broken(
                "        - {kind: conv, name: conv1, out_channels: 8, kernel: 3, padding: 1}",
                "        - {kind: conv, name: conv1, out_channels: 8, kernel: 40, padding: 1}",
            ),
            "40",
            "backbone.layers.0.kernel",
            "backbone.layers.0 (conv conv1)",
        ),
    ],
)
def test_a_bad_level_is_refused_at_its_line(text: str, token: str, field: str, message: str) -> None:
    (issue,) = issues_of(text)
    lines = text.splitlines()
    marked = next(i for i, line in enumerate(lines) if line.endswith("# <-"))
    assert (issue.line, issue.column) == (marked + 1, lines[marked].index(token) + 1)
    assert issue.field == field
    assert message in issue.message


def test_the_good_file_loads_and_existing_levels_keep_their_quantities() -> None:
    problem_set = parse_set(GOOD)
    answers = problem_set.solve(None)
    assert answers["ssd.boxes"].value == 16 * 16 * 4
    assert answers["fpn.p6"].value == 13
    ssd, fpn_problem = problem_set.problems
    assert ssd.statement().startswith("Anchors of SSD on feature maps the output of pool1 with 4 anchors, on a 32×32")
    assert "The backbone:\nInput 32×32×3 (H×W×C)." in ssd.statement()
    level = "the map at stride 64 with sizes [512.0], ratios [0.5, 1.0, 2.0]"
    assert f"{level}, on a 800×800 image (the backbone rounds each halving up)." in fpn_problem.statement()
    given = solved({"type": "anchors", "head": "rpn", "levels": [{"grid": 50, "sizes": [32], "ratios": [0.5, 1, 2]}]})
    assert given == {
        "grid.1": 50,
        "per_location.1": 3,
        "anchors.1": 7500,
        "cls_channels.1": 3,
        "box_channels.1": 12,
        "anchors": 7500,
    }
