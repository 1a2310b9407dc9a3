"""Torch modules for the layer specs a set file writes, run and measured: the judge of the tests
that check our solvers and our refusals against PyTorch.

Shapes, parameter counts and MACs come from torch itself: the output tensors of a forward pass
on zeros, ``p.numel()`` over ``module.parameters()``, and forward hooks that count the
multiplications from the tensors they see. Every setting goes to torch as written, so torch
refuses what it refuses (``nn.AvgPool2d`` given a dilation: a ``TypeError``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

Spec = dict[str, Any]


class MinPool(nn.Module):
    """Min pooling as PyTorch has it: −maxpool(−x)."""

    def __init__(self, pool: nn.MaxPool2d) -> None:
        super().__init__()
        self.pool = pool

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return -self.pool(-x)


ACTIVATIONS: dict[str, type[nn.Module]] = {
    "relu": nn.ReLU,
    "sigmoid": nn.Sigmoid,
    "tanh": nn.Tanh,
    "leaky_relu": nn.LeakyReLU,
}


def tf_same(n: int, k: int, s: int, d: int = 1) -> tuple[int, int]:
    """TensorFlow's ``same`` padding (before, after) of one axis, as its documentation states it
    (``tf.nn.convolution``): the output is ⌈n/s⌉, the total padding
    ``max((out − 1)·s + d·(k − 1) + 1 − n, 0)``, the odd pixel at the end."""
    out = math.ceil(n / s)
    total = max((out - 1) * s + d * (k - 1) + 1 - n, 0)
    return total // 2, total - total // 2


def two(value: Any) -> tuple[int, int]:
    return (value, value) if isinstance(value, int) else tuple(value)


def keras_same(shape: torch.Size, kernel: Any, stride: Any, dilation: Any) -> nn.Module | None:
    """``nn.ZeroPad2d`` with TensorFlow's ``same`` padding where torch has none (a stride above 1),
    or None (torch's own ``padding="same"``). Keras refuses a stride and a dilation above 1 together."""
    if max(two(stride)) == 1 or min(two(stride)) < 1:  # torch's own "same", or its refusal
        return None
    if max(two(dilation)) > 1:
        raise ValueError("Keras: strides > 1 not supported in conjunction with dilation_rate > 1")
    (kh, kw), (sh, sw) = two(kernel), two(stride)
    (top, bottom), (left, right) = tf_same(shape[-2], kh, sh), tf_same(shape[-1], kw, sw)
    return nn.ZeroPad2d((left, right, top, bottom))


class LocallyConnected2d(nn.Module):
    """A convolution without weight sharing, as torch can write it: ``nn.Unfold`` takes the
    windows, and every output position has a filter of its own (weight ``L×C_out×C_in·kh·kw``,
    bias ``C_out×H_out×W_out``, Keras's ``LocallyConnected2D``)."""

    def __init__(self, shape: torch.Size, out_channels: int, kernel: Any, stride: Any, padding: Any, bias: bool):
        super().__init__()
        self.unfold = nn.Unfold(kernel, 1, padding, stride)
        c, h, w = shape
        (kh, kw), (sh, sw), (ph, pw) = two(kernel), two(stride), two(padding)
        self.out = ((h + 2 * ph - kh) // sh + 1, (w + 2 * pw - kw) // sw + 1)
        positions = self.unfold(torch.zeros(1, *shape)).shape[2]  # torch's count of windows
        self.weight = nn.Parameter(torch.zeros(positions, out_channels, c * kh * kw))
        self.bias = nn.Parameter(torch.zeros(out_channels, *self.out)) if bias else None
        self.macs = 0

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        columns = self.unfold(x)  # N × C·kh·kw × L
        y = torch.einsum("ncl,loc->nol", columns, self.weight).reshape(x.shape[0], -1, *self.out)
        self.macs = self.weight.numel()  # each weight multiplies one input value once
        return y if self.bias is None else y + self.bias


def same_pad(shape: torch.Size, kernel: Any, stride: Any, dilation: Any, rank: int) -> nn.Module | None:
    """TensorFlow's ``same`` padding for a window of any rank where torch has none (a stride
    above 1), as ``F.pad``; None for torch's own ``padding="same"``."""
    ks, ss, ds = (v if isinstance(v, list | tuple) else [v] * rank for v in (kernel, stride, dilation))
    if max(ss) == 1 or min(ss) < 1:
        return None
    if max(ds) > 1:
        raise ValueError("Keras: strides > 1 not supported in conjunction with dilation_rate > 1")
    sides = [tf_same(n, k, s) for n, k, s in zip(shape[-rank:], ks, ss, strict=True)]
    flat = [p for before, after in reversed(sides) for p in (before, after)]  # last axis first, as F.pad
    return nn.ConstantPad3d(flat, 0.0) if rank == 3 else nn.ConstantPad1d(flat, 0.0)


def torch_layer(spec: Spec, shape: torch.Size) -> nn.Module:
    """The torch module(s) for one layer spec, on an input of ``shape`` (batch dropped)."""
    kind, c = spec["kind"], shape[0]
    if kind == "conv":
        groups = c if spec["groups"] == "depthwise" else spec["groups"]
        pad = keras_same(shape, spec["kernel"], spec["stride"], spec["dilation"]) if spec["padding"] == "same" else None
        conv = nn.Conv2d(
            c,
            spec["out_channels"],
            spec["kernel"],
            spec["stride"],
            spec["padding"] if pad is None else 0,
            spec["dilation"],
            groups,
            spec["bias"],
        )
        return conv if pad is None else nn.Sequential(pad, conv)
    if kind == "conv_transpose":
        return nn.ConvTranspose2d(
            c,
            spec["out_channels"],
            spec["kernel"],
            spec["stride"],
            spec["padding"],
            spec["output_padding"],
            spec["groups"],
            spec["bias"],
            spec["dilation"],
        )
    if kind == "separable":  # depthwise K×K with the stride and padding, then pointwise 1×1
        pad = keras_same(shape, spec["kernel"], spec["stride"], 1) if spec["padding"] == "same" else None
        padding = spec["padding"] if pad is None else 0
        depthwise = nn.Conv2d(c, c, spec["kernel"], spec["stride"], padding, groups=c, bias=spec["bias"])
        pointwise = nn.Conv2d(c, spec["out_channels"], 1, bias=spec["bias"])
        return nn.Sequential(*([] if pad is None else [pad]), depthwise, pointwise)
    if kind == "pool":
        stride = spec.get("stride")
        if spec["mode"] == "avg":
            dilated = spec.get("dilation", 1) not in (1, [1, 1], (1, 1))
            dilation = {"dilation": spec["dilation"]} if dilated else {}  # torch: TypeError
            return nn.AvgPool2d(
                spec["kernel"], stride, spec["padding"], spec["ceil_mode"], spec["count_include_pad"], **dilation
            )
        pool = nn.MaxPool2d(spec["kernel"], stride, spec["padding"], spec["dilation"], ceil_mode=spec["ceil_mode"])
        return pool if spec["mode"] == "max" else MinPool(pool)
    if kind in ("conv1d", "conv3d"):
        rank, conv_type = (1, nn.Conv1d) if kind == "conv1d" else (3, nn.Conv3d)
        pad = (
            same_pad(shape, spec["kernel"], spec["stride"], spec["dilation"], rank)
            if spec["padding"] == "same"
            else None
        )
        conv = conv_type(
            c, spec["out_channels"], spec["kernel"], spec["stride"], spec["padding"] if pad is None else 0,
            spec["dilation"], spec["groups"], spec["bias"],
        )  # fmt: skip
        return conv if pad is None else nn.Sequential(pad, conv)
    if kind in ("pool1d", "pool3d"):
        one = kind == "pool1d"
        if spec["mode"] == "avg":
            dilated = spec.get("dilation", 1) not in (1, [1], [1, 1, 1])
            if dilated:
                raise TypeError("average pooling takes no dilation")
            avg = nn.AvgPool1d if one else nn.AvgPool3d
            return avg(
                spec["kernel"], spec.get("stride"), spec["padding"], spec["ceil_mode"], spec["count_include_pad"]
            )
        pool = nn.MaxPool1d if one else nn.MaxPool3d
        return pool(spec["kernel"], spec.get("stride"), spec["padding"], spec["dilation"], ceil_mode=spec["ceil_mode"])
    if kind == "local":
        return LocallyConnected2d(
            shape, spec["out_channels"], spec["kernel"], spec["stride"], spec["padding"], spec["bias"]
        )
    if kind == "pixel_shuffle":
        return nn.PixelShuffle(spec["factor"])
    if kind == "pixel_unshuffle":
        return nn.PixelUnshuffle(spec["factor"])
    if kind == "patch_embed":
        return nn.Conv2d(c, spec["dim"], spec["patch"], spec["patch"], bias=spec["bias"])
    if kind == "activation":
        return ACTIVATIONS[spec["function"]]()
    if kind == "dropout":
        return nn.Dropout(spec["p"])
    if kind == "batchnorm":
        norm = {3: nn.BatchNorm2d, 4: nn.BatchNorm3d}.get(len(shape), nn.BatchNorm1d)
        return norm(c, affine=spec.get("affine", True))
    if kind == "groupnorm":
        return nn.GroupNorm(spec["groups"], c, affine=spec.get("affine", True))
    if kind == "instancenorm":
        norm = {2: nn.InstanceNorm1d, 3: nn.InstanceNorm2d, 4: nn.InstanceNorm3d}[len(shape)]
        return norm(c, affine=spec.get("affine", False), track_running_stats=spec.get("track_running_stats", False))
    if kind == "layernorm":  # by default over the last axis: a sequence reaches torch tokens first, (L, C)
        normalized = spec.get("normalized_shape", shape[-1:])
        return nn.LayerNorm(normalized, elementwise_affine=spec.get("elementwise_affine", True),
                            bias=spec.get("bias", True))  # fmt: skip
    if kind == "flatten":
        return nn.Flatten()
    if kind == "linear":
        width = spec.get("out_features") or int(c * spec["out_ratio"])
        return nn.Linear(c, width, spec["bias"])
    raise AssertionError(f"no torch module for {kind}")


def hook_macs(module: nn.Module, inputs: tuple[torch.Tensor, ...], output: torch.Tensor, tally: list[int]) -> None:
    """Multiplications counted from the tensors this module actually saw (batch of one)."""
    if isinstance(module, nn.Conv1d | nn.Conv2d | nn.Conv3d):  # each output value: a (C_in/groups)·∏k dot product
        tally.append(output.numel() * (module.in_channels // module.groups) * math.prod(module.kernel_size))
    elif isinstance(module, LocallyConnected2d):
        tally.append(module.macs)
    elif isinstance(module, nn.ConvTranspose2d):  # every input value stamps a (C_out/groups)·kh·kw slice
        kh, kw = module.kernel_size
        tally.append(inputs[0].numel() * (module.out_channels // module.groups) * kh * kw)
    elif isinstance(module, nn.Linear):
        tally.append(module.in_features * module.out_features * (output.numel() // module.out_features))


#: torchvision's ViT-B/16 encoder block (``EncoderBlock(12, 768, 3072)``) as a set file's layers, on
#: its 197 tokens of 768 values: layer norm, attention, a sum, layer norm, the MLP, a sum.
VIT_ENCODER_BLOCK: list[dict[str, Any]] = [
    {"kind": "layernorm", "name": "ln_1"},
    {"kind": "attention", "name": "self_attention", "heads": 12},
    {"kind": "add", "name": "x", "from": ["self_attention", "input"]},
    {"kind": "layernorm", "name": "ln_2"},
    {"kind": "linear", "name": "mlp.0", "out_features": 3072},
    {"kind": "activation", "function": "gelu"},
    {"kind": "linear", "name": "mlp.3", "out_features": 768},
    {"kind": "add", "name": "y", "from": ["mlp.3", "x"]},
]


@dataclass(frozen=True)
class Measured:
    """What torch says one layer (a repeat block: each instance) does."""

    shape: tuple[int, ...]
    params: int
    macs: int


def measure(spec: Spec, x: torch.Tensor, modules: list[nn.Module] | None = None) -> tuple[torch.Tensor, list[Measured]]:
    """Build the torch module(s) for ``spec`` on ``x``, run and measure them (appended to
    ``modules``); a repeat block is built and measured instance by instance (each on the shape the
    previous one produced)."""
    measured = []
    for instance in [spec["layer"]] * spec["times"] if spec["kind"] == "repeat" else [spec]:
        module = torch_layer(instance, x.shape[1:]).eval()
        if modules is not None:
            modules.append(module)
        tally: list[int] = []
        handles = [
            m.register_forward_hook(lambda m, i, o, tally=tally: hook_macs(m, i, o, tally)) for m in module.modules()
        ]
        try:
            with torch.no_grad():
                x = module(x)
        finally:
            for handle in handles:
                handle.remove()
        if 0 in x.shape:
            raise RuntimeError("empty output")
        params = sum(p.numel() for p in module.parameters())
        measured.append(Measured(tuple(x.shape[1:]), params, sum(tally)))
    return x, measured


def flop_counter_macs(module: nn.Module, *inputs: Any) -> int:
    """The MACs of one forward pass as torch's ``FlopCounterMode`` counts them (half its FLOPs: the
    convolutions and matrix products, each multiply-add two FLOPs; works on the meta device)."""
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        module(*inputs)
    flops = counter.get_total_flops()
    assert flops % 2 == 0
    return flops // 2


def stored_bytes(model: torch.nn.Module, x: torch.Tensor) -> int:
    """Bytes of the distinct tensors a forward pass writes (no views), the input's among them."""
    kept = [x]
    handles = [m.register_forward_hook(lambda m, i, o: kept.append(o)) for m in model.modules()
               if not list(m.children())]  # fmt: skip
    with torch.no_grad():
        kept.append(model(x))
    for handle in handles:
        handle.remove()
    return sum({id(t): t.numel() * t.element_size() for t in kept if t._base is None}.values())


def _conv_bn_silu(c_in: int, c_out: int, k: int) -> nn.Module:
    return nn.Sequential(nn.Conv2d(c_in, c_out, k, padding=k // 2, bias=False), nn.BatchNorm2d(c_out), nn.SiLU())


def _branch(c_in: int, width: int, c_out: int) -> nn.Module:
    """One branch of YOLOv8's head at one scale: two 3×3 convolutions (each with batch norm and
    SiLU) and a 1×1 convolution to its outputs."""
    return nn.Sequential(_conv_bn_silu(c_in, width, 3), _conv_bn_silu(width, width, 3), nn.Conv2d(width, c_out, 1))


class DFL(nn.Module):
    """Distribution focal loss's decoding: each side's ``reg_max`` bins to their expectation."""

    def __init__(self, bins: int) -> None:
        super().__init__()
        self.bins = bins
        self.conv = nn.Conv2d(bins, 1, 1, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, _, a = x.shape
        return self.conv(x.view(b, 4, self.bins, a).transpose(2, 1).softmax(1)).view(b, 4, a)  # type: ignore[no-any-return]


class YoloV8Detect(nn.Module):
    """YOLOv8's decoupled head written independently from Ultralytics' published layout (its
    ``Detect``): a box branch and a class branch per scale; ``forward`` gives each scale's raw map
    and the decoded output (boxes by DFL and the class scores, the scales side by side)."""

    def __init__(self, classes: int, channels: tuple[int, ...], reg_max: int) -> None:
        super().__init__()
        c2, c3 = max(16, channels[0] // 4, 4 * reg_max), max(channels[0], min(classes, 100))
        self.classes, self.reg_max = classes, reg_max
        self.box = nn.ModuleList(_branch(c, c2, 4 * reg_max) for c in channels)
        self.cls = nn.ModuleList(_branch(c, c3, classes) for c in channels)
        self.dfl = DFL(reg_max)

    def forward(self, xs: list[torch.Tensor], strides: tuple[int, ...]) -> tuple[list[torch.Tensor], torch.Tensor]:
        raw = [torch.cat((box(x), cls(x)), 1) for box, cls, x in zip(self.box, self.cls, xs, strict=True)]
        depth = 4 * self.reg_max + self.classes
        flat = torch.cat([r.view(r.shape[0], depth, -1) for r in raw], 2)
        box, scores = flat.split((4 * self.reg_max, self.classes), 1)
        points, scale = [], []
        for r, stride in zip(raw, strides, strict=True):
            h, w = r.shape[2:]
            ys, xs_ = torch.meshgrid(torch.arange(h) + 0.5, torch.arange(w) + 0.5, indexing="ij")
            points.append(torch.stack((xs_, ys), 0).view(2, -1))
            scale.append(torch.full((1, h * w), float(stride)))
        anchors, stride_row = torch.cat(points, 1), torch.cat(scale, 1)
        left_top, right_bottom = self.dfl(box).chunk(2, 1)
        corner_1, corner_2 = anchors - left_top, anchors + right_bottom
        boxes = torch.cat(((corner_1 + corner_2) / 2, corner_2 - corner_1), 1) * stride_row
        return raw, torch.cat((boxes, scores.sigmoid()), 1)
