"""A code part's test inputs are each student's own, drawn from the assignment's secret: a set with
code parts is randomized whatever its header says, so the service draws a variant per student."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from grader.code import plan
from grader.code.plan import calls_for, planned
from problems.code import telling
from problems.code.kinds import KINDS
from problems.code.spec import Tolerance
from problems.loader import BUILT_IN, load_bank, parse_set
from problems.variants import seeded, variant_key

BANK = load_bank()


def _arrays(set_id: str, key: str, student: str | None) -> list[np.ndarray]:
    calls = calls_for(BANK[set_id], key, student)
    return [value for call in calls for value in call.args if isinstance(value, np.ndarray)]


def test_the_built_in_code_sets_are_randomized() -> None:
    assert BANK["numpy-convolution"].randomized and BANK["torch-model"].randomized


def test_each_student_and_each_assignment_draws_its_own_inputs() -> None:
    ada, alan = (variant_key(student=name, secret="course-secret") for name in ("ada", "alan"))
    elsewhere = variant_key(student="ada", secret="another-assignment")
    mine = _arrays("numpy-convolution", "conv.forward", ada)
    assert mine and all(
        np.array_equal(a, b) for a, b in zip(mine, _arrays("numpy-convolution", "conv.forward", ada), strict=True)
    )
    for other in (alan, elsewhere, None):
        theirs = _arrays("numpy-convolution", "conv.forward", other)
        assert [a.shape for a in theirs] == [a.shape for a in mine]  # the same tests...
        assert not any(np.array_equal(a, b) for a, b in zip(mine, theirs, strict=True))  # ...on other numbers


def test_a_set_file_with_code_is_randomized_without_saying_so() -> None:
    text = (BUILT_IN / "numpy-convolution.yaml").read_text()
    assert "randomized" not in text
    assert parse_set(text).randomized


#: numpy-convolution's test whose biases are whole numbers from -3 to 3: both 0 on one draw in 49.
WHOLE = "small whole numbers, no padding"


def _without_bias_passes(drawn: dict[str, np.ndarray]) -> bool:
    """Whether a forward without its bias returns the reference on this draw, within the part's
    tolerance: computed here with numpy (every window's product summed), not with the kind's solvers."""
    x, w, b = drawn["x"], drawn["w"], drawn["b"]
    kh, kw = w.shape[2:]
    windows = np.lib.stride_tricks.sliding_window_view(x, (kh, kw), axis=(2, 3))  # (N, C, H', W', kh, kw)
    without = np.einsum("nchwij,fcij->nfhw", windows, w)
    tolerance = BANK["numpy-convolution"].code()["conv.forward"].tolerance
    return bool(np.isclose(without, without + b[None, :, None, None], rtol=tolerance.rel, atol=tolerance.abs).all())


def _today(student: str, index: int) -> dict[str, np.ndarray]:
    """The student's first draw of the test: the kind's draw from their generator, as it was drawn
    before a draw could be drawn again."""
    problem_set = BANK["numpy-convolution"]
    part = problem_set.code()["conv.forward"]
    assert part.kind is not None
    rng = seeded(problem_set.id, "code", "student", student, "conv.forward", str(index))
    return part.kind.draw(part.tests[index], rng).named


def test_a_draw_on_which_a_forward_without_its_bias_passes_is_drawn_again() -> None:
    """The students whose first draw of the whole-number test has both biases 0 (a forward without
    its bias would pass it) get another, the same at every submission, on which it fails."""
    problem_set = BANK["numpy-convolution"]
    index = [test.name for test in problem_set.code()["conv.forward"].tests].index(WHOLE)
    slipped = [f"s{number}" for number in range(1000) if _without_bias_passes(_today(f"s{number}", index))]
    assert len(slipped) >= 5  # about 20 of 1,000
    for student in slipped:
        drawn = planned(problem_set, "conv.forward", student)[index].drawn.named
        assert not _without_bias_passes(drawn), student
        again = plan.planned_test(problem_set, "conv.forward", student, index).drawn.named
        assert all(np.array_equal(drawn[name], again[name]) for name in "xwb")


def test_the_bias_slip_is_caught_on_ten_thousand_students_draws() -> None:
    """On 10,000 students' draws of the whole-number test, a forward without its bias differs from
    the reference on every one; their first draws (all a student got before) let it pass on about
    one in 49."""
    problem_set = BANK["numpy-convolution"]
    index = [test.name for test in problem_set.code()["conv.forward"].tests].index(WHOLE)
    students = [f"student-{number}" for number in range(10_000)]
    passed = [
        s
        for s in students
        if _without_bias_passes(plan.planned_test(problem_set, "conv.forward", s, index).drawn.named)
    ]
    assert passed == []
    before = sum(_without_bias_passes(_today(student, index)) for student in students)
    assert 100 < before < 400  # 204 expected


@given(
    arrays(np.float64, st.integers(1, 12), elements=st.floats(allow_nan=True, allow_infinity=True, width=64)),
    st.data(),
    st.sampled_from([(0.0, 0.0), (1e-6, 1e-6), (1e-3, 0.0), (0.0, 0.5)]),
)
def test_telling_compares_as_the_judge_does(expected: np.ndarray, data: st.DataObject, tolerances) -> None:
    """The tells' own comparison (faster, it runs for every mistake of every new student's tests) is
    numpy's isclose: NaN never close, infinities of one sign close, |a - e| <= abs + rel·|e|."""
    nudged = expected + data.draw(arrays(np.float64, expected.shape, elements=st.floats(-1e-3, 1e-3)))
    actual = data.draw(st.sampled_from([expected.copy(), nudged, -expected, np.full_like(expected, np.inf)]))
    rel, absolute = tolerances
    tolerance = Tolerance(rel=rel, abs=absolute)
    with np.errstate(invalid="ignore", over="ignore"):
        wanted = bool(np.isclose(actual, expected, rtol=rel, atol=absolute).all())
    assert telling._close(actual, expected, tolerance) == wanted


