"""Choice parts graded by the engine: an id (or a list of ids) read first, refused with the form
expected when it cannot be; partial credit for several picks; a wrong option's mistake named."""

from __future__ import annotations

import pytest

from grader.engine import grade_submission, preview_submission
from grader.examples import choice_examples
from grader.results import Status
from grader.selftest import check_set
from problems.kinds import JSON
from problems.loader import parse_set
from problems.sets import ProblemSet
from tests.problems.test_choice_parts import SET

MULTIPLE = """\
id: many
title: Picks
problems:
  - id: q1
    type: prose
    parts:
      - key: learn
        multiple: true
        points: 3
        choices:
          - {text: convolution, correct: true}
          - {text: max pooling, misconception: pooling-has-weights, feedback: Max pooling has no weights.}
          - {text: batch norm, correct: true}
          - {text: ReLU}
          - {text: a fully connected layer, correct: true}
      - key: strict
        multiple: true
        all_or_nothing: true
        choices:
          - {text: convolution, correct: true}
          - {text: max pooling}
          - {text: batch norm, correct: true}
"""


@pytest.fixture(scope="module")
def picks() -> ProblemSet:
    return parse_set(SET, "picks.yaml")


@pytest.fixture(scope="module")
def many() -> ProblemSet:
    return parse_set(MULTIPLE, "many.yaml")


def test_one_pick_is_right_or_names_the_wrong_options_mistake(picks: ProblemSet) -> None:
    right = grade_submission(picks, {"q1.most": "a"}).parts["q1.most"]
    assert (right.status, right.score, right.max_score, right.read_as) == (Status.CORRECT, 2.0, 2.0, "a")
    assert grade_submission(picks, {"q1.most": " A "}).parts["q1.most"].status is Status.CORRECT
    wrong = grade_submission(picks, {"q1.most": "b"}).parts["q1.most"]
    assert (wrong.status, wrong.score) == (Status.INCORRECT, 0.0)
    assert (wrong.misconception, wrong.feedback) == ("pooling-has-weights", "Pooling has no weights.")
    plain = grade_submission(picks, {"q1.most": "c"}).parts["q1.most"]
    assert (plain.status, plain.misconception, plain.feedback) == (Status.INCORRECT, None, "Not correct.")


@pytest.mark.parametrize(
    ("answer", "status", "score"),
    [
        # every right option and no wrong one
        (["a", "c", "e"], Status.CORRECT, 3.0),
        (["e", "a", "c"], Status.CORRECT, 3.0),  # in any order
        # (right − wrong) / right, times 3 points
        (["a", "c"], Status.PARTIAL, 2.0),
        (["a", "c", "e", "d"], Status.PARTIAL, 2.0),
        (["a", "b"], Status.INCORRECT, 0.0),
        # never below 0
        (["b", "d"], Status.INCORRECT, 0.0),
        (["a", "b", "d"], Status.INCORRECT, 0.0),
    ],
)
def test_several_picks_score_right_minus_wrong_over_the_right_options(
    many: ProblemSet, answer: JSON, status: Status, score: float
) -> None:
    part = grade_submission(many, {"q1.learn": answer}).parts["q1.learn"]
    assert (part.status, part.score) == (status, score)


def test_all_or_nothing_gives_full_points_for_exactly_the_right_options(many: ProblemSet) -> None:
    graded = grade_submission(many, {"q1.strict": ["a", "c"]}).parts["q1.strict"]
    assert (graded.status, graded.score) == (Status.CORRECT, 1.0)
    for answer in (["a"], ["a", "b", "c"]):
        graded = grade_submission(many, {"q1.strict": answer}).parts["q1.strict"]
        assert (graded.status, graded.score) == (Status.INCORRECT, 0.0)
        assert "(all or nothing)" in graded.feedback


def test_a_wrong_pick_among_several_is_named_with_the_tally(many: ProblemSet) -> None:
    part = grade_submission(many, {"q1.learn": ["a", "b", "c"]}).parts["q1.learn"]
    assert (part.status, part.score, part.misconception) == (Status.PARTIAL, 1.0, "pooling-has-weights")
    assert part.feedback == "Max pooling has no weights. 2 of the 3 right options picked, 1 wrong option picked."
    assert part.read_as == "a, b, c"


