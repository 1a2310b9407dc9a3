"""Every mistake code is produced by a test, by an answer that mistake really gives, and
never for a right answer."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

from grader.comparison.mistakes import EXPLANATIONS
from grader.engine import grade_submission
from grader.results import Status
from problems.loader import load_bank, load_set
from problems.render import to_json

BANK = load_bank()
CONTRACT_CODES = {
    "kernel-not-flipped",
    "kernel-flipped",
    "output-size-rounding",
    "missing-plus-one",
    "padding-ignored",
    "padding-one-side",
    "bias-omitted",
    "bias-extra",
    "input-channels-ignored",
    "receptive-field-local-stride",
    "channel-order",
    "yolo-classes-per-box",
    "yolo-classes-per-cell",
    "macs-vs-flops",
    "transposed-size-formula",
    "pooling-type-swapped",
    "percent-vs-fraction",
}

# (set, key, answer as a student typed it, the mistake it shows); each value worked by hand
# under the mistaken assumption, several straight from the seed coursework.
CASES = [
    # seed 004: the Sobel "true convolution" computed without flipping the kernel
    (
        "cifar-convnet",
        "t1a.output",
        r"\begin{bmatrix} 2 & -1 & 11 & -2 & -13 \\ 10 & -4 & 8 & 2 & -18 \\ 14 & -1 & -5 & 6 & -9 \end{bmatrix}",
        "kernel-not-flipped",
    ),
    # seed 001: 128 with stride 2 → (128 − 3)/2 + 1 = 63.5, rounded up to 64
    ("rgb-convolution", "q8.shape", "64 × 64 × 16", "output-size-rounding"),
    # 128 − 3 = 125 without the +1
    ("rgb-convolution", "q7.shape", "125x125x16", "missing-plus-one"),
    # the unpadded result (question 1's answer) given for the padded question 2
    ("rgb-convolution", "q2.output", "[[45, 45], [54, 54]]", "padding-ignored"),
    # padding on one side: 10+1−3+1 = 9, pool 9+1−3+1 = 8, conv 8+1−3+1 = 7, pool ⌊(7+1−2)/2⌋+1 = 4
    ("conv-pool-basics", "ex4.shapes", "9x9x40, 9x9x40, 8x8x40, 7x7x20, 7x7x20, 4x4x20", "padding-one-side"),
    # 5·5·3·32 weights, no biases
    ("cifar-convnet", "t1g.conv1", "2400", "bias-omitted"),
    # 64·25 + 64·128 plus 64 + 128 biases the layer does not have
    ("mobilenet-yolo", "q1c.params2", "9984", "bias-extra"),
    # 3·3·40 + 40: filters counted without their 10 input channels
    ("conv-pool-basics", "ex4.conv1_params", "400", "input-channels-ignored"),
    # seed 003: R3 = 13 + (5 − 1)·2 instead of 13 + (5 − 1)·4
    ("mobilenet-yolo", "q1b.rf3", "21", "receptive-field-local-stride"),
    # no stride at all: 5 + 4 = 9 and 9 + 4 = 13, where the jumps 2 and 4 give 13 and 29
    ("mobilenet-yolo", "q1b.rf2", "9", "receptive-field-stride-ignored"),
    ("mobilenet-yolo", "q1b.rf3", "R_3 = 9 + (5 - 1) = 13", "receptive-field-stride-ignored"),
    # channels first where H×W×C is asked
    ("rgb-convolution", "q7.shape", "16 × 126 × 126", "channel-order"),
    # YOLOv1 with classes per box: 2·(5 + 80); YOLOv3 with classes once per cell: 3·5 + 80
    ("mobilenet-yolo", "q4a.yolov1_depth", "170", "yolo-classes-per-box"),
    ("mobilenet-yolo", "q4a.yolov3_depth", "95", "yolo-classes-per-cell"),
    # FLOPs (2 per MAC) for 64·64·64·25·3 MACs
    ("mobilenet-yolo", "q1b.macs1", "39,321,600", "macs-vs-flops"),
    # average pooling where max pooling is asked
    ("conv-pool-basics", "ex3.max", "[[4.25, 4.25], [4.25, 3.5]]", "pooling-type-swapped"),
    # 1 − 9792/204800 as a fraction, not a percentage
    ("mobilenet-yolo", "q1c.param_reduction2", "0.952", "percent-vs-fraction"),
    # the size formula solved without its +1: 512 − 504 = 8 for the kernel (512 − 504 + 1 = 9)
    ("cifar-convnet", "t1d.kernel", "512 - 504 = 8", "inverse-off-by-one"),
    ("cifar-convnet", "t1d.kernel", "8 × 8", "inverse-off-by-one"),
    # and ⌈5/2⌉ = 3 for the padding that keeps the size (5 − 1)/2 = 2
    ("cifar-convnet", "t1c.padding", "3", "inverse-off-by-one"),
    # the share of MACs kept, 9,207,808/209,715,200 = 4.39%, for the reduction 95.61%
    ("mobilenet-yolo", "q1c.macs_reduction3", "4.39%", "reduction-vs-share"),
]

TRANSPOSED_SET = """
id: transposed-sizes
title: Transposed sizes
problems:
  - id: up
    title: up
    type: network
    input: [16, 16, 256]
    layers: [{kind: conv_transpose, name: up, out_channels: 256, kernel: 9}]
    parts: [{key: shape, quantity: shape.up}]
