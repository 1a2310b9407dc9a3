"""Reading never guesses: answers built from a grammar of the forms students type, together with
the value each denotes, read as that value or are refused, never as another value; answers that
leave the value open (ranges, choices, unknown functions, numbers in notes) are all refused."""

from __future__ import annotations

import math
import re
from fractions import Fraction

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from grader.engine import grade_submission
from grader.reading import Number, Read, Unreadable, read_answer
from grader.results import Status
from problems.kinds import AnswerKind, Layout
from problems.loader import load_bank

K = AnswerKind
#: A text with the value it denotes.
Form = tuple[str, Fraction]


def _literal(n: int) -> st.SearchStrategy[Form]:
    styles = [str(n), f"{n:,}", f"{n:,}".replace(",", "{,}"), f"{n:_}"]
    return st.sampled_from(styles).map(lambda text: (text, Fraction(n)))


def _decimal(n: int, places: int) -> Form:
    whole, rest = divmod(n, 10**places)
    return f"{whole}.{rest:0{places}d}", Fraction(n, 10**places)


NUMBERS = st.one_of(
    st.integers(0, 10**7).flatmap(_literal),
    st.builds(_decimal, st.integers(0, 10**6), st.integers(1, 3)),
)
SMALL = st.integers(0, 60).map(lambda n: (str(n), Fraction(n)))
TIMES = st.sampled_from([" * ", "*", " × ", "×", " \\times ", " \\cdot ", "·", " x "])


def _combine(children: st.SearchStrategy[Form]) -> st.SearchStrategy[Form]:
    """Arithmetic and the functions students use, each with its exact value."""
    pair = st.tuples(children, children)
    return st.one_of(
        pair.map(lambda p: (f"{p[0][0]} + {p[1][0]}", p[0][1] + p[1][1])),
        pair.map(lambda p: (f"{p[0][0]} - ({p[1][0]})", p[0][1] - p[1][1])),
        st.tuples(children, TIMES, children).map(lambda p: (f"({p[0][0]}){p[1]}({p[2][0]})", p[0][1] * p[2][1])),
        pair.filter(lambda p: p[1][1] != 0).flatmap(_quotient),
        children.map(lambda c: (f"({c[0]})", c[1])),
        pair.map(lambda p: (f"max({p[0][0]}, {p[1][0]})", max(p[0][1], p[1][1]))),
        pair.map(lambda p: (f"min({p[0][0]}, {p[1][0]})", min(p[0][1], p[1][1]))),
        children.map(lambda c: (f"abs(-({c[0]}))", abs(c[1]))),
        SMALL.map(lambda s: (f"sqrt({s[0]}^2)", s[1])),
        SMALL.map(lambda s: (f"\\sqrt{{{int(s[1]) ** 2}}}", s[1])),
        st.integers(0, 40).map(lambda k: (f"log2({2**k})", Fraction(k))),
        st.tuples(SMALL, st.integers(0, 4)).map(lambda p: (f"{p[0][0]}^{p[1]}", p[0][1] ** p[1])),
    )


def _quotient(pair: tuple[Form, Form]) -> st.SearchStrategy[Form]:
    (a, x), (b, y) = pair
    return st.sampled_from(
        [
            (f"({a}) / ({b})", x / y),
            (f"\\frac{{{a}}}{{{b}}}", x / y),
            (f"floor(({a})/({b}))", Fraction(math.floor(x / y))),
            (f"⌊({a})/({b})⌋", Fraction(math.floor(x / y))),
            (f"\\lfloor \\frac{{{a}}}{{{b}}} \\rfloor", Fraction(math.floor(x / y))),
            (f"ceil(({a})/({b}))", Fraction(math.ceil(x / y))),
            (f"\\left\\lceil ({a})/({b}) \\right\\rceil", Fraction(math.ceil(x / y))),
            (f"floor(({a})/({b})) + 1", Fraction(math.floor(x / y)) + 1),
        ]
    )


EXPRESSIONS = st.recursive(NUMBERS, _combine, max_leaves=4)
SCALES = [(" thousand", 10**3), ("k", 10**3), (" million", 10**6), ("M", 10**6), (" M", 10**6), (" billion", 10**9)]
SCALES += [(" bn", 10**9), (" G", 10**9), (" trillion", 10**12)]
HEDGES = ["", "~", "~ ", "about ", "approx. ", "approx ", "approximately ", "roughly ", "around ", "≈ ", "\\approx "]
HEDGES += ["\\sim ", "$\\sim$ "]
LABELS = ["", "Total: ", "Params: ", "Answer: ", "• Total: ", "- Layer 1: "]
UNITS = ["", " parameters", " params", " MACs", " layers", " channels per cell", " (second layer)", "."]


