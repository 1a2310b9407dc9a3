"""The table of every quantity an author can ask for: per problem type, the quantity (with
``NAME`` for a layer, block, repeat or group, ``N`` for a number), its answer kind, and the
mistakes the grader names on it.

Computed, not written: each problem type solves sample problems that use every layer kind, and a
mistake applies to a quantity where solving under it gives another value (or, for the mistakes
recognised from the value alone, where ``value_mistakes`` offers one). So the table cannot drift
from the code; ``docs/set-files.md`` holds it and a test compares.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from pydantic import TypeAdapter

from grader.comparison.mistakes import value_mistakes
from problems.parts import Part
from problems.types import AnyProblem
from problems.types.base import ProblemSpec, Quantity
from problems.types.network import NetworkProblem

#: Sample networks that use every layer kind (2-D, a sequence on a batch, a clip), beside the examples.
NETWORKS: list[dict[str, Any]] = [
    {
        "input": [32, 32, 8],
        "layers": [
            {"kind": "conv", "name": "conv", "out_channels": 8, "kernel": 3, "padding": 1, "bias": False},
            {"kind": "batchnorm", "name": "bn"},
            {"kind": "groupnorm", "name": "gn", "groups": 4},
            {"kind": "instancenorm", "name": "inorm", "affine": True, "track_running_stats": True},
            {"kind": "activation"},
            {
                "kind": "conv",
                "name": "grouped",
                "out_channels": 8,
                "kernel": 3,
                "padding": 2,
                "dilation": 2,
                "groups": 2,
            },
            {"kind": "conv", "name": "strided", "out_channels": 8, "kernel": 3, "stride": 2, "padding": "same"},
            {
                "kind": "block",
                "name": "block",
                "layers": [
                    {"kind": "conv", "name": "a", "out_channels": 4, "kernel": 1},
                    {"kind": "conv", "name": "b", "out_channels": 4, "kernel": 3, "padding": 1, "from": "input"},
                    {"kind": "concat", "name": "cat", "from": ["a", "b"]},
                    {"kind": "add", "name": "sum", "from": ["cat", "input"]},
                ],
            },
            {
                "kind": "repeat",
                "name": "stage",
                "times": 2,
                "layer": {"kind": "separable", "name": "sep", "out_channels": 8, "kernel": 3, "padding": 1},
            },
            {"kind": "pool", "name": "pool", "kernel": 2},
            {"kind": "conv_transpose", "name": "up", "out_channels": 8, "kernel": 2, "stride": 2},
            {"kind": "upsample", "name": "resize", "scale": 2},
            {"kind": "pad", "name": "pad", "padding": 1},
            {"kind": "local", "name": "local", "out_channels": 8, "kernel": 3, "group": "head"},
            {"kind": "pixel_unshuffle", "name": "unshuffle", "factor": 2},
            {"kind": "pixel_shuffle", "name": "shuffle", "factor": 2},
            {"kind": "patch_embed", "name": "patches", "patch": 4, "dim": 16},
            {"kind": "adaptive_pool", "name": "adaptive", "size": 2},
            {"kind": "flatten"},
            {"kind": "layernorm", "name": "ln"},
            {"kind": "dropout"},
            {"kind": "linear", "name": "fc", "out_features": 10, "group": "head"},
        ],
    },
    {
        "input": [64, 4],
        "batch": 4,
        "layers": [
            {"kind": "conv1d", "name": "conv1d", "out_channels": 8, "kernel": 3, "stride": 2, "padding": "same"},
            {"kind": "pool1d", "name": "pool1d", "kernel": 2},
        ],
    },
    {
        "input": [8, 16, 16, 3],
        "layers": [
            {"kind": "conv3d", "name": "conv3d", "out_channels": 8, "kernel": 3, "padding": 1},
            {"kind": "pool3d", "name": "pool3d", "kernel": [1, 2, 2], "mode": "avg"},
        ],
    },
]

#: Anchor levels derived rather than given: from a backbone's outputs (whose mistakes change their
#: maps: a ceil-mode pool on 31 pixels), at a stride rounded up, and at a stride rounded down.
ANCHORS: list[dict[str, Any]] = [
    {
        "head": "ssd",
        "classes": 3,
        "backbone": {
            "input": [31, 31, 3],
            "layers": [
                {"kind": "conv", "name": "conv", "out_channels": 4, "kernel": 3, "padding": 1},
                {"kind": "pool", "name": "pool", "kernel": 2, "ceil_mode": True},
                {"kind": "conv", "name": "extra", "out_channels": 4, "kernel": 3, "stride": 2, "padding": 1},
            ],
        },
        "levels": [{"from": "pool", "anchors": 4}, {"from": "extra", "anchors": 6}, {"stride": 4, "anchors": 4}],
    },
    {
        "head": "rpn",
        "input": [600, 1000],
        "rounding": "floor",
        "levels": [{"stride": 16, "sizes": [128, 256, 512], "ratios": [0.5, 1, 2]}],
    },
]

#: More samples of the other types: what their examples do not show (a padding found, channels by name,
#: boxes numbered from 0, whose mistake is the other numbering's, anchor levels derived).
SAMPLES: dict[str, list[dict[str, Any]]] = {
    "network": NETWORKS,
    "inverse": [{"find": "padding", "kernel": 5}],
    "boxes": [{"boxes": [[0, 0, 2, 2]], "scores": [0.9], "numbered_from": 0}],
    "anchors": ANCHORS,
    "pool2d": [{"input": {"R": [[1, 2], [3, 4]], "G": [[0, 1], [1, 0]]}, "kernel": 2}],
    "conv2d": [{"input": {"R": [[1, 2], [3, 4]], "G": [[0, 1], [1, 0]]}, "kernel": [[1]]}],
}

#: One row: the quantity, its answer kind, the mistakes named on it.
Row = tuple[str, str, tuple[str, ...]]


def quantity_rows(examples: dict[str, dict[str, Any]]) -> dict[str, list[Row]]:
    """Per problem type, its quantities in the order the samples first give them."""
    adapter: TypeAdapter[Any] = TypeAdapter(AnyProblem)
    found: dict[str, dict[str, tuple[str, set[str]]]] = {}
    for name, params in examples.items():
        samples = [params, *SAMPLES.get(name, [])]
        rows = found.setdefault(name, {})
        for sample in samples:
            spec = adapter.validate_python({"type": name, **sample})
            _collect(spec, rows)
    return {
        name: [(q, kind, tuple(sorted(codes))) for q, (kind, codes) in rows.items()] for name, rows in found.items()
    }


def _collect(spec: ProblemSpec, rows: dict[str, tuple[str, set[str]]]) -> None:
    correct = spec.solve()
    names = _names(spec)
    for quantity, answer in correct.items():
        _, codes = rows.setdefault(_pattern(quantity, names), (answer.kind.value, set()))
        codes.update(code for code, _ in value_mistakes(Part(key="k", quantity=quantity), answer.kind, answer.value))
    for code, mistaken in spec.mistakes().items():
        for quantity, answer in mistaken.items():
            if quantity in correct and not _same(answer, correct[quantity]):
                rows[_pattern(quantity, names)][1].add(code.partition("@")[0])


def _same(first: Quantity, second: Quantity) -> bool:
    if isinstance(first.value, np.ndarray) or isinstance(second.value, np.ndarray):
        return bool(np.array_equal(first.value, second.value))
    return bool(first.value == second.value)


def _names(spec: ProblemSpec) -> set[str]:
    """The names quantities take: a network's layers, blocks, repeats, instances and groups; an
    image's channels (written ``NAME`` in the table too)."""
    if not isinstance(spec, NetworkProblem):
        channels = getattr(spec, "channel_names", None)
        return set(channels() or []) if callable(channels) else set()
    run = spec.network()
    return {r.name for r in run.records if r.name} | {r.group for r in run.records if r.group} | set(run.outputs)


def _pattern(quantity: str, names: set[str]) -> str:
    """``params.conv1`` as ``params.NAME``, ``grid.2`` as ``grid.N``; ``params.total`` as it is."""
    head, dot, rest = quantity.partition(".")
    if not dot:
        return quantity
    if rest.isdigit():
        return f"{head}.N"
    return f"{head}.NAME" if rest in names else quantity


def quantity_table(examples: dict[str, dict[str, Any]]) -> str:
    """The Markdown section."""
    lines = [
        "## Quantities\n",
        "Every quantity a part can ask for, per problem type, with its answer kind and the mistake codes the "
        "grader names on it (computed from sample problems that use every layer kind: a code is listed where "
        "solving under that mistake changes the quantity). A network's mistakes are also named when made on "
        "one layer only; a shape written in another order is `channel-order`.\n",
    ]
    for name, rows in quantity_rows(examples).items():
        lines += [f"\n### `{name}`\n", "| quantity | kind | mistakes |", "| --- | --- | --- |"]
        for quantity, kind, codes in rows:
            lines.append(f"| `{quantity}` | {kind} | {', '.join(f'`{c}`' for c in codes) or '—'} |")
    return "\n".join(lines) + "\n"
