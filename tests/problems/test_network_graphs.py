"""The graph form of the ``network`` problem type: names and ``from``, blocks and repeats,
reusable blocks, what each quantity names, receptive fields per axis and through branches,
and set files refused with the field named. Numbers are worked out by hand in the comments;
``test_graphs_vs_torch.py`` checks the arithmetic against torch on random graphs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from problems.kinds import AnswerKind
from problems.loader import SetFileError, load_set
from problems.types.base import Quantity
from problems.types.network import NetworkProblem

Spec = dict[str, Any]


def solve(layers: list[Spec], input: list[int] | None = None, **extra: Any) -> dict[str, Quantity]:
    return network(layers, input, **extra).solve()


def network(layers: list[Spec], input: list[int] | None = None, **extra: Any) -> NetworkProblem:
    return NetworkProblem.model_validate({"type": "network", "input": input or [8, 8, 3], "layers": layers, **extra})


def value(found: dict[str, Quantity], name: str) -> Any:
    return found[name].value


BASIC = yaml.safe_load("""
basic:
  - {kind: conv, name: conv1, out_channels: $width, kernel: 3, padding: 1, bias: false}
  - {kind: batchnorm, name: bn1}
  - {kind: activation}
  - {kind: conv, name: conv2, out_channels: $width, kernel: 3, padding: 1, bias: false}
  - {kind: batchnorm, name: bn2}
  - {kind: add, from: [bn2, input]}
  - {kind: activation}
down:
  - {kind: conv, name: conv1, out_channels: $width, kernel: 3, stride: 2, padding: 1, bias: false}
  - {kind: conv, name: shortcut, from: input, out_channels: $width, kernel: 1, stride: 2, bias: false}
  - {kind: add, from: [conv1, shortcut]}
