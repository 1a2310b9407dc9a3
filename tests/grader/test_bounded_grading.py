"""Grading a formula cannot run away: formulas are compared by exact evaluation at random points
(``grader.comparison.identity``), never expanded, and the work of one answer is counted.

The answers that froze the service (each took 11 to 200 s to compare by expanding it) are
graded as before: wrong where they were wrong, with the same feedback and mistake names, and
right when they equal the answer. Evaluation agrees with sympy's expansion, the oracle here,
on thousands of small random formulas. No test is timed: the work counter is asserted on."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sympy
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from grader.comparison import identity
from grader.comparison.identity import TOO_COMPLEX, budget, equivalent
from grader.comparison.meaning import RELATIONS, WrongAnswers
from grader.comparison.mistakes import EXPLANATIONS
from grader.engine import grade_submission
from grader.reading import Read, read_answer
from grader.results import Status
from problems.kinds import AnswerKind, formula_symbol
from problems.loader import load_bank, parse_set

BANK = load_bank()
MOBILE = BANK["mobilenet-yolo"]
SYMBOLS = ("H", "W", "M", "N", "K")
H, W, M, N, K = (formula_symbol(s) for s in SYMBOLS)

# -- the answers that froze the service ---------------------------------------------------------

SUM = "H+W+M+N+K"
#: Six sums of every symbol, multiplied: squared, degree 12, the most reading lets through.
SIX = "".join(f"({SUM}+{i})" for i in range(1, 7))
SIX_MORE = "".join(f"({SUM}+{i})" for i in range(7, 13))
#: The same product written otherwise: (s+1)(s+2) as (s+1)² + (s+1), which sympy leaves apart.
SIX_AGAIN = f"(({SUM}+1)^2+{SUM}+1)" + "".join(f"({SUM}+{i})" for i in range(3, 7))
BIG = "9" * 80
#: The six sums again, each with an 80-digit coefficient on one of its symbols (the last: for its 6).
SIX_BIG = "".join(f"({SUM}+{i})".replace(s, BIG + s, 1) for i, s in enumerate(SYMBOLS, 1)) + f"({SUM}+{BIG})"
#: Seconds each took to compare by expanding, in the comments.
SLOW = [
    f"({SIX})^2",  # 20 s
    f"({SIX})^2 + ({SIX_MORE})^2",  # 32 s
    f"⌊({SIX})^2/7⌋",  # 175 s: the floor of the expansion, substituted at three points
    f"({SIX_BIG})^2",  # 17 s
    f"{SIX}{SIX_MORE}",  # 12 s
]
#: Zero, as large as reading allows: added to an answer, it must change nothing.
ZERO = f"({SIX})^2 - ({SIX_AGAIN})^2"
#: A smaller zero, of degree 6: a wrong answer's meaning is found by reading back the answer as
#: shown, which writes more symbols and operators than a student needs.
THREE = "".join(f"({SUM}+{i})" for i in range(1, 4))
THREE_AGAIN = f"(({SUM}+1)^2+{SUM}+1)({SUM}+3)"
SMALL_ZERO = f"({THREE})^2 - ({THREE_AGAIN})^2"


@pytest.fixture(autouse=True)
def _fresh_comparisons() -> Iterator[None]:
    """Comparisons are remembered per process: each test here counts its own work, and leaves
    no thousands of random formulas behind for the worker's next tests."""
    equivalent.cache_clear()
    yield
    equivalent.cache_clear()
    identity.program.cache_clear()


def read(text: str, symbols: tuple[str, ...] = SYMBOLS) -> sympy.Expr:
    result = read_answer(text, AnswerKind.FORMULA, symbols)
    assert isinstance(result, Read), result
    value: sympy.Expr = result.value
    return value


@pytest.mark.parametrize("answer", SLOW, ids=range(len(SLOW)))
def test_the_answers_that_froze_the_service_are_wrong_as_before(answer: str) -> None:
    part = grade_submission(MOBILE, {"q1a.macs": answer}).parts["q1a.macs"]
    assert (part.status, part.feedback, part.misconception) == (Status.INCORRECT, "Not equivalent to the answer.", None)


