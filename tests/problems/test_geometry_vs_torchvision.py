"""Detection geometry against torchvision: box areas and IoU (``torchvision.ops.box_area``,
``box_iou``) and non-maximum suppression (``torchvision.ops.nms``) on seeded random boxes, the
boxes numbered from 1 or, as torchvision's indices are, from 0 (and the other numbering graded as
its named mistake); the anchor grids of SSD300 (``ssd300_vgg16``: 8,732 default boxes, 91 classes)
and of Faster R-CNN's RPN with an FPN (``fasterrcnn_resnet50_fpn``: 3 anchors per position, 159,882
on an 800×800 image), from the models' own anchor generators and heads (``weights=None``: nothing
is downloaded).

Each random case draws from ``numpy.random.default_rng((SEED, index))``: reproducible by id.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from torchvision.models.detection import fasterrcnn_resnet50_fpn, ssd300_vgg16
from torchvision.models.detection.image_list import ImageList
from torchvision.ops import box_area, box_iou, nms

from grader.comparison.mistakes import EXPLANATIONS
from grader.engine import grade_submission
from grader.results import Status
from problems.loader import load_set
from problems.solvers.steps import Derivations
from problems.types.geometry import AnchorsProblem, BoxesProblem

SEED = 20_261_125


def random_boxes(rng: np.random.Generator, count: int) -> list[list[float]]:
    """Boxes on a 0–20 grid in steps of a tenth, clustered so that many overlap."""
    found = []
    for _ in range(count):
        x1, y1 = (round(float(v), 1) for v in rng.uniform(0, 12, 2))
        w, h = (round(float(v), 1) for v in rng.uniform(0.5, 8, 2))
        found.append([x1, y1, round(x1 + w, 1), round(y1 + h, 1)])
    return found


@pytest.mark.parametrize("index", range(40))
def test_areas_and_iou_are_torchvisions(index: int) -> None:
    rng = np.random.default_rng((SEED, index))
    boxes = random_boxes(rng, int(rng.integers(2, 7)))
    ours = {name: q.value for name, q in BoxesProblem(type="boxes", boxes=boxes).solve().items()}
    assert_areas_and_ious(ours, boxes, first=1)


@pytest.mark.parametrize("index", range(60))
def test_non_maximum_suppression_keeps_what_torchvision_keeps(index: int) -> None:
    rng = np.random.default_rng((SEED, 1, index))
    count = int(rng.integers(2, 12))
    boxes = random_boxes(rng, count)
    scores = [round(float(s), 3) for s in rng.permutation(np.linspace(0.05, 0.99, count))]
    threshold = float(rng.choice([0.1, 0.3, 0.5, 0.7]))
    problem = BoxesProblem(type="boxes", boxes=boxes, scores=scores, iou_threshold=threshold)
    ours = {name: q.value for name, q in problem.solve().items()}
    kept = nms(torch.tensor(boxes, dtype=torch.float64), torch.tensor(scores, dtype=torch.float64), threshold)
    assert ours["nms"] == [int(i) + 1 for i in kept]
    assert ours["kept"] == len(kept)


def random_suppression(index: int) -> tuple[list[list[float]], list[float], float]:
    """Boxes, distinct scores and a threshold for non-maximum suppression, drawn for case ``index``."""
    rng = np.random.default_rng((SEED, 2, index))
    count = int(rng.integers(2, 12))
    boxes = random_boxes(rng, count)
    scores = [round(float(s), 3) for s in rng.permutation(np.linspace(0.05, 0.99, count))]
    return boxes, scores, float(rng.choice([0.1, 0.3, 0.5, 0.7]))


def torchvision_kept(boxes: list[list[float]], scores: list[float], threshold: float) -> list[int]:
    """``torchvision.ops.nms``'s kept indices (from 0), best first."""
    return nms(torch.tensor(boxes, dtype=torch.float64), torch.tensor(scores, dtype=torch.float64), threshold).tolist()


@pytest.mark.parametrize("index", range(60))
def test_boxes_numbered_from_0_are_torchvisions_indices(index: int) -> None:
    """``numbered_from: 0``: ``nms`` is torchvision's list itself, and every quantity and step
    names the boxes by torchvision's indices; by default each number is one more."""
    boxes, scores, threshold = random_suppression(index)
    problem = BoxesProblem(type="boxes", boxes=boxes, scores=scores, iou_threshold=threshold, numbered_from=0)
    steps = Derivations()
    ours = {name: q.value for name, q in problem.solve(steps).items()}
    kept = torchvision_kept(boxes, scores, threshold)
    assert ours["nms"] == kept
    assert ours["kept"] == len(kept)
    assert steps["nms"][1].text.startswith(f"box {kept[0]} (score {scores[kept[0]]:g})")  # the best box first
    assert_areas_and_ious(ours, boxes, first=0)
    assert f"area.{len(boxes)}" not in ours
    default = BoxesProblem(type="boxes", boxes=boxes, scores=scores, iou_threshold=threshold).solve()
    assert default["nms"].value == [i + 1 for i in kept]
    assert "area.0" not in default


