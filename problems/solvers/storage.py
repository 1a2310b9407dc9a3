"""Which outputs of a network a forward pass stores as new values, as PyTorch does: what
``values.total`` and ``memory.total`` count.

PyTorch (and a course counting "the activations of VGG-16") stores the input image and each
output a layer writes to new memory. Three kinds of output write none:

- a view: ``flatten`` reshapes the tensor it reads (``Tensor.view``), ``tokens`` transposes it
  (``flatten(2).transpose(1, 2)``) and ``map`` back, ``permute`` reorders its axes,
  ``take_token`` indexes it (``x[:, 0]``), none copies;
- dropout at inference: ``nn.Dropout`` in evaluation mode hands back the very tensor it reads;
- an in-place operation: torchvision's models build their activations as ``nn.ReLU(inplace=True)``
  and their residual sums as ``out += identity``, which overwrite their input.

Courses differ on the last (an activation kept apart for back-propagation, a sum written
``a + b``) and on the input, so a set file chooses (``StoredValues``); the defaults are
torchvision's, which a forward hook counting the distinct tensors of AlexNet, VGG-16 and
ResNet-18 confirms (``tests/problems/test_stored_values_vs_torch.py``).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from problems.solvers.inputs import ExtraInput
from problems.solvers.layers import Activation, Dropout, Flatten, LayerBase
from problems.solvers.merging import Add
from problems.solvers.permutes import Permute
from problems.solvers.sequence import TakeToken, Tokens, ToMap

#: Activations torch can run in place (their module takes ``inplace=True``); the others
#: (sigmoid, tanh, GELU, softmax) always write new values.
IN_PLACE_ACTIVATIONS = frozenset(
    {"relu", "relu6", "leaky_relu", "elu", "selu", "celu", "hardtanh", "hardswish", "hardsigmoid", "silu", "mish"}
)


class StoredValues(BaseModel):
    """Which values ``values.total`` (and ``memory.total``) counts: the input, and whether an
    activation or a residual sum writes new values or overwrites its input in place. Flattening
    (a view) and dropout (the same tensor at inference) never write new values."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    input: bool = Field(
        default=True,
        description="Count the input's values, and those of every further input (`kind: input`): PyTorch keeps "
        "the input tensors.",
    )
    activations: Literal["in_place", "new"] = Field(
        default="in_place",
        description="`in_place`: an activation that torch can run in place (ReLU, ReLU6, leaky ReLU, ELU, SiLU, "
        "hardswish…) overwrites its input, as torchvision's `nn.ReLU(inplace=True)` does, and adds no values; "
        "`new`: every activation's output is new values (kept apart, as for back-propagation). Sigmoid, tanh, "
        "GELU and softmax always write new values.",
    )
    sums: Literal["in_place", "new"] = Field(
        default="in_place",
        description="`in_place`: a residual sum adds into its first input (`out += identity`, as torchvision's "
        "ResNets do) and adds no values; `new`: a sum's output is new values (`a + b`).",
    )


#: torchvision's choices: the input counted, activations and sums in place.
TORCH = StoredValues()


def writes_new_values(layer: LayerBase, stored: StoredValues = TORCH) -> bool:
    """Whether ``layer``'s output is new memory rather than its input's (a view, the same tensor
    or its input overwritten).

    >>> writes_new_values(Flatten())
    False
    >>> writes_new_values(Activation(function="relu")), writes_new_values(Activation(function="sigmoid"))
    (False, True)
    """
    if isinstance(layer, Flatten | Tokens | ToMap | Permute | TakeToken | Dropout):
        return False
    if isinstance(layer, ExtraInput):
        return stored.input
    if isinstance(layer, Activation):
        return stored.activations == "new" or layer.function not in IN_PLACE_ACTIVATIONS
    if isinstance(layer, Add):
        return stored.sums == "new"
    return True


def why_not_stored(layer: LayerBase) -> str:
    """Why a layer's output adds no values, for the worked steps."""
    if isinstance(layer, Flatten | Tokens | ToMap | Permute | TakeToken):
        return "a view of its input: no new values"
    if isinstance(layer, Dropout):
        return "at inference dropout hands back its input: no new values"
    if isinstance(layer, Add):
        return "added into its first input in place (out += identity): no new values"
    if isinstance(layer, ExtraInput):
        return "an input, left out as the input is (stored: {input: false})"
    return "applied in place, over its input: no new values"
