"""The closed registry of reference kinds: what a code part may ask for (``code: conv.forward``).

A kind is a :class:`CodeKind` subclass in a module of its own in this package (one module per
family: ``conv``, ``pool``); it joins the registry by one line in :data:`KINDS` below. Its name is
what a set file writes; the registry's shape (name → an instance) is what the loader, the plan
and the judge read, and it does not change when a kind is added.
"""

from __future__ import annotations

from problems.code.kinds.base import CodeKind, Drawn, Outputs, ShapeReading, Verdict
from problems.code.kinds.conv import ConvBackward, ConvForward
from problems.code.kinds.pool import PoolBackward, PoolForward
from problems.code.kinds.torch_model import TorchModel

KINDS: dict[str, CodeKind] = {
    kind.name: kind
    for kind in (
        ConvForward(),
        ConvBackward(),
        PoolForward(),
        PoolBackward(),
        TorchModel(),
    )
}

__all__ = ["KINDS", "CodeKind", "Drawn", "Outputs", "ShapeReading", "Verdict"]
