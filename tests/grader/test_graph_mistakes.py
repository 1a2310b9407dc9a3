"""Mistakes about a network's structure, on the classic architectures: each wrong answer is
computed here by torch, from torchvision's modules built the way the mistaken student counts
(on the meta device: shapes and counts without weights), never typed in."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import torch
import torchvision.models as tv
from torch import nn
from torchvision.models.squeezenet import Fire

from grader.comparison.mistakes import EXPLANATIONS
from grader.engine import grade_submission
from grader.results import Status
from problems.loader import load_bank

BANK = load_bank()
CLASSICS = BANK["classic-architectures"]
META = torch.device("meta")


def params(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def macs(module: nn.Module, x: torch.Tensor, skip: str = "-") -> int:
    """Multiply-accumulates of the convolutions and linear layers that ``x`` runs through, those
    whose qualified name contains ``skip`` left out."""
    counted: list[int] = []

    def hook(conv: nn.Module, inputs: tuple[torch.Tensor, ...], y: torch.Tensor) -> None:
        assert isinstance(conv, nn.Conv2d)
        kh, kw = conv.kernel_size
        counted.append(y.numel() * (conv.in_channels // conv.groups) * kh * kw)

    handles = [
        m.register_forward_hook(hook) for n, m in module.named_modules() if isinstance(m, nn.Conv2d) and skip not in n
    ]
    module(x)
    for handle in handles:
        handle.remove()
    return sum(counted)


def grade(key: str, answer: int | str) -> tuple[Status, str | None, str]:
    part = grade_submission(CLASSICS, {key: str(answer)}).parts[key]
    return part.status, part.misconception, part.feedback


def resnet18() -> tv.ResNet:
    with META:
        return tv.resnet18()


# --- projection-shortcut-omitted: layer2–layer4 of ResNet-18 begin with a block whose shortcut is a
# 1×1 stride-2 convolution with batch norm (torchvision's ``downsample``); layer1 has none.


def without_downsample(module: nn.Module) -> int:
    return sum(p.numel() for n, p in module.named_parameters() if "downsample" not in n)


@pytest.mark.parametrize("stage", ["layer2", "layer3", "layer4"])
def test_a_stage_counted_without_its_projection_shortcut_is_named(stage: str) -> None:
    status, code, feedback = grade(f"resnet18.{stage}_params", without_downsample(getattr(resnet18(), stage)))
    assert (status, code) == (Status.INCORRECT, "projection-shortcut-omitted")
    # the explanation, then where the mistake's working parts from the worked solution
    assert (
        feedback.split(" Your working parts from the worked solution")[0] == EXPLANATIONS["projection-shortcut-omitted"]
    )


def test_the_whole_network_without_its_projections_is_named() -> None:
    assert grade("resnet18.params", without_downsample(resnet18()))[:2] == (
        Status.INCORRECT,
        "projection-shortcut-omitted",
    )


def test_multiply_accumulates_without_the_projection_are_named() -> None:
    layer4 = resnet18().layer4
    x = torch.empty(1, 256, 14, 14, device=META)
    assert grade("resnet18.layer4_macs", macs(layer4, x, skip="downsample"))[:2] == (
        Status.INCORRECT,
        "projection-shortcut-omitted",
    )
    # with the projection, torch's count is ours
    assert grade("resnet18.layer4_macs", macs(layer4, x))[:2] == (Status.CORRECT, None)


def test_a_stage_with_its_projection_is_right_and_a_stage_without_one_has_nothing_to_omit() -> None:
    model = resnet18()
    assert grade("resnet18.layer2_params", params(model.layer2))[:2] == (Status.CORRECT, None)
    assert grade("resnet18.layer1_params", params(model.layer1))[:2] == (Status.CORRECT, None)
    # a slip of a few parameters is no known mistake
    assert grade("resnet18.layer2_params", params(model.layer2) + 3)[:2] == (Status.INCORRECT, None)


# --- concat-as-add: SqueezeNet 1.1's fire modules concatenate two expand convolutions of equal
# width; taken as a sum, a fire module has half the channels, and every later layer sees those.


class AddingFire(Fire):
    """A fire module whose two expand branches are summed instead of concatenated."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.squeeze_activation(self.squeeze(x))
        return self.expand1x1_activation(self.expand1x1(x)) + self.expand3x3_activation(self.expand3x3(x))