""")


# --- a chain is a graph ---------------------------------------------------------------------------


def test_a_chain_is_the_graph_where_each_layer_reads_the_previous_one() -> None:
    chain = [
        {"kind": "conv", "name": "c1", "out_channels": 4, "kernel": 3},
        {"kind": "pool", "name": "p1", "kernel": 2},
        {"kind": "conv", "name": "c2", "out_channels": 2, "kernel": 1},
    ]
    explicit = [chain[0], {**chain[1], "from": "c1"}, {**chain[2], "from": "p1"}]
    assert solve(chain) == solve(explicit)
    assert value(solve(chain), "shape.c2") == (2, 3, 3)


# --- blocks, repeats and names ----------------------------------------------------------------------


def test_blocks_and_repeats_count_under_their_names() -> None:
    """Two basic blocks of 4 channels on 8×8×4: each 2·(4·4·9) weights + 2·(2·4) norm = 304."""
    found = solve(
        [{"kind": "repeat", "name": "stage", "times": 2, "use": "basic", "with": {"width": 4}}],
        [8, 8, 4],
        blocks=BASIC,
    )
    assert value(found, "params.stage.0") == value(found, "params.stage.1") == 304
    assert value(found, "params.stage") == value(found, "params.total") == 608
    assert value(found, "params.stage.1.conv2") == 144
    assert value(found, "layers.stage") == 4
    assert value(found, "count.stage") == 2
    assert value(found, "shape.stage") == value(found, "shape.stage.0.bn2") == (4, 8, 8)
    assert value(found, "macs.stage.0") == 2 * 64 * 144  # two convolutions, 64 pixels, 4·4·9 each


def test_a_stage_changes_its_first_block() -> None:
    """``first`` replaces the first instance: stride 2 and a projection, then identity blocks."""
    found = solve(
        [
            {
                "kind": "repeat",
                "name": "layer2",
                "times": 3,
                "use": "basic",
                "with": {"width": 8},
                "first": {"use": "down"},
            }
        ],
        [8, 8, 4],
        blocks=BASIC,
    )
    assert value(found, "shape.layer2.0") == (8, 4, 4)
    assert value(found, "params.layer2.0.shortcut") == 4 * 8  # 1×1 from 4 to 8 channels, no bias
    assert "params.layer2.1.shortcut" not in found
    assert value(found, "shape.layer2") == (8, 4, 4)


def test_names_resolve_in_the_innermost_block_then_outwards() -> None:
    """A U-Net style skip: inside ``up``, ``conv`` is the block's own (6 channels, not the top
    level's 3), ``skip`` the top-level block (5) and ``input`` the block's input (3, upsampled)."""
    conv = {"kind": "conv", "out_channels": 3, "kernel": 3, "padding": 1}
    layers = [
        {"kind": "block", "name": "skip", "layers": [{**conv, "name": "conv", "out_channels": 5}]},
        {**conv, "name": "conv", "from": "input"},
        {"kind": "pool", "name": "down", "kernel": 2},
        {
            "kind": "block",
            "name": "up",
            "layers": [
                {"kind": "upsample", "name": "big", "scale": 2},
                {**conv, "name": "conv", "out_channels": 6},
                {"kind": "upsample", "name": "again", "from": "input", "scale": 2},
                {"kind": "concat", "name": "joined", "from": ["skip", "conv", "again"]},
            ],
        },
    ]
    found = solve(layers)
    assert value(found, "shape.up") == value(found, "shape.up.joined") == (5 + 6 + 3, 8, 8)
    assert value(found, "params.skip.conv") == 5 * 3 * 9 + 5
    assert value(found, "params.up") == value(found, "params.up.conv") == 6 * 3 * 9 + 6


def test_a_repeated_layer_keeps_its_own_name() -> None:
    """The old form: ``layer`` repeated until the map is 2×2; its name gives the last instance."""
    found = solve(
        [
            {
                "kind": "repeat",
                "name": "convs",
                "layer": {"kind": "conv", "name": "conv", "out_channels": 3, "kernel": 3},
                "until": {"size": 2},
            }
        ]
    )
    assert value(found, "count.convs") == 3
    assert value(found, "shape.conv") == (3, 2, 2)
    assert value(found, "shape.convs.0") == (3, 6, 6)


# --- receptive fields -------------------------------------------------------------------------------


def test_a_non_square_kernel_has_a_field_per_axis() -> None:
    """A 3×5 kernel sees 3 rows and 5 columns: ``rf`` is 3×5, ``rf_h`` 3, ``rf_w`` 5."""
    found = solve([{"kind": "conv", "name": "c", "out_channels": 1, "kernel": [3, 5]}])
    assert found["rf.c"] == Quantity(AnswerKind.SHAPE, (3, 5))
    assert (value(found, "rf_h.c"), value(found, "rf_w.c"), value(found, "jump.c")) == (3, 5, 1)


def test_the_field_after_a_strided_transposed_convolution() -> None:
    """Conv 3×3/2 (padding 1), then transposed 3×3/2 (padding 1): an even output pixel reads one
    pixel of the middle map (a field of 3), an odd one two neighbours (3 + 2 = 5); the jump is
    back to 1. The largest is the field."""
    found = solve(
        [
            {"kind": "conv", "name": "down", "out_channels": 1, "kernel": 3, "stride": 2, "padding": 1},
            {"kind": "conv_transpose", "name": "up", "out_channels": 1, "kernel": 3, "stride": 2, "padding": 1},
        ],
        [16, 16, 1],
    )
    assert (value(found, "rf.down"), value(found, "jump.down")) == (3, 2)
    assert (value(found, "rf.up"), value(found, "jump.up")) == (5, 1)


def test_upsampling_halves_the_jump() -> None:
    """After a 2×2/2 pool and a nearest ×2 upsampling, neighbours move by 1 input pixel on average."""
    found = solve([{"kind": "pool", "kernel": 2}, {"kind": "upsample", "name": "up", "scale": 2}], [8, 8, 1])
    assert (value(found, "rf.up"), value(found, "jump.up")) == (2, 1)
    found = solve([{"kind": "upsample", "name": "up", "scale": 2}], [8, 8, 1])
    assert found["jump.up"] == Quantity(AnswerKind.REAL, 0.5)
    resized = solve([{"kind": "upsample", "name": "up", "size": 12}], [8, 8, 1])
    assert "rf.up" not in resized  # ×1.5 is no whole factor: the field differs without a pattern


def test_a_residual_block_has_the_field_of_its_longest_path() -> None:
    """Two 3×3 convolutions beside the identity: 5, the larger of 5 and 1 (both centred)."""
    found = solve([{"kind": "block", "name": "b", "use": "basic", "with": {"width": 3}}], blocks=BASIC)
    assert value(found, "rf.b") == 5


def test_off_centre_branches_span_their_hull() -> None:
    """Branches reading rows −1..1 and 0..2 of each pixel: the sum responds to −1..2, a field of
    4, wider than either branch's 3."""
    found = solve(
        [
            {"kind": "conv", "name": "a", "out_channels": 1, "kernel": 3, "padding": 1},
            {"kind": "conv", "name": "b", "from": "input", "out_channels": 1, "kernel": 3, "padding": [[0, 2], [0, 2]]},
            {"kind": "add", "name": "sum", "from": ["a", "b"]},
        ],
        [8, 8, 1],
    )
    assert (value(found, "rf.a"), value(found, "rf.b"), value(found, "rf.sum")) == (3, 3, 4)


