"""How the solvers compute: correctly by default, or under one known mistaken assumption.

The grading engine names a student's mistake by solving the same problem under each
mistaken assumption and comparing: the mistaken answers come from the same code as the
right ones, so they cannot drift apart.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from problems.solvers.receptive import FieldGrowth
from problems.solvers.sizes import SizeRule

#: The normalisations beside batch norm (``problems.solvers.norms``), by their ``kind``.
NormKind = Literal["groupnorm", "instancenorm", "layernorm"]


@dataclass(frozen=True, slots=True)
class Assumptions:
    #: ``floor`` is right; ``ceil`` rounds the division up; ``no_plus_one`` forgets the +1.
    size_rule: SizeRule = "floor"
    #: ``both`` is right; ``ignored`` drops the padding; ``one_side`` pads one side only.
    padding: Literal["both", "ignored", "one_side"] = "both"
    #: None keeps each layer's bias; False omits every bias; True adds one to every layer.
    bias: bool | None = None
    #: None counts batch norm's scale and shift where the layer has them (``affine``); True counts
    #: them where the question leaves them out; False leaves them out where it counts them.
    batchnorm: bool | None = None
    #: False counts a filter as K×K instead of K×K×C_in.
    input_channels: bool = True
    #: ``jump`` is right; ``local_stride`` grows the field by the previous layer's stride only;
    #: ``stride_ignored`` by no stride at all (k − 1 per layer).
    field_growth: FieldGrowth = "jump"
    #: ``forward`` sizes a transposed convolution with the ordinary convolution formula.
    transposed_size: Literal["transposed", "forward"] = "transposed"
    #: ``stack`` is right; ``as_add`` gives a concatenation the channels of its first input, as if
    #: it were a sum.
    concat: Literal["stack", "as_add"] = "stack"
    #: False counts a grouped (or depthwise) convolution's weights as if it had one group.
    groups: bool = True
    #: False slides a dilated kernel as if it were not dilated (span k, not d·(k−1)+1).
    dilation: bool = True
    #: False moves every window one pixel at a time, as if its stride were 1 (a transposed
    #: convolution then spreads its input one pixel apart).
    stride: bool = True
    #: ``symmetric`` pads ``same`` by ⌈total/2⌉ on both sides, where the odd pixel goes after;
    #: ``ignored`` takes ``same`` for no padding at all (``valid``).
    same_padding: Literal["after", "symmetric", "ignored"] = "after"
    #: True counts a normalisation's running mean and variance (buffers) as parameters: batch
    #: norm's, or an instance norm's that tracks them (``track_running_stats``).
    buffers: bool = False
    #: The kind of normalisation beside batch norm whose learnable scale and shift are left out
    #: of the counts (batch norm's own are ``batchnorm``): each kind has its mistake, so that the
    #: feedback names the layer the question has.
    norm_params_omitted: NormKind | None = None
    #: True counts group norm's scale and shift per group (2·G), as its statistics are taken,
    #: rather than per channel (2·C).
    groupnorm_per_group: bool = False
    #: True counts the bias as one more input of a neuron (its fan-in).
    fan_in_bias: bool = False
    #: False sizes a ceil-mode pool (``ceil_mode=True``) as if it rounded down.
    pool_ceil_mode: bool = True
    #: ``kept`` sizes a ceil-mode pool with the plain ⌈(n + 2p − k)/s⌉ + 1, keeping a last window
    #: that would start in the right padding or past the input, which PyTorch drops.
    pool_last_window: Literal["dropped", "kept"] = "dropped"


CORRECT = Assumptions()

#: Mistakes expressible as assumptions, by their contract code.
MISTAKEN: dict[str, Assumptions] = {
    "output-size-rounding": Assumptions(size_rule="ceil"),
    "missing-plus-one": Assumptions(size_rule="no_plus_one"),
    "padding-ignored": Assumptions(padding="ignored"),
    "padding-one-side": Assumptions(padding="one_side"),
    "bias-omitted": Assumptions(bias=False),
    "bias-extra": Assumptions(bias=True),
    "batchnorm-params-counted": Assumptions(batchnorm=True),
    "batchnorm-params-omitted": Assumptions(batchnorm=False),
    "input-channels-ignored": Assumptions(input_channels=False),
    "receptive-field-local-stride": Assumptions(field_growth="local_stride"),
    "receptive-field-stride-ignored": Assumptions(field_growth="stride_ignored"),
    "transposed-size-formula": Assumptions(transposed_size="forward"),
    "concat-as-add": Assumptions(concat="as_add"),
    "groups-ignored": Assumptions(groups=False),
    "dilation-ignored": Assumptions(dilation=False),
    "stride-ignored": Assumptions(stride=False),
    "same-padding-symmetric": Assumptions(same_padding="symmetric"),
    "same-padding-ignored": Assumptions(same_padding="ignored"),
    "buffers-counted-as-params": Assumptions(buffers=True),
    "groupnorm-params-omitted": Assumptions(norm_params_omitted="groupnorm"),
    "instancenorm-params-omitted": Assumptions(norm_params_omitted="instancenorm"),
    "layernorm-params-omitted": Assumptions(norm_params_omitted="layernorm"),
    "groupnorm-params-per-group": Assumptions(groupnorm_per_group=True),
    "bias-in-fan-in": Assumptions(fan_in_bias=True),
    "pool-ceil-mode": Assumptions(pool_ceil_mode=False),
    "pool-ceil-window": Assumptions(pool_last_window="kept"),
}

#: Mistakes a student can make on one layer of a network alone (a slip): those that change one
#: layer's own arithmetic. The field's growth and a merge's channels are about the whole path. The
#: size formula's own mistakes come last: a student who misremembers the formula misremembers it on
#: every layer, while a padding, a bias or a group is missed on one.
SLIPS = tuple(
    sorted(
        (code for code, a in MISTAKEN.items() if a.field_growth == "jump" and a.concat == "stack"),
        key=lambda code: MISTAKEN[code].size_rule != "floor",
    )
)


#: Mistakes about one setting a layer declares (``same``, ``ceil_mode``): where one gives the same
#: answer as a mistake about the formula (``same`` left out at stride 2 gives what the +1 left
#: out gives), the student's slip is the setting, which the question names.
SPECIFIC = ("same-padding-ignored", "pool-ceil-mode", "pool-ceil-window")


def precedence(code: str) -> tuple[bool, int, int, str]:
    """The order in which mistakes are tried on a wrong answer (the first that gives it is named):
    mistakes made on every layer, the specific ones (``SPECIFIC``) first, then slips on one layer
    (``CODE@LAYER``) in the order of ``SLIPS``."""
    base, slip, _ = code.partition("@")
    return bool(slip), int(base not in SPECIFIC), SLIPS.index(base) if slip and base in SLIPS else 0, code
