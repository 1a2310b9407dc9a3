"""What a forward pass stores, apart from the weights: the values each output holds
(activations), their memory for a dtype, and a batch norm's running statistics (buffers).

Like ``counts``, one scalar formula each; a batch of one image, as everywhere in the solvers.
"""

from __future__ import annotations

from typing import Literal

#: A tensor's element type, as ``torch.dtype`` names it.
Dtype = Literal["float64", "float32", "float16", "bfloat16", "int8", "uint8"]

#: Bytes per element (``torch.tensor([], dtype=...).element_size()``).
DTYPE_BYTES: dict[str, int] = {"float64": 8, "float32": 4, "float16": 2, "bfloat16": 2, "int8": 1, "uint8": 1}


def values(shape: tuple[int, ...]) -> int:
    """Values an output of ``shape`` holds: the product of its sizes (``Tensor.numel()``).

    >>> values((96, 55, 55))  # AlexNet's conv1
    290400
    """
    total = 1
    for size in shape:
        total *= size
    return total


def memory(count: int, dtype: str = "float32") -> int:
    """Bytes that ``count`` values take in ``dtype``: ``count·element_size``.

    >>> memory(290400)  # AlexNet's conv1 output in float32, about 1.1 MB
    1161600
    """
    return count * DTYPE_BYTES[dtype]


def batchnorm_buffers(channels: int, tracked: bool = True) -> int:
    """Buffers of ``nn.BatchNorm``: a running mean and variance per channel, ``2·C``, and the
    count of batches seen (``num_batches_tracked``, one value) when ``tracked``.

    >>> batchnorm_buffers(64)
    129
    """
    return 2 * channels + int(tracked)
