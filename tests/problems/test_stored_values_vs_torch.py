"""``values.total`` and ``memory.total`` against what PyTorch stores in a forward pass.

torch's side: a forward hook on every leaf module of torchvision's model keeps each output
alive, and the count is the input's values plus those of every distinct tensor that is no view
(``Tensor._base is None``): an in-place ``ReLU`` hands back the tensor it read, ``Dropout`` in
``eval()`` too, ``Flatten`` a view, and ResNet's ``out += identity`` writes into ``bn2``'s
output. On the meta device, so that VGG-16's weights are never allocated (the same counts as on
the CPU, where distinct storages give 742,248, 15,262,696 and 5,320,168).

Our side: the built-in set ``classic-architectures``, which writes torchvision's models layer
for layer, solved with the default ``stored`` (PyTorch's choices), and again with each choice
changed against the model changed the same way (activations not in place, sums as ``a + b``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from fractions import Fraction
from typing import Any

import pytest
import torch
import torchvision.models as tv
from torch import nn
from torchvision.models.resnet import BasicBlock

from problems.loader import BUILT_IN, load_set
from problems.solvers.steps import Derivations
from problems.solvers.storage import StoredValues
from problems.types.network import NetworkProblem

META = torch.device("meta")
CLASSICS = load_set(BUILT_IN / "classic-architectures.yaml")
MODELS: dict[str, Callable[[], nn.Module]] = {"alexnet": tv.alexnet, "vgg16": tv.vgg16, "resnet18": tv.resnet18}


def network(problem_id: str, **changes: Any) -> NetworkProblem:
    problem = next(p for p in CLASSICS.problems if p.id == problem_id)
    assert isinstance(problem.spec, NetworkProblem)
    return problem.spec.model_copy(update=changes)


def stored_by_torch(model: nn.Module, input_chw: tuple[int, ...], count_input: bool = True) -> int:
    """Values of the distinct tensors a forward pass writes: every leaf module's output that is
    neither a view nor a tensor seen before (kept alive, so no two share an id), and the input."""
    x = torch.empty(1, *input_chw, device=META)
    kept: list[torch.Tensor] = [x]
    handles = [
        m.register_forward_hook(lambda m, i, o: kept.append(o)) for m in model.modules() if not list(m.children())
    ]
    try:
        with torch.no_grad():
            kept.append(model.eval()(x))
    finally:
        for handle in handles:
            handle.remove()
    distinct = {id(t): t.numel() for t in kept if t._base is None and (count_input or t is not x)}
    return sum(distinct.values())


def build(name: str) -> nn.Module:
    with META:
        return MODELS[name]()


@contextmanager
def sums_out_of_place() -> Iterator[None]:
    """torchvision's ``BasicBlock`` with its residual sum written ``out = out + identity``."""
    original = BasicBlock.forward

    def forward(self: BasicBlock, x: torch.Tensor) -> torch.Tensor:
        identity = x if self.downsample is None else self.downsample(x)
        out = self.bn2(self.conv2(self.relu(self.bn1(self.conv1(x)))))
        return self.relu(out + identity)  # type: ignore[no-any-return]  # torchvision's modules are untyped

    BasicBlock.forward = forward  # type: ignore[method-assign]  # the model changed as the choice says
    try:
        yield
    finally:
        BasicBlock.forward = original  # type: ignore[method-assign]


# PyTorch's counts: AlexNet 742,248, VGG-16 15,262,696, ResNet-18 5,320,168 values (224×224×3 in)
@pytest.mark.parametrize(("name", "figure"), [("alexnet", 742_248), ("vgg16", 15_262_696), ("resnet18", 5_320_168)])
def test_values_and_memory_total_are_what_torch_stores(name: str, figure: int) -> None:
    ours = network(name).solve()
    assert stored_by_torch(build(name), (3, 224, 224)) == figure == ours["values.total"].value
    assert ours["memory.total"].value == 4 * figure
    assert ours["memory_mb.total"].value == Fraction(4 * figure, 10**6)
    assert ours["memory_mib.total"].value == Fraction(4 * figure, 2**20)
    assert ours["memory_kb.total"].value == Fraction(4 * figure, 10**3)


def test_vgg16_written_naturally_stores_the_issue_figure() -> None:
    """VGG-16 as an exam writes it (no adaptive pool at 7×7): 15,237,608 values, the input counted
    and the flatten not; the count that forgot the input and counted the flatten was 15,112,168."""
    spec = network("vgg16")
    layers = [step for step in spec.layers if getattr(step, "kind", None) != "adaptive_pool"]
    ours = spec.model_copy(update={"layers": layers}).solve()
    vgg = build("vgg16")
    chain = nn.Sequential(vgg.features, nn.Flatten(), vgg.classifier)
    assert ours["values.total"].value == stored_by_torch(chain, (3, 224, 224)) == 15_237_608
    assert float(ours["memory_mb.total"].value) == 60.950432  # float32, MB = 10^6 bytes


@pytest.mark.parametrize("name", list(MODELS))
def test_activations_kept_apart_count_as_new_values(name: str) -> None:
    model = build(name)
    for module in model.modules():
        if isinstance(module, nn.ReLU):
            module.inplace = False
    ours = network(name, stored=StoredValues(activations="new")).solve()
    assert ours["values.total"].value == stored_by_torch(model, (3, 224, 224))


def test_sums_written_out_of_place_count_as_new_values() -> None:
    with sums_out_of_place():
        torch_count = stored_by_torch(build("resnet18"), (3, 224, 224))
    ours = network("resnet18", stored=StoredValues(sums="new")).solve()
    assert ours["values.total"].value == torch_count != network("resnet18").solve()["values.total"].value


def test_the_input_left_out_when_the_set_says_so() -> None:
    ours = network("alexnet", stored=StoredValues(input=False)).solve()
    assert ours["values.total"].value == stored_by_torch(build("alexnet"), (3, 224, 224), count_input=False)


def test_the_worked_total_names_what_adds_no_values() -> None:
    steps = Derivations(wanted={"values.total", "memory_mb.total"})
    found = network("alexnet").solve(steps)
    lines = [step.text for step in steps["values.total"]]
    assert lines[0] == "the input: 3×224×224 = 150,528 values"
    assert any(line.endswith("applied in place, over its input: no new values") for line in lines)
    assert any(line.endswith("a view of its input: no new values") for line in lines)
    assert any(line.endswith("at inference dropout hands back its input: no new values") for line in lines)
    assert steps["values.total"][-1].value == found["values.total"].value == 742_248
    last = steps["memory_mb.total"][-1]
    assert last.text == "in MB (10^6 bytes): 2,968,992 / 1,000,000 = 2.968992"
    assert last.value == 2.968992
