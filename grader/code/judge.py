"""A code part's outcome in the sandbox → a graded part: each test's status, score and feedback,
with a wrong output explained (its shape by the size formulas first, then its values: the first
wrong element, and the known mistake that gives exactly these outputs, if one does).

Pure: the sandbox's results come in as values; the references are computed here by the kind's
solvers on the same drawn inputs."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from grader.code import torch_model
from grader.code.plan import Planned
from grader.comparison.mistakes import EXPLANATIONS
from grader.results import GradedPart, Status, TestResult, TestStatus
from problems.code.kinds.base import CodeKind, Outputs, times
from problems.code.parts import CodePart, Tolerance
from problems.kinds import JSON
from sandbox.calls import CallResult
from sandbox.calls import Status as RunStatus

NOT_RUN = "This test was not run: the sandbox stopped before it."

#: Kinds judged here rather than by their own ``verdict``: they read another answer of the student's
#: with :mod:`grader.reading`, which the problem bank cannot import.
VERDICTS = {torch_model.KIND: torch_model.verdict}


@dataclass(frozen=True)
class Judged:
    """One test judged, before its mistake is chosen: the status, the feedback, and every known
    mistake that gives these outputs (each with the sentence that says how), in the order tried."""

    status: TestStatus
    feedback: str
    #: (code, what the feedback adds when the test is named by it)
    candidates: tuple[tuple[str, str], ...] = ()

    def named(self, preferred: str | None = None) -> tuple[TestStatus, str, str | None]:
        """The status, the feedback with what names the mistake, and the mistake: ``preferred``
        where it gives these outputs too (the mistake the part's other tests show), else the first."""
        if not self.candidates:
            return self.status, self.feedback, None
        code, said = next((c for c in self.candidates if c[0] == preferred), self.candidates[0])
        return self.status, f"{self.feedback} {said}".strip(), code


def _naming(code: str, how: str = "") -> tuple[str, str]:
    """A candidate mistake and what the feedback adds for it: how the output shows it, and its explanation."""
    return code, f"{how} {EXPLANATIONS[code]}".strip()


def graded(
    key: str, part: CodePart, plans: Sequence[Planned], results: Sequence[CallResult], answers: Mapping[str, JSON]
) -> GradedPart:
    """The part graded from one result per test (a missing result: the test was not run). Where a
    test's outputs fit several mistakes, it is named by the one that fits the most of the part's tests."""
    judged = [
        judged_test(
            part,
            plan,
            results[index] if index < len(results) else CallResult(RunStatus.ERROR, message=NOT_RUN),
            answers,
        )
        for index, plan in enumerate(plans)
    ]
    fits = Counter(code for test in judged for code in dict(test.candidates))
    order = [code for test in judged for code, _ in test.candidates]
    preferred = max(order, key=lambda code: (fits[code], -order.index(code))) if order else None
    tests = []
    for plan, points, test in zip(plans, part.test_points(), judged, strict=True):
        status, feedback, code = test.named(preferred)
        score = round(points, 6) if status is TestStatus.CORRECT else 0.0
        tests.append(TestResult(plan.test.name, status, score, round(points, 6), feedback, code, plan.test.visibility))
    return summed(key, part, tuple(tests))


def summed(key: str, part: CodePart, tests: tuple[TestResult, ...]) -> GradedPart:
    """The part's grade from its tests: the points of those passed; the most common mistake named."""
    score = round(sum(test.score for test in tests), 6)
    passed = sum(test.status is TestStatus.CORRECT for test in tests)
    status = Status.CORRECT if passed == len(tests) else Status.PARTIAL if score > 0 else Status.INCORRECT
    codes = Counter(test.misconception for test in tests if test.misconception is not None)
    code = codes.most_common(1)[0][0] if codes else None
    feedback = f"{passed} of {len(tests)} tests passed."
    if code is not None:
        feedback += f" {EXPLANATIONS[code]}"
    return GradedPart(key, score, part.points, status, feedback, code, tests=tests)


def judge(
    part: CodePart, plan: Planned, result: CallResult, answers: Mapping[str, JSON]
) -> tuple[TestStatus, str, str | None]:
    """One test on its own: its status, its feedback sentence and the mistake it shows (if named)."""
    return judged_test(part, plan, result, answers).named()


def judged_test(part: CodePart, plan: Planned, result: CallResult, answers: Mapping[str, JSON]) -> Judged:
    """One test: what the run says, else the kind's own verdict, else the outputs compared."""
    function = part.called
    if result.status is RunStatus.ERROR:
        return Judged(TestStatus.ERROR, f"{function} raised an exception: {result.message}")
    if result.status is RunStatus.TIMEOUT:
        return Judged(TestStatus.TIMEOUT, f"{function} ran past its time limit ({result.message or 'stopped'}).")
    if result.status is RunStatus.MEMORY:
        return Judged(TestStatus.MEMORY, f"{function} ran out of memory ({result.message or 'stopped'}).")
    if result.status is RunStatus.OUTPUT_TOO_LARGE:
        return Judged(TestStatus.INCORRECT, f"{function} returned more than the sandbox takes back: {result.message}")
    if result.status is RunStatus.REFUSED:
        return Judged(TestStatus.INCORRECT, f"What {function} returned could not be taken: {result.message}")
    kind = part.kind
    own = VERDICTS.get(kind.name, kind.verdict)(plan.test, plan.drawn, result.outputs, answers)
    if own is not None:
        status = TestStatus.CORRECT if own.correct else TestStatus.INCORRECT
        named = () if own.misconception is None else ((own.misconception, ""),)  # its feedback says it all
        return Judged(status, own.feedback, named)
    expected = plan.reference
    return compared(kind, plan, expected, result.outputs, part.tolerance, function)


def compared(
    kind: CodeKind, plan: Planned, expected: Outputs, actual: Outputs, tolerance: Tolerance, function: str
) -> Judged:
    """The outputs against the reference: how many, their shapes, non-finite values, then values."""
    names = kind.outputs
    if len(actual) != len(expected):
        wanted = f"{len(expected)} arrays ({', '.join(names)})" if len(expected) > 1 else "one array"
        return Judged(TestStatus.INCORRECT, f"{function} should return {wanted}; it returned {len(actual)}.")
    shown = plan.test.visibility == "visible"
    if any(a.shape != e.shape for a, e in zip(actual, expected, strict=True)):
        return _shape_judged(kind, plan, expected, actual, tolerance)
    for name, a, e in zip(names, actual, expected, strict=True):
        bad = ~np.isfinite(a) & np.isfinite(e)
        if bad.any():
            where = [int(i) for i in np.argwhere(bad)[0]]
            value = a[tuple(where)]
            place = f" at {where}" if shown else ""
            return Judged(TestStatus.INCORRECT, f"Your {name} has {value}{place}, where the answer is a number.")
    wrong = [
        (name, a, e) for name, a, e in zip(names, actual, expected, strict=True) if not _close(a, e, tolerance).all()
    ]
    if not wrong:
        return Judged(TestStatus.CORRECT, "Correct.")
    name, a, e = wrong[0]
    off = ~_close(a, e, tolerance)
    count = f"{int(off.sum())} of {off.size} elements"
    if shown:
        first = tuple(int(i) for i in np.argwhere(off)[0])
        feedback = (
            f"Your {name} is wrong at {list(first)}: expected {e[first]:.6g}, got {a[first]:.6g} ({count} differ)."
        )
    else:
        feedback = f"Your {name} is wrong at {count}."
    codes = _named(kind, plan, expected, actual, tolerance)
    return Judged(TestStatus.INCORRECT, feedback, tuple(_naming(code) for code in codes))


def _close(actual: np.ndarray, expected: np.ndarray, tolerance: Tolerance) -> np.ndarray:
    found: np.ndarray = np.isclose(actual, expected, rtol=tolerance.rel, atol=tolerance.abs)
    return found


def _named(kind: CodeKind, plan: Planned, expected: Outputs, actual: Outputs, tolerance: Tolerance) -> list[str]:
    """Every known mistake that gives every wrong output (each output by one of its forms), in order."""
    wrong = [
        i
        for i, (a, e) in enumerate(zip(actual, expected, strict=True))
        if a.shape != e.shape or not _close(a, e, tolerance).all()
    ]
    forms: dict[str, list[Outputs]] = {}
    for code, outputs in plan.mistakes:
        forms.setdefault(code, []).append(outputs)
    return [
        code
        for code, mistaken in forms.items()
        if all(any(_same(form[i], actual[i], tolerance) for form in mistaken) for i in wrong)
    ]


def _same(form: np.ndarray, actual: np.ndarray, tolerance: Tolerance) -> bool:
    return form.shape == actual.shape and bool(_close(actual, form, tolerance).all())


def _shape_judged(kind: CodeKind, plan: Planned, expected: Outputs, actual: Outputs, tolerance: Tolerance) -> Judged:
    """A wrong shape explained by the size formulas: the right shape and its working, and each
    mistake whose shape it is (first those whose values it has too)."""
    names = kind.outputs
    name, a, e = next((n, a, e) for n, a, e in zip(names, actual, expected, strict=True) if a.shape != e.shape)
    readings = kind.shapes(plan.test)
    right = next((r for r in readings if r.code is None), None)
    feedback = f"Your {name} is {times(a.shape)}, not {times(e.shape)}"
    feedback += f" ({right.working})." if right is not None else "."
    shapes = tuple(output.shape for output in actual)
    matching = [r for r in readings if r.code is not None and r.shapes == shapes]
    by_values = _named(kind, plan, expected, actual, tolerance) if matching else []
    matching.sort(key=lambda r: r.code not in by_values)
    named = tuple(_naming(r.code, f"Yours is {r.working}.") for r in matching if r.code is not None)
    return Judged(TestStatus.INCORRECT, feedback, named)