def boxes_set(tmp_path: Path, index: int, numbered_from: int) -> Path:
    """A set of one boxes problem asking for ``nms``, its boxes numbered from ``numbered_from``."""
    boxes, scores, threshold = random_suppression(index)
    problem = {"id": "b", "title": "NMS", "type": "boxes", "boxes": boxes, "scores": scores, "iou_threshold": threshold}
    problem |= {"numbered_from": numbered_from, "parts": [{"key": "kept", "quantity": "nms"}]}
    path = tmp_path / "boxes.yaml"
    path.write_text(json.dumps({"id": "boxes", "title": "Boxes", "problems": [problem]}))
    return path


@pytest.mark.parametrize("index", range(6))
@pytest.mark.parametrize(("numbered_from", "code"), [(1, "boxes-numbered-from-0"), (0, "boxes-numbered-from-1")])
def test_the_other_numbering_is_graded_as_its_named_mistake(
    tmp_path: Path, index: int, numbered_from: int, code: str
) -> None:
    """torchvision's indices (from 0) where the question numbers its boxes from 1 are wrong, and
    named; torchvision's indices plus one where it numbers them from 0 too; each numbering is right
    on its own question."""
    problem_set = load_set(boxes_set(tmp_path, index, numbered_from))
    kept = torchvision_kept(*random_suppression(index))
    right = ", ".join(str(i + numbered_from) for i in kept)
    other = ", ".join(str(i + 1 - numbered_from) for i in kept)
    graded = grade_submission(problem_set, {"b.kept": right}).parts["b.kept"]
    assert (graded.status, graded.misconception) == (Status.CORRECT, None)
    graded = grade_submission(problem_set, {"b.kept": other}).parts["b.kept"]
    assert (graded.status, graded.misconception) == (Status.INCORRECT, code)
    assert EXPLANATIONS[code] in graded.feedback


def assert_areas_and_ious(ours: dict[str, Any], boxes: list[list[float]], *, first: int) -> None:
    """Every box's area and every pair's IoU are torchvision's, the boxes numbered from ``first``."""
    tensor = torch.tensor(boxes, dtype=torch.float64)
    areas, ious = box_area(tensor), box_iou(tensor, tensor)
    for i in range(len(boxes)):
        assert math.isclose(ours[f"area.{i + first}"], float(areas[i]), rel_tol=1e-12)
        for j in range(i + 1, len(boxes)):
            pair = f"iou.{i + first}.{j + first}"
            assert math.isclose(ours[pair], float(ious[i, j]), rel_tol=1e-12, abs_tol=1e-15)


def test_the_textbook_iou() -> None:
    """Two 2×2 boxes sharing a 1×1 corner: 1/(4 + 4 − 1) = 1/7."""
    ours = BoxesProblem(type="boxes", boxes=[[0, 0, 2, 2], [1, 1, 3, 3]]).solve()
    assert ours["iou.1.2"].value * 7 == 1  # exactly
    assert float(box_iou(torch.tensor([[0.0, 0, 2, 2]]), torch.tensor([[1.0, 1, 3, 3]]))[0, 0]) == pytest.approx(1 / 7)


def solved(problem: dict[str, Any]) -> dict[str, Any]:
    return {name: q.value for name, q in AnchorsProblem(type="anchors", **problem).solve().items()}


def test_ssd300_anchors_and_heads_are_torchvisions() -> None:
    grids, per_location = (38, 19, 10, 5, 3, 1), (4, 6, 6, 6, 4, 4)
    levels = [{"grid": g, "anchors": a} for g, a in zip(grids, per_location, strict=True)]
    ours = solved({"head": "ssd", "classes": 91, "levels": levels})
    model = ssd300_vgg16(weights=None, weights_backbone=None)
    features = [torch.zeros(1, 1, g, g) for g in grids]
    anchors = model.anchor_generator(ImageList(torch.zeros(1, 3, 300, 300), [(300, 300)]), features)[0]
    assert ours["anchors"] == anchors.shape[0] == 8732
    assert [ours[f"per_location.{i}"] for i in range(1, 7)] == model.anchor_generator.num_anchors_per_location()
    heads = zip(model.head.classification_head.module_list, model.head.regression_head.module_list, strict=True)
    for number, (classes, boxes) in enumerate(heads, start=1):
        assert (ours[f"cls_channels.{number}"], ours[f"box_channels.{number}"]) == (
            classes.out_channels,
            boxes.out_channels,
        )


def test_faster_rcnn_rpn_anchors_and_head_are_torchvisions() -> None:
    """FPN levels P2–P6 of an 800×800 image: strides 4 to 64, grids 200, 100, 50, 25, 13."""
    grids = (200, 100, 50, 25, 13)
    sizes = (32, 64, 128, 256, 512)
    ours = solved({"head": "rpn", "levels": [{"grid": g, "sizes": [s], "ratios": [0.5, 1, 2]}
                                             for g, s in zip(grids, sizes, strict=True)]})  # fmt: skip
    model = fasterrcnn_resnet50_fpn(weights=None, weights_backbone=None)
    generator = model.rpn.anchor_generator
    features = [torch.zeros(1, 1, g, g) for g in grids]
    anchors = generator(ImageList(torch.zeros(1, 3, 800, 800), [(800, 800)]), features)[0]
    assert ours["anchors"] == anchors.shape[0] == 159_882
    assert [ours[f"per_location.{i}"] for i in range(1, 6)] == generator.num_anchors_per_location()
    assert ours["cls_channels.1"] == model.rpn.head.cls_logits.out_channels == 3
    assert ours["box_channels.1"] == model.rpn.head.bbox_pred.out_channels == 12
