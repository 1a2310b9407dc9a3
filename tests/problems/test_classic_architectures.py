"""The built-in set ``classic-architectures`` against torchvision's models, layer by layer.

Every model is built by torchvision (``weights=None``: nothing is downloaded) on the meta device,
so shapes and parameter counts come without allocating or initialising the weights, and run on a
meta input with a hook on every layer that has weights, pools or resizes: its input and output
shapes, its parameter count and its multiply-accumulates (from the tensors it saw). Our side is
the set file's network, solved; its layers of the same kinds, in order, must match torch's one
for one, under the same names where the set file uses torchvision's (ResNet, GoogLeNet,
DenseNet). Activations, dropout and flattening change no count, and sums and concatenations
are no modules in torch: the layer after them checks their shapes.

Totals against the published figures: torchvision's model cards give the parameters and the
"GFLOPS" (``weights.meta["_ops"]``), which count multiply-accumulates of convolutions and linear
layers, for 224×224 inputs; ours must equal them to the printed digits.

U-Net has no torchvision model: the reference is the network of Ronneberger et al. (2015) as
described in the paper, written below in torch (valid 3×3 convolutions, skips centre-cropped
before the concatenation, 572×572 in, 388×388 out).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from itertools import pairwise
from typing import Any

import pytest
import torch
import torchvision.models as tv
from torch import nn

from problems.loader import BUILT_IN, load_set
from problems.solvers.network import NetworkRun
from problems.types.network import NetworkProblem

META = torch.device("meta")
CLASSICS = load_set(BUILT_IN / "classic-architectures.yaml")

#: Torch module types that are layers of ours (kind), and ours that torch has as modules.
KINDS: dict[type[nn.Module], str] = {
    nn.Conv2d: "conv",
    nn.ConvTranspose2d: "conv_transpose",
    nn.BatchNorm2d: "batchnorm",
    nn.MaxPool2d: "pool",
    nn.AvgPool2d: "pool",
    nn.AdaptiveAvgPool2d: "adaptive_pool",
    nn.Linear: "linear",
}
OURS = {"conv", "conv_transpose", "batchnorm", "pool", "adaptive_pool", "global_pool", "linear"}


@dataclass(frozen=True)
class Layer:
    """One layer as both sides see it."""

    name: str
    kind: str
    input: tuple[int, ...]
    output: tuple[int, ...]
    params: int
    macs: int


def torch_macs(module: nn.Module, x: torch.Tensor, y: torch.Tensor) -> int:
    """Multiplications from the tensors the module saw (batch of one)."""
    if isinstance(module, nn.Conv2d):  # every output value is one (C_in/groups)·kh·kw dot product
        kh, kw = module.kernel_size
        return y.numel() * (module.in_channels // module.groups) * kh * kw
    if isinstance(module, nn.ConvTranspose2d):  # every input value stamps a (C_out/groups)·kh·kw slice
        kh, kw = module.kernel_size
        return x.numel() * (module.out_channels // module.groups) * kh * kw
    if isinstance(module, nn.Linear):
        return module.in_features * module.out_features
    return 0


@contextmanager
def functional_pools(found: list[Layer], depth: list[int]) -> Iterator[None]:
    """MobileNetV2 and DenseNet pool with ``F.adaptive_avg_pool2d`` in ``forward``, not with a
    module: record those calls too (outside any hooked module), as the layer ``avgpool``."""
    original = nn.functional.adaptive_avg_pool2d

    def pool(x: torch.Tensor, size: Any) -> torch.Tensor:
        y = original(x, size)
        if depth[0] == 0:
            found.append(Layer("avgpool", "adaptive_pool", tuple(x.shape[1:]), tuple(y.shape[1:]), 0, 0))
        return y

    nn.functional.adaptive_avg_pool2d = pool
    try:
        yield
    finally:
        nn.functional.adaptive_avg_pool2d = original


def torch_layers(model: nn.Module, input_chw: tuple[int, int, int]) -> list[Layer]:
    """Every call of a layer module, in the order of the forward pass on a meta input."""
    found: list[Layer] = []
    depth = [0]
    handles = []
    for name, module in model.named_modules():
        kind = KINDS.get(type(module))
        if kind is None:
            continue

        def enter(m: nn.Module, args: Any) -> None:
            depth[0] += 1

        def leave(m: nn.Module, args: Any, y: torch.Tensor, name: str = name, kind: str = kind) -> None:
            depth[0] -= 1
            x = args[0]
            params = sum(p.numel() for p in m.parameters())
            found.append(Layer(name, kind, tuple(x.shape[1:]), tuple(y.shape[1:]), params, torch_macs(m, x, y)))

        handles += [module.register_forward_pre_hook(enter), module.register_forward_hook(leave)]
    try:
        with torch.no_grad(), functional_pools(found, depth):
            model.eval()(torch.empty(1, *input_chw, device=META))
    finally:
        for handle in handles:
            handle.remove()
    return found


def our_layers(result: NetworkRun) -> list[Layer]:
    return [
        Layer(r.name or "", "adaptive_pool" if r.layer.kind == "global_pool" else r.layer.kind,
              r.input_shape, r.shape, r.params, r.macs)
        for r in result.records
        if r.layer.kind in OURS
    ]  # fmt: skip


def network(problem_id: str) -> NetworkProblem:
    problem = next(p for p in CLASSICS.problems if p.id == problem_id)
    assert isinstance(problem.spec, NetworkProblem)
    return problem.spec


# --- the references -------------------------------------------------------------------------------


def crop_to(skip: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    """The centre of ``skip`` the size of ``like`` (U-Net's copy and crop)."""
    top = (skip.shape[2] - like.shape[2]) // 2
    left = (skip.shape[3] - like.shape[3]) // 2
    return skip[:, :, top : top + like.shape[2], left : left + like.shape[3]]


class UNet2015(nn.Module):
    """Ronneberger, Fischer and Brox (2015), Figure 1: unpadded 3×3 convolutions with ReLU, 2×2 max
    pooling, 2×2 up-convolutions halving the channels, cropped skips, a 1×1 convolution to 2 classes."""

    def __init__(self) -> None:
        super().__init__()

        def double(c_in: int, c_out: int) -> nn.Sequential:
            return nn.Sequential(nn.Conv2d(c_in, c_out, 3), nn.ReLU(), nn.Conv2d(c_out, c_out, 3), nn.ReLU())

        widths = [64, 128, 256, 512, 1024]
        self.down = nn.ModuleList([double(1, 64)])
        self.down.extend(nn.Sequential(nn.MaxPool2d(2), double(a, b)) for a, b in pairwise(widths))
        self.up = nn.ModuleList(nn.ConvTranspose2d(a, b, 2, stride=2) for a, b in pairwise(widths[::-1]))
        self.dec = nn.ModuleList(double(2 * b, b) for _, b in pairwise(widths[::-1]))
        self.head = nn.Conv2d(64, 2, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        skips = []
        for step in self.down:
            x = step(x)
            skips.append(x)
        skips.pop()
        for up, dec in zip(self.up, self.dec, strict=True):
            x = up(x)
            x = dec(torch.cat([crop_to(skips.pop(), x), x], dim=1))
        return self.head(x)


@dataclass(frozen=True)
class Reference:
    """A model of the set with its torch twin, published figures, and how torch names its layers
    in ours (None: the names differ, the order alone pairs them)."""

    id: str
    model: Callable[[], nn.Module]
    params: int | None = None
    gmacs: float | None = None
    weights: Any = None
    rename: Callable[[str], str] | None = None
    input: tuple[int, int, int] = (3, 224, 224)


def densenet_name(name: str) -> str:
    """``features.denseblock1.denselayer3.norm1`` → ``denseblock1.2.norm1``."""
    name = name.removeprefix("features.")
    return re.sub(r"denselayer(\d+)", lambda m: str(int(m.group(1)) - 1), name)


# The eight torchvision models with their published parameters and GMACs, and the U-Net.
REFERENCES = [
    Reference("alexnet", tv.alexnet, 61_100_840, 0.714, tv.AlexNet_Weights.IMAGENET1K_V1),
    Reference("vgg16", tv.vgg16, 138_357_544, 15.47, tv.VGG16_Weights.IMAGENET1K_V1),
    Reference("resnet18", tv.resnet18, 11_689_512, 1.814, tv.ResNet18_Weights.IMAGENET1K_V1, str),
    Reference("resnet50", tv.resnet50, 25_557_032, 4.089, tv.ResNet50_Weights.IMAGENET1K_V1, str),
    Reference("mobilenet_v2", tv.mobilenet_v2, 3_504_872, 0.301, tv.MobileNet_V2_Weights.IMAGENET1K_V1),
    Reference("densenet121", tv.densenet121, 7_978_856, 2.834, tv.DenseNet121_Weights.IMAGENET1K_V1, densenet_name),
    Reference(
        "googlenet",
        lambda: tv.googlenet(weights=None, aux_logits=False, init_weights=False),
        6_624_904,
        1.498,
        tv.GoogLeNet_Weights.IMAGENET1K_V1,
        str,
    ),
    Reference("squeezenet", tv.squeezenet1_1, 1_235_496, 0.349, tv.SqueezeNet1_1_Weights.IMAGENET1K_V1),
    Reference("unet", UNet2015, input=(1, 572, 572)),
]


def build(reference: Reference) -> nn.Module:
    with META:
        return reference.model() if reference.id in ("googlenet", "unet") else reference.model(weights=None)


@pytest.mark.parametrize("ref", REFERENCES, ids=[r.id for r in REFERENCES])
def test_every_layer_matches_torch(ref: Reference) -> None:
    """Kind, input and output shape, parameters and MACs of every layer, in order (and by name
    where the set file uses torchvision's names)."""
    theirs = torch_layers(build(ref), ref.input)
    ours = our_layers(network(ref.id).network())
    assert len(ours) == len(theirs)
    for mine, torch_layer in zip(ours, theirs, strict=True):
        name = ref.rename(torch_layer.name) if ref.rename else mine.name
        assert mine == replace(torch_layer, name=name), f"torch {torch_layer.name}"


@pytest.mark.parametrize("ref", REFERENCES[:-1], ids=[r.id for r in REFERENCES[:-1]])
def test_totals_match_the_published_figures(ref: Reference) -> None:
    """Parameters exactly; GMACs to torchvision's printed digits (three decimals); the same
    figures as torchvision's model card and as torch's own count."""
    solved = network(ref.id).solve()
    model = build(ref)
    assert solved["params.total"].value == ref.params == ref.weights.meta["num_params"]
    assert sum(p.numel() for p in model.parameters()) == ref.params
    assert round(solved["macs.total"].value / 1e9, 3) == ref.gmacs == ref.weights.meta["_ops"]
    assert sum(layer.macs for layer in torch_layers(model, ref.input)) == solved["macs.total"].value


def test_unet_maps_572_to_388_as_in_the_paper() -> None:
    """The output tile of Figure 1, and the reference's parameter count."""
    solved = network("unet").solve()
    assert solved["output"].value == (2, 388, 388)
    with META:
        reference = UNet2015()
    assert solved["params.total"].value == sum(p.numel() for p in reference.parameters())


def test_published_receptive_fields() -> None:
    """Araujo, Norris and Sim (Distill, 2019): AlexNet 195 and VGG-16 212 at the last pooling."""
    answers = CLASSICS.solve()
    assert answers["alexnet.rf_pool5"].value == 195
    assert answers["vgg16.rf_pool5"].value == 212


def test_stage_table_adds_up() -> None:
    """ResNet-18's table: stem, stages and fully connected layer are every parameter."""
    answers = CLASSICS.solve()
    parts = ["stem_params", "layer1_params", "layer2_params", "layer3_params", "layer4_params", "fc_params"]
    assert sum(answers[f"resnet18.{p}"].value for p in parts) == answers["resnet18.params"].value
