"""The table of quantities in docs/set-files.md: every quantity a built-in set asks for is in it,
with the kind the set's reference has, and every mistake a built-in part can be named with under
a mistaken assumption is listed for it (the table is generated; test_sets compares the page)."""

from __future__ import annotations

import pytest

from cli.quantities import _pattern, quantity_rows
from cli.reference import EXAMPLES
from problems.loader import load_bank
from problems.types.network import NetworkProblem

BANK = load_bank()
ROWS = quantity_rows(EXAMPLES)


@pytest.mark.parametrize("set_id", sorted(BANK))
def test_every_quantity_a_built_in_set_asks_for_is_in_the_table(set_id: str) -> None:
    for problem in BANK[set_id].variant(None).problems:
        kind_of = {quantity: kind for quantity, kind, _ in ROWS[problem.spec.type]}
        names = set(getattr(problem.spec, "channel_names", lambda: None)() or [])
        if isinstance(problem.spec, NetworkProblem):
            run = problem.spec.network()
            names = {r.name for r in run.records if r.name} | {r.group for r in run.records if r.group}
            names |= set(run.outputs)
        quantities = problem.quantities
        for part in problem.parts:
            if not isinstance(part.quantity, str):
                continue  # an operation on other answers
            pattern = _pattern(part.quantity, names)
            assert pattern in kind_of, f"{set_id}.{problem.id}.{part.key}: {part.quantity} ({pattern}) not in the table"
            assert kind_of[pattern] == quantities[part.quantity].kind.value


def test_the_new_quantities_and_mistakes_are_listed() -> None:
    network = {quantity: codes for quantity, _, codes in ROWS["network"]}
    assert {"values.NAME", "memory.total", "side.NAME", "length.NAME", "frames.NAME", "tokens.NAME"} <= set(network)
    assert "same-padding-symmetric" in network["pad_top.NAME"]
    assert {"groups-ignored", "bias-in-fan-in"} <= set(network["fan_in.NAME"])
    assert "dilation-ignored" in network["shape.NAME"]
    assert "buffers-counted-as-params" in network["params.total"]
    norms = {f"{kind}-params-omitted" for kind in ("groupnorm", "instancenorm", "layernorm")}
    assert norms <= set(network["params.NAME"]) and norms <= set(network["params.total"])
    yolo = {quantity: (kind, codes) for quantity, kind, codes in ROWS["yolo"]}
    assert yolo["grids"][0] == "integer_list"
    assert "anchors-forgotten" in yolo["depth"][1]
    anchors = {quantity: codes for quantity, _, codes in ROWS["anchors"]}
    rounded = {"level-side-rounded-down", "level-side-rounded-up"}
    assert rounded | {"pool-ceil-mode"} <= set(anchors["grid.N"])
    assert rounded | {"pool-ceil-mode"} <= set(anchors["anchors"])