def test_branches_at_different_strides_have_no_common_field() -> None:
    """A 1×1/4 convolution and a 7×7 one both make 2×2 of an 8×8 map, but step by 4 and by 1."""
    found = solve(
        [
            {"kind": "conv", "name": "a", "out_channels": 1, "kernel": 1, "stride": 4},
            {"kind": "conv", "name": "b", "from": "input", "out_channels": 1, "kernel": 7},
            {"kind": "add", "name": "sum", "from": ["a", "b"]},
        ],
        [8, 8, 1],
    )
    assert value(found, "shape.sum") == (1, 2, 2)
    assert "rf.sum" not in found


# --- padding ------------------------------------------------------------------------------------------


def test_per_side_and_valid_padding() -> None:
    """TensorFlow's "same" at stride 2 on 224: one extra row and column after, 3×3/2 gives 112."""
    found = solve(
        [
            {"kind": "conv", "name": "tf", "out_channels": 8, "kernel": 3, "stride": 2, "padding": [[0, 1], [0, 1]]},
            {"kind": "conv", "name": "valid", "out_channels": 8, "kernel": 3, "padding": "valid"},
            {"kind": "pad", "name": "crop", "padding": [-1, [0, -2]]},
        ],
        [224, 224, 3],
    )
    assert value(found, "shape.tf") == (8, 112, 112)
    assert value(found, "shape.valid") == (8, 110, 110)
    assert value(found, "shape.crop") == (8, 108, 108)


# --- set files refused with the field named -----------------------------------------------------------


