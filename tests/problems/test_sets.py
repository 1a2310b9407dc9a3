"""Solving a set: reference answers per key, in the file's order, whatever the parts build on."""

from __future__ import annotations

from fractions import Fraction

import pytest

from problems.kinds import AnswerKind
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


#: Operations on counts (308 and 3,300 parameters) and on a count asked as a real.
OPERATIONS = """\
id: operations
title: Operations on counts
problems:
  - id: q1
    title: Two layers
    type: network
    input: [32, 32, 3]
    layers:
      - {kind: conv, name: c1, out_channels: 11, kernel: 3}
      - {kind: conv, name: c2, out_channels: 33, kernel: 3}
    parts:
      - {key: p1, quantity: params.c1}
      - {key: real, quantity: params.c2, kind: real}
      - {key: sum, quantity: {sum: ["@q1.p1", params.c2]}}
      - {key: product, quantity: {product: ["@q1.p1", 2]}}
      - {key: difference, quantity: {difference: [params.c2, "@q1.p1"]}}
      - {key: ratio, quantity: {ratio: [params.c2, "@q1.p1"]}}
      - {key: whole_ratio, quantity: {ratio: [params.c2, 100]}}
      - {key: of_a_ratio, quantity: {product: [{ratio: [params.c2, 100]}, 11]}}
      - {key: of_a_real, quantity: {sum: ["@q1.real", 1]}}
      - {key: reduction, quantity: {reduction: [params.c2, "@q1.p1"]}}
"""


@pytest.mark.parametrize(
    ("key", "kind", "value"),
    [
        # sums, products and differences of counts are counts
        ("q1.sum", AnswerKind.INTEGER, 3608),
        ("q1.product", AnswerKind.INTEGER, 616),
        ("q1.difference", AnswerKind.INTEGER, 2992),
        # a ratio is an exact fraction, even where it comes out whole (it need not in another
        # variant), and so is what is computed from one
        ("q1.ratio", AnswerKind.REAL, Fraction(75, 7)),
        ("q1.whole_ratio", AnswerKind.REAL, Fraction(33)),
        ("q1.of_a_ratio", AnswerKind.REAL, Fraction(363)),
        # a count the author asks as a real stays one in what is computed from it
        ("q1.of_a_real", AnswerKind.REAL, 3301),
        ("q1.reduction", AnswerKind.PERCENT, 100 * (1 - Fraction(308, 3300))),
    ],
)
def test_an_operation_gives_an_exact_value_of_its_kind(key: str, kind: AnswerKind, value: object) -> None:
    answer = parse_set(OPERATIONS).solve()[key]
    assert (answer.kind, answer.value) == (kind, value)
    assert type(answer.value) is type(value)
