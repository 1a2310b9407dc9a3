"""A network's ``batch``: the values and memory a forward pass stores and the MACs it does, for a
batch of images, against torch on the meta device (torchvision's ResNet-18 as the built-in set
``classic-architectures`` writes it, in float16 on a batch of 32): memory as the bytes of the
distinct tensors a forward pass writes (``numel()·element_size()``), MACs as half the FLOPs
``FlopCounterMode`` counts. Parameters and shapes stay those of one image; one image's values
where the batch's are asked are named ``batch-ignored``."""

from __future__ import annotations

from fractions import Fraction

import pytest
import torch
import torchvision.models as tv

from grader.comparison.mistakes import EXPLANATIONS
from grader.engine import grade_submission
from grader.results import Status
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


STEM = """\
id: stem
title: A batch
problems:
  - id: n
    title: n
    type: network
    input: [224, 224, 3]
    batch: 32
    dtype: float16
    layers:
      - {kind: conv, name: conv1, out_channels: 64, kernel: 7, stride: 2, padding: 3, bias: false}
      - {kind: batchnorm, name: bn1}
      - {kind: activation}
      - {kind: pool, name: maxpool, kernel: 3, stride: 2, padding: 1}
    parts:
      - {key: memory, quantity: memory_mib.total, kind: real, tolerance: {rel: 0.001}}
      - {key: bytes, quantity: memory.total}
      - {key: values, quantity: values.conv1}
      - {key: macs, quantity: macs.total}
      - {key: flops, quantity: flops.conv1}
      - {key: params, quantity: params.total}
"""


def test_one_images_value_where_the_batch_is_asked_is_named_batch_ignored() -> None:
    """ResNet-18's stem on 32 images in float16: each value torch gives for one image is named,
    with its sentence; the batch's values are right, and the parameters are one image's anyway."""
    with META:
        stem = torch.nn.Sequential(torch.nn.Conv2d(3, 64, 7, 2, 3, bias=False), torch.nn.BatchNorm2d(64),
                                   torch.nn.ReLU(inplace=True), torch.nn.MaxPool2d(3, 2, 1)).eval().half()  # fmt: skip
        one, batch = (torch.zeros(n, 3, 224, 224, dtype=torch.float16) for n in (1, 32))
        with torch.no_grad():
            conv_values = stem[0](one).numel()
    bytes_, macs = stored_bytes(stem, one), flop_counter_macs(stem, one)
    one_image = {"n.memory": f"{bytes_ / 2**20:.4f}", "n.bytes": f"{bytes_:,}", "n.values": str(conv_values),
                 "n.macs": str(macs), "n.flops": str(2 * flop_counter_macs(stem[0], one))}  # fmt: skip
    problem_set = parse_set(STEM)
    graded = grade_submission(problem_set, {**one_image, "n.params": str(sum(p.numel() for p in stem.parameters()))})
    for key in one_image:
        part = graded.parts[key]
        assert (part.status, part.misconception) == (Status.INCORRECT, "batch-ignored"), (key, part)
        assert (part.feedback or "").startswith(EXPLANATIONS["batch-ignored"]), part.feedback
    assert graded.parts["n.params"].status is Status.CORRECT
    whole = {"n.memory": f"{stored_bytes(stem, batch) / 2**20:.4f}", "n.bytes": str(stored_bytes(stem, batch)),
             "n.values": str(32 * conv_values), "n.macs": str(flop_counter_macs(stem, batch)),
             "n.flops": str(2 * flop_counter_macs(stem[0], batch))}  # fmt: skip
    right = grade_submission(problem_set, whole)
    assert {key: right.parts[key].status for key in whole} == dict.fromkeys(whole, Status.CORRECT)
