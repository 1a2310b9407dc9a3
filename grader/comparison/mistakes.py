"""The known mistakes: what each code means to a student, and the mistakes recognised from
the value alone (the others come from the solvers run under a mistaken assumption)."""

from __future__ import annotations

from fractions import Fraction

from problems.kinds import AnswerKind, unit_size
from problems.parts import Operation, Part, Scalar

EXPLANATIONS: dict[str, str] = {
    "kernel-not-flipped": "This is the cross-correlation: a true convolution flips the kernel by 180° before "
    "sliding it.",
    "kernel-flipped": "You flipped the kernel, but convolution in deep learning slides the kernel as given "
    "(cross-correlation).",
    "output-size-rounding": "The output size rounds down, ⌊(n + 2p − k)/s⌋ + 1: a window that does not fit is dropped.",
    "pool-ceil-mode": "This pooling layer is in ceil mode (ceil_mode=True): its output size rounds up, "
    "⌈(n + 2p − k)/s⌉ + 1, so a window that runs over the edge of the input still gives an output.",
    "pool-ceil-window": "In ceil mode the size rounds up, but a last window that would start in the right padding "
    "(or past the input) is dropped: PyTorch's output is one less than ⌈(n + 2p − k)/s⌉ + 1 here.",
    "missing-plus-one": "The size formula ends in +1: ⌊(n + 2p − k)/s⌋ + 1 counts the first window too.",
    "padding-ignored": "The padding was left out: it adds p zeros on every side of the input (a transposed "
    "convolution's crops p from every side of its output).",
    "padding-one-side": "Padding goes on both sides: the input grows by 2p, not p.",
    "bias-omitted": "The biases are missing: add one bias per output channel (or output unit).",
    "bias-extra": "This layer has no bias: count the weights only.",
    "bias-beside-batchnorm": "A layer followed by batch norm has no bias: batch norm subtracts the mean, "
    "which cancels any bias, and its shift β takes the bias's place.",
    "batchnorm-params-counted": "Batch norm's parameters are not counted here: count the convolution and fully "
    "connected weights and biases only.",
    "batchnorm-params-omitted": "Batch norm has parameters too: a learnable scale γ and shift β per channel, 2·C "
    "(its running mean and variance are buffers, not parameters).",
    "input-channels-ignored": "A filter spans every input channel: it has K×K×C_in weights, not K×K.",
    "receptive-field-local-stride": "The receptive field grows by (k − 1) times the product of all earlier strides, "
    "not the previous layer's stride alone.",
    "receptive-field-stride-ignored": "The strides were left out: after a layer with stride s every later layer "
    "grows the field by (k − 1) times the product of the strides before it, not by k − 1.",
    "projection-shortcut-omitted": "The projection shortcut is missing: where a residual block changes the shape, "
    "its shortcut is a 1×1 convolution with its own batch norm; add their parameters (and multiply-accumulates) "
    "to the block's.",
    "concat-as-add": "A concatenation is not a sum: it stacks its inputs' channels, so its output has the channels "
    "of all its inputs added up, and the next layer's filters span all of them.",
    "groups-ignored": "This layer is grouped: each filter spans only its group's C_in/groups input channels, "
    "so its weights and multiply-accumulates are divided by the number of groups (a depthwise layer: one channel).",
    "dilation-ignored": "The kernel is dilated: it spans d·(k − 1) + 1 pixels, not k, which shrinks the output "
    "and grows the receptive field (its weights stay k×k).",
    "same-padding-symmetric": "'same' padding is not always symmetric: the total padding is "
    "max((⌈n/s⌉ − 1)·s + k − n, 0), and when it is odd the extra pixel goes after (bottom, right).",
    "same-padding-ignored": "'same' padding was left out: it pads the input so that the output keeps ⌈n/s⌉ pixels "
    "(n at stride 1), with max((⌈n/s⌉ − 1)·s + k − n, 0) zeros in all; ⌊(n − k)/s⌋ + 1 is 'valid', no padding.",
    "buffers-counted-as-params": "A normalisation's running mean and variance (the statistics it tracks for "
    "inference) are buffers, not parameters: they are stored (and in the state dict) but not learned; its "
    "parameters are its scale γ and shift β alone, 2·C (none without affine).",
    "groupnorm-params-omitted": "Group norm has parameters too: a learnable scale γ and shift β per channel, 2·C "
    "whatever the number of groups (only its mean and variance are taken per group).",
    "groupnorm-params-per-group": "Group norm takes its mean and variance per group, but its scale γ and shift β "
    "are per channel: 2·C parameters, not 2·G.",
    "instancenorm-params-omitted": "This instance norm is affine (affine=True): it has a learnable scale γ and "
    "shift β per channel, 2·C parameters (torch's default, without affine, has none).",
    "layernorm-params-omitted": "Layer norm has parameters too: a learnable scale γ and shift β for each value it "
    "normalises, 2·d for d the product of normalized_shape, whatever the number of tokens (d alone with bias=False).",
    "bias-in-fan-in": "The fan-in counts the inputs a neuron multiplies by weights, (C_in/groups)·k·k; the bias "
    "is added, not an input.",
    "anchors-forgotten": "Each grid cell predicts one set of box values per anchor: the depth is A·(5 + C), not 5 + C.",
    "level-side-rounded-down": "This backbone rounds each halving up (a stride-2 layer padded by k // 2 keeps a "
    "last, partial window, as torchvision's ResNets and their FPN do): the map at stride s of an n-pixel image is "
    "⌈n/s⌉ on a side, one more than ⌊n/s⌋ where s does not divide n.",
    "level-side-rounded-up": "This backbone rounds each halving down (unpadded 2×2 pooling drops a last odd pixel, "
    "as VGG's does): the map at stride s of an n-pixel image is ⌊n/s⌋ on a side, one less than ⌈n/s⌉ where s does "
    "not divide n.",
    "boxes-numbered-from-0": "The boxes are numbered from 1 here, as the question lists them: these are the kept "
    "boxes numbered from 0 (torchvision's nms returns indices from 0), so add one to each.",
    "boxes-numbered-from-1": "The boxes are numbered from 0 here, as torchvision numbers them (its nms returns "
    "indices from 0): these are the kept boxes numbered from 1, so take one from each.",
    "channel-order": "The sizes are right but in the wrong order.",
    "yolo-classes-per-box": "YOLOv1 predicts one set of class probabilities per grid cell, not per box: 5B + C.",
    "yolo-classes-per-cell": "From YOLOv2 on, every anchor box carries its own class scores: A·(5 + C).",
    "mb-vs-mib": "MB and MiB differ: a megabyte is 1,000,000 bytes (10^6), a mebibyte 1,048,576 (2^20); "
    "the number fits the other one, so check which unit your figure is in.",
    "bits-vs-bytes": "A byte is 8 bits: the number fits bytes, not bits (or the reverse): check the unit.",
    "batch-ignored": "This is one image's value: the question asks it for the whole batch, where every image "
    "stores its own values and does its own multiply-accumulates (the weights are shared, the work is not), so "
    "multiply by the batch size.",
    "macs-vs-flops": "Multiply-accumulates and FLOPs differ by a factor of 2 (one MAC is a multiply and an add): "
    "check which one the question asks for.",
    "transposed-size-formula": "A transposed convolution enlarges: (n − 1)·s − 2p + k, not the convolution formula.",
    "pooling-type-swapped": "These are the values of the other pooling type: max pooling keeps the largest value, "
    "average pooling the mean.",
    "percent-vs-fraction": "Give the reduction as a percentage (like 95.2%), not as a fraction.",
    "inverse-off-by-one": "Off by one: the size formula ⌊(n + 2p − k)/s⌋ + 1 ends in +1, and solving it for the "
    "unknown keeps it: the kernel is n + 2p − (out − 1)·s, the padding that keeps the size (k − 1)/2.",
    "stride-ignored": "The stride was left out: the window moves S pixels at a time, so the output has "
    "⌊(n + 2p − k)/s⌋ + 1 positions per side, not n + 2p − k + 1 (a transposed convolution spreads its input S "
    "pixels apart: (n − 1)·s, not n − 1).",
    "gradient-not-accumulated": "A gradient must be accumulated (+=), not assigned (=): where windows overlap, or "
    "several filters (or images) reach the same element, every contribution adds up.",
    "gradient-not-summed-over-batch": "The weights and biases are shared by every image of the batch: their "
    "gradients are summed over the batch, not taken from one image (nor averaged).",
    "pool-gradient-to-all": "Max pooling passes each gradient only to the element its window took (the largest); "
    "the others had no effect on the output, so their gradient is 0.",
    "padding-crop-empty": "The padding is cropped off dx with [pad:-pad], which is empty when pad is 0 "
    "(-0 is 0, so the slice ends where it starts): crop with [pad:pad + H] instead.",
    "pool-window-assigned": "Each window's gradient was written over the whole window with =, so where windows "
    "overlap a later window's zeros erase what an earlier one gave: add (+=) only at the element the window took.",
    "backward-stride-ignored": "The backward pass reads the windows at i, j instead of i·S, j·S: the stride "
    "moves the windows in the backward pass as in the forward one.",
    "pool-size-ceil": "The output size was rounded up: without padding or ceil mode, max pooling has "
    "⌊(n − k)/s⌋ + 1 windows per side, and a last window that runs over the edge is not taken.",
    "reduction-vs-share": "This is the share that is kept (new/old), not the reduction: the reduction is "
    "100% minus it, 100·(1 − new/old).",
}


