"""The sandbox's torch probes (``@torch.forward``, ``@torch.parameters``, ``@torch.train``) on
students' modules, each against torch itself run on the same module outside the sandbox (the
oracle): the parameter counts against ``sum(p.numel())``, the logits against the model's own, the
losses against ``torch.optim.Adam``'s."""

from __future__ import annotations

import types
from collections.abc import Iterator

import numpy as np
import pytest
import torch

from harness.student_code import LENET
from sandbox import Call, Limits, Sandbox, Status
from tests.sandbox.probes import LIMITS, require_bwrap

TORCH_LIMITS = Limits(pids=24, wall_seconds=5.0, cpu_seconds=5, scratch_bytes=8 << 20)

# a layer used twice (its weights counted once), batch norm (buffers are no parameters), a lazy head,
# and a parameter of the model's own, outside any layer
UNUSUAL = """
import torch
from torch import nn

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 3, 3, padding=1)
        self.norm = nn.BatchNorm2d(3)
        self.again = self.conv
        self.head = nn.LazyLinear(10)
        self.scale = nn.Parameter(torch.ones(1))

    def forward(self, x):
        x = self.norm(self.again(self.conv(x)))
        return self.head(torch.flatten(x, 1)) * self.scale
"""

DETACHED = """
import torch
from torch import nn

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(3 * 32 * 32, 10)

    def forward(self, x):
        return self.fc(torch.flatten(x, 1)).detach()
"""


@pytest.fixture(scope="module")
def torch_box() -> Iterator[Sandbox]:
    """One warm torch sandbox for the module's tests (starting one costs seconds)."""
    require_bwrap()
    with Sandbox(TORCH_LIMITS, runtime="torch") as box:
        box.start()
        yield box


def loaded(source: str) -> types.ModuleType:
    """The module loaded here, outside the sandbox, for the oracle (the tests' own sources only)."""
    module = types.ModuleType("oracle")
    exec(compile(source, "oracle.py", "exec"), module.__dict__)
    return module


def batch(count: int, seed: int = 1) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=(count, 3, 32, 32)).astype(np.float32)


@pytest.mark.parametrize("source", [LENET, UNUSUAL], ids=["lenet", "shared-lazy-batchnorm"])
def test_parameter_counts_are_torchs_own(torch_box: Sandbox, source: str) -> None:
    (result,) = torch_box.run(source, [Call("@torch.parameters", ("Net", batch(1)))])
    assert result.status is Status.OK, result.message
    per_tensor, per_layer, names = result.outputs
    model = loaded(source).Net()
    model(torch.from_numpy(batch(1)))  # (the lazy head takes its size)
    assert per_tensor.dtype == np.int64 and per_layer.dtype == np.int64
    assert per_tensor.tolist() == [p.numel() for p in model.parameters()]
    assert int(per_tensor.sum()) == sum(p.numel() for p in model.parameters())
    assert per_layer.tolist() == [sum(p.numel() for p in child.parameters()) for child in model.children()]
    assert bytes(names).decode().split("\n") == [name for name, _ in model.named_children()]


def test_lenets_counts_are_the_textbooks() -> None:
    model = loaded(LENET).Net()
    assert sum(p.numel() for p in model.parameters()) == 62_006  # CIFAR-10 LeNet, as in PyTorch's tutorial


def test_forward_gives_the_models_logits_in_evaluation_mode(torch_box: Sandbox) -> None:
    x = batch(4)
    (result,) = torch_box.run(UNUSUAL, [Call("@torch.forward", ("Net", x, 5))])
    assert result.status is Status.OK, result.message
    torch.manual_seed(5)
    model = loaded(UNUSUAL).Net().eval()
    with torch.no_grad():
        expected = model(torch.from_numpy(x)).double().numpy()
    assert result.output.dtype == np.float64 and result.output.shape == (4, 10)
    np.testing.assert_allclose(result.output, expected, rtol=1e-5, atol=1e-6)


def test_training_steps_as_torchs_adam_does(torch_box: Sandbox) -> None:
    rng = np.random.default_rng(2)
    x, y = batch(24, seed=3), rng.integers(0, 10, size=24)
    (result,) = torch_box.run(LENET, [Call("@torch.train", ("Net", x, y, 6, 8, 0.003, 9))])
    assert result.status is Status.OK, result.message
    losses, connected = result.outputs
    torch.manual_seed(9)
    model = loaded(LENET).Net().train()
    optimizer = torch.optim.Adam(model.parameters(), lr=0.003)
    expected = []
    for step in range(6):
        index = torch.arange(step * 8, step * 8 + 8) % 24
        loss = torch.nn.functional.cross_entropy(model(torch.from_numpy(x)[index]), torch.from_numpy(y)[index])
        expected.append(loss.item())
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    assert bool(connected)
    np.testing.assert_allclose(losses, expected, rtol=1e-4)


def test_a_detached_output_trains_nothing_and_says_so(torch_box: Sandbox) -> None:
    rng = np.random.default_rng(2)
    x, y = batch(16), rng.integers(0, 10, size=16)
    (result,) = torch_box.run(DETACHED, [Call("@torch.train", ("Net", x, y, 4, 16, 0.01, 0))])
    assert result.status is Status.OK, result.message
    losses, connected = result.outputs
    assert not bool(connected)
    assert np.all(losses == losses[0])  # the same batch each step, and nothing stepped


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("import torch\n", "NameError: the module defines no class Net"),
        ("class Net:\n    pass\n", "TypeError: Net is not a subclass of torch.nn.Module"),
        (
            "import torch\nclass Net(torch.nn.Module):\n    def forward(self, x):\n        return (x,)\n",
            "TypeError: Net.forward returned a tuple, not a tensor",
        ),
        (
            "import torch\nclass Net(torch.nn.Module):\n    def __init__(self):\n        raise ValueError('no')\n",
            "ValueError: no",
        ),
        (
            "import torch\nclass Net(torch.nn.Module):\n    def forward(self, x):\n"
            "        return x.view(3, -1) @ torch.ones(7, 2)\n",
            "RuntimeError: mat1 and mat2 shapes cannot be multiplied",
        ),
    ],
    ids=["no-net", "not-a-module", "tuple-out", "constructor-raises", "forward-raises"],
)
def test_a_broken_model_is_an_error_with_its_last_line(torch_box: Sandbox, source: str, message: str) -> None:
    (result,) = torch_box.run(source, [Call("@torch.forward", ("Net", batch(2)))])
    assert result.status is Status.ERROR
    assert result.message.startswith(message)


def test_a_model_that_never_finishes_times_out(torch_box: Sandbox) -> None:
    source = (
        "import torch\nclass Net(torch.nn.Module):\n    def forward(self, x):\n        while True:\n            pass\n"
    )
    forward, parameters = torch_box.run(
        source, [Call("@torch.forward", ("Net", batch(2))), Call("@torch.parameters", ("Net", batch(1)))]
    )
    assert forward.status is Status.TIMEOUT
    assert parameters.status is Status.OK and parameters.outputs[0].size == 0  # the next call: a fresh process


def test_an_unknown_probe_is_an_error() -> None:
    require_bwrap()
    with Sandbox(LIMITS) as box:
        unknown, no_torch = box.run("x = 1\n", [Call("@torch.nothing"), Call("@torch.forward", ("Net", batch(1)))])
    assert (unknown.status, unknown.message) == (
        Status.ERROR,
        "LookupError: the sandbox has no probe named @torch.nothing",
    )
    # the numpy runtime has no torch to offer a probe, and says so
    assert (no_torch.status, no_torch.message) == (Status.ERROR, "RuntimeError: this sandbox has no torch runtime")
