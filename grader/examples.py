"""Answers every part can make for itself: its reference answer (which must grade correct),
one number off (which must not), and text that cannot be read (which must be invalid).
``grader.selftest`` runs them on every variant of a set; so does the test of the whole bank."""

from __future__ import annotations

import copy
from dataclasses import dataclass

from problems.choices import ChoicePart
from problems.kinds import JSON, AnswerKind
from problems.render import to_json
from problems.sets import Answer

#: An answer no kind can read.
UNREADABLE = "¿¿"


@dataclass(frozen=True)
class Examples:
    """A part's own test answers, as a student could send them."""

    correct: JSON
    incorrect: JSON
    unreadable: JSON = UNREADABLE


def examples(answer: Answer) -> Examples:
    """The reference answer, a nudged one, and an unreadable one."""
    right = to_json(answer.kind, answer.value)
    return Examples(right, nudged(answer.kind, right))


def choice_examples(part: ChoicePart) -> Examples:
    """The right picks, and a wrong one: a wrong option (a part of one pick always has one), else
    with every option right one of them alone (a part of several picks scores it partly).

    >>> part = ChoicePart(key="k", multiple=True, choices=[{"text": t, "correct": t != "b"} for t in "abc"])
    >>> choice_examples(part)
    Examples(correct=['a', 'c'], incorrect=['b'], unreadable='¿¿')
    """
    wrong: list[JSON] = [option for option in part.ids if option not in part.right]
    if not part.multiple:
        return Examples(part.right_answer, wrong[0])
    return Examples(part.right_answer, wrong[:1] or [min(part.right)])


def nudged(kind: AnswerKind, value: JSON) -> JSON:
    """A wrong answer of the same kind: one number changed (a number ×3 + 7, a formula + 1, the
    first element of a matrix, a shape's first size plus one).

    >>> nudged(AnswerKind.INTEGER, 10), nudged(AnswerKind.SHAPE, [4, 4, 8]), nudged(AnswerKind.FORMULA, "H*W")
    (37, [5, 4, 8], '(H*W) + 1')
    """
    value = copy.deepcopy(value)
    if kind in (AnswerKind.INTEGER, AnswerKind.REAL, AnswerKind.PERCENT):
        assert isinstance(value, int | float)
        return value * 3 + 7
    if kind is AnswerKind.FORMULA:
        return f"({value}) + 1"
    assert isinstance(value, list)
    if kind is AnswerKind.FORMULA_SHAPE:
        return [f"({value[0]}) + 1", *value[1:]]
    target = value
    while isinstance(target[0], list):
        target = target[0]
    first = target[0]
    assert isinstance(first, int | float)
    target[0] = first + 1
    return value