def squeezenet_summed() -> nn.Sequential:
    """SqueezeNet 1.1 with every fire module summing: each takes the previous one's expand width."""
    widths = [(16, 64), (16, 64), (32, 128), (32, 128), (48, 192), (48, 192), (64, 256), (64, 256)]
    layers: list[nn.Module] = [nn.Conv2d(3, 64, 3, stride=2), nn.ReLU(), nn.MaxPool2d(3, 2, ceil_mode=True)]
    channels = 64
    for index, (squeeze, expand) in enumerate(widths):
        layers.append(AddingFire(channels, squeeze, expand, expand))
        channels = expand
        if index in (1, 3):
            layers.append(nn.MaxPool2d(3, 2, ceil_mode=True))
    layers += [nn.Dropout(), nn.Conv2d(channels, 1000, 1), nn.ReLU(), nn.AdaptiveAvgPool2d(1)]
    with META:
        return nn.Sequential(*layers).to(META)


def test_a_concatenation_taken_as_a_sum_is_named_in_its_shape() -> None:
    model = squeezenet_summed()
    x = torch.empty(1, 3, 224, 224, device=META)
    _, c, h, w = model[:4](x).shape  # the stem and fire2
    status, code, feedback = grade("squeezenet.fire2_shape", f"{h}x{w}x{c}")
    assert (status, code) == (Status.INCORRECT, "concat-as-add")
    assert EXPLANATIONS["concat-as-add"] in feedback


def test_a_concatenation_taken_as_a_sum_is_named_in_the_counts_after_it() -> None:
    model = squeezenet_summed()
    status, code, feedback = grade("squeezenet.params", params(model))
    explanation, _, pointer = feedback.partition(" Your working parts from the worked solution at step ")
    assert (status, code, explanation) == (Status.INCORRECT, "concat-as-add", EXPLANATIONS["concat-as-add"])
    # the first count the sum changes: fire3's squeeze reads fire2's 128 channels, not 64
    assert pointer.split(": ", 1)[1] == "fire3.squeeze: parameters = C_out·C_in·K·K + C_out = 16·64·1·1 + 16 = 1,040."
    x = torch.empty(1, 3, 224, 224, device=META)
    assert grade("squeezenet.macs", macs(model, x))[:2] == (Status.INCORRECT, "concat-as-add")


def test_a_concatenation_counted_as_one_is_right_and_other_slips_are_not_named() -> None:
    with META:
        model = tv.squeezenet1_1()
    assert grade("squeezenet.params", params(model))[:2] == (Status.CORRECT, None)
    _, c, h, w = model.features[:4](torch.empty(1, 3, 224, 224, device=META)).shape
    assert grade("squeezenet.fire2_shape", f"{h}x{w}x{c}")[:2] == (Status.CORRECT, None)
    assert grade("squeezenet.fire2_shape", f"{h}x{w}x{c + 16}")[:2] == (Status.INCORRECT, None)


# --- bias-beside-batchnorm inside repeated blocks: every convolution of a ResNet or MobileNetV2
# block feeds a batch norm and has no bias; a student who gives each one a bias adds C_out each.


def with_conv_biases(module: nn.Module) -> int:
    return params(module) + sum(m.out_channels for m in module.modules() if isinstance(m, nn.Conv2d))


@pytest.mark.parametrize(
    ("key", "module"),
    [
        # layer1: a repeat of two basic blocks, four convolutions each followed by batch norm
        ("resnet18.layer1_params", lambda: resnet18().layer1),
        # layer2's projection shortcut convolution feeds its own batch norm too
        ("resnet18.layer2_params", lambda: resnet18().layer2),
        ("resnet18.shortcut_params", lambda: resnet18().layer2[0].downsample[0]),
        # the second block of MobileNetV2's 64-channel stage: expand, depthwise, project
        ("mobilenet_v2.block_params", lambda: mobilenet_v2().features[8]),
    ],
)
def test_a_bias_beside_batch_norm_is_named_inside_blocks(key: str, module: Callable[[], nn.Module]) -> None:
    block = module()
    status, code, feedback = grade(key, with_conv_biases(block))
    assert (status, code, feedback) == (
        Status.INCORRECT,
        "bias-beside-batchnorm",
        EXPLANATIONS["bias-beside-batchnorm"],
    )
    assert grade(key, params(block))[:2] == (Status.CORRECT, None)


def mobilenet_v2() -> tv.MobileNetV2:
    with META:
        return tv.mobilenet_v2()
