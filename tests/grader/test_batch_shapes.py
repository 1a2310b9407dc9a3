"""A shape copied from a forward pass, ``torch.Size([1, 96, 55, 55])``, for a question written
H×W×C: read as a shape with a batch of one in front, the batch named and PyTorch's channel order
explained (no bare "3 sizes expected")."""

from __future__ import annotations

import json
from pathlib import Path

import torch
from torch import nn

from grader.engine import grade_submission
from grader.results import Status
from problems.loader import load_set


def alexnet_conv1(tmp_path: Path) -> tuple[str, Path]:
    problem = {
        "id": "a",
        "title": "a",
        "type": "network",
        "input": [224, 224, 3],
        "layers": [{"kind": "conv", "name": "conv1", "out_channels": 96, "kernel": 11, "stride": 4, "padding": 2}],
        "parts": [{"key": "shape", "quantity": "shape.conv1"}],
    }
    path = tmp_path / "alexnet.yaml"
    path.write_text(json.dumps({"id": "alexnet", "title": "AlexNet", "problems": [problem]}))
    with torch.no_grad():
        y = nn.Conv2d(3, 96, 11, 4, 2)(torch.zeros(1, 3, 224, 224))
    return str(y.shape), path


def test_a_batch_first_torch_size_is_explained(tmp_path: Path) -> None:
    printed, path = alexnet_conv1(tmp_path)
    assert printed == "torch.Size([1, 96, 55, 55])"
    part = grade_submission(load_set(path), {"a.shape": printed}).parts["a.shape"]
    assert (part.status, part.misconception) == (Status.INCORRECT, "channel-order")
    assert "1 × 96 × 55 × 55 is N × C × H × W, PyTorch's order: a batch of 1, then the channels first." in part.feedback
    assert part.feedback.endswith("Without the batch, in this question's order (H × W × C): 55 × 55 × 96.")


def test_a_batch_in_front_of_the_right_order_is_named(tmp_path: Path) -> None:
    _, path = alexnet_conv1(tmp_path)
    part = grade_submission(load_set(path), {"a.shape": "1 x 55 x 55 x 96"}).parts["a.shape"]
    assert part.status is Status.INCORRECT
    assert part.feedback == "1 × 55 × 55 × 96 has a batch size of 1 in front: the answer is one image's, 55 × 55 × 96."