#: Each memory unit and the one of the other kind of prefix it is taken for (MB for MiB).
_OTHER_PREFIX = {"memory_kb": "memory_kib", "memory_mb": "memory_mib"}
_OTHER_PREFIX |= {other: unit for unit, other in _OTHER_PREFIX.items()}
_MEMORY = ("memory", *_OTHER_PREFIX)


def value_mistakes(part: Part, kind: AnswerKind, expected: Scalar) -> list[tuple[str, Scalar]]:
    """Mistakes recognised from the value alone: FLOPs given for MACs and the reverse, the share
    kept given for a reduction (never where the two are equal, at 50%), and a memory given in the
    other kind of prefix (MB for MiB, the bytes divided by 10^6 rather than 2^20) or in bits.

    A count asked as a real (``kind: real``) is the same count: its mistakes are the integer's,
    and the part's tolerance decides whether an answer is one (``PartReference.mistake_for``).
    """
    if kind is AnswerKind.PERCENT and _is_reduction(part.quantity) and 2 * expected != 100:
        return [("reduction-vs-share", 100 - expected)]
    if kind not in (AnswerKind.INTEGER, AnswerKind.REAL) or not isinstance(part.quantity, str):
        return []
    asked = part.quantity.split(".")[0]
    if asked in _MEMORY:
        return _memory_mistakes(asked, expected)
    if asked == "macs":
        return [("macs-vs-flops", 2 * expected)]
    if asked == "flops" and kind is AnswerKind.REAL:
        return [("macs-vs-flops", expected / 2 if isinstance(expected, float) else Fraction(expected) / 2)]
    if asked == "flops" and expected % 2 == 0:
        return [("macs-vs-flops", expected // 2)]
    return []


def _memory_mistakes(unit: str, expected: Scalar) -> list[tuple[str, Scalar]]:
    """A memory in bits (8 times the figure), and in the other kind of prefix: the bytes divided
    by 10^6 where 2^20 is asked, or the reverse."""
    exact = expected if isinstance(expected, int) else Fraction(expected)
    found: list[tuple[str, Scalar]] = [("bits-vs-bytes", 8 * exact)]
    if unit in _OTHER_PREFIX:
        found.append(("mb-vs-mib", exact * Fraction(unit_size(unit), unit_size(_OTHER_PREFIX[unit]))))
    return found


def _is_reduction(quantity: str | Operation) -> bool:
    """A relative reduction: the ``reduction`` operation, or a ``..._reduction.NAME`` quantity."""
    if isinstance(quantity, Operation):
        return quantity.op == "reduction"
    return quantity.split(".")[0].endswith("_reduction")
