"""Worked solutions that teach, golden: a repeat's count with its rule and arithmetic, a count of
layers grouped by where they are, a sequence's receptive field along its length. Each figure is
also torch's (a stack of modules on the meta device, or torchvision's model)."""

from __future__ import annotations

from typing import Any

import torch
import torchvision.models as tv
from torch import nn

from problems.loader import BUILT_IN, load_set
from problems.solvers.steps import Derivations
from problems.types.network import NetworkProblem

META = torch.device("meta")


def last_step(problem: NetworkProblem, quantity: str) -> tuple[str, Any]:
    steps = Derivations(wanted={quantity})
    found = problem.solve(steps)
    assert steps[quantity][-1].value == found[quantity].value
    return steps[quantity][-1].text, found[quantity].value


def test_a_repeat_until_a_size_shows_its_rule_and_arithmetic() -> None:
    problem = NetworkProblem(type="network", input=[224, 224, 3], layers=[
        {"kind": "repeat", "name": "convs", "until": {"size": 8},
         "layer": {"kind": "conv", "name": "c", "out_channels": 4, "kernel": 7}},
    ])  # fmt: skip
    text, count = last_step(problem, "count.convs")
    assert text == (
        "convs is repeated until the map is 8×8: each instance takes 6 off the side, so (224 − 8)/6 = 36 "
        "instances: after 36 instances it is 4×8×8"
    )
    with META:
        stack = nn.Sequential(nn.Conv2d(3, 4, 7), *(nn.Conv2d(4, 4, 7) for _ in range(count - 1)))
        assert stack(torch.empty(1, 3, 224, 224)).shape[-1] == 8


def test_a_repeat_that_halves_shows_the_power() -> None:
    problem = NetworkProblem(type="network", input=[224, 224, 3], layers=[
        {"kind": "repeat", "name": "downs", "until": {"size": 7},
         "layer": {"kind": "conv", "name": "c", "out_channels": 4, "kernel": 3, "stride": 2, "padding": 1}},
    ])  # fmt: skip
    text, count = last_step(problem, "count.downs")
    assert text == (
        "downs is repeated until the map is 7×7: each instance divides the side by 2, 224/2^5 = 7: after 5 "
        "instances it is 4×7×7"
    )
    with META:
        stack = nn.Sequential(nn.Conv2d(3, 4, 3, 2, 1), *(nn.Conv2d(4, 4, 3, 2, 1) for _ in range(count - 1)))
        assert stack(torch.empty(1, 3, 224, 224)).shape[-1] == 7


def test_a_count_of_many_layers_is_grouped_by_block() -> None:
    resnet50 = next(p for p in load_set(BUILT_IN / "classic-architectures.yaml").problems if p.id == "resnet50")
    assert isinstance(resnet50.spec, NetworkProblem)
    text, count = last_step(resnet50.spec, "layers.total")
    assert text == (
        "Layers with weights in total: 1 × conv in conv1, then 10 × conv in layer1, then 13 × conv in layer2, "
        "then 19 × conv in layer3, then 10 × conv in layer4, then 1 × linear in fc: 1 + 10 + 13 + 19 + 10 + 1 = 54"
    )
    with META:
        model = tv.resnet50()
    assert count == sum(isinstance(m, nn.Conv2d | nn.Linear) for m in model.modules())


def test_a_dilated_sequence_field_grows_along_its_length() -> None:
    problem = NetworkProblem(type="network", input=[100, 1], layers=[
        {"kind": "conv1d", "name": f"d{d}", "out_channels": 2, "kernel": 2, "dilation": d} for d in (1, 2, 4)
    ])  # fmt: skip
    steps = Derivations(wanted={"rf.d4"})
    problem.solve(steps)
    assert [step.text for step in steps["rf.d4"]] == [
        "At the input a pixel sees itself: field 1, jump 1.",
        "d1: r = r_in + (k − 1)·j_in = 1 + (2 − 1)·1 = 2; j = j_in·s = 1·1 = 1 (field 2, jump 1)",
        "d2: r = r_in + D·(k − 1)·j_in = 2 + 2·(2 − 1)·1 = 4; j = j_in·s = 1·1 = 1 (field 4, jump 1)",
        "d4: r = r_in + D·(k − 1)·j_in = 4 + 4·(2 − 1)·1 = 8; j = j_in·s = 1·1 = 1 (field 8, jump 1)",
        "rf of d4: 8",
    ]