"""


#: Three 5×5 convolutions, only the first with stride 2: fields 5, 5 + 4·2 = 13, 13 + 4·2 = 21.
STRIDE_SET = """
id: strided-fields
title: Receptive fields after one strided layer
problems:
  - id: f
    title: f
    type: network
    input: [64, 64, 3]
    layers:
      - {kind: conv, name: conv1, out_channels: 8, kernel: 5, stride: 2, padding: 2}
      - {kind: conv, name: conv2, out_channels: 8, kernel: 5, padding: 2}
      - {kind: conv, name: conv3, out_channels: 8, kernel: 5, padding: 2}
    parts:
      - {key: rf2, quantity: rf.conv2}
      - {key: rf3, quantity: rf.conv3}
"""

#: Seed 004's first network trimmed to one block, its convolution without a bias (batch norm follows);
#: "excluded" asks the same count without batch norm's parameters (declared ``affine: false``).
#: conv1 5·5·3·32 = 2400, bn1 2·32 = 64, 16·16·32 = 8192 inputs to fc: 81920 + 10; 84,394 in all.
BATCHNORM_SET = """
id: batchnorm-net
title: Batch norm in a small network
problems:
  - id: bn
    title: bn
    text: conv 5×5 (32 filters, padding 2, no bias), batch norm, ReLU, 2×2 max pooling, flatten, fully connected to 10.
    type: network
    input: [32, 32, 3]
    layers:
      - {kind: conv, name: conv1, out_channels: 32, kernel: 5, padding: 2, bias: false}
      - {kind: batchnorm, name: bn1}
      - {kind: activation}
      - {kind: pool, kernel: 2, stride: 2}
      - {kind: flatten}
      - {kind: linear, name: fc, out_features: 10}
    parts:
      - {key: conv1, quantity: params.conv1}
      - {key: bn1, quantity: params.bn1}
      - {key: total, quantity: params.total}
  - id: excluded
    title: excluded
    text: The same network; count its parameters without batch norm's.
    type: network
    input: [32, 32, 3]
    layers:
      - {kind: conv, name: conv1, out_channels: 32, kernel: 5, padding: 2, bias: false}
      - {kind: batchnorm, name: bn1, affine: false}
      - {kind: activation}
      - {kind: pool, kernel: 2, stride: 2}
      - {kind: flatten}
      - {kind: linear, name: fc, out_features: 10}
    parts:
      - {key: total, quantity: params.total}
"""

#: A computed part is exact unless it says otherwise: this one takes hundredths of a percent.
REDUCTION_SET = """
id: reductions
title: A reduction computed from two counts
problems:
  - id: r
    title: r
    type: derived
    parts:
      - {key: cut, quantity: {reduction: [819200, 35968]}, tolerance: {abs: 0.01}, prompt: Parameters saved (%).}
