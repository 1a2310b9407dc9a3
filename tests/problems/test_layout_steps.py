"""The steps that move a map between layouts, layer scale and Swin's steps, as a set file's author
meets them: each bad encoding refused at its line with a sentence that names what to write
instead."""

from __future__ import annotations

import pytest

from problems.loader import SetFileError, parse_set
from problems.types.network import NetworkProblem

SET = """\
id: convnext-steps
title: ConvNeXt's steps
problems:
  - id: n
    title: n
    type: network
    input: [14, 14, 8]
    layers:
      - {{kind: conv, name: dw, out_channels: 8, kernel: 7, padding: 3, groups: depthwise}}
      {steps}
    parts:
      - {{key: a, quantity: params.total}}
"""
#: The line of the first step written in ``SET``'s ``{steps}``; each further step a line on.
FIRST = 10


@pytest.mark.parametrize(
    ("steps", "line", "message"),
    [
        (["{kind: permute, dims: [0, 2, 2, 1]}"], 0, "dims [0, 2, 2, 1] is no order of the axes 0 to 3, each once"),
        (["{kind: permute, dims: [1, 0, 2, 3]}"], 0, "dims [1, 0, 2, 3] moves the batch axis: it stays first (0)"),
        (["{kind: permute}"], 0, "Field required"),
        (
            ["{kind: permute, dims: [0, 3, 1, 2]}"],
            0,
            "dims [0, 3, 1, 2] on a map held (N, C, H, W), channels first: a network's layers read a map channels "
            "first or last, so a permute here is [0, 2, 3, 1]",
        ),
        (
            ["{kind: permute, dims: [0, 2, 3, 1]}", "{kind: conv, out_channels: 8, kernel: 1}"],
            1,
            "(conv) on input 14×14×8 (H×W×C): conv reads a map channels first (N, C, H, W), and this one is held "
            "channels last after a permute: permute it back first (dims [0, 3, 1, 2])",
        ),
        (
            ["{kind: permute, dims: [0, 2, 3, 1]}", "{kind: tokens}"],
            1,
            "tokens reads a map channels first (N, C, H, W), and this one is held channels last",
        ),
        (
            ["{kind: permute, dims: [0, 2, 3, 1], name: p}", "{kind: add, from: [dw, p]}"],
            1,
            "its inputs are held in two orders, channels last and first: permute one",
        ),
        (
            ["{kind: permute, dims: [0, 2, 3, 1]}", "{kind: layernorm, normalized_shape: 14}"],
            1,
            "layer norm over [14] does not match the last axes of its input (a map permuted channels last is "
            "(H, W, C) to torch: 14×14×8)",
        ),
        (
            ["{kind: tokens}", "{kind: map, size: [7, 14]}"],
            1,
            "(map) on input 196×8 (L×C): a 7×14 map has 98 positions, not the sequence's 196 tokens",
        ),
        (["{kind: tokens}", "{kind: map, size: [0, 14]}"], 1, "a side of 0: a map's side is 1 to 4,096"),
        (
            ["{kind: tokens}", "{kind: linear, out_features: 8}", "{kind: class_token}", "{kind: map}"],
            3,
            "197 tokens make no square map: give size: [H, W]",
        ),
        (["{kind: map}"], 0, "a map from tokens needs a sequence (C×L: add `kind: tokens` after a map)"),
        (["{kind: layer_scale, init: 0.000001}"], 0, "Extra inputs are not permitted"),
        (
            ["{kind: window_attention, heads: 2}"],
            0,
            "window attention reads a map held channels last (N, H, W, C), as Swin's stages hold it: permute it "
            "first (dims [0, 2, 3, 1])",
        ),
        (
            ["{kind: permute, dims: [0, 2, 3, 1]}", "{kind: window_attention, heads: 3}"],
            1,
            "3 heads do not split 8 channels evenly",
        ),
        (
            ["{kind: permute, dims: [0, 2, 3, 1]}", "{kind: window_attention, window_size: 7, shift_size: 7}"],
            1,
            "a shift of 7 is not less than the window's side 7",
        ),
        (["{kind: patch_merging}"], 0, "patch merging reads a map held channels last (N, H, W, C)"),
    ],
)
def test_a_bad_step_is_refused_at_its_line(steps: list[str], line: int, message: str) -> None:
    with pytest.raises(SetFileError) as refused:
        parse_set(SET.format(steps="\n      ".join(f"- {step}" for step in steps)))
    found = [(issue.line, issue.message) for issue in refused.value.issues]
    assert any(at == FIRST + line and message in text for at, text in found), found


def solve(layers: list[dict[str, object]], input_: list[int]) -> dict[str, object]:
    problem = NetworkProblem(type="network", input=input_, layers=layers)
    return {name: quantity.value for name, quantity in problem.solve().items()}


def test_a_map_of_tokens_takes_its_size_or_is_square() -> None:
    found = solve([{"kind": "tokens", "name": "t"}, {"kind": "map", "name": "square"},
                   {"kind": "tokens"}, {"kind": "map", "name": "wide", "size": [7, 28]}], [14, 14, 8])  # fmt: skip
    assert (found["shape.t"], found["shape.square"], found["shape.wide"]) == ((8, 196), (8, 14, 14), (8, 7, 28))
    assert found["values.total"] == 14 * 14 * 8  # the input alone: tokens and maps of them are views


def test_layers_on_a_map_held_channels_last_act_on_each_positions_channels() -> None:
    found = solve([{"kind": "permute", "dims": [0, 2, 3, 1]}, {"kind": "layernorm", "name": "ln"},
                   {"kind": "linear", "name": "fc", "out_features": 32}, {"kind": "layer_scale", "name": "g"},
                   {"kind": "permute", "dims": [0, 3, 1, 2], "name": "back"}], [5, 6, 8])  # fmt: skip
    assert found["params.ln"] == 2 * 8 and found["params.g"] == 32
    assert found["params.fc"] == 8 * 32 + 32 and found["macs.fc"] == 8 * 32 * 5 * 6
    assert found["shape.back"] == (32, 5, 6) and found["macs.g"] == 0
