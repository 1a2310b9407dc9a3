"""Free-response parts in set files: read in the file's order beside computed parts, refused at
their line when malformed, and given default keys for the grading page."""

from __future__ import annotations

import pytest

from problems.loader import SetFileError, parse_set
from problems.parts import WrittenPart

SET = """\
id: words
title: Convolutions in words
problems:
  - id: q1
    type: network
    input: [32, 32, 3]
    layers:
      - {kind: conv, name: conv, out_channels: 16, kernel: 3, stride: 1, padding: 0}
    parts:
      - key: why
        answer: text
        points: 2
        rubric:
          - {points: 1, text: Names the kernel's extent}
          - {points: 1, text: Gives the formula, note: "W - K + 1", key: f}
          - {points: -0.5, text: Confuses stride and padding}
      - key: shape
        quantity: shape.conv
  - id: q2
    type: prose
    text: Compare U-Net's skip connections with ResNet's.
    parts:
      - {key: compare, answer: text, points: 3, max_length: 800}
"""


def test_written_parts_load_in_the_file_order_beside_computed_ones() -> None:
    problem_set = parse_set(SET, "words.yaml")
    assert problem_set.answer_keys() == ["q1.why", "q1.shape", "q2.compare"]
    assert list(problem_set.parts()) == ["q1.shape"]  # only computed parts have a reference
    assert list(problem_set.written()) == ["q1.why", "q2.compare"]
    assert problem_set.max_score() == 6.0
    assert problem_set.solve()["q1.shape"].value == (30, 30, 16)
    compare = problem_set.written()["q2.compare"]
    assert (compare.points, compare.max_length, compare.rubric) == (3.0, 800, [])


def test_rubric_items_take_free_digits_unless_they_name_a_key() -> None:
    why = parse_set(SET, "words.yaml").written()["q1.why"]
    assert why.item_keys() == ["1", "f", "2"]
    part = WrittenPart.model_validate(
        {"key": "a", "answer": "text", "rubric": [{"points": 1, "text": f"item {i}"} for i in range(12)]}
    )
    assert part.item_keys() == [*"1234567890", None, None]  # past ten items: toggled by clicking


@pytest.mark.parametrize(
    ("old", "new", "line", "field", "message"),
    [
        ("answer: text\n        points: 2", "answer: prose\n        points: 2", 11, "parts.0.answer", "'text'"),
        ("padding}", "padding, key: f}", 16, "parts.0.rubric.2.key", "another rubric item has the key f"),
        ("points: -0.5", "points: -5000", 16, "parts.0.rubric.2.points", "greater than or equal to -1000"),
        ("max_length: 800", "max_length: 50000", 23, "parts.0.max_length", "less than or equal to 20000"),
        ("points: 3,", "points: 3, tolerance: {rel: 0.1},", 23, "parts.0.tolerance", ""),
        ("key: shape", "key: why", 17, "parts.1.key", "duplicate answer key 'q1.why'"),
    ],
)
def test_a_malformed_written_part_is_refused_at_its_line(
    old: str, new: str, line: int, field: str, message: str
) -> None:
    assert old in SET
    with pytest.raises(SetFileError) as refused:
        parse_set(SET.replace(old, new, 1), "words.yaml")
    issues = refused.value.issues
    assert any(i.line == line and i.field == field and message in i.message for i in issues), issues


def test_a_prose_problem_has_no_quantities_to_ask_for() -> None:
    text = SET.replace("{key: compare, answer: text, points: 3, max_length: 800}", "{key: n, quantity: params.total}")
    with pytest.raises(SetFileError) as refused:
        parse_set(text, "words.yaml")
    assert any("unknown quantity 'params.total'" in issue.message for issue in refused.value.issues)
