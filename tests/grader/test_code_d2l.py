"""d2l.ai's softmax and cross-entropy as an instructor sets them, graded through the real sandbox:
the classic slip (exp without the row's max subtracted) overflows to NaN, and is named where a
student's outputs hold NaN at the same places; a mutant that raises (a sum without ``keepdims``)
is caught but never named, which the set's check notes rather than refuses; a loss that should be
one per example, returned as one number, is said as a number."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np
import pytest

from grader.code import Run, check_solution, checked_code, grade_code
from grader.code import references as cached
from grader.results import GradedPart, Status, TestStatus
from problems.loader import parse_set
from problems.sets import ProblemSet
from sandbox import Call, CallResult, Sandbox
from tests.sandbox.probes import LIMITS, require_bwrap

SOLUTION = """\
import numpy as np


def softmax(X):
    X_exp = np.exp(X - X.max(axis=1, keepdims=True))
    return X_exp / X_exp.sum(axis=1, keepdims=True)


def cross_entropy(y_hat, y):
    return -np.log(y_hat[np.arange(len(y_hat)), y])
"""

OVERFLOW = ("np.exp(X - X.max(axis=1, keepdims=True))", "np.exp(X)")
NO_KEEPDIMS = ("X_exp.sum(axis=1, keepdims=True)", "X_exp.sum(axis=1)")

PARTS = f"""\
      - key: softmax
        driver: |
          return {{"probabilities": student.softmax(X)}}
        inputs:
          X: {{shape: [N, K], low: -1000, high: 1000}}
        outputs: {{probabilities: equal}}
        mistakes:
          - code: softmax-overflow
            feedback: "Subtract each row's max before exp: exp(1000) overflows to inf, and inf/inf is nan."
            replace: "{OVERFLOW[0]}"
            with: "{OVERFLOW[1]}"
          - code: keepdims-dropped
            feedback: "Sum each row with keepdims=True, so that it divides its own row."
            replace: "{NO_KEEPDIMS[0]}"
            with: "{NO_KEEPDIMS[1]}"
        tests:
          - name: "d2l's logits, one of them large"
            N: 2
            K: 3
            inputs: {{X: {{value: [[1.0, 2.0, 1000.0], [0.5, 0.1, 0.2]]}}}}
          - {{name: "logits drawn for you", N: 4, K: 5}}
      - key: loss
        driver: |
          return {{"loss": student.cross_entropy(y_hat, y.astype(int))}}
        inputs:
          y_hat: {{value: [[0.1, 0.3, 0.6], [0.3, 0.2, 0.5]]}}
          y: {{value: [0, 2]}}
        outputs: {{loss: equal}}
        tests:
          - {{name: "d2l's two examples"}}
      - key: mean
        driver: |
          return {{"loss": float(student.cross_entropy(y_hat, y.astype(int)).mean())}}
        inputs:
          y_hat: {{value: [[0.1, 0.3, 0.6], [0.3, 0.2, 0.5]]}}
          y: {{value: [0, 2]}}
        outputs: {{loss: equal}}
        tests:
          - {{name: "d2l's two examples, averaged"}}
          - {{name: "the same, hidden", visibility: hidden}}
