"""Choice parts in set files: read beside computed and written parts (in a prose problem too),
each option known by its letter in the file's order, refused at their line when they cannot be
graded as meant, and shown to each student in an order of their own."""

from __future__ import annotations

import pytest

from problems.choices import ChoicePart, shown_order
from problems.loader import SetFileError, parse_set

SET = """\
id: picks
title: Which layer?
problems:
  - id: q1
    type: network
    input: [32, 32, 3]
    layers:
      - {kind: conv, name: conv, out_channels: 16, kernel: 3, stride: 1, padding: 0}
    parts:
      - key: shape
        quantity: shape.conv
      - key: most
        prompt: Which layer has the most parameters?
        points: 2
        choices:
          - {text: "conv1: 3×3×3×16 + 16", correct: true}
          - {text: the pooling layer, misconception: pooling-has-weights, feedback: Pooling has no weights.}
          - text: "[[1, 0], [0, 1]]"
  - id: q2
    type: prose
    text: Layers in words.
    parts:
      - {key: why, answer: text}
      - key: learn
        multiple: true
        all_or_nothing: true
        shuffle: false
        choices:
          - {text: convolution, correct: true}
          - {text: max pooling}
          - {text: batch norm, correct: true}
"""


def test_choice_parts_load_in_the_file_order_beside_computed_and_written_ones() -> None:
    problem_set = parse_set(SET, "picks.yaml")
    assert problem_set.answer_keys() == ["q1.shape", "q1.most", "q2.why", "q2.learn"]
    assert list(problem_set.choice()) == ["q1.most", "q2.learn"]
    assert list(problem_set.parts()) == ["q1.shape"]  # no reference is computed for a choice
    assert problem_set.max_score() == 5.0
    most, learn = problem_set.choice().values()
    assert most.ids == ("a", "b", "c") and most.right == {"a"} and not most.multiple and most.shuffle
    assert most.option("b").misconception == "pooling-has-weights"
    assert learn.right == {"a", "c"} and learn.multiple and learn.all_or_nothing and not learn.shuffle


def _edited(old: str, new: str) -> str:
    assert old in SET
    return SET.replace(old, new, 1)


@pytest.mark.parametrize(
    ("old", "new", "line", "field", "message"),
    [
        # no right option: nothing could ever be graded correct
        ('{text: "conv1: 3×3×3×16 + 16", correct: true}', '{text: "conv1"}', 16, "parts.1.choices", "no option is"),
        # two options with one text (spacing and case aside): a student cannot tell them apart
        ("text: convolution, correct: true", "text: Batch  norm", 31, "parts.1.choices.2.text", "the same text as"),
        # two right options in a part that takes one
        (
            "misconception: pooling-has-weights, feedback: Pooling has no weights.",
            "correct: true",
            17,
            "parts.1.choices.1.correct",
            "give `multiple: true`",
        ),
        # a right option naming a mistake
        (
            '{text: "conv1: 3×3×3×16 + 16", correct: true}',
            '{text: "conv1", correct: true, misconception: x}',
            16,
            "parts.1.choices.0.misconception",
            "a right option names no mistake",
        ),
        # one option only
        (
            "          - {text: the pooling layer, misconception: pooling-has-weights, "
            "feedback: Pooling has no weights.}\n"
            '          - text: "[[1, 0], [0, 1]]"\n',
            "",
            16,
            "parts.1.choices",
            "at least 2",
        ),
        # a mistake code not written as one
        (
            "misconception: pooling-has-weights",
            "misconception: Pooling Has Weights",
            17,
            "parts.1.choices.1.misconception",
            "should match pattern",
        ),
        # all or nothing on a part of one pick
        (
            "        points: 2\n",
            "        points: 2\n        all_or_nothing: true\n",
            15,
            "parts.1.all_or_nothing",
            "only a `multiple` part",
        ),
        # a field no choice part has
        (
            "        points: 2\n",
            "        points: 2\n        tolerance: {rel: 0.1}\n",
            15,
            "parts.1.tolerance",
            "Extra inputs are not permitted",
        ),
    ],
)
def test_a_choice_part_that_cannot_be_graded_as_meant_is_refused_at_its_line(
    old: str, new: str, line: int, field: str, message: str
) -> None:
    with pytest.raises(SetFileError) as refused:
        parse_set(_edited(old, new), "picks.yaml")
    (issue,) = refused.value.issues
    assert (issue.line, issue.field) == (line, field), refused.value
    assert message in issue.message


def test_each_student_sees_an_order_of_their_own_the_same_every_time() -> None:
    part = ChoicePart.model_validate(
        {"key": "k", "choices": [{"text": f"option {i}", "correct": i == 0} for i in range(6)]}
    )
    orders = {shown_order("picks", "q1.k", part, f"v:{student}") for student in range(40)}
    assert all(sorted(order) == list("abcdef") for order in orders)
    assert len(orders) > 20  # drawn per student, not one order for all
    assert shown_order("picks", "q1.k", part, "v:7") == shown_order("picks", "q1.k", part, "v:7")
    assert shown_order("picks", "q1.k", part, None) == tuple("abcdef")  # staff's view: the file's order
    fixed = part.model_copy(update={"shuffle": False})
    assert shown_order("picks", "q1.k", fixed, "v:7") == tuple("abcdef")
