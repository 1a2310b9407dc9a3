"""Solving a set: reference answers per key, in the file's order, whatever the parts build on."""

from __future__ import annotations

from problems.loader import parse_set

#: A part that sums two parts written after it: solved after them, listed before them.
FORWARD = """\
id: forward
title: A part that builds on later parts
problems:
  - id: q1
    title: Two layers
    type: network
    input: [32, 32, 3]
    layers:
      - {kind: conv, name: c1, out_channels: 8, kernel: 3}
      - {kind: conv, name: c2, out_channels: 8, kernel: 3}
    parts:
      - {key: total, quantity: {sum: ["@q1.a", "@q2.b"]}}
      - {key: a, quantity: params.c1}
  - id: q2
    title: The second layer
    type: derived
    parts:
      - {key: b, quantity: {sum: ["@q2.c2"]}}
      - {key: c2, quantity: {sum: [584]}}
"""


def test_answers_come_in_the_order_of_the_file_not_the_order_they_are_solved_in() -> None:
    problem_set = parse_set(FORWARD)
    keys = ["q1.total", "q1.a", "q2.b", "q2.c2"]
    assert problem_set.answer_keys() == keys
    assert list(problem_set.solve()) == keys
    assert problem_set.solve()["q1.total"].value == 224 + 584
