"""The mistakes on group, instance and layer norm are named by codes of their own, with feedback
that speaks of that very layer, never of batch norm.

Every answer is computed from torch's modules: the right count from ``parameters()``, a scale and
shift left out as the count without that norm's ``parameters()``, the running statistics counted as
parameters as ``parameters()`` plus ``running_mean`` and ``running_var``. Each is graded end to end.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import torch
from torch import nn
from torchvision.models.vision_transformer import EncoderBlock

from grader.comparison.mistakes import EXPLANATIONS
from grader.comparison.reference import reference_for
from grader.engine import grade_submission
from grader.results import Status
from problems.loader import load_set
from problems.sets import ProblemSet

from torch_layers import VIT_ENCODER_BLOCK

torch.set_num_threads(1)

PARTING = " Your working parts from the worked solution at step "

#: A 3×3 convolution of 64 filters, then nn.GroupNorm(8, 64).
GROUPED = [
    {"kind": "conv", "name": "conv", "out_channels": 64, "kernel": 3, "padding": 1, "bias": False},
    {"kind": "groupnorm", "name": "norm", "groups": 8},
]
#: A 3×3 convolution of 32 filters, then nn.InstanceNorm2d(32, affine=True, track_running_stats=True).
INSTANCE = [
    {"kind": "conv", "name": "conv", "out_channels": 32, "kernel": 3},
    {"kind": "instancenorm", "name": "norm", "affine": True, "track_running_stats": True},
]


def network_set(tmp_path: Path, input_size: list[int], layers: list[dict[str, Any]]) -> ProblemSet:
    """A set of one network asking each named layer's parameters (``mlp.0``'s as ``mlp_0``) and the total."""
    names = [layer["name"] for layer in layers if "name" in layer and layer["kind"] != "add"]
    parts = [{"key": name.replace(".", "_"), "quantity": f"params.{name}"} for name in names]
    parts.append({"key": "total", "quantity": "params.total"})
    problem = {"id": "n", "title": "N", "type": "network", "input": input_size, "layers": layers, "parts": parts}
    path = tmp_path / "norms.yaml"
    path.write_text(json.dumps({"id": "norms", "title": "Norms", "problems": [problem]}))
    return load_set(path)


def count(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def running(norm: nn.Module) -> int:
    """The running statistics a student takes for parameters: mean and variance (not the batch count)."""
    return sum(b.numel() for name, b in norm.named_buffers() if name in ("running_mean", "running_var"))


def assert_named(problem_set: ProblemSet, key: str, answer: int, code: str, parts_at: str | None = "") -> None:
    """``answer`` is graded wrong, named ``code`` with its explanation, and its working parts from
    the worked solution at a step holding ``parts_at`` (the norm the question has; a total's at the
    sum; None: at no step named); the feedback never speaks of batch norm."""
    part = grade_submission(problem_set, {f"n.{key}": str(answer)}).parts[f"n.{key}"]
    assert (part.status, part.misconception) == (Status.INCORRECT, code)
    explanation, _, parting = part.feedback.partition(PARTING)
    assert explanation == EXPLANATIONS[code]
    assert (parting and parts_at in parting) if parts_at is not None else not parting, part.feedback
    assert "batch" not in part.feedback.lower(), part.feedback


def assert_right(problem_set: ProblemSet, answers: dict[str, int]) -> None:
    graded = grade_submission(problem_set, {f"n.{key}": str(value) for key, value in answers.items()}).parts
    assert {f"n.{key}": (graded[f"n.{key}"].status, graded[f"n.{key}"].misconception) for key in answers} == {
        f"n.{key}": (Status.CORRECT, None) for key in answers
    }


def test_a_vit_blocks_layer_norms_left_out_are_named(tmp_path: Path) -> None:
    """Both layer norms of the block left out, or one of them alone (a slip: on ln_1 or on ln_2,
    which part from the worked total at different steps, so none is named)."""
    problem_set = network_set(tmp_path, [197, 768], VIT_ENCODER_BLOCK)
    block = EncoderBlock(12, 768, 3072, 0.0, 0.0)
    total, ln_1, ln_2 = count(block), count(block.ln_1), count(block.ln_2)
    assert_right(problem_set, {"ln_1": ln_1, "ln_2": ln_2, "total": total})
    assert_named(problem_set, "ln_1", 0, "layernorm-params-omitted", "layer norm")
    assert_named(problem_set, "total", total - ln_1 - ln_2, "layernorm-params-omitted")
    assert_named(problem_set, "total", total - ln_1, "layernorm-params-omitted", None)


def test_a_layer_norm_without_its_shift_left_out_is_named(tmp_path: Path) -> None:
    """``nn.LayerNorm(768, bias=False)`` has d parameters, its scale alone."""
    layers = [{"kind": "layernorm", "name": "ln", "bias": False}, {"kind": "linear", "name": "fc", "out_features": 10}]
    problem_set = network_set(tmp_path, [197, 768], layers)
    norm, fc = nn.LayerNorm(768, bias=False), nn.Linear(768, 10)
    assert_right(problem_set, {"ln": count(norm), "total": count(norm) + count(fc)})
    assert_named(problem_set, "ln", 0, "layernorm-params-omitted", "layer norm's scale left out")
    assert_named(problem_set, "total", count(fc), "layernorm-params-omitted")


def test_group_norms_scale_and_shift_left_out_or_counted_per_group_are_named(tmp_path: Path) -> None:
    """Left out; or one scale and one shift per group, as its statistics: one value of each of its
    parameter tensors per group (2·G)."""
    problem_set = network_set(tmp_path, [32, 32, 3], GROUPED)
    conv, norm = nn.Conv2d(3, 64, 3, padding=1, bias=False), nn.GroupNorm(8, 64)
    assert_right(problem_set, {"conv": count(conv), "norm": count(norm), "total": count(conv) + count(norm)})
    assert_named(problem_set, "norm", 0, "groupnorm-params-omitted", "group norm")
    assert_named(problem_set, "total", count(conv), "groupnorm-params-omitted")
    per_group = len(list(norm.parameters())) * norm.num_groups
    assert_named(problem_set, "norm", per_group, "groupnorm-params-per-group", "per group")
    assert_named(problem_set, "total", count(conv) + per_group, "groupnorm-params-per-group")


def test_a_group_norm_of_one_group_per_channel_has_no_per_group_mistake(tmp_path: Path) -> None:
    """``nn.GroupNorm(64, 64)``: as many groups as channels, so per group is per channel."""
    layers = [GROUPED[0], {**GROUPED[1], "groups": 64}]
    problem_set = network_set(tmp_path, [32, 32, 3], layers)
    norm = nn.GroupNorm(64, 64)
    assert len(list(norm.parameters())) * norm.num_groups == count(norm)
    codes = {code.partition("@")[0] for part in reference_for(problem_set).parts.values() for code, _ in part.mistakes}
    assert "groupnorm-params-omitted" in codes and "groupnorm-params-per-group" not in codes


def test_an_affine_instance_norms_mistakes_are_named(tmp_path: Path) -> None:
    """Its scale and shift left out, or its running mean and variance counted as parameters."""
    problem_set = network_set(tmp_path, [32, 32, 3], INSTANCE)
    conv = nn.Conv2d(3, 32, 3)
    norm = nn.InstanceNorm2d(32, affine=True, track_running_stats=True)
    total = count(conv) + count(norm)
    assert_right(problem_set, {"conv": count(conv), "norm": count(norm), "total": total})
    assert_named(problem_set, "norm", 0, "instancenorm-params-omitted", "instance norm")
    assert_named(problem_set, "total", count(conv), "instancenorm-params-omitted")
    assert_named(problem_set, "norm", count(norm) + running(norm), "buffers-counted-as-params", "running mean")
    assert_named(problem_set, "total", total + running(norm), "buffers-counted-as-params")


def test_an_instance_norm_that_is_not_affine_has_no_scale_and_shift_to_leave_out(tmp_path: Path) -> None:
    """torch's default ``nn.InstanceNorm2d(32, track_running_stats=True)``: 0 parameters, so no
    ``instancenorm-params-omitted``; its running statistics counted give 2·C."""
    layers = [INSTANCE[0], {"kind": "instancenorm", "name": "norm", "track_running_stats": True}]
    problem_set = network_set(tmp_path, [32, 32, 3], layers)
    norm = nn.InstanceNorm2d(32, track_running_stats=True)
    assert count(norm) == 0
    codes = {code.partition("@")[0] for part in reference_for(problem_set).parts.values() for code, _ in part.mistakes}
    assert "instancenorm-params-omitted" not in codes
    assert_named(problem_set, "norm", running(norm), "buffers-counted-as-params", "running mean")


@pytest.mark.parametrize(
    ("input_size", "layers"),
    [([197, 768], VIT_ENCODER_BLOCK), ([32, 32, 3], GROUPED), ([32, 32, 3], INSTANCE)],
    ids=["layernorm", "groupnorm", "instancenorm"],
)
def test_no_mistake_named_on_a_network_without_batch_norm_speaks_of_it(
    tmp_path: Path, input_size: list[int], layers: list[dict[str, Any]]
) -> None:
    """Every mistaken answer the reference knows, graded: its feedback never says batch norm."""
    problem_set = network_set(tmp_path, input_size, layers)
    named: set[str] = set()
    for key, part in reference_for(problem_set).parts.items():
        for _, value in part.mistakes:
            graded = grade_submission(problem_set, {key: str(value)}).parts[key]
            assert graded.misconception is not None and "batch norm" not in graded.feedback.lower(), graded
            named.add(graded.misconception)
    kind = next(layer["kind"] for layer in layers if layer["kind"].endswith("norm"))
    assert f"{kind}-params-omitted" in named
    assert not any("batchnorm" in code for code in named), named
