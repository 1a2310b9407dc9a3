"""A network's ``batch``: the values and memory a forward pass stores and the MACs it does, for a
batch of images, against torch on the meta device (torchvision's ResNet-18 as the built-in set
``classic-architectures`` writes it, in float16 on a batch of 32): memory as the bytes of the
distinct tensors a forward pass writes (``numel()·element_size()``), MACs as half the FLOPs
``FlopCounterMode`` counts. Parameters and shapes stay those of one image."""

from __future__ import annotations

from fractions import Fraction

import pytest
import torch
import torchvision.models as tv

from problems.loader import BUILT_IN, SetFileError, load_set, parse_set
from problems.solvers.steps import Derivations
from problems.types.network import NetworkProblem

from torch_layers import flop_counter_macs, stored_bytes

torch.set_num_threads(1)
META = torch.device("meta")


CLASSICS = load_set(BUILT_IN / "classic-architectures.yaml")


def resnet18(**changes: object) -> NetworkProblem:
    problem = next(p for p in CLASSICS.problems if p.id == "resnet18")
    assert isinstance(problem.spec, NetworkProblem)
    return problem.spec.model_copy(update=changes)


def test_a_batch_of_32_in_float16_is_what_torch_stores_and_multiplies() -> None:
    one = {n: q.value for n, q in resnet18().solve().items()}
    ours = {n: q.value for n, q in resnet18(batch=32, dtype="float16").solve().items()}
    with META:
        model = tv.resnet18().eval().half()
        x = torch.zeros(32, 3, 224, 224, dtype=torch.float16)
    assert ours["memory.total"] == stored_bytes(model, x) == 32 * 2 * one["values.total"]
    assert ours["memory_mib.total"] == Fraction(ours["memory.total"], 2**20)
    assert ours["values.total"] == 32 * one["values.total"]
    assert ours["macs.total"] == flop_counter_macs(model, x) == 32 * one["macs.total"]
    assert ours["flops.total"] == 2 * ours["macs.total"]
    assert ours["macs.conv1"] == 32 * one["macs.conv1"] and ours["values.conv1"] == 32 * one["values.conv1"]
    assert ours["params.total"] == one["params.total"] == sum(p.numel() for p in model.parameters())
    assert ours["output"] == one["output"] == (1000,)


def test_the_worked_steps_multiply_by_the_batch() -> None:
    problem = resnet18(batch=8, dtype="float16")
    steps = Derivations()
    found = problem.solve(steps)
    for name in ("memory_mib.total", "macs.total", "flops.layer1", "macs.conv1", "memory.conv1", "flops.fc"):
        assert steps[name][-1].value == pytest.approx(float(found[name].value)), name
        assert any("for a batch of 8" in step.text for step in steps[name]), name
    assert "A batch of 8 inputs at once." in problem.describe()


SET = """\
id: batch
title: A batch
problems:
  - id: n
    title: n
    type: network
    input: [32, 32, 3]
    batch: {batch}
    layers:
      - {{kind: conv, name: conv1, out_channels: 8, kernel: 3}}
    parts:
      - {{key: a, quantity: memory_mib.total}}
"""


@pytest.mark.parametrize(("batch", "message"), [(0, "greater than 0"), (100_000, "less than or equal to 65536")])
def test_a_batch_out_of_bounds_is_refused_at_its_line(batch: int, message: str) -> None:
    with pytest.raises(SetFileError) as refused:
        parse_set(SET.format(batch=batch))
    assert any(issue.line == 8 and message in issue.message for issue in refused.value.issues), refused.value.issues