@pytest.mark.parametrize("actual", [-np.inf, 1.0, np.nan, np.inf])
def test_an_infinite_answer_is_close_to_the_same_infinity_only(actual: float) -> None:
    """An infinite reference has an infinite bound, ``abs + rel·|e|``: as isclose, only the same
    infinity is close to it, not every number and the other infinity."""
    expected, given = np.array([np.inf, np.inf]), np.array([actual, np.inf])
    tolerance = Tolerance(rel=1e-6, abs=1e-6)
    with np.errstate(invalid="ignore"):
        wanted = bool(np.isclose(given, expected, rtol=tolerance.rel, atol=tolerance.abs).all())
    assert telling._close(given, expected, tolerance) == wanted


#: What a mistake may return beside the reference: itself, nudged, negated, infinities, another
#: shape, whole numbers, or one array fewer.
_SLIPS = ("same", "nudged", "negated", "inf", "shape", "integers", "fewer")


def _slipped(reference: tuple[np.ndarray, ...], slip: str, nudge: float) -> tuple[np.ndarray, ...]:
    first = reference[0]
    changed = {
        "same": first.copy(),
        "nudged": first + nudge,
        "negated": -first,
        "inf": np.full_like(first, np.inf),
        "shape": first.ravel()[:-1],
        "integers": np.round(first).astype(np.int64) if np.isfinite(first).all() else first.copy(),
    }
    return reference[:-1] if slip == "fewer" else (changed[slip], *reference[1:])


@given(
    arrays(np.float64, st.integers(2, 6), elements=st.one_of(st.floats(-1e3, 1e3), st.sampled_from([np.nan, np.inf]))),
    st.lists(st.tuples(st.sampled_from(_SLIPS), st.floats(-1e-3, 1e-3)), min_size=1, max_size=8),
    st.sampled_from([(0.0, 0.0), (1e-6, 1e-6), (1e-3, 0.0)]),
)
def test_the_forms_compared_at_once_are_each_forms_isclose(
    first: np.ndarray, slips: list[tuple[str, float]], tolerances: tuple[float, float]
) -> None:
    """The declared mistakes' outputs of one shape and dtype are compared with the reference in one
    stacked step: a form tells exactly when, compared alone, one of its outputs is of another shape
    or not isclose, or it returns another number of outputs."""
    kind = KINDS["conv.backward"]
    reference = (first, np.arange(3.0))
    codes = [kind.mutants[number % len(kind.mutants)] for number in range(len(slips))]
    mistakes = [(code, _slipped(reference, slip, nudge)) for code, (slip, nudge) in zip(codes, slips, strict=True)]
    rel, absolute = tolerances
    seen: dict[str, int] = {}
    wanted = set()
    for code, outputs in mistakes:
        form = (code, seen.get(code, 0))
        seen[code] = form[1] + 1
        with np.errstate(invalid="ignore", over="ignore"):
            differs = len(outputs) != len(reference) or any(
                a.shape != e.shape or not np.isclose(a, e, rtol=rel, atol=absolute).all()
                for a, e in zip(outputs, reference, strict=True)
            )
        if differs:
            wanted.add(form)
    tolerance = Tolerance(rel=rel, abs=absolute)
    assert telling.telling_forms(kind, reference, mistakes, tolerance, [0, 1]) == wanted


def test_the_sets_own_draw_is_told_once_not_at_every_new_student(monkeypatch: pytest.MonkeyPatch) -> None:
    """Which declared mistakes a test's own draw tells is the same for every student: it is found
    once per test of the set, not again for each new student's draw."""
    problem_set = BANK["numpy-convolution"]
    tests = len(problem_set.code()["conv.forward"].tests)
    plan.forget()
    told: list[object] = []
    counted = telling.telling_forms
    monkeypatch.setattr(telling, "telling_forms", lambda *args: told.append(args) or counted(*args))
    for student in ("ada", "alan", "grace"):
        planned(problem_set, "conv.forward", student)
    assert len(told) == tests
