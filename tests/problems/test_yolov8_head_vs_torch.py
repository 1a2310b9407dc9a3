"""YOLOv8's anchor-free head (``type: yolo``, ``version: v8``) against an independent torch build of
it, written here from Ultralytics' published layout (``Detect`` and ``DFL``) and run on the meta
device: per scale a box branch (two 3×3 convolutions and a 1×1 to ``4·reg_max``) and a class
branch (to ``C``) concatenated, then flattened over the three scales (strides 8, 16, 32), the box
distributions decoded by DFL (a softmax over ``reg_max`` bins, their expectation) into distances
and boxes, and the class scores beside them: ``(4 + C)×predictions`` (84×8,400 at 640×640 for 80
classes). The decoded shape is a quantity graded as shapes are."""

from __future__ import annotations

import pytest
import torch

from grader.engine import grade_submission
from grader.results import Status
from problems.loader import SetFileError, parse_set
from problems.types.detection import YoloProblem

from torch_layers import YoloV8Detect

torch.set_num_threads(1)
META = torch.device("meta")


@pytest.mark.parametrize(
    ("side", "classes", "reg_max", "channels"),
    [(640, 80, 16, (64, 128, 256)), (320, 20, 16, (32, 64, 128)), (1280, 3, 8, (64, 128, 256))],
)
def test_the_head_is_a_torch_build(side: int, classes: int, reg_max: int, channels: tuple[int, ...]) -> None:
    ours = {n: q.value for n, q in YoloProblem(version="v8", classes=classes, input_size=side,
                                               reg_max=reg_max).solve().items()}  # fmt: skip
    strides = (8, 16, 32)
    with META:
        head = YoloV8Detect(classes, channels, reg_max).eval()
        features = [torch.zeros(1, c, side // s, side // s) for c, s in zip(channels, strides, strict=True)]
        with torch.no_grad():
            raw, decoded = head(features, strides)
    assert ours["box_channels"] == head.box[0][-1].out_channels == 4 * reg_max
    assert ours["class_channels"] == head.cls[0][-1].out_channels == classes
    assert ours["depth"] == raw[0].shape[1]
    assert ours["shapes"] == [tuple(r.shape[1:]) for r in raw]
    assert ours["grids"] == tuple(r.shape[2] for r in raw)
    assert ours["boxes"] == decoded.shape[2]
    assert ours["decoded"] == ours["output_shape"] == tuple(decoded.shape[1:])
    if (side, classes) == (640, 80):
        assert ours["decoded"] == (84, 8400) and ours["depth"] == 144


SET = """\
id: v8
title: YOLOv8
problems:
  - id: head
    title: head
    type: yolo
    version: v8
    classes: 80
    parts:
      - {key: out, quantity: decoded}
      - {key: n, quantity: boxes}
"""


@pytest.mark.parametrize(
    ("answer", "status", "said"),
    [("84 × 8400", Status.CORRECT, ""), ("[84, 8400]", Status.CORRECT, ""),
     ("(1, 84, 8400)", Status.INCORRECT, "has a batch size of 1 in front: the answer is one image's, 84 × 8400"),
     ("8400 × 84", Status.INCORRECT, "The sizes are right but in the wrong order"),
     ("85 × 8400", Status.INCORRECT, "")],
)  # fmt: skip
def test_the_decoded_shape_is_graded_as_a_shape(answer: str, status: Status, said: str) -> None:
    graded = grade_submission(parse_set(SET), {"head.out": answer, "head.n": "8,400"})
    assert graded.parts["head.n"].status is Status.CORRECT
    part = graded.parts["head.out"]
    assert part.status is status and said in (part.feedback or ""), part


@pytest.mark.parametrize(
    ("version", "setting", "message"),
    [
        ("v8", "input_size: 650", "650 is not a multiple of 32: YOLOv8's grids are the input over strides 8, 16"),
        ("v8", "reg_max: 0", "greater than 0"),
        ("v3", "input_size: 417", "417 is not a multiple of 32: YOLOv3's grids are the input over strides 32, 16"),
        ("v2", "input_size: 400", "400 is not a multiple of 32: YOLOv2's grid is the input over stride 32"),
    ],
)
def test_a_bad_head_is_refused_at_its_line(version: str, setting: str, message: str) -> None:
    """At the setting's own line (v2's and v3's input off the strides were refused at the first
    part's, as its answer undefined)."""
    entry = SET.replace("version: v8\n    classes: 80\n", f"version: {version}\n    classes: 80\n    {setting}\n")
    with pytest.raises(SetFileError) as refused:
        parse_set(entry.replace("{key: out, quantity: decoded}", "{key: out, quantity: depth}"))
    found = [(issue.line, issue.message) for issue in refused.value.issues]
    assert any(at == 9 and message in text for at, text in found), found
    assert all(at == 9 for at, _ in found), found