@pytest.mark.parametrize(
    ("key", "answer", "reason"),
    [
        # a part of several picks takes a list, whatever the text looks like
        (
            "q1.learn",
            "a, c",
            "several options as a list of letters, not text. Send a list of the letters you pick, "
            'e.g. ["a", "c"], among a, b, c, d, e.',
        ),
        ("q1.learn", 2, "not a number"),
        ("q1.learn", ["a", "z"], "“z” is not one of this part's options"),
        ("q1.learn", ["a", 1], "Each pick is a letter as text, not a number"),
        ("q1.learn", ["a", "a"], "“a” is picked twice"),
        ("q1.learn", [["a"]], "Each pick is a letter as text, not a list"),
    ],
)
def test_an_answer_that_is_not_the_parts_form_is_invalid_with_the_form_expected(
    many: ProblemSet, key: str, answer: JSON, reason: str
) -> None:
    graded = grade_submission(many, {key: answer})
    part = graded.parts[key]
    assert (part.status, part.score) == (Status.INVALID, 0.0)
    assert reason in part.feedback
    assert graded.unreadable == [key]  # refused at submission like any unreadable answer


@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        (["a"], 'one option\'s letter as text, not a list. Send the letter of one option, e.g. "b", among a, b, c.'),
        ("d", "“d” is not one of this part's options"),
        (True, "not true or false"),
    ],
)
def test_a_single_pick_takes_one_letter(picks: ProblemSet, answer: JSON, reason: str) -> None:
    part = grade_submission(picks, {"q1.most": answer}).parts["q1.most"]
    assert part.status is Status.INVALID and reason in part.feedback


def test_nothing_picked_is_unanswered_and_results_follow_the_files_order(picks: ProblemSet) -> None:
    graded = grade_submission(picks, {"q1.shape": "30x30x16", "q2.learn": []})
    assert list(graded.parts) == ["q1.shape", "q1.most", "q2.why", "q2.learn"]
    assert graded.parts["q1.most"].status is Status.UNANSWERED
    assert graded.parts["q2.learn"].status is Status.UNANSWERED
    assert graded.score == 1.0 and graded.max_score == 5.0
    assert graded.unknown_keys == ()


def test_a_preview_says_what_is_picked_or_why_it_cannot_be_read(picks: ProblemSet) -> None:
    previews, unknown = preview_submission(picks, {"q1.most": "b", "q2.learn": "a", "q9.x": "a"})
    assert (previews["q1.most"].readable, previews["q1.most"].read_as) == (True, "b")
    assert not previews["q2.learn"].readable and "list of the letters" in (previews["q2.learn"].reason or "")
    assert not previews["q2.why"].answered
    assert unknown == ("q9.x",)


def test_a_sets_self_test_grades_each_choice_parts_own_answers(picks: ProblemSet, many: ProblemSet) -> None:
    assert check_set(picks) == [] and check_set(many) == []
    learn = many.choice()["q1.learn"]
    own = choice_examples(learn)
    assert (own.correct, own.incorrect) == (["a", "c", "e"], ["b"])
    graded = grade_submission(many, {"q1.learn": own.correct, "q1.strict": own.unreadable}).parts
    assert (graded["q1.learn"].status, graded["q1.strict"].status) == (Status.CORRECT, Status.INVALID)


def test_a_huge_list_of_picks_is_refused_at_its_first_repeat(many: ProblemSet) -> None:
    part = grade_submission(many, {"q1.learn": ["a"] * 100_000}).parts["q1.learn"]
    assert part.status is Status.INVALID and "“a” is picked twice" in part.feedback
    long = grade_submission(many, {"q1.learn": ["x" * 10_000]}).parts["q1.learn"]
    assert long.status is Status.INVALID and len(long.feedback) < 200  # the pick is quoted short