@st.composite
def answers(draw: st.DrawFn) -> tuple[str, Fraction, Fraction | None]:
    """A whole answer: a label, a hedge, a value (a scaled number or an expression), a unit, and
    possibly a working before it that ends in ``=`` (with the working's own value)."""
    if draw(st.booleans()):
        text, value = draw(NUMBERS)
        suffix, factor = draw(st.sampled_from(SCALES))
        text, value = text + suffix, value * factor
    else:
        text, value = draw(EXPRESSIONS)
    hedge = draw(st.sampled_from(HEDGES))
    text = hedge + text + draw(st.sampled_from(UNITS))
    worked: Fraction | None = None
    if draw(st.booleans()):
        working, worked = draw(st.one_of(EXPRESSIONS, st.just((text.removeprefix(hedge), value))))
        text = f"{working} = {text}"
    if draw(st.booleans()):
        text = f"${text}$" if "$" not in text else text
    return draw(st.sampled_from(LABELS)) + text, value, worked


@settings(max_examples=1_200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(answers())
@example(("1 = ≈ 0 thousand", Fraction(0), Fraction(1)))  # a zero rounds nothing: not "1, rounded"
def test_an_answer_reads_as_what_it_says_or_is_refused(form: tuple[str, Fraction, Fraction | None]) -> None:
    """Read as the value, or refused: for a bound, or for a working that disagrees with it."""
    text, expected, worked = form
    result = read_answer(text, K.REAL)
    if isinstance(result, Unreadable):
        disagrees = "Your working gives" in result.reason and worked is not None and worked != expected
        grouped = re.search(r"(?<![\d.,])[1-9]\d{0,2}\.\d{3}(?![\d.])", text)  # 1.234: a thousand, or a decimal?
        ambiguous = "a dot between thousands" in result.reason and grouped is not None
        comma = re.search(r"(?<![\d.,])[1-9]\d{0,2},\d{3}(?![\d.,])", text)  # 1,234 k: 1.234 k with a decimal comma?
        ambiguous = ambiguous or ("with a decimal comma" in result.reason and comma is not None)
        assert "large" in result.reason or "digits" in result.reason or disagrees or ambiguous, (text, result.reason)
        return
    assert result.value == Number(expected), (text, result.value, expected)


#: Texts that leave the value open, with the numbers they are built from.
PAIRS = st.tuples(st.integers(1, 10**6), st.integers(1, 10**6)).filter(lambda p: p[0] != p[1])
OPEN = [
    "between {a} and {b}",
    "between {a}% and {b}%",
    "either {a} or {b}",
    "{a} or {b}",
    "{a} to {b}",
    "{a}–{b}",
    "from {a} to {b}",
    "{a} (kernel) ... {b}",
    "{a} layers of {b} channels",
    "Need {a} layers to reach {b}",
    "{a}, {b}",
    "{a} or more",
    "at least {a}",
    "less than {a}",
    "round({a}/{b})",
    "foo({a})",
    "log({a})",
    "f({a}, {b})",
    "sqrt({a}{b}3)",
    "H={a}, W={b}, C=16",
    "{a} + {b} million",
    "{a}M + {b}",
    "max({a})",
]


@settings(max_examples=800, deadline=None)
@given(PAIRS, st.sampled_from(OPEN), st.sampled_from([K.INTEGER, K.REAL, K.PERCENT]))
def test_an_answer_that_leaves_the_value_open_is_refused(pair: tuple[int, int], form: str, kind: AnswerKind) -> None:
    a, b = pair
    if form.startswith("sqrt") and math.isqrt(int(f"{a}{b}3")) ** 2 == int(f"{a}{b}3"):
        return  # an exact root is a value
    result = read_answer(form.format(a=a, b=b), kind)
    assert isinstance(result, Unreadable), (form.format(a=a, b=b), result)


# -- the forms of issue #20, one by one ---------------------------------------------------------

ISSUE = [
    ("floor(216/6)", 36),
    ("floor(99/2)+1", 50),
    ("ceil(99/2)", 50),
    ("sqrt(441)", 21),
    ("log2(64)", 6),
    ("max(35, 36)", 36),
    ("min(35, 36)", 35),
    ("abs(-3)", 3),
    ("⌊99/2⌋ + 1", 50),
    ("⌈99/2⌉", 50),
    ("\\lfloor \\frac{99}{2} \\rfloor + 1", 50),
    ("\\left\\lceil \\frac{99}{2} \\right\\rceil", 50),
    ("\\sqrt{441}", 21),
    ("\\log_2 (64)", 6),
    ("~11.3 billion", 11_300_000_000),
    ("about 19.7M", 19_700_000),
    ("approx 105.7 million", 105_700_000),
    ("≈ 11.3 billion", 11_300_000_000),
    ("\\sim 11.3 billion", 11_300_000_000),
    ("roughly 2,432 parameters", 2432),
]


@pytest.mark.parametrize(("raw", "expected"), ISSUE, ids=[raw for raw, _ in ISSUE])
def test_functions_and_hedges_read_whole(raw: str, expected: int) -> None:
    result = read_answer(raw, K.INTEGER)
    assert isinstance(result, Read) and result.value == Number(Fraction(expected)), result


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("sqrt(444)", "√444"),
        ("round(99/2)", "round"),
        ("foo(3)", "“foo” is not a function"),
        ("between 30 and 40", "“between”"),
        ("either 441 or 444", "“either”"),
        ("3 (kernel) 36", "Unexpected “36”"),
        ("30–40", "range"),
        ("2 + 3 million", "scale"),
    ],
    ids=str,
)
def test_what_is_refused_says_why(raw: str, reason: str) -> None:
    result = read_answer(raw, K.INTEGER)
    assert isinstance(result, Unreadable) and reason in result.reason, result