def set_file(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "graph.yaml"
    path.write_text(
        "id: graph\ntitle: graph\nproblems:\n  - id: q1\n    title: A graph\n    type: network\n    input: [8, 8, 3]\n"
        + body
        + "    parts: [{key: a, quantity: params.total}]\n"
    )
    return path


CONV = "{kind: conv, name: a, out_channels: 4, kernel: 3}"


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        # a name that is no earlier output, a name used twice, the reserved name
        (
            f"    layers: [{CONV}, {{kind: add, from: [a, b]}}]\n",
            "field 'layers.1.from': no earlier output is named 'b'",
        ),
        (f"    layers: [{CONV}, {CONV}]\n", "field 'layers.1.name': the name 'a' is used twice"),
        ("    layers: [{kind: conv, name: input, out_channels: 4, kernel: 3}]\n", "field 'layers.0.name'"),
        # a merge of one output
        ("    layers: [{kind: concat, from: input}]\n", "field 'layers.0.concat': 'concat' takes two or more"),
        # a sum of maps that differ, a concatenation of sizes that differ (shapes as the set writes them)
        (
            f"    layers: [{CONV}, {{kind: add, name: s, from: [a, input]}}]\n",
            "layers.1.from (add s) of a 6×6×4 (H×W×C) and input 8×8×3 (H×W×C): a sum needs inputs of one shape",
        ),
        (
            f"    layers: [{CONV}, {{kind: concat, from: [a, input]}}]\n",
            "layers.1.from (concat) of a 6×6×4 (H×W×C) and input 8×8×3 (H×W×C): a concatenation needs inputs "
            "of one spatial size",
        ),
        # reusable blocks: a missing value, a value for nothing, an unknown block, a bad value
        (
            "    blocks: {b: [{kind: conv, out_channels: $w, kernel: 3}]}\n"
            "    layers: [{kind: block, name: x, use: b}]\n",
            "field 'layers.0.with': block 'b' needs a value for $w",
        ),
        (
            "    blocks: {b: [{kind: conv, out_channels: $w, kernel: 3}]}\n"
            "    layers: [{kind: block, name: x, use: b, with: {w: 2, v: 3}}]\n",
            "field 'layers.0.with.v': block 'b' has no $v",
        ),
        ("    layers: [{kind: block, name: x, use: c}]\n", "field 'layers.0.use': no block named 'c'"),
        (
            "    blocks: {b: [{kind: conv, out_channels: $w, kernel: 3}]}\n"
            "    layers: [{kind: repeat, name: x, times: 2, use: b, with: {w: -1}}]\n",
            "field 'layers.0.repeat.layers.0.conv.out_channels': Input should be greater than 0",
        ),
        # "until" is solved at the top level only
        (
            "    layers: [{kind: block, name: b, layers: [{kind: repeat, name: r, until: {size: 2},"
            " layer: {kind: conv, out_channels: 4, kernel: 3}}]}]\n",
            "field 'layers.0.layers.0.until'",
        ),
    ],
)
def test_a_wrong_graph_is_refused_with_the_field_named(tmp_path: Path, body: str, expected: str) -> None:
    with pytest.raises(SetFileError, match="problem 'q1'") as refused:
        load_set(set_file(tmp_path, body))
    assert expected in str(refused.value)


# --- statements and follow-through --------------------------------------------------------------------


def test_the_statement_lists_blocks_and_branches() -> None:
    problem = network(
        [
            {"kind": "conv", "name": "a", "out_channels": 4, "kernel": 3, "padding": 1},
            {"kind": "repeat", "name": "stage", "times": 2, "use": "basic", "with": {"width": 4}},
            {"kind": "concat", "name": "both", "from": ["a", "stage"]},
        ],
        blocks=BASIC,
    )
    text = problem.describe()
    assert "2. repeat stage, 2 times:" in text
    assert "   2.6. sum from bn2, input" in text
    assert "3. concatenation from a, stage → both" in text


def test_follow_through_runs_on_from_a_block() -> None:
    """A student whose stage1 came out 8×4×4 (not 8×8×8) gets stage2 from theirs."""
    problem = network(
        [
            {"kind": "repeat", "name": "stage1", "times": 1, "use": "basic", "with": {"width": 8}},
            {
                "kind": "repeat",
                "name": "stage2",
                "times": 1,
                "use": "basic",
                "with": {"width": 8},
                "first": {"use": "down"},
            },
        ],
        [8, 8, 8],
        blocks=BASIC,
    )
    assert value(problem.solve(), "shape.stage2") == (8, 4, 4)
    assert problem.follow("shape.stage2", {"shape.stage1": (8, 4, 4)}) == Quantity(AnswerKind.SHAPE, (8, 2, 2))
