"""A code part's outcome in the sandbox → a graded part: each test's status, score and feedback,
with a wrong output explained (its shape by the size formulas, then its values: the first wrong
element, and the known mistake that gives exactly these outputs, if one does).

Each output is judged by its rule: ``equal`` to the reference (a kind's solvers', or the solution's
run through the driver), its ``shape`` alone, a number ``at_least``/``at_most`` a threshold, labels
scored here against the labels the plan keeps (``accuracy``: they never entered the sandbox), or the
number of the best scoring of such outputs (``best_of``); a test scores its points when every
output holds. Every rule is computed here, on the plain arrays the sandbox handed back: nothing the
student's process computed decides it.

Two rules keep a name honest (both found misnaming real students' code):

- a test is named by a mistake only when every ``equal`` output is what that mistake returns
  (the same shape and values within the tolerance); a shape alone never names, it is described;
- the part is named only when every failing test is named by the same mistake.

Pure: the sandbox's results come in as values.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from grader.code import torch_model
from grader.code.plan import Planned
from grader.comparison.mistakes import EXPLANATIONS
from grader.results import GradedPart, Status, TestResult, TestStatus
from problems.code.kinds.base import Outputs, times
from problems.code.parts import CodePart, Tolerance
from problems.code.spec import Accuracy, AtLeast, AtMost, BestOf
from problems.code.telling import closeness
from problems.kinds import JSON
from sandbox.calls import CallResult
from sandbox.calls import Status as RunStatus

NOT_RUN = "This test was not run: the sandbox stopped before it."
NO_REFERENCE = (
    "This test could not be judged: the problem's own solution fails on it ({why}). This is the set's fault, "
    "not yours: tell your instructor."
)

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


def explanation(part: CodePart, code: str) -> str:
    """What a student reads of a mistake: the part's own feedback for it, else the catalogue's."""
    own = next((mistake.feedback for mistake in part.mistakes if mistake.code == code and mistake.feedback), None)
    return own or EXPLANATIONS.get(code, f"That is what the mistake `{code}` gives.")


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
    """The part's grade from its tests: the points of those passed; a mistake named only when every
    failing test is named by it (one test's name is not put on tests that contradict it)."""
    score = round(sum(test.score for test in tests), 6)
    passed = sum(test.status is TestStatus.CORRECT for test in tests)
    status = Status.CORRECT if passed == len(tests) else Status.PARTIAL if score > 0 else Status.INCORRECT
    failing = {test.misconception for test in tests if test.status is not TestStatus.CORRECT}
    code = next(iter(failing)) if len(failing) == 1 else None
    feedback = f"{passed} of {len(tests)} tests passed."
    if code is not None:
        feedback += f" {explanation(part, code)}"
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
        said = "raised an exception" if part.driver is None else "failed"
        return Judged(TestStatus.ERROR, f"{function} {said}: {result.message}")
    if result.status is RunStatus.TIMEOUT:
        return Judged(TestStatus.TIMEOUT, f"{function} ran past its time limit ({result.message or 'stopped'}).")
    if result.status is RunStatus.MEMORY:
        return Judged(TestStatus.MEMORY, f"{function} ran out of memory ({result.message or 'stopped'}).")
    if result.status is RunStatus.OUTPUT_TOO_LARGE:
        return Judged(TestStatus.INCORRECT, f"{function} returned more than the sandbox takes back: {result.message}")
    if result.status is RunStatus.REFUSED:
        return Judged(TestStatus.INCORRECT, f"What {function} returned could not be taken: {result.message}")
    kind = part.kind
    if kind is not None:
        own = VERDICTS.get(kind.name, kind.verdict)(plan.test, plan.drawn, result.outputs, answers)
        if own is not None:
            status = TestStatus.CORRECT if own.correct else TestStatus.INCORRECT
            named = () if own.misconception is None else ((own.misconception, ""),)  # its feedback says it all
            return Judged(status, own.feedback, named)
    expected = plan.reference
    if expected is None:
        why = plan.solved.failure if plan.solved is not None else "no reference"
        return Judged(TestStatus.ERROR, NO_REFERENCE.format(why=why))
    return compared(part, plan, expected, result.outputs)


def compared(part: CodePart, plan: Planned, expected: Outputs, actual: Outputs) -> Judged:
    """The outputs against the reference by their rules: how many, then each output's shape or
    threshold, non-finite values, then values."""
    names, rules, tolerance, function = part.output_names, part.rules, part.tolerance, part.called
    if len(actual) != len(expected):
        wanted = f"{len(expected)} arrays ({', '.join(names)})" if len(expected) > 1 else "one array"
        return Judged(TestStatus.INCORRECT, f"{function} should return {wanted}; it returned {len(actual)}.")
    shown = plan.test.visibility == "visible"
    scores: dict[str, float] = {}
    for name, a, e in zip(names, actual, expected, strict=True):
        rule = rules[name]
        if isinstance(rule, AtLeast | AtMost):
            held = _threshold(name, rule, a)
            if held is not None:
                return Judged(TestStatus.INCORRECT, held)
        elif isinstance(rule, Accuracy):
            scored = _accuracy(name, rule, a, plan.drawn.kept[rule.accuracy])
            if isinstance(scored, str):
                return Judged(TestStatus.INCORRECT, scored)
            scores[name] = scored
        elif isinstance(rule, BestOf):
            continue  # once every output it compares is scored
        elif a.shape != e.shape:
            return _shape_judged(part, plan, name, a, e, actual)
    for name, a in zip(names, actual, strict=True):
        rule = rules[name]
        if isinstance(rule, BestOf):
            held = _best(name, rule, a, scores)
            if held is not None:
                return Judged(TestStatus.INCORRECT, held)
    equal = [(name, a, e) for name, a, e in zip(names, actual, expected, strict=True) if rules[name] == "equal"]
    with np.errstate(invalid="ignore", over="ignore"):
        if all(closeness(e, tolerance)(a) for _, a, e in equal):  # (most outputs judged are right)
            return Judged(TestStatus.CORRECT, "Correct.")
    for name, a, e in equal:
        bad = ~np.isfinite(a) & np.isfinite(e)
        if bad.any():
            where = [int(i) for i in np.argwhere(bad)[0]]
            value = a[tuple(where)]
            place = f" at {where}" if shown and where else ""
            feedback = f"Your {name} has {value}{place}, where the answer is a number."
            codes = named_by(part, plan, actual)  # a mistake that overflows there too (exp without the max)
            return Judged(TestStatus.INCORRECT, feedback, tuple((code, explanation(part, code)) for code in codes))
    name, a, e = next((name, a, e) for name, a, e in equal if not _close(a, e, tolerance).all())
    off = ~_close(a, e, tolerance)
    count = f"{int(off.sum())} of {off.size} elements"
    if not a.shape and shown:  # one number: no place to give
        feedback = f"Your {name} is {_number(a)}, not {_number(e)}."
    elif not a.shape:
        feedback = f"Your {name} is wrong."
    elif shown:
        first = tuple(int(i) for i in np.argwhere(off)[0])
        feedback = (
            f"Your {name} is wrong at {list(first)}: expected {e[first]:.6g}, got {a[first]:.6g} ({count} differ)."
        )
    else:
        feedback = f"Your {name} is wrong at {count}."
    codes = named_by(part, plan, actual)
    return Judged(TestStatus.INCORRECT, feedback, tuple((code, explanation(part, code)) for code in codes))


def _threshold(name: str, rule: AtLeast | AtMost, actual: np.ndarray) -> str | None:
    """Why a number misses its threshold, or None when it holds."""
    if actual.size != 1:
        return f"Your {name} should be one number; it is an array {times(actual.shape)}."
    value = float(actual.reshape(()))
    if isinstance(rule, AtLeast):
        return (
            None if value >= rule.at_least else f"Your {name} is {value:.6g}; it should be at least {rule.at_least:g}."
        )
    return None if value <= rule.at_most else f"Your {name} is {value:.6g}; it should be at most {rule.at_most:g}."


def _accuracy(name: str, rule: Accuracy, actual: np.ndarray, labels: np.ndarray) -> float | str:
    """The share of ``actual``'s labels equal to the kept ``labels``, computed here on the plain
    array the sandbox handed back; or why it misses ``at_least``, or is not one label per position."""
    actual = np.asarray(actual)  # a plain array: no subclass's ``==`` is ever asked
    count = len(labels)
    if actual.shape != labels.shape:
        given = "one number" if actual.ndim == 0 else f"an array {times(actual.shape)}"
        hint = " (scores per class? return each image's highest: `scores.argmax(1)`)" if actual.ndim == 2 else ""
        return f"Your {name} should be {count} labels, one per held-out image; it is {given}{hint}."
    unlike = _not_labels(actual)
    if unlike is not None:
        return f"Your {name} should hold labels (whole numbers, one per held-out image); it holds {unlike}."
    right = int(np.count_nonzero(actual == labels))
    share = right / count
    if share < rule.at_least:
        return (
            f"Your {name} is right on {right} of the {count} held-out labels ({share:.3g}); it should be right on a "
            f"share of at least {rule.at_least:g}."
        )
    return share


def _not_labels(actual: np.ndarray) -> str | None:
    """What ``actual`` holds where it is not whole numbers (floats that are whole are read as labels)."""
    kind = actual.dtype.kind
    if kind in "iu":
        return None
    if kind == "f" and bool(np.isfinite(actual).all()) and bool((actual == np.round(actual)).all()):
        return None
    return {"b": "true/false values", "c": "complex numbers"}.get(kind, "numbers that are not whole")


def _best(name: str, rule: BestOf, actual: np.ndarray, scores: Mapping[str, float]) -> str | None:
    """Why ``actual`` does not name (1, 2, ...) the output of ``rule.best_of`` that scores highest
    (any of those tied for highest), or None when it does."""
    listed = rule.best_of
    choices = f"a number from 1 to {len(listed)}"
    if actual.size != 1 or actual.dtype.kind not in "biuf":
        return f"Your {name} should be one number, {choices}; it is an array {times(actual.shape)}."
    value = float(actual.reshape(()))
    if value not in range(1, len(listed) + 1):
        return f"Your {name} is {value:g}; it should be {choices} ({', '.join(listed)} in that order)."
    top = max(scores[other] for other in listed)
    named = listed[int(value) - 1]
    if scores[named] >= top:
        return None
    best = next(other for other in listed if scores[other] >= top)
    return (
        f"Your {name} is {value:g} ({named}, right on {scores[named]:.3g} of the held-out labels), but {best} does "
        f"better ({top:.3g})."
    )


def _close(actual: np.ndarray, expected: np.ndarray, tolerance: Tolerance) -> np.ndarray:
    """Element by element, numpy's ``isclose``. Arrays of finite floats (the outputs of every call
    that returned numbers) take numpy's own test, ``|a - e| <= abs + rel·|e|``, without the rest of
    ``isclose``'s work for infinities, NaN and other dtypes: half of its 10 µs here, and naming a
    mistaken homework's mistakes compares a hundred outputs."""
    if (
        actual.dtype.kind == "f"
        and expected.dtype.kind == "f"
        and np.isfinite(actual).all()
        and np.isfinite(expected).all()
    ):
        within: np.ndarray = np.abs(actual - expected) <= tolerance.abs + tolerance.rel * np.abs(expected)
        return within
    found: np.ndarray = np.isclose(actual, expected, rtol=tolerance.rel, atol=tolerance.abs)
    return found


def named_by(part: CodePart, plan: Planned, actual: Outputs) -> list[str]:
    """Every known mistake whose outputs these are, in order: each ``equal`` output is what the
    mistake returns (a mistake with several forms: each output one of its forms', so forms of one
    mistake made together are named too), shapes included; ``shape`` and threshold outputs are not
    compared, and a mistake whose ``equal`` outputs are all right names nothing."""
    equal = [index for index, name in enumerate(part.output_names) if part.rules[name] == "equal"]
    if not equal:
        return []
    forms: dict[str, list[Outputs]] = {}
    for code, outputs in plan.mistakes:
        if len(outputs) == len(actual):
            forms.setdefault(code, []).append(outputs)
    found: dict[tuple[int, int], bool] = {}  # the forms share arrays (the reference's): each is compared once

    def same(form: np.ndarray, i: int) -> bool:
        if (id(form), i) not in found:
            found[id(form), i] = _same(form, actual[i], part.tolerance)
        return found[id(form), i]

    with np.errstate(invalid="ignore", over="ignore"):
        return [
            code for code, mistaken in forms.items() if all(any(same(form[i], i) for form in mistaken) for i in equal)
        ]


def _same(form: np.ndarray, actual: np.ndarray, tolerance: Tolerance) -> bool:
    """Whether ``actual`` is the mistake's ``form``: its shape, its values within the tolerance, and
    NaN where the form has NaN (infinities match by sign in ``isclose``): a softmax without the
    max subtracted overflows to NaN at the same places whoever writes it. (Numpy's overflow
    warnings silenced by the caller.)"""
    if form.shape != actual.shape:
        return False
    if closeness(form, tolerance)(actual):
        return True
    if actual.dtype.kind not in "fc" or not np.isnan(form).any():
        return False
    return bool((_close(actual, form, tolerance) | (np.isnan(actual) & np.isnan(form))).all())


def _number(value: np.ndarray) -> str:
    """One number as a sentence shows it (``0.693147``, ``nan``)."""
    return f"{value.item():.6g}"


def _sized(shape: tuple[int, ...], other: tuple[int, ...], value: np.ndarray | None = None) -> str:
    """A shape as the sentence on a wrong one says it: ``4×6``; one number (with its value, if
    given) as a number; an array beside one number as an array."""
    if not shape:
        return "one number" if value is None else f"the number {_number(value)}"
    return f"an array {times(shape)}" if not other else times(shape)


def _shape_judged(
    part: CodePart, plan: Planned, name: str, actual: np.ndarray, expected: np.ndarray, outputs: Outputs
) -> Judged:
    """A wrong shape described: the right one, with its working where a kind's size formulas give
    it, and the mistake whose size this is; named only by a mistake whose values these are too."""
    feedback = (
        f"Your {name} is {_sized(actual.shape, expected.shape, actual)}, not {_sized(expected.shape, actual.shape)}"
    )
    readings = part.kind.shapes(plan.test) if part.kind is not None else []
    right = next((r for r in readings if r.code is None), None)
    feedback += f" ({right.working})." if right is not None else "."
    shapes = tuple(output.shape for output in outputs)
    matching = [r for r in readings if r.code is not None and r.shapes == shapes]
    by_values = named_by(part, plan, outputs)
    named = tuple(
        (r.code, f"Yours is {r.working}. {explanation(part, r.code)}")
        for r in matching
        if r.code is not None and r.code in by_values
    )
    named += tuple((code, explanation(part, code)) for code in by_values if code not in dict(named))
    if not named and matching:
        feedback += f" It has {matching[0].working}, but not that mistake's values."
    return Judged(TestStatus.INCORRECT, feedback, named)
