"""What a forward pass stores, apart from the weights: the values each output holds
(activations), their memory for a dtype, and a batch norm's running statistics (buffers).

Like ``counts``, one scalar formula each; a batch of one image, as everywhere in the solvers.
"""

from __future__ import annotations

from fractions import Fraction
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


#: Bytes per unit a memory may be asked in, by the quantity's prefix: bytes, the SI kilo- and
#: megabyte (10³, 10⁶: "MB" in a course's table) and the binary KiB and MiB (2¹⁰, 2²⁰).
MEMORY_UNITS: dict[str, tuple[int, str]] = {
    "memory": (1, "bytes"),
    "memory_kb": (10**3, "kB (10^3 bytes)"),
    "memory_mb": (10**6, "MB (10^6 bytes)"),
    "memory_kib": (2**10, "KiB (2^10 bytes)"),
    "memory_mib": (2**20, "MiB (2^20 bytes)"),
}


def in_unit(size: int, unit: str) -> int | Fraction:
    """``size`` bytes in the unit ``unit`` names (a key of ``MEMORY_UNITS``), exactly.

    >>> float(in_unit(60_950_432, "memory_mb")), round(float(in_unit(60_950_432, "memory_mib")), 2)
    (60.950432, 58.13)
    """
    per, _ = MEMORY_UNITS[unit]
    return size if per == 1 else Fraction(size, per)


def batchnorm_buffers(channels: int, tracked: bool = True) -> int:
    """Buffers of ``nn.BatchNorm``: a running mean and variance per channel, ``2·C``, and the
    count of batches seen (``num_batches_tracked``, one value) when ``tracked``.

    >>> batchnorm_buffers(64)
    129
    """
    return 2 * channels + int(tracked)