"""


def _set(parts: str = PARTS) -> ProblemSet:
    indented = "".join(f"      {line}\n" if line else "\n" for line in SOLUTION.splitlines())
    head = "id: d2l-softmax\ntitle: Softmax\nproblems:\n  - id: d2l\n    type: code\n    solution: |\n"
    return parse_set(head + indented + "    parts:\n" + parts)


SET = _set()


@pytest.fixture(scope="module")
def box() -> Iterator[Sandbox]:
    require_bwrap()
    cached.forget()
    with Sandbox(LIMITS) as sandbox:
        sandbox.start()
        yield sandbox


def _run(box: Sandbox) -> Run:
    def run(runtime: str, text: str, calls: Sequence[Call]) -> list[CallResult]:
        return box.run(text, calls)

    return run


def _graded(box: Sandbox, key: str, source: str, student: str | None = "s1") -> GradedPart:
    return grade_code(SET, {key: source}, student=student, run=_run(box), keys=[key])[key]


def test_a_softmax_that_overflows_is_named_by_its_nans(box: Sandbox) -> None:
    overflowing = SOLUTION.replace(*OVERFLOW)
    part = _graded(box, "d2l.softmax", overflowing)
    assert part.tests is not None
    first = part.tests[0]
    # the oracle: exp(1000) is inf here too, and inf/inf is NaN where the slip puts it
    with np.errstate(over="ignore", invalid="ignore"):
        row = np.exp(np.array([1.0, 2.0, 1000.0]))
        assert np.isnan(row / row.sum())[2]
    assert first.status is TestStatus.INCORRECT and first.misconception == "softmax-overflow"
    assert first.feedback.startswith("Your probabilities has nan at [0, 2], where the answer is a number.")
    assert "Subtract each row's max before exp" in first.feedback
    assert part.misconception == "softmax-overflow" and part.status is Status.INCORRECT
    # a NaN elsewhere is no such slip: not named
    elsewhere = SOLUTION.replace(
        "    return X_exp / X_exp.sum", "    X_exp[0, 0] = np.nan\n    return X_exp / X_exp.sum"
    )
    other = _graded(box, "d2l.softmax", elsewhere)
    assert other.tests is not None and other.tests[0].status is TestStatus.INCORRECT
    assert other.tests[0].misconception is None and other.misconception is None


def test_the_check_names_a_nan_mutant_and_notes_a_raising_one(box: Sandbox) -> None:
    # a sum without keepdims divides (N, K) by (N,): it raises on every test, where N != K
    (raised,) = box.run(SOLUTION.replace(*NO_KEEPDIMS), [Call("softmax", (np.ones((2, 3)),))])
    assert "could not be broadcast" in raised.message
    checked = checked_code(SET, _run(box))
    assert checked.issues == [] == check_solution(SET, _run(box))
    (note,) = checked.notes
    assert note.field == "parts.0.mistakes.1"
    assert note.message.startswith(
        '`keepdims-dropped` is caught, but never named: it raises on "d2l\'s logits, one of them large", where a '
        "student who makes this mistake reads the exception rather than its feedback: “calling `softmax`: ValueError:"
    )
    # the student who makes it fails with the exception, as the note says
    part = _graded(box, "d2l.softmax", SOLUTION.replace(*NO_KEEPDIMS))
    assert part.tests is not None and {t.status for t in part.tests} == {TestStatus.ERROR}


def test_a_loss_returned_as_one_number_is_said_as_a_number(box: Sandbox) -> None:
    loss = "return -np.log(y_hat[np.arange(len(y_hat)), y])"
    averaged = SOLUTION.replace(loss, "return -np.mean(np.log(y_hat[np.arange(len(y_hat)), y]))")
    part = _graded(box, "d2l.loss", averaged)
    assert part.tests is not None
    mean = float(-np.mean(np.log([0.1, 0.5])))
    assert part.tests[0].feedback == f"Your loss is the number {mean:.6g}, not an array 2."
    # one number where one number is due, but another: both numbers, no empty place
    summed = SOLUTION.replace(loss, "return -2 * np.log(y_hat[np.arange(len(y_hat)), y])")
    wrong = _graded(box, "d2l.mean", summed)
    assert wrong.tests is not None
    assert wrong.tests[0].feedback == f"Your loss is {2 * mean:.6g}, not {mean:.6g}."
    assert wrong.tests[1].feedback == "Your loss is wrong."


def test_a_drivers_own_error_is_the_drivers_and_a_threshold_part_is_not_told_to_add_a_test(box: Sandbox) -> None:
    """A driver that raises before it calls the solution is refused at each test as the driver's,
    not "your code ... the solution fails here", and its mistakes are left for once it runs (no "cannot
    tell" line each); a mistake on a part judged by thresholds alone is told it can never be named."""
    broken = PARTS.replace(
        '          return {"probabilities": student.softmax(X)}',
        '          scale = temperature\n          return {"probabilities": student.softmax(X / scale)}',
    ).replace(
        '        outputs: {loss: equal}\n        tests:\n          - {name: "d2l\'s two examples, averaged"}',
        "        outputs: {loss: {at_most: 10}}\n"
        '        mistakes: [{code: log-dropped, feedback: "Take the log.", replace: "-np.log(", with: "-("}]\n'
        '        tests:\n          - {name: "d2l\'s two examples, averaged"}',
    )
    assert "temperature" in broken and "log-dropped" in broken
    issues = check_solution(_set(broken), _run(box))
    said = {issue.field: issue.message for issue in issues}
    assert set(said) == {"parts.0.tests.0", "parts.0.tests.1", "parts.2.mistakes.0"}, said
    assert said["parts.0.tests.0"] == (
        'the driver fails on the test "d2l\'s logits, one of them large", outside any call of the solution: '
        "NameError: name 'temperature' is not defined"
    )
    assert "`log-dropped` can never be named" in said["parts.2.mistakes.0"]
    assert not any("your code" in message or "add a visible test" in message for message in said.values())