@pytest.mark.parametrize(
    ("key", "answer", "status", "code"),
    [
        # the answer, plus a large zero
        ("q1a.macs", f"H W N K^2 M + {ZERO}", Status.CORRECT, None),
        ("q1c.params_formula", f"M K^2 + M N + {ZERO}", Status.CORRECT, None),
        # biases the layer does not have (M depthwise, N pointwise), plus a large zero: still named
        ("q1c.params_formula", f"K^2 M + M N + M + N + {ZERO}", Status.INCORRECT, "bias-extra"),
        # one more, plus a large zero: no named mistake, plain feedback
        ("q1c.params_formula", f"K^2 M + M N + 1 + {ZERO}", Status.INCORRECT, None),
    ],
)
def test_large_answers_are_graded_by_their_value(key: str, answer: str, status: Status, code: str | None) -> None:
    part = grade_submission(MOBILE, {key: answer}).parts[key]
    assert (part.status, part.misconception) == (status, code)
    if code:  # after the note that H and W are written (the symbols are compared as written)
        assert part.feedback.split(" Your working parts from the worked solution")[0].endswith(EXPLANATIONS[code])


@pytest.mark.parametrize(
    ("answer", "code"),
    [
        (f"H W N K M + {SMALL_ZERO}", "relation:missing-factor-K"),
        (f"2 H W N K^2 M + {SMALL_ZERO}", "relation:doubled"),
        (f"H W N K^2 M + 1 + {SMALL_ZERO}", "relation:plus-one"),
        (f"H W N K^2 M H + {SMALL_ZERO}", "relation:extra-factor-H"),
        (f"({THREE})^2", "other"),
    ],
)
def test_a_large_wrong_answer_keeps_its_meaning(answer: str, code: str) -> None:
    part = grade_submission(MOBILE, {"q1a.macs": answer}).parts["q1a.macs"].to_json()
    assert WrongAnswers(MOBILE).meaning("q1a.macs", part, None).code == code


# -- the work budget ----------------------------------------------------------------------------


@pytest.mark.parametrize("answer", [*SLOW, f"H W N K^2 M + {ZERO}"], ids=range(len(SLOW) + 1))
def test_the_largest_answers_spend_a_small_part_of_the_budget(answer: str) -> None:
    reference = MOBILE.solve()["q1a.macs"].value
    with budget() as work:
        equivalent(reference, read(answer))
    assert 0 < work.spent <= identity.ANSWER_WORK // 100


#: Two sums of eight fractions, each to the 12th: the most work found for an answer reading accepts.
FRACTIONS = (
    "("
    + "+".join(f"1/(H+{i})" for i in range(1, 9))
    + ")^12 + ("
    + "+".join(f"1/(W+{i})" for i in range(1, 9))
    + ")^12"
)


@pytest.mark.parametrize("answer", [*SLOW, FRACTIONS], ids=range(len(SLOW) + 1))
def test_relating_the_largest_wrong_answers_to_the_reference_spends_a_fifth_of_the_budget(answer: str) -> None:
    """Every relation tried (none holds): the most comparisons a wrong answer costs in a report."""
    reference = MOBILE.solve()["q1a.macs"]
    with budget() as work:
        assert RELATIONS[AnswerKind.FORMULA](reference.value, read(answer), reference) is None
    assert work.spent <= identity.ANSWER_WORK // 5


def test_an_answer_out_of_budget_is_invalid_and_says_why(monkeypatch: pytest.MonkeyPatch) -> None:
    answer = f"H W N K^2 M + {ZERO} "  # its own text: not graded before in this process
    monkeypatch.setattr(identity, "ANSWER_WORK", 50)
    result = grade_submission(MOBILE, {"q1a.macs": answer, "q1b.rf1": "5"})
    part = result.parts["q1a.macs"]
    assert (part.status, part.score, part.feedback) == (Status.INVALID, 0.0, TOO_COMPLEX)
    assert result.unreadable == ["q1a.macs"] and not result.failed  # the student's to fix, not ours
    assert result.parts["q1b.rf1"].status is Status.CORRECT  # other parts are graded as ever


def test_the_budget_stops_the_work_where_it_runs_out() -> None:
    with budget(limit=10) as work, pytest.raises(identity.OutOfWork):
        equivalent(MOBILE.solve()["q1a.macs"].value, read(f"H W N K^2 M + {ZERO}"))
    assert work.spent <= 10 + 64  # one step past the limit, of at most a few words


# -- rounding: compared at points, exactly ------------------------------------------------------

STRIDED = """
id: strided
title: A strided convolution in symbols
problems:
  - id: q
    type: formula
    symbols: [H, W, M, N, K, S, P]
    input: [H, W, M]
    out_channels: N
    kernel: K
    stride: S
    padding: P
    parts:
      - {key: shape, quantity: output_shape}
"""


