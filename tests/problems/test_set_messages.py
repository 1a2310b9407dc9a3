"""What a set file's author reads: an unknown quantity answered with the names meant, once;
the ``stored`` choice of what ``values.total`` counts, read from the file; and the memory units."""

from __future__ import annotations

from fractions import Fraction

import pytest

from problems.loader import SetFileError, parse_set

NETWORK = """\
id: memory
title: Memory of a small network
problems:
  - id: n
    title: n
    type: network
    input: [32, 32, 3]
    {stored}
    layers:
      - {{kind: conv, name: conv1, out_channels: 8, kernel: 3, padding: 1}}
      - {{kind: activation}}
      - {{kind: pool, name: pool1, kernel: 2}}
      - {{kind: flatten}}
      - {{kind: linear, name: fc, out_features: 10}}
    parts:
      - {{key: a, quantity: {quantity}}}
"""


def network(quantity: str, stored: str = "") -> str:
    return NETWORK.format(quantity=quantity, stored=stored or "dtype: float32")


def test_an_unknown_quantity_names_the_close_ones_once() -> None:
    with pytest.raises(SetFileError) as refused:
        parse_set(network("param.conv1"))
    messages = [issue.message for issue in refused.value.issues if "unknown quantity" in issue.message]
    assert len(messages) == 1
    assert messages[0].endswith("unknown quantity 'param.conv1'; the closest this problem has: params.conv1, rf.conv1, "
                                "params.fc, params.pool1, pad_right.conv1")  # fmt: skip


def test_an_unknown_quantity_like_none_lists_the_families() -> None:
    with pytest.raises(SetFileError) as refused:
        parse_set(network("zzz"))
    (message,) = [issue.message for issue in refused.value.issues if "unknown quantity" in issue.message]
    assert "this problem has " in message and "values.NAME" in message and "memory_mib.NAME" in message
    assert "values.conv1" not in message  # families, not the hundreds of names


@pytest.mark.parametrize(
    ("stored", "values"),
    [
        # the input, conv1 and pool1 and fc written anew; the ReLU in place, the flatten a view
        ("", 3 * 32 * 32 + 8 * 32 * 32 + 8 * 16 * 16 + 10),
        ("stored: {input: false}", 8 * 32 * 32 + 8 * 16 * 16 + 10),
        ("stored: {activations: new}", 3 * 32 * 32 + 2 * 8 * 32 * 32 + 8 * 16 * 16 + 10),
    ],
)
def test_the_set_file_chooses_what_values_total_counts(stored: str, values: int) -> None:
    answers = parse_set(network("values.total", stored)).solve()
    assert answers["n.a"].value == values


@pytest.mark.parametrize(
    ("quantity", "value"),
    [
        ("memory.total", 4 * 13_322),  # 3·32·32 + 8·32·32 + 8·16·16 + 10 values in float32
        ("memory_kb.total", Fraction(4 * 13_322, 1000)),
        ("memory_mb.total", Fraction(4 * 13_322, 10**6)),
        ("memory_kib.total", Fraction(4 * 13_322, 1024)),
        ("memory_mib.total", Fraction(4 * 13_322, 2**20)),
        ("memory_mb.conv1", Fraction(4 * 8 * 32 * 32, 10**6)),
    ],
)
def test_memory_in_the_unit_the_part_asks_for(quantity: str, value: int | Fraction) -> None:
    assert parse_set(network(quantity)).solve()["n.a"].value == value


def test_a_stored_choice_courses_do_not_make_is_refused() -> None:
    with pytest.raises(SetFileError) as refused:
        parse_set(network("values.total", "stored: {activations: kept}"))
    assert any(issue.field and "stored.activations" in issue.field for issue in refused.value.issues)


@pytest.mark.parametrize(
    ("input_", "layout", "written"), [("[7, 7, 3]", "HWC", "7×7×3 (H×W×C)"), ("[3, 7, 7]", "CHW", "3×7×7 (C×H×W)")]
)
def test_a_refused_layer_shows_its_input_in_the_sets_layout(input_: str, layout: str, written: str) -> None:
    text = network("shape.conv1").replace("input: [32, 32, 3]", f"input: {input_}\n    input_layout: {layout}")
    text = text.replace("kernel: 3, padding: 1", "kernel: 9")
    with pytest.raises(SetFileError) as refused:
        parse_set(text)
    assert any(f"(conv conv1) on input {written}: input 7" in issue.message for issue in refused.value.issues)
