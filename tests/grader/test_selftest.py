"""A set's tests of itself (``check_set``): every part's own answers on every probe variant, and
the answers a part declares under ``checks``, refused at the check's line when they grade otherwise."""

from __future__ import annotations

import pytest

from grader.engine import grade_submission
from grader.selftest import check_set
from problems.loader import PROBE_STUDENTS, SetFileError, load_bank, parse_set

BANK = load_bank()

#: One convolution layer with 3·3·3·16 + 16 = 448 parameters; CHECKS is replaced by each case's checks.
LAYER = """\
id: checked
title: A checked set
randomized: RANDOMIZED
problems:
  - id: q1
    title: One layer
    type: network
    input: [32, 32, 3]
    layers:
      - {kind: conv, name: conv, out_channels: 16, kernel: 3}
    vary:
      layers.0.out_channels: {choice: [8, 16, 32, 64]}
    parts:
      - key: params
        quantity: params.conv
        checks:
CHECKS
"""


def checked(checks: list[str], randomized: bool = False) -> str:
    lines = "\n".join(f"          - {check}" for check in checks)
    return LAYER.replace("CHECKS", lines).replace("RANDOMIZED", str(randomized).lower())


@pytest.mark.parametrize("set_id", sorted(BANK))
def test_every_built_in_set_passes_its_own_tests(set_id: str) -> None:
    assert check_set(BANK[set_id]) == []


def test_checks_that_hold_pass_on_the_declared_numbers_and_every_variant() -> None:
    text = checked(
        [
            "{answer: 448, status: correct}",
            "{answer: '3·3·3·16 + 16', status: correct}",
            "{answer: 432, status: incorrect, misconception: bias-omitted}",
            "{answer: lots, status: invalid}",
            "{answer: '', status: unanswered}",
            "{mistake: bias-omitted, status: incorrect, misconception: bias-omitted}",
        ],
        randomized=True,
    )
    problem_set = parse_set(text)
    # the variants differ, so a literal answer could only hold for the declared numbers
    assert problem_set.solve()["q1.params"].value == 448
    assert {problem_set.solve(s)["q1.params"].value for s in PROBE_STUDENTS} - {448}
    assert check_set(problem_set) == []


def test_a_check_that_fails_is_reported_at_its_line() -> None:
    text = checked(["{answer: 448, status: correct}", "{answer: 432, status: correct}"])
    (issue,) = check_set(parse_set(text))
    line = text.splitlines().index("          - {answer: 432, status: correct}") + 1
    assert (issue.line, issue.column) == (line, 13)
    assert (issue.problem, issue.field) == ("q1", "parts.0.checks.1")
    assert issue.message == "the answer 432 is graded incorrect (bias-omitted), not correct"


def test_a_misconception_that_is_not_named_fails_the_check() -> None:
    text = checked(["{answer: 449, status: incorrect, misconception: bias-omitted}"])
    (issue,) = check_set(parse_set(text))
    assert issue.field == "parts.0.checks.0"
    assert "graded incorrect, not incorrect (bias-omitted)" in issue.message


def test_a_mistake_check_is_graded_on_every_probe_variant() -> None:
    """bias-omitted's answer names the mistake on every variant, but it is not correct on any."""
    text = checked(["{mistake: bias-omitted, status: correct}"], randomized=True)
    problem_set = parse_set(text)
    (issue,) = check_set(problem_set)  # one issue, though every variant fails
    assert issue.field == "parts.0.checks.0" and "not correct" in issue.message
    for student in (None, *PROBE_STUDENTS):
        mistaken = problem_set.solve(student, mistake="bias-omitted")["q1.params"].value
        graded = grade_submission(problem_set, {"q1.params": mistaken}, student=student).parts["q1.params"]
        assert graded.misconception == "bias-omitted"


@pytest.mark.parametrize(
    ("check", "message"),
    [
        # a code no mistake has, in either place
        ("{mistake: bias-forgotten, status: incorrect}", "no mistake has the code 'bias-forgotten'"),
        ("{answer: 432, status: incorrect, misconception: no-bias}", "no mistake has the code 'no-bias'"),
        # a mistake that changes nothing here (a network has no flipped kernel, this layer has its bias)
        ("{mistake: kernel-flipped, status: incorrect}", "does not change the answer to q1.params"),
        ("{mistake: bias-extra, status: incorrect}", "does not change the answer to q1.params"),
    ],
)
def test_a_check_naming_no_usable_mistake_is_reported(check: str, message: str) -> None:
    (issue,) = check_set(parse_set(checked([check])))
    assert issue.field == "parts.0.checks.0" and message in issue.message


def test_a_check_gives_exactly_one_of_answer_and_mistake() -> None:
    check = "{answer: 448, mistake: bias-omitted, status: correct}"
    text = checked([check])
    with pytest.raises(SetFileError, match="exactly one of 'answer' and 'mistake'") as refused:
        parse_set(text)
    (issue,) = refused.value.issues
    assert issue.field == "parts.0.checks.0"
    assert issue.line == text.splitlines().index(f"          - {check}") + 1


def test_a_part_whose_wrong_answer_grades_correct_is_reported_at_the_part() -> None:
    """A tolerance so loose that one number off is right: the part's own incorrect answer shows it."""
    text = (
        "id: loose\ntitle: Loose\nproblems:\n  - id: q1\n    title: A ratio\n    type: derived\n    parts:\n"
        "      - {key: r, quantity: {ratio: [3, 4]}, tolerance: {rel: 100}}\n"
    )
    (issue,) = check_set(parse_set(text))
    assert (issue.line, issue.column, issue.field) == (8, 9, "parts.0")
    assert issue.message.startswith("a wrong answer, 9.25, is graded correct")


#: A layer's MACs and FLOPs, and a reduction: parts whose mistakes grading names from the value alone.
VALUE_MISTAKES = """\
id: named
title: Mistakes named from the value
randomized: true
problems:
  - id: q1
    title: One layer
    type: network
    input: [32, 32, 3]
    layers:
      - {kind: conv, name: conv, out_channels: 16, kernel: 3}
    vary:
      layers.0.out_channels: {choice: [8, 16, 32, 64]}
    parts:
      - key: macs
        quantity: macs.conv
        checks: [{mistake: macs-vs-flops, status: incorrect, misconception: macs-vs-flops}]
      - key: flops
        quantity: flops.conv
        checks: [{mistake: macs-vs-flops, status: incorrect, misconception: macs-vs-flops}]
      - key: saved
        quantity: {reduction: [params.conv, 100]}
        checks: [{mistake: reduction-vs-share, status: incorrect, misconception: reduction-vs-share}]
"""


def test_a_check_may_name_every_mistake_grading_names() -> None:
    """``macs-vs-flops`` and ``reduction-vs-share`` are recognised from the value, not computed by a
    solver under an assumption: a check names them all the same, on every variant."""
    problem_set = parse_set(VALUE_MISTAKES)
    assert check_set(problem_set) == []
    graded = grade_submission(problem_set, {"q1.macs": 2 * problem_set.solve()["q1.macs"].value}).parts
    assert graded["q1.macs"].misconception == "macs-vs-flops"
