"""What a wrong answer means against its reference: the named mistake, else a relation, else
``other``; on a randomized set, the same slip by students with other numbers means the same.

The answers are the seed coursework's (``test_seeds.py`` says where each comes from) or the slips
those questions invite, graded by the engine and stored as the service stores them."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from grader.comparison.meaning import OTHER, WrongAnswers, meaning
from grader.engine import grade_submission
from grader.results import GradedPartJSON
from problems.loader import load_bank
from problems.sets import ProblemSet

BANK = load_bank()
FC, RGB, BASICS, MOBILE, CIFAR = "fc-vs-conv", "rgb-convolution", "conv-pool-basics", "mobilenet-yolo", "cifar-convnet"
CLASSICS = "classic-architectures"
#: Seed 004's Sobel answer: the cross-correlation, where the true convolution was asked.
SOBEL = r"\begin{bmatrix} 2 & -1 & 11 & -2 & -13 \\ 10 & -4 & 8 & 2 & -18 \\ 14 & -1 & -5 & 6 & -9 \end{bmatrix}"


def graded(problem_set: ProblemSet, key: str, answer: str, variant: str | None = None) -> GradedPartJSON:
    part = grade_submission(problem_set, {key: answer}, student=variant).parts[key].to_json()
    assert part["status"] in ("incorrect", "partial"), part
    return part


@pytest.mark.parametrize(
    ("set_id", "key", "answer", "code"),
    [
        # seed 000: the 256→256 layers only, 99 of 104 and 21 of 26: five layers left out both times
        (FC, "p4.down_layers", "99", "relation:minus-5"),
        (FC, "p4.up_layers", "21", "relation:minus-5"),
        # seed 003: "about 86%" for 95.22% relates to nothing
        (MOBILE, "q1c.param_reduction2", "86%", "other"),
        # seeds 001, 003, 004: named mistakes keep their code
        (RGB, "q8.shape", r"$$\text{Output tensor} = 64 \times 64 \times 16$$", "mistake:output-size-rounding"),
        (MOBILE, "q1b.rf3", r"$$R_3 = 13 + (5 - 1) \times 2 = 21.$$", "mistake:receptive-field-local-stride"),
        (CIFAR, "t1a.output", SOBEL, "mistake:kernel-not-flipped"),
        # the maps counted instead of the steps between them: 224, 218, …, 8 are 37 maps, 36 layers
        (FC, "p2b.num_layers", "37", "relation:plus-one"),
        # the pooling left out: 504×504 for 252×252
        (CIFAR, "t1e.shape", "504×504", "relation:doubled"),
        # the kernel's area for its side
        (CIFAR, "t1d.kernel", "81", "relation:squared"),
        # the 2×2 output of a 4×4 input read transposed
        (FC, "p3.conv", "[[1, -1], [0, 4]]", "relation:transposed"),
        # the last pooling without its padding: 5×5×20 for 6×6×20, a slip on that one layer
        (BASICS, "ex4.shapes", "10x10x40, 10x10x40, 10x10x40, 10x10x20, 10x10x20, 5x5x20", "mistake:padding-ignored"),
        # average pooling by integer division
        (BASICS, "ex3.avg", "[[4, 4], [4, 3]]", "relation:floor"),
        # the MACs formula with K for K²
        (MOBILE, "q1a.macs", r"H \times W \times N \times K \times M", "relation:missing-factor-K"),
        # a share asked as a fraction given in percent, and MACs "in G" written without the unit
        (CLASSICS, "alexnet.fc_share", "95.96", "relation:percent-for-fraction"),
        (CLASSICS, "alexnet.macs", "0.714", "relation:power-of-ten--9"),
    ],
)
def test_the_meaning_of_a_wrong_answer(set_id: str, key: str, answer: str, code: str) -> None:
    problem_set = BANK[set_id]
    part = graded(problem_set, key, answer)
    assert WrongAnswers(problem_set).meaning(key, part, None).code == code


@pytest.mark.parametrize(
    ("set_id", "key", "answer", "code"),
    [
        # the Sobel kernel flipped is the kernel negated: the cross-correlation is the answer negated
        (CIFAR, "t1a.output", SOBEL, "relation:negated"),
        (RGB, "q7.shape", "16 × 126 × 126", "relation:channels-first"),
        (RGB, "q7.shape", "125x125x16", "relation:minus-one"),
        (RGB, "q8.shape", "64 × 64 × 16", "relation:plus-one"),
        (RGB, "q2.output", "[[45, 45], [54, 54]]", "relation:smaller-matrix"),
        (MOBILE, "q1c.param_reduction2", "0.952", "relation:fraction-for-percent"),
        (MOBILE, "q1b.macs1", "39,321,600", "relation:doubled"),
        (MOBILE, "q1a.output_shape", "N x H x W", "relation:reordered"),
    ],
)
def test_under_a_named_mistake_the_relation_its_value_shows(set_id: str, key: str, answer: str, code: str) -> None:
    """With the code removed, what the value alone says (the code is named first when there is one)."""
    problem_set = BANK[set_id]
    part = graded(problem_set, key, answer)
    assert part["misconception"] is not None
    stripped = {**part, "misconception": None}
    assert WrongAnswers(problem_set).meaning(key, stripped, None).code == code


def test_a_part_without_a_reference_or_a_reading_means_nothing_more() -> None:
    part = graded(BANK[FC], "p2b.num_layers", "37")
    assert WrongAnswers(BANK[FC]).meaning("p9.gone", part, None) == OTHER
    assert meaning({**part, "read_as": None}, BANK[FC].solve()["p2b.num_layers"]) == OTHER


def conv1_params(problem_set: ProblemSet, variant: str) -> int:
    """conv1 of the student's variant of network-costs, counted by torch."""
    params = problem_set.variant(variant).problems[0].params
    layer = params["layers"][0]  # the set file's first layer
    input_channels = params["input"][2]  # H×W×C
    conv = nn.Conv2d(input_channels, layer["out_channels"], layer["kernel"], device=torch.device("meta"))
    return sum(p.numel() for p in conv.parameters())


def test_students_with_other_numbers_and_the_same_slip_share_a_meaning() -> None:
    """network-costs is randomized: one more than conv1's parameters is "reference + 1" for each."""
    problem_set = BANK["network-costs"]
    variants = ["alice", "bob"]
    counts = [conv1_params(problem_set, v) for v in variants]
    assert counts[0] != counts[1]
    meanings = WrongAnswers(problem_set)
    found = {
        meanings.meaning("n1.conv1_params", graded(problem_set, "n1.conv1_params", str(n + 1), v), v)
        for n, v in zip(counts, variants, strict=True)
    }
    assert [m.code for m in found] == ["relation:plus-one"]
