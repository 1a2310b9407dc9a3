"""Which layers a structural mistake rewrites: the projection shortcuts of residual blocks (and
nothing in a block without one), and the layers a batch norm reads, at any depth."""

from __future__ import annotations

from typing import Any

import pytest

from problems.solvers.rewrites import bias_beside_batchnorm, projection_shortcuts
from problems.types.network import NetworkProblem

Spec = dict[str, Any]

MAIN = [
    {"kind": "conv", "name": "conv1", "out_channels": 16, "kernel": 3, "stride": 2, "padding": 1, "bias": False},
    {"kind": "batchnorm", "name": "bn1"},
    {"kind": "activation"},
    {"kind": "conv", "name": "conv2", "out_channels": 16, "kernel": 3, "padding": 1, "bias": False},
    {"kind": "batchnorm", "name": "bn2"},
]
PROJECTION = [
    {"kind": "conv", "name": "down", "from": "input", "out_channels": 16, "kernel": 1, "stride": 2, "bias": False},
    {"kind": "batchnorm", "name": "down_bn"},
]


def names(layers: list[Spec]) -> set[str]:
    problem = NetworkProblem.model_validate({"type": "network", "input": [8, 8, 8], "layers": layers})
    records = problem.network().records
    return {records[i].name or records[i].layer.kind for i in projection_shortcuts(records)}


@pytest.mark.parametrize(
    ("layers", "expected"),
    [
        # a downsampling block: the 1×1 stride-2 convolution and its batch norm on the shortcut
        (
            [
                {
                    "kind": "block",
                    "name": "b",
                    "layers": [*MAIN, *PROJECTION, {"kind": "add", "from": ["bn2", "down_bn"]}],
                }
            ],
            {"b.down", "b.down_bn"},
        ),
        # the same at the top level, forking from the network's input
        ([*MAIN, *PROJECTION, {"kind": "add", "from": ["bn2", "down_bn"]}], {"down", "down_bn"}),
        # an identity shortcut: nothing to omit
        (
            [
                {"kind": "conv", "name": "c", "out_channels": 8, "kernel": 3, "padding": 1},
                {"kind": "add", "from": ["c", "input"]},
            ],
            set(),
        ),
        # two single convolutions summed: no main path, no residual block
        (
            [
                {"kind": "conv", "name": "a", "out_channels": 8, "kernel": 1},
                {"kind": "conv", "name": "b", "from": "input", "out_channels": 8, "kernel": 1},
                {"kind": "add", "from": ["a", "b"]},
            ],
            set(),
        ),
    ],
)
def test_projection_shortcuts(layers: list[Spec], expected: set[str]) -> None:
    assert names(layers) == expected


def test_a_bias_is_added_where_a_batch_norm_reads_the_layer_inside_repeats() -> None:
    problem = NetworkProblem.model_validate(
        {
            "type": "network",
            "input": [8, 8, 8],
            "layers": [
                {
                    "kind": "repeat",
                    "name": "r",
                    "times": 2,
                    "layers": [
                        {"kind": "conv", "name": "c", "out_channels": 8, "kernel": 3, "padding": 1, "bias": False},
                        {"kind": "batchnorm", "name": "bn"},
                        {"kind": "conv", "name": "tail", "out_channels": 8, "kernel": 1, "bias": False},
                    ],
                }
            ],
        }
    )
    correct = problem.network()
    biased = bias_beside_batchnorm(correct)
    assert biased is not None
    # c: 3·3·8·8 = 576 weights, + 8 biases in each instance; tail reads no batch norm: unchanged
    changed = [
        (r.name, a.params, r.params)
        for a, r in zip(correct.records, biased.records, strict=True)
        if a.params != r.params
    ]
    assert changed == [("r.0.c", 576, 584), ("r.1.c", 576, 584)]
