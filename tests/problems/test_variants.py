"""Per-student variants: reproducible, different between students, always solvable, and
consistent with PyTorch (the variant's own parameters re-run through torch)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from problems.loader import load_bank
from problems.render import to_json
from problems.sets import ProblemSet

BANK = load_bank()
#: The sets whose numbers vary per student (a set of code parts is randomized for its test inputs,
#: which tests/problems/test_code_draws.py holds to the same rules).
RANDOMIZED = sorted(set_id for set_id, s in BANK.items() if any(problem.vary for problem in s.problems))
STUDENTS = [f"student-{i:03d}" for i in range(40)]


def test_there_are_three_randomized_sets_of_eight_parts_or_more() -> None:
    assert len(RANDOMIZED) >= 3
    assert all(len(BANK[set_id].answer_keys()) >= 8 for set_id in RANDOMIZED)


@pytest.mark.parametrize("set_id", RANDOMIZED)
def test_same_student_same_numbers(set_id: str) -> None:
    first = BANK[set_id].variant("alice")
    again = load_bank()[set_id].variant("alice")  # a fresh load: nothing cached in between
    assert [p.params for p in first.problems] == [p.params for p in again.problems]


@pytest.mark.parametrize("set_id", RANDOMIZED)
def test_different_students_get_different_numbers(set_id: str) -> None:
    drawn = {repr([p.params for p in BANK[set_id].variant(s).problems]) for s in STUDENTS}
    assert len(drawn) > len(STUDENTS) * 0.9


@pytest.mark.parametrize("set_id", RANDOMIZED)
def test_every_variant_solves_every_key(set_id: str) -> None:
    problem_set = BANK[set_id]
    for student in STUDENTS:
        assert set(problem_set.solve(student)) == set(problem_set.answer_keys())


def test_without_a_student_the_declared_numbers_are_used() -> None:
    problem_set = BANK["conv-arithmetic"]
    assert problem_set.variant(None) is problem_set


def _t(values: object) -> torch.Tensor:
    return torch.tensor(values, dtype=torch.float64)


def _params(problem_set: ProblemSet, problem_id: str, index: int = 0) -> dict:
    return [p for p in problem_set.problems if p.id == problem_id][index].params


@pytest.mark.parametrize("student", STUDENTS[:20])
def test_conv_arithmetic_variants_agree_with_torch(student: str) -> None:
    chosen = BANK["conv-arithmetic"].variant(student)
    answers = {k: to_json(a.kind, a.value) for k, a in chosen.solve().items()}
    c1 = _params(chosen, "c1")
    y = F.conv2d(_t(c1["input"])[None, None], _t(c1["kernel"])[None, None], stride=c1["stride"], padding=c1["padding"])
    np.testing.assert_array_equal(np.asarray(answers["c1.output"]), y[0, 0].numpy())
    assert answers["c1.shape"] == list(y.shape[2:])
    c2 = _params(chosen, "c2")
    flipped = torch.flip(_t(c2["kernel"]), (0, 1))
    y = F.conv2d(_t(c2["input"])[None, None], flipped[None, None], padding=1)
    np.testing.assert_array_equal(np.asarray(answers["c2.output"]), y[0, 0].numpy())
    c3 = _t(_params(chosen, "c3")["input"])[None, None]
    np.testing.assert_array_equal(np.asarray(answers["c3.max"]), F.max_pool2d(c3, 2, 2)[0, 0].numpy())
    np.testing.assert_allclose(np.asarray(answers["c3.avg"]), F.avg_pool2d(c3, 2, 2)[0, 0].numpy())
    c4 = _params(chosen, "c4")
    y = F.conv_transpose2d(_t(c4["input"])[None, None], _t(c4["kernel"])[None, None], stride=c4["stride"])
    np.testing.assert_array_equal(np.asarray(answers["c4.output"]), y[0, 0].numpy())
    c5 = _params(chosen, "c5")
    layer = c5["layers"][0]
    conv = nn.Conv2d(c5["input"][2], layer["out_channels"], layer["kernel"], layer["stride"], layer["padding"])
    out = conv(torch.zeros(1, c5["input"][2], c5["input"][0], c5["input"][1]))
    assert answers["c5.shape"] == [out.shape[2], out.shape[3], out.shape[1]]
    assert answers["c5.params"] == sum(p.numel() for p in conv.parameters())
    assert answers["c5.macs"] == out.numel() * c5["input"][2] * layer["kernel"] ** 2
    c6 = _params(chosen, "c6")
    same = nn.Conv2d(1, 1, c6["kernel"], padding=answers["c6.padding"])
    assert same(torch.zeros(1, 1, 20, 20)).shape[-1] == 20
    c7 = _params(chosen, "c7")
    sized = nn.Conv2d(1, 1, answers["c7.kernel"])(torch.zeros(1, 1, c7["size_in"], c7["size_in"]))
    assert sized.shape[-1] == c7["size_out"]


@pytest.mark.parametrize("student", STUDENTS[:20])
def test_network_costs_variants_agree_with_torch(student: str) -> None:
    chosen = BANK["network-costs"].variant(student)
    answers = {k: to_json(a.kind, a.value) for k, a in chosen.solve().items()}
    spec = _params(chosen, "n1")
    (h, w, c), layers = spec["input"], spec["layers"]
    conv1 = nn.Conv2d(c, layers[0]["out_channels"], layers[0]["kernel"], padding=layers[0]["padding"])
    conv2 = nn.Conv2d(layers[0]["out_channels"], layers[3]["out_channels"], 3, padding=1)
    x1 = conv1(torch.zeros(1, c, h, w))
    x2 = F.max_pool2d(x1, 2, 2)
    x3 = conv2(x2)
    x4 = F.max_pool2d(x3, 2, 2)
    fc = nn.Linear(x4.numel(), layers[7]["out_features"])

    def hwc(t: torch.Tensor) -> list[int]:
        return [t.shape[2], t.shape[3], t.shape[1]]

    assert [answers["n1.shape1"], answers["n1.shape2"], answers["n1.shape3"]] == [hwc(x1), hwc(x2), hwc(x4)]
    counts = [sum(p.numel() for p in m.parameters()) for m in (conv1, conv2, fc)]
    assert [answers["n1.conv1_params"], answers["n1.conv2_params"], answers["n1.fc_params"]] == counts
    assert answers["n1.total"] == sum(counts)
    macs1 = x1.numel() * c * layers[0]["kernel"] ** 2
    macs2 = x3.numel() * layers[0]["out_channels"] * 9
    assert [answers["n1.conv1_macs"], answers["n1.conv2_macs"]] == [macs1, macs2]
    assert answers["n1.flops"] == 2 * (macs1 + macs2 + fc.in_features * fc.out_features)
    k1 = layers[0]["kernel"]  # receptive field by the textbook recursion: r += (k − 1)·jump
    assert answers["n1.rf_conv2"] == k1 + 1 + 2 * 2
    assert answers["n1.rf_pool2"] == k1 + 1 + 2 * 2 + 1 * 2


@pytest.mark.parametrize("student", STUDENTS[:20])
def test_detection_head_variants_follow_the_papers(student: str) -> None:
    chosen = BANK["detection-heads"].variant(student)
    answers = {k: to_json(a.kind, a.value) for k, a in chosen.solve().items()}
    v1, v2, v3 = (_params(chosen, p) for p in ("d1", "d2", "d3"))
    assert answers["d1.depth"] == 5 * v1["boxes"] + v1["classes"]  # S×S×(5B + C)
    assert answers["d1.shape"] == [v1["grid"], v1["grid"], answers["d1.depth"]]
    assert answers["d1.boxes"] == v1["grid"] ** 2 * v1["boxes"]
    assert answers["d2.depth"] == v2["anchors"] * (5 + v2["classes"])
    assert answers["d2.grid"] == v2["input_size"] // 32
    assert answers["d2.boxes"] == (v2["input_size"] // 32) ** 2 * v2["anchors"]
    assert answers["d3.depth"] == 3 * (5 + v3["classes"])
    grids = [v3["input_size"] // s for s in (32, 16, 8)]
    assert answers["d3.shapes"] == [[g, g, answers["d3.depth"]] for g in grids]
    assert answers["d3.boxes"] == 3 * sum(g * g for g in grids)