@pytest.mark.parametrize(
    ("height", "right"),
    [
        ("⌊(H + 2P - K)/S⌋ + 1", True),
        ("⌊(H + 2P - K + S)/S⌋", True),
        ("⌊(H + 2P - K)/S + 1⌋", True),
        ("⌈(H + 2P - K + 1)/S⌉", True),  # ⌈(x + 1)/s⌉ = ⌊x/s⌋ + 1 for whole x
        ("(H + 2P - K)/S + 1", False),  # not rounded
        ("⌈(H + 2P - K)/S⌉ + 1", False),  # rounded up
        ("⌊(H + P - K)/S⌋ + 1", False),  # padded on one side
        ("⌊(H + 2P - K)/S⌋", False),  # the first window not counted
        ("⌊(H + 2P - K)/S⌋ + 1 + ⌊H/(H + 1)⌋", True),  # ⌊H/(H + 1)⌋ is 0
        ("⌊(H + 2P - K)/S⌋ + 1 + ⌊H/4096⌋", False),  # 0 only up to 4095
    ],
)
def test_rounded_sizes_are_compared_exactly(height: str, right: bool) -> None:
    problem_set = parse_set(STRIDED, "strided.yaml")
    answer = f"{height} × {height.replace('H', 'W')} × N"
    part = grade_submission(problem_set, {"q.shape": answer}).parts["q.shape"]
    assert part.status is (Status.CORRECT if right else Status.INCORRECT), part.feedback


# -- evaluation agrees with expansion -----------------------------------------------------------


def _formula(leaves: int) -> st.SearchStrategy[str]:
    """Formula text over the subject's symbols: sums, differences, products and small powers."""
    leaf = st.sampled_from(SYMBOLS) | st.integers(0, 9).map(str)
    return st.recursive(
        leaf,
        lambda inner: st.one_of(
            st.tuples(inner, st.sampled_from(["+", "-", "*", " "]), inner).map(lambda t: f"({t[0]}){t[1]}({t[2]})"),
            st.tuples(inner, st.integers(2, 3)).map(lambda t: f"({t[0]})^{t[1]}"),
        ),
        max_leaves=leaves,
    )


#: A polynomial, or one divided by a symbol plus a positive number (never zero).
FORMULAS = _formula(8) | st.tuples(_formula(6), st.sampled_from(SYMBOLS), st.integers(1, 5)).map(
    lambda t: f"({t[0]})/({t[1]} + {t[2]})"
)
#: A small change: a number times a product of symbols, or of factors such as (H − 3) that vanish
#: at small whole points (zero when the number is).
CHANGES = st.tuples(
    st.integers(-3, 3),
    st.lists(st.sampled_from([H, W, M, N, K]), max_size=4)
    | st.lists(st.tuples(st.sampled_from([H, W, M, N, K]), st.integers(1, 40)).map(lambda t: t[0] - t[1]), max_size=4),
).map(lambda t: t[0] * sympy.Mul(*t[1]))


def _readable(text: str) -> sympy.Expr:
    result = read_answer(text, AnswerKind.FORMULA, SYMBOLS)
    assume(isinstance(result, Read))  # degree above 12, or a division by a zero such as (H - H)
    assert isinstance(result, Read)
    value: sympy.Expr = result.value
    return value


def _oracle(first: sympy.Expr, second: sympy.Expr) -> bool:
    """Algebraic equality by sympy: the difference as one fraction, its numerator expanded."""
    return bool(sympy.expand(sympy.numer(sympy.together(first - second))) == 0)


#: 300 formulas a run (1,000 took a minute of the suite's time at load): each run draws new ones
#: (no example database), so the runs together try many more.
PROPERTY = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROPERTY
@given(FORMULAS)
def test_a_formula_equals_its_expansion(text: str) -> None:
    value = _readable(text)
    assert equivalent(sympy.expand(value), value)
    assert equivalent(value, sympy.cancel(value))


@PROPERTY
@given(FORMULAS, CHANGES)
def test_a_formula_changed_a_little_is_told_apart_as_expansion_tells_it(text: str, change: sympy.Expr) -> None:
    value = _readable(text)
    changed = sympy.expand(value + change)  # another form, and no cancellation left to sympy's order
    assert equivalent(value, changed) == _oracle(value, changed)


@PROPERTY
@given(FORMULAS, FORMULAS)
def test_two_formulas_are_equal_when_their_expansions_are(first: str, second: str) -> None:
    a, b = _readable(first), _readable(second)
    assert equivalent(a, b) == _oracle(a, b) == equivalent(b, a)
