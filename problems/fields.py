"""What each setting of a network layer and of the image problems means, for the JSON Schema
and the authors' reference (``docs/set-files.md``).

The layer models and the image problems declare their settings one per line with their
constraints; their descriptions are given here, once per name, and attached to every model that
has the setting. :class:`DescribedSchema` writes them into the JSON Schema.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import GenerateJsonSchema, JsonSchemaValue
from pydantic_core import core_schema

from problems.solvers.graph import Block, Repeat, Until
from problems.solvers.layers import (
    Activation,
    BatchNorm,
    Conv,
    ConvTranspose,
    Dropout,
    LayerBase,
    Linear,
    Pool,
    PoolWindow,
    Separable,
)
from problems.solvers.norms import GroupNorm, InstanceNorm, LayerNorm
from problems.solvers.resampling import AdaptivePool, Pad, Upsample
from problems.solvers.sequence import Attention, ClassToken, PositionEmbedding, Recurrent, TakeToken
from problems.solvers.unshared import Local, PatchEmbed, PixelShuffle
from problems.solvers.volumes import ConvNd, PoolNd
from problems.types.base import ImageInput
from problems.types.convolution import Conv2dProblem, ConvTransposeProblem
from problems.types.pooling import PoolProblem

#: A window's settings: a number for both axes or ``[h, w]``.
_PAIR = "a number, or `[h, w]` per axis"

LAYER_SETTINGS = {
    "name": "The layer's name: its output's name, which quantities use (`shape.NAME`, `params.NAME`) and "
    "`from` refers to.",
    "group": "A group the layer is counted in (`params.GROUP`), beside its blocks.",
    "from": "The earlier output(s) this step reads (a name, or a list for a merge; `input` is the input); "
    "by default the previous step's.",
    "out_channels": "Output channels (filters).",
    "bias": "Whether the layer has a bias per output channel (unit).",
    "groups": "Grouped convolution: the channels split into this many groups (`depthwise`: one per input channel).",
    "output_padding": f"Extra rows and columns on one side of a transposed convolution's output ({_PAIR}).",
    "mode": "The pooling (or upsampling) mode.",
    "ceil_mode": "Round the output size up: a last window that starts inside the input (not in the right "
    "padding) is kept.",
    "count_include_pad": "Whether average pooling divides by the whole window, padding included.",
    "function": "The activation's name (`relu`, `sigmoid`, ...); it changes no shape or count.",
    "p": "The dropout probability; it changes no shape or count.",
    "affine": "Whether batch norm has its learnable scale and shift (2 parameters per channel).",
    "out_features": "Output units.",
    "out_ratio": "Instead of `out_features`: the output units as a share of the inputs (0.5: half).",
    "scale": "Scale factor (a number, or `[h, w]`).",
    "size": "Output size (a number, or `[h, w]`).",
    "factor": "The upscale (`pixel_shuffle`) or downscale (`pixel_unshuffle`) factor r: r² channels per pixel.",
    "patch": "The patch side: the kernel and stride of the patch embedding's convolution.",
    "dim": "The embedding's width: values per token (the convolution's output channels).",
    "index": "The token taken (counted from 0; a ViT's class token is 0).",
    "heads": "Attention heads: each attends with C/heads of the token's values (they must divide C).",
    "hidden": "The recurrent layer's hidden size H: values per step of its output (2·H when bidirectional).",
    "layers": "Recurrent layers stacked (`num_layers`): each reads the one below's outputs.",
    "bidirectional": "Whether each recurrent layer also runs backwards (twice the weights and the output).",
    "biases": "Bias vectors per gate: 2 as torch keeps them (`b_ih`, `b_hh`), 1 as Keras's `LSTM` has.",
}
#: A window of any rank (``conv1d``, ``conv3d``, ``pool1d``, ``pool3d``): one number or one per axis.
RANK_SETTINGS = {
    "kernel": "Kernel size (a number, or a list of one per axis: `[t, h, w]` for 3-D).",
    "stride": "Stride (a number, or one per axis); for pooling, by default the kernel size.",
    "padding": "Zero padding on each side (a number, or one per axis), `same` (TensorFlow's at any stride) or `valid`.",
    "dilation": "Spacing between the kernel's taps (a number, or one per axis).",
}
WINDOW_SETTINGS = {
    "kernel": f"Kernel size ({_PAIR}).",
    "stride": f"Stride ({_PAIR}).",
    "padding": f"Zero padding on each side ({_PAIR}; a convolution also takes `same`, `valid`, or "
    "`[[top, bottom], [left, right]]`). `same` is TensorFlow's at any stride: the output is ⌈n/s⌉, the odd "
    "pixel of padding after (`pad_top.NAME` ... `pad_right.NAME`); not with a stride and a dilation both above 1.",
    "dilation": f"Spacing between the kernel's taps ({_PAIR}): the effective kernel is d·(k − 1) + 1.",
}
IMAGE_SETTINGS = {
    "input": "The input image: one matrix, a list of matrices (channels), or named channels (`{R: ..., G: ...}`).",
    "kernel": "One kernel (a matrix), applied to every input channel and summed over them.",
    "filters": "Instead of `kernel`: the filters, each a list of matrices, one per input channel (of its group).",
    "bias": "One bias per filter (output channel).",
    "stride": f"Stride ({_PAIR}).",
    "padding": f"Zero padding on each side ({_PAIR}; a convolution also takes `same`: TensorFlow's at any stride, "
    "the output ⌈n/s⌉).",
    "dilation": f"Spacing between the kernel's taps ({_PAIR}).",
    "groups": "Grouped convolution: the input channels split into this many groups.",
    "output_padding": f"Extra rows and columns on one side of the output ({_PAIR}).",
    "flip": "True convolution: the kernel is flipped by 180° (by default, cross-correlation, as in deep learning).",
}


def describe(models: list[type[BaseModel]], texts: dict[str, str]) -> None:
    """Give every field named in ``texts`` (by name or alias) its description, where it has none."""
    for model in models:
        for name, info in model.model_fields.items():
            text = texts.get(info.alias or name) or texts.get(name)
            if text and not info.description:
                info.description = text


_LAYERS: list[type[BaseModel]] = [
    LayerBase,
    Conv,
    ConvTranspose,
    Separable,
    PoolWindow,
    Pool,
    Activation,
    Dropout,
    BatchNorm,
    GroupNorm,
    InstanceNorm,
    LayerNorm,
    Linear,
    Upsample,
    AdaptivePool,
    Pad,
    ConvNd,
    PoolNd,
    Local,
    PixelShuffle,
    PatchEmbed,
    ClassToken,
    PositionEmbedding,
    TakeToken,
    Attention,
    Recurrent,
    Block,
    Repeat,
]
describe([PoolWindow, Pool, PoolProblem], {"stride": f"Stride ({_PAIR}); by default the kernel size."})
describe([PoolNd], {"padding": "Zero padding on each side (a number, or one per axis), at most half the kernel."})
describe([ConvNd], {"groups": "Grouped convolution: the channels split into this many groups."})
describe([ConvNd, PoolNd], RANK_SETTINGS)
describe(_LAYERS, WINDOW_SETTINGS | LAYER_SETTINGS)
describe([ImageInput, Conv2dProblem, ConvTransposeProblem], IMAGE_SETTINGS)
describe([PoolProblem], {**WINDOW_SETTINGS, **LAYER_SETTINGS, "input": IMAGE_SETTINGS["input"]})
describe(
    [Until], {"size": "The spatial side to reach.", "at": "Where it is measured: after this repeat, or at the end."}
)


class DescribedSchema(GenerateJsonSchema):
    """JSON Schema with each field's description as the model holds it now (with the ones above)."""

    def model_schema(self, schema: core_schema.ModelSchema) -> JsonSchemaValue:
        found = super().model_schema(schema)
        model = schema["cls"]
        properties: dict[str, Any] = found.get("properties", {})
        for name, info in getattr(model, "model_fields", {}).items():
            entry = properties.get(info.alias or name)
            if entry is not None and info.description and "description" not in entry:
                entry["description"] = info.description
        return found