@pytest.mark.parametrize(
    "raw", ["H=63, W=63, C=16", "C=16, H=63, W=63", "H: 63; W: 63; C: 16", "height 63, width 63, 16 channels"]
)
@pytest.mark.parametrize(("layout", "shape"), [(Layout.HWC, (63, 63, 16)), (Layout.CHW, (16, 63, 63))])
def test_sizes_named_by_their_axes_read_in_the_parts_layout(raw: str, layout: Layout, shape: tuple[int, ...]) -> None:
    assert read_answer(raw, K.SHAPE, layout=layout) == Read(shape, " × ".join(map(str, shape)))


@pytest.mark.parametrize(
    ("raw", "reason"),
    [("H=63, W=63", "C is not given"), ("H=63, W=63, 16", "name every size"), ("H=63, H=63, C=16", "twice")],
)
def test_a_shape_with_a_size_not_named_is_refused(raw: str, reason: str) -> None:
    result = read_answer(raw, K.SHAPE, layout=Layout.HWC)
    assert isinstance(result, Unreadable) and reason in result.reason, result


def test_a_receptive_field_written_as_a_square_is_its_side() -> None:
    """seed 003's third receptive field is 29: ``29x29`` names the square, whose side is 29."""
    bank = load_bank()
    for answer in ("29x29", "29 × 29", "$29 \\times 29$", "29"):
        part = grade_submission(bank["mobilenet-yolo"], {"q1b.rf3": answer}).parts["q1b.rf3"]
        assert part.status == Status.CORRECT, (answer, part.read_as, part.feedback)


# -- an unspaced hyphen between two numbers: a range or a subtraction? ----------------------------


@pytest.mark.parametrize(
    "raw", ["30-40", "95-96%", "30-40 channels", "Total: 30-40", "~30-40", "x = 30-40", "1,000-2,000", "2-1", "-3-4"]
)
@pytest.mark.parametrize("kind", [K.INTEGER, K.REAL, K.PERCENT])
def test_two_numbers_joined_by_an_unspaced_hyphen_are_refused(raw: str, kind: AnswerKind) -> None:
    result = read_answer(raw, kind)
    assert isinstance(result, Unreadable) and "range or a subtraction" in result.reason, (raw, result)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("30 - 40", -10), ("(128-3)/1+1", 126), ("= 128-3+1", 126), ("128-3 = 125", 125), ("1e-3", Fraction(1, 1000))],
    ids=str,
)
def test_a_hyphen_in_a_working_or_spaced_subtracts(raw: str, expected: Fraction) -> None:
    result = read_answer(raw, K.REAL)
    assert isinstance(result, Read) and result.value == Number(Fraction(expected)), (raw, result)


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 10**6), st.integers(0, 10**6), st.sampled_from(["", "%", " channels", "k"]))
def test_any_unspaced_hyphen_between_two_numbers_is_refused(a: int, b: int, tail: str) -> None:
    assert isinstance(read_answer(f"{a}-{b}{tail}", K.REAL), Unreadable)


# -- a hedged count: read and graded as written, with a note that the count is exact ---------------


@pytest.mark.parametrize("hedge", ["~", "about ", "≈ ", "\\approx ", "$\\sim$ ", "2432 \\approx "])
def test_a_hedged_count_is_graded_with_a_note(hedge: str) -> None:
    problem_set = load_bank()["mobilenet-yolo"]
    key, answer = next((k, a) for k, a in problem_set.solve().items() if a.kind == K.INTEGER)
    part = grade_submission(problem_set, {key: f"{hedge}{answer.value}"}).parts[key]
    assert part.status == Status.CORRECT and "exact count was asked" in part.feedback, part
    assert "exact count" not in grade_submission(problem_set, {key: str(answer.value)}).parts[key].feedback
    real = next(k for k, a in problem_set.solve().items() if a.kind in (K.REAL, K.PERCENT))
    assert "exact count" not in grade_submission(problem_set, {real: "~1"}).parts[real].feedback


def test_a_receptive_fields_side_per_axis_is_a_squares_side() -> None:
    from problems.parts import Part

    fields = {"key": "a", "prompt": "Receptive field height."}
    assert Part.model_validate({**fields, "quantity": "rf_h.conv2"}).square
    assert Part.model_validate({**fields, "quantity": "rf_w.conv2"}).square
    assert not Part.model_validate({**fields, "quantity": "rf_h.conv2", "square": False}).square