"""


@pytest.mark.parametrize(("set_id", "key", "answer", "code"), CASES)
def test_the_mistake_is_named(set_id: str, key: str, answer: str, code: str) -> None:
    part = grade_submission(BANK[set_id], {key: answer}).parts[key]
    assert part.status is Status.INCORRECT
    assert part.misconception == code
    assert EXPLANATIONS[code].split(":")[0] in part.feedback or code == "channel-order"


def test_a_flipped_kernel_is_named_where_convolution_does_not_flip() -> None:
    """conv-arithmetic c1 slides the kernel as given; flipping it is the mistake (torch computes it)."""
    for student in (f"s{i}" for i in range(50)):
        params = next(p for p in BANK["conv-arithmetic"].variant(student).problems if p.id == "c1").params
        kernel = torch.tensor(params["kernel"], dtype=torch.float64)
        if torch.equal(kernel, torch.flip(kernel, (0, 1))):
            continue
        flipped = F.conv2d(
            torch.tensor(params["input"], dtype=torch.float64)[None, None],
            torch.flip(kernel, (0, 1))[None, None],
            stride=params["stride"],
            padding=params["padding"],
        )
        part = grade_submission(BANK["conv-arithmetic"], {"c1.output": flipped[0, 0].tolist()}, student=student)
        assert part.parts["c1.output"].misconception == "kernel-flipped"
        return
    pytest.fail("no student variant with an asymmetric kernel")


def test_the_forward_formula_for_a_transposed_convolution_is_named(tmp_path: Path) -> None:
    path = tmp_path / "transposed.yaml"
    path.write_text(TRANSPOSED_SET)
    # 16 + 9 − 1 = 24 is right; (16 − 9)/1 + 1 = 8 is the convolution formula
    part = grade_submission(load_set(path), {"up.shape": "8 x 8 x 256"}).parts["up.shape"]
    assert part.misconception == "transposed-size-formula"


@pytest.mark.parametrize(
    ("key", "answer", "code"),
    [
        # every stride left out: 5 + 4 = 9, 9 + 4 = 13
        ("f.rf2", "9", "receptive-field-stride-ignored"),
        ("f.rf3", "13", "receptive-field-stride-ignored"),
        # the previous layer's stride alone: conv2 grows by 4·2 = 8 (right), conv3 by 4·1: 13 + 4 = 17
        ("f.rf3", "17", "receptive-field-local-stride"),
        ("f.rf2", "13", None),
        ("f.rf3", "21", None),
    ],
)
def test_a_stride_left_out_and_a_local_stride_are_told_apart(
    tmp_path: Path, key: str, answer: str, code: str | None
) -> None:
    path = tmp_path / "fields.yaml"
    path.write_text(STRIDE_SET)
    part = grade_submission(load_set(path), {key: answer}).parts[key]
    assert (part.status is Status.CORRECT, part.misconception) == (code is None, code)


@pytest.mark.parametrize(
    ("key", "answer", "code"),
    [
        # batch norm's 2·32 left out: 0 for the layer, 84,394 − 64 in all
        ("bn.bn1", "0", "batchnorm-params-omitted"),
        ("bn.total", "84330", "batchnorm-params-omitted"),
        # counted where the question leaves them out: 84,330 + 64
        ("excluded.total", "84394", "batchnorm-params-counted"),
        # a bias on the convolution that feeds batch norm: 2400 + 32, and 84,394 + 32 in all; a bias
        # on every layer (bias-extra) gives the same, as fc has one: the specific cause is named
        ("bn.conv1", "(5*5*3 + 1)*32 = 2432", "bias-beside-batchnorm"),
        ("bn.total", "84426", "bias-beside-batchnorm"),
        ("excluded.total", "84362", "bias-beside-batchnorm"),
        ("bn.conv1", "2400", None),
        ("bn.bn1", "64", None),
        ("bn.total", "84394", None),
        ("excluded.total", "84330", None),
    ],
)
def test_batch_norm_mistakes(tmp_path: Path, key: str, answer: str, code: str | None) -> None:
    path = tmp_path / "batchnorm.yaml"
    path.write_text(BATCHNORM_SET)
    part = grade_submission(load_set(path), {key: answer}).parts[key]
    assert (part.status is Status.CORRECT, part.misconception) == (code is None, code)
    if code:
        # the explanation, then where the mistake's working parts from the worked solution
        assert part.feedback.split(" Your working parts from the worked solution")[0] == EXPLANATIONS[code]


def test_an_inverse_answer_one_short_is_named_in_every_variant() -> None:
    """conv-arithmetic c7 draws sizes per student: 165 for a kernel of 166 (the +1 dropped)."""
    problem_set = BANK["conv-arithmetic"]
    for student in (f"s{i}" for i in range(20)):
        kernel = problem_set.solve(student)["c7.kernel"].value
        graded = grade_submission(problem_set, {"c7.kernel": str(kernel - 1)}, student=student)
        assert graded.parts["c7.kernel"].misconception == "inverse-off-by-one", student


def test_the_share_kept_is_named_for_a_reduction_operation(tmp_path: Path) -> None:
    path = tmp_path / "reductions.yaml"
    path.write_text(REDUCTION_SET)
    # 1 − 35968/819200 = 95.609375% saved; 4.390625% is what is kept
    for answer, code in [("4.39%", "reduction-vs-share"), ("95.61%", None)]:
        part = grade_submission(load_set(path), {"r.cut": answer}).parts["r.cut"]
        assert (part.status is Status.CORRECT) == (code is None)
        assert part.misconception == code


#: MACs and FLOPs asked as reals: 3·3·3·16 = 432 multiply-accumulates at each of 30·30 positions.
REAL_COUNTS_SET = """\
id: real-counts
title: Counts asked as reals
problems:
  - id: c
    title: c
    type: network
    input: [32, 32, 3]
    layers: [{kind: conv, name: conv, out_channels: 16, kernel: 3}]
    parts:
      - {key: macs, quantity: macs.conv, kind: real}
      - {key: flops, quantity: flops.conv, kind: real, tolerance: {rel: 0.01}}
"""


@pytest.mark.parametrize(
    ("key", "answer", "code"),
    [
        # FLOPs for MACs and the reverse, exactly and within the part's tolerance (the default ±0.5%, or ±1%)
        ("c.macs", "777600", "macs-vs-flops"),
        ("c.macs", "778000", "macs-vs-flops"),
        ("c.flops", "388800", "macs-vs-flops"),
        ("c.flops", "385000", "macs-vs-flops"),
        # outside the tolerance: no mistake named
        ("c.macs", "790000", None),
        ("c.flops", "380000", None),
    ],
)
def test_macs_for_flops_is_named_where_counts_are_asked_as_reals(
    tmp_path: Path, key: str, answer: str, code: str | None
) -> None:
    path = tmp_path / "real-counts.yaml"
    path.write_text(REAL_COUNTS_SET)
    part = grade_submission(load_set(path), {key: answer}).parts[key]
    assert (part.status, part.misconception) == (Status.INCORRECT, code)


def test_every_code_has_a_test_and_an_explanation() -> None:
    tested = {code for *_, code in CASES} | {
        "kernel-flipped",
        "transposed-size-formula",
        "batchnorm-params-omitted",
        "batchnorm-params-counted",
        "bias-beside-batchnorm",
        # in test_graph_mistakes.py
        "projection-shortcut-omitted",
        # in tests/problems/test_network_batch.py (one image's values where a batch's are asked)
        "batch-ignored",
        "concat-as-add",
        # in test_slip_mistakes.py
        "groups-ignored",
        "dilation-ignored",
        "same-padding-symmetric",
        "bias-in-fan-in",
        "buffers-counted-as-params",
        "anchors-forgotten",
        # in test_norm_mistakes.py
        "groupnorm-params-omitted",
        "groupnorm-params-per-group",
        "instancenorm-params-omitted",
        "layernorm-params-omitted",
        # in test_reading_units.py and test_reading_memory_units.py (from the unit stated, or a bare figure)
        "mb-vs-mib",
        "bits-vs-bytes",
        # in test_setting_mistakes.py
        "same-padding-ignored",
        "pool-ceil-mode",
        "pool-ceil-window",
        # in tests/problems/test_geometry_vs_torchvision.py (torchvision's nms numbers boxes from 0)
        "boxes-numbered-from-0",
        "boxes-numbered-from-1",
        # in tests/problems/test_anchor_maps_vs_torchvision.py (an FPN's stride levels rounded the other way)
        "level-side-rounded-down",
        "level-side-rounded-up",
        # in test_code_mistakes.py (real mutated modules run in the sandbox)
        "stride-ignored",
        "gradient-not-accumulated",
        "gradient-not-summed-over-batch",
        "pool-gradient-to-all",
        # in test_code_new_mistakes.py (likewise, with the slips found in CS231n students' code)
        "padding-crop-empty",
        "pool-window-assigned",
        "backward-stride-ignored",
        "pool-size-ceil",
    }
    assert tested == set(EXPLANATIONS)
    assert set(EXPLANATIONS) >= CONTRACT_CODES


@pytest.mark.parametrize("set_id", sorted(BANK))
def test_a_right_answer_is_never_named_a_mistake(set_id: str) -> None:
    for student in [None] if not BANK[set_id].randomized else ["alice", "bob", "carol"]:
        answers = {k: to_json(a.kind, a.value) for k, a in BANK[set_id].solve(student).items()}
        graded = grade_submission(BANK[set_id], answers, student=student)
        for key in answers:  # (a written part has no reference: it waits for a grader)
            part = graded.parts[key]
            assert (part.status, part.misconception) == (Status.CORRECT, None), (key, part)
