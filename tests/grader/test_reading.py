"""Reading answers: every form of the issue and the contract reads to the right value; anything
else is unreadable with a sentence naming the expected form; printing any value in any
supported style reads it back; junk never raises and stays cheap."""

from __future__ import annotations

import gc
import time
from fractions import Fraction
from typing import Any

import numpy as np
import pytest
import sympy
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from grader.reading import Asked, Number, Read, Unreadable, _read, read_answer
from grader.reading.forms import FORMS, expected_form
from grader.reading.values import show_element, show_number
from problems.kinds import AnswerKind, Layout, formula_symbol

K = AnswerKind
SYMBOLS = ("H", "W", "M", "N", "K")
H, W, M, N, KK = (formula_symbol(s) for s in SYMBOLS)


def value(raw: Any, kind: AnswerKind, symbols: tuple[str, ...] = SYMBOLS) -> Any:
    result = read_answer(raw, kind, symbols)
    assert isinstance(result, Read), result
    return result.value


NUMBERS = [
    # plain, grouped thousands (comma, thin space, space, underscore, LaTeX), signs
    ("35284", 35284),
    ("13,107,400", 13107400),
    ("11 336 941 156", 11336941156),
    ("11\u2009336\u2009941\u2009156", 11336941156),
    ("13_107_400", 13107400),
    ("13{,}107{,}400", 13107400),
    ("13\\,107\\,400", 13107400),
    ("−4", -4),
    ("  +7 ", 7),
    # decimals, scientific notation, fractions
    ("1.1e10", 11_000_000_000),
    ("1.1 × 10^10", 11_000_000_000),
    ("1.1 \\times 10^{10}", 11_000_000_000),
    ("1.1·10¹⁰", 11_000_000_000),
    ("17/4", Fraction(17, 4)),
    ("\\frac{17}{4}", Fraction(17, 4)),
    ("4.25", Fraction(17, 4)),
    # arithmetic left unevaluated, as in the seeds
    ("64 \\times 64 \\times 64 \\times 5^2 \\times 3", 19660800),
    ("32 \\cdot 32 \\cdot (64 \\cdot 5^2 + 64 \\cdot 128)", 10027008),
    ("3*3*3*16 + 16", 448),
    ("3 x 3 x 3 x 16 + 16", 448),
    ("3 by 3 by 3 by 16 + 16", 448),
    ("2(3 + 4)", 14),
    ("5²·3", 75),
    ("2**10", 1024),
    ("-2^2", -4),
    # workings that end in the result, labels, units and scale words
    ("$(5 \\cdot 5 \\cdot 3 + 1) \\cdot 32 = 2432$", 2432),
    ("$= 390410$", 390410),
    ("p = \\frac{k-1}{2} \\Rightarrow p = 2", 2),
    ("Total: 11329414656", 11329414656),
    ("36 × 444 = 15984", 15984),
    ("444 parameters", 444),
    ("15.47 G", 15_470_000_000),
    ("0.714 GMACs", 714_000_000),
    ("61.1 million", 61_100_000),
]


@pytest.mark.parametrize(("raw", "expected"), NUMBERS, ids=[raw for raw, _ in NUMBERS])
def test_numbers_read_exactly(raw: str, expected: Fraction | int) -> None:
    assert value(raw, K.INTEGER) == Number(Fraction(expected))


def test_json_numbers_read_exactly() -> None:
    assert value(11336941156, K.INTEGER) == Number(Fraction(11336941156))
    assert value(0.1, K.REAL) == Number(Fraction(1, 10))  # the decimal typed, not the binary float


@pytest.mark.parametrize(
    ("raw", "number"), [("86%", 86), ("95.2 \\%", Fraction(952, 10)), ("95.2 percent", Fraction(476, 5))]
)
def test_percentages_keep_their_sign(raw: str, number: Fraction) -> None:
    assert value(raw, K.PERCENT) == Number(Fraction(number), percent=True)


SHAPES = [
    "126x126x16",
    "126 × 126 × 16",
    "(126, 126, 16)",
    "[126, 126, 16]",
    "126 \\times 126 \\times 16",
    "$126 \\times 126 \\times 16$",
    "126*126*16",
    "126 126 16",
    "126 126 16.",
    "126  126\t16",
    "126 126 16 (H W C)",
    "Output: 126 126 16",
    "126 by 126 by 16",
    "126 BY 126 BY 16",
    "$126 by 126 by 16$",
    "126 × 126 × 16 (H×W×C)",
    "H×W×C = 126×126×16",
    "shape: 126x126x16",
    [126, 126, 16],
    ["126", "126", "16"],
]


@pytest.mark.parametrize("raw", SHAPES, ids=str)
def test_shapes(raw: Any) -> None:
    assert value(raw, K.SHAPE) == (126, 126, 16)


@pytest.mark.parametrize(("raw", "shape"), [("2 by 2", (2, 2)), ("2 by 2 by 3", (2, 2, 3)), ("252 by 252", (252, 252))])
def test_by_between_sizes(raw: str, shape: tuple[int, ...]) -> None:
    assert value(raw, K.SHAPE) == shape


def test_a_torch_size_keeps_its_batch_axis() -> None:
    assert value("torch.Size([1, 16, 126, 126])", K.SHAPE) == (1, 16, 126, 126)


SHAPE_LISTS = [
    "10x10x40, 10x10x40, 5x5x40",
    "10×10×40\n10×10×40\n5×5×40",
    "10 × 10 × 40; 10 × 10 × 40; 5 × 5 × 40",
    "10×10×40 → 10×10×40 → 5×5×40",
    "[[10, 10, 40], [10, 10, 40], [5, 5, 40]]",
    "(10, 10, 40), (10, 10, 40), (5, 5, 40)",
    "1. 10×10×40\n2. 10×10×40\n3. 5×5×40",
    "conv1: 10×10×40\nrelu: 10×10×40\npool: 5×5×40",
    "10 10 40, 10 10 40, 5 5 40",
    "10 10 40\n10 10 40\n5 5 40",
    "10 by 10 by 40, 10 by 10 by 40, 5 by 5 by 40",
    "10 by 10 by 40; 10 by 10 by 40; 5 by 5 by 40",
    [[10, 10, 40], [10, 10, 40], [5, 5, 40]],
    ["10x10x40", "10x10x40", "5x5x40"],
]


@pytest.mark.parametrize("raw", SHAPE_LISTS, ids=str)
def test_lists_of_shapes(raw: Any) -> None:
    assert value(raw, K.SHAPE_LIST) == [(10, 10, 40), (10, 10, 40), (5, 5, 40)]


MATRICES = [
    "[[1, 0], [-1, 4]]",
    "[[1 0]\n [-1 4]]",
    "[[ 1.  0.]\n [-1.  4.]]",
    "[[1.0.]\n[-1.4.]]",
    "np.array([[1, 0], [-1, 4]])",
    "array([[ 1,  0],\n       [-1,  4]])",
    "array([[1., 0.], [-1., 4.]], dtype=float32)",
    "1 0\n-1 4",
    "1, 0; -1, 4",
    "[1 0]\n\n[-1 4]",
    "((1, 0), (-1, 4))",
    # MATLAB: rows split by ";", entries by spaces or commas, with or without a name and a ";"
    "[1 0; -1 4]",
    "[1, 0; -1, 4]",
    "[1 0;-1 4]",
    "[ 1  0 ;\n -1  4 ]",
    "A = [1 0; -1 4]",
    "[1 0; -1 4];",
    "X * K = [1 0; -1 4]",
    "[1 0; -1 4;]",
    "\\begin{bmatrix} 1 & 0 \\\\ -1 & 4 \\end{bmatrix}",
    "$$\\begin{pmatrix} 1 & 0 \\\\ -1 & 4 \\\\ \\end{pmatrix}$$",
    "\\begin{array}{cc} 1 & 0 \\\\ -1 & 4 \\end{array}",
    "X * K = \\begin{bmatrix} 1 & 2 \\cdot 0 \\\\ -1 & 2 + 2 \\end{bmatrix}",
    [[1, 0], [-1, 4]],
    [["1", "0"], ["-1", "4"]],
    [[[1, 0], [-1, 4]]],
]


@pytest.mark.parametrize("raw", MATRICES, ids=str)
def test_matrices(raw: Any) -> None:
    np.testing.assert_array_equal(value(raw, K.MATRIX), [[1, 0], [-1, 4]])


def test_numpy_printouts_with_lost_spacing() -> None:
    """Seed 000 prints rows as ``[1.-1.-1. 4. 0. 1.]``: the minus signs mark where numbers start."""
    np.testing.assert_array_equal(value("[1.-1.-1. 4. 0. 1.]", K.MATRIX), [[1, -1, -1, 4, 0, 1]])


@pytest.mark.parametrize("text", ["[[30-40]]", "[[1 30-40]]", "[[1.5-2.5 0]]", "[[2+3 1]]"])
def test_integers_run_together_are_a_range_or_arithmetic_never_two_elements(text: str) -> None:
    """Only numpy's ``N.`` form runs numbers together; ``30-40`` is not read as 30 and -40."""
    result = read_answer(text, K.MATRIX, SYMBOLS)
    assert isinstance(result, Unreadable), result
    np.testing.assert_array_equal(value("[[ 2. -2.  2.]\n\n[0. 2. 0.]]", K.MATRIX), [[2, -2, 2], [0, 2, 0]])


def test_tensors_as_nested_lists_or_several_environments() -> None:
    stack = [[[1, 2], [3, 4]], [[5, 6], [7, 8]]]
    np.testing.assert_array_equal(value(str(stack), K.TENSOR), stack)
    np.testing.assert_array_equal(value(str(np.array(stack)), K.TENSOR), stack)
    latex = ", ".join(
        "\\begin{bmatrix} " + " \\\\ ".join(" & ".join(map(str, row)) for row in m) + " \\end{bmatrix}" for m in stack
    )
    np.testing.assert_array_equal(value(latex, K.TENSOR), stack)


@pytest.mark.parametrize(
    "raw", ["[1 2; 3 4], [5 6; 7 8]", "[1 2; 3 4]\n[5 6; 7 8]", "R = [1 2; 3 4]; G = [5 6; 7 8]"], ids=str
)
def test_matlab_stacks(raw: str) -> None:
    np.testing.assert_array_equal(value(raw, K.TENSOR), [[[1, 2], [3, 4]], [[5, 6], [7, 8]]])


def test_matlab_rows_and_columns() -> None:
    np.testing.assert_array_equal(value("[1 2 3]", K.MATRIX), [[1, 2, 3]])
    np.testing.assert_array_equal(value("[1; 2; 3]", K.MATRIX), [[1], [2], [3]])
    np.testing.assert_array_equal(value("[4.25 1/2; -3 0]", K.MATRIX), [[4.25, 0.5], [-3, 0]])


FORMULAS = [
    ("H \\times W \\times N", H * W * N),
    ("H·W·N·K²·M", H * W * N * KK**2 * M),
    ("M \\cdot K^2 + M \\cdot N", M * KK**2 + M * N),
    ("M K^{2} + M N", M * KK**2 + M * N),
    ("MK^2 + MN", M * KK**2 + M * N),
    ("2HW", 2 * H * W),
    ("h w n", H * W * N),
    ("MACs = H*W*N*K**2*M", H * W * N * KK**2 * M),
    ("\\frac{H W}{2}", H * W / 2),
    ("(K^2 M + M N) H W", (KK**2 * M + M * N) * H * W),
    # x as a times sign where no symbol is called x (seed 003 writes \times; students type x)
    ("H x W x N x K x K x M", H * W * N * KK**2 * M),
    ("Total Operations = H x W x N x K x K x M", H * W * N * KK**2 * M),
    ("HxWxN", H * W * N),
    ("H X W X N", H * W * N),
    ("2 x H x W", 2 * H * W),
    ("2xHxW", 2 * H * W),
    ("M x K^2 + M x N", M * KK**2 + M * N),
    ("(H + 1) x (W + 1)", (H + 1) * (W + 1)),
]


@pytest.mark.parametrize(("raw", "expected"), FORMULAS, ids=[raw for raw, _ in FORMULAS])
def test_formulas(raw: str, expected: sympy.Expr) -> None:
    assert sympy.expand(value(raw, K.FORMULA) - expected) == 0


def test_a_rounded_formula_is_kept_as_written_unless_it_is_whole() -> None:
    """sympy is not asked whether a formula is whole (its assumptions took seconds on a large
    one): a number rounds, and so does a formula whole by its form alone."""
    assert value("⌊7/2⌋ H", K.FORMULA) == 3 * H
    assert value("⌊H + 1⌋ ⌈W N⌉", K.FORMULA) == (H + 1) * W * N
    assert str(value("⌊H/2⌋ + ⌈(W + 1)/2⌉", K.FORMULA)) == "ceiling(W/2 + 1/2) + floor(H/2)"


@pytest.mark.parametrize(
    "raw",
    [
        "H × W × N",
        "HxWxN",
        "H X W X N",
        "H by W by N",
        "H W N",
        "(H W N)",
        "(H, W, N)",
        "H \\times W \\times N",
        ["H", "W", "N"],
    ],
    ids=str,
)
def test_shapes_in_symbols(raw: Any) -> None:
    assert value(raw, K.FORMULA_SHAPE) == (H, W, N)


def test_sizes_in_symbols_separated_by_spaces_may_be_formulas() -> None:
    assert value("H/2 W/2 N", K.FORMULA_SHAPE) == (H / 2, W / 2, N)
    assert value("H + 2 W", K.FORMULA_SHAPE) == (H + 2 * W,)  # spaces beside an operator: one formula


@pytest.mark.parametrize(
    ("raw", "symbols", "expected"),
    [
        ("x y", ("x", "y"), "x*y"),
        ("2x", ("x",), "2*x"),
        ("H x W", ("H", "W", "X"), "H*W*X"),  # X is a symbol (letters match in either case)
        ("x by y", ("x", "y", "b"), "b*x*y**2"),  # b and y are symbols: "by" is b·y
    ],
    ids=str,
)
def test_x_is_a_symbol_where_the_question_has_one(raw: str, symbols: tuple[str, ...], expected: str) -> None:
    result = read_answer(raw, K.FORMULA, symbols)
    assert isinstance(result, Read) and str(result.value) == expected


UNREADABLE = [
    # (answer, kind, what the reason must mention)
    ("idk", K.INTEGER, "“idk” is not a number"),
    ("12x", K.INTEGER, "“x”"),
    ("9^9^9^9", K.INTEGER, "power this large"),
    ("((((((((1", K.INTEGER, "ends in the middle"),
    ("\\frac{1}{0}", K.INTEGER, "divides by zero"),
    ("4,25", K.REAL, "comma"),
    ("2 3", K.INTEGER, "Unexpected “3”"),
    ("∞", K.INTEGER, "“∞”"),
    ("\\alpha", K.INTEGER, "\\alpha"),
    (True, K.INTEGER, "true is not a number"),
    (float("nan"), K.REAL, "not a number that can be an answer"),
    ({"a": 1}, K.INTEGER, "not a list or an object"),
    ("[[1, 2], [3]]", K.MATRIX, "different lengths"),
    ("[[1, 2], [3, 4]", K.MATRIX, "never closed"),
    ("[[1, 2, ...]]", K.MATRIX, "abbreviated"),
    ("126 × 126 × -16", K.SHAPE, "cannot be negative"),
    ("126 × 126.5 × 16", K.SHAPE, "whole numbers"),
    ("126 ×  × 16", K.SHAPE, "missing"),
    ("x + 1", K.FORMULA, "not one of the symbols"),
    ("H x", K.FORMULA, "“x” is not one of the symbols"),
    ("H xx W", K.FORMULA, "“xx” is not one of the symbols"),
    ("[1 2; 3]", K.MATRIX, "different lengths"),
    ("[1 2; 3 4", K.MATRIX, "never closed"),
    ("2 by", K.SHAPE, "“by”"),
    ("(H + W)^20", K.FORMULA, "powers up to"),
    # 7^(12^7) has a hundred million bits: it took a minute to compute, then could not be shown
    ("(((((((7^12)^12)^12)^12)^12)^12)^12) H", K.FORMULA, "numbers in this formula grow too large"),
    ("(1e300 H + 1)^5", K.FORMULA, "numbers in this formula grow too large"),
    ("H / 0^2", K.FORMULA, "divides by zero"),
    ("(H - H)^-1", K.FORMULA, "divides by zero"),
    ("H / ⌊1/2⌋", K.FORMULA, "divides by zero"),
    ("1" * 30_000, K.MATRIX, "characters long"),
]


@pytest.mark.parametrize(("raw", "kind", "reason"), UNREADABLE, ids=[str(r)[:30] for r, *_ in UNREADABLE])
def test_unreadable_answers_say_why_and_what_form_is_expected(raw: Any, kind: AnswerKind, reason: str) -> None:
    result = read_answer(raw, kind, SYMBOLS)
    assert isinstance(result, Unreadable)
    assert reason in result.reason
    assert result.reason.endswith(expected_form(kind, SYMBOLS))


def test_every_kind_has_an_expected_form_with_an_example() -> None:
    for kind in AnswerKind:
        assert "like" in expected_form(kind, SYMBOLS), kind
    assert set(FORMS) == set(AnswerKind)
    assert "16 × 126 × 126" in expected_form(K.SHAPE, layout=Layout.CHW)


# -- properties: whatever style a value is printed in, it reads back equal ------------------

INTEGER_STYLES = [
    str,
    lambda n: f"{n:,}",
    lambda n: f"{n:_}",
    lambda n: f"{n:,}".replace(",", "\u2009"),
    lambda n: f"{n:,}".replace(",", "{,}"),
    lambda n: f"${n}$",
    lambda n: f"Total: {n}",
    lambda n: f"= {n}",
    lambda n: f"{n} parameters",
    lambda n: f"({n})",
    lambda n: f"{n}.0",
]


@given(st.integers(-(10**15), 10**15), st.sampled_from(INTEGER_STYLES))
def test_any_integer_in_any_style_reads_back(number: int, style: Any) -> None:
    assert value(style(number), K.INTEGER) == Number(Fraction(number))


def _shape_text(sides: list[int], separator: str, brackets: str) -> str:
    body = separator.join(map(str, sides))
    return f"{brackets[0]}{body}{brackets[1]}" if brackets else body


@given(
    st.lists(st.integers(1, 5000), min_size=1, max_size=4),
    st.sampled_from(["x", "×", " × ", " x ", " \\times ", "*", ", ", ",", " by ", " "]),
    st.sampled_from(["", "()", "[]"]),
)
def test_any_shape_in_any_style_reads_back(sides: list[int], separator: str, brackets: str) -> None:
    if len(sides) == 1 and not brackets:
        sides = [*sides, 1]  # a bare single number is a number, not a shape
    assert value(_shape_text(sides, separator, brackets), K.SHAPE) == tuple(sides)


def _bmatrix(matrix: np.ndarray) -> str:
    rows = " \\\\ ".join(" & ".join(_plain(v) for v in row) for row in matrix)
    return "\\begin{bmatrix} " + rows + " \\end{bmatrix}"


def _plain(v: float) -> str:
    return str(int(v)) if float(v).is_integer() else repr(float(v))


MATRIX_STYLES = [
    lambda m: m.tolist(),
    lambda m: str(m.tolist()),
    str,
    repr,
    lambda m: np.array2string(m, separator=", "),
    lambda m: str(m.astype(float)),
    lambda m: str(m.astype(float)).replace(" -", "-"),  # numpy's spacing lost before minus signs
    lambda m: "\n".join(" ".join(_plain(v) for v in row) for row in m),
    lambda m: "[" + "; ".join(" ".join(_plain(v) for v in row) for row in m) + "]",  # MATLAB
    _bmatrix,
    lambda m: "$$= " + _bmatrix(m).replace("bmatrix", "pmatrix") + "$$",
]


@given(
    st.integers(1, 6).flatmap(
        lambda rows: st.integers(1, 6).flatmap(
            lambda cols: st.lists(
                st.lists(st.integers(-999, 999), min_size=cols, max_size=cols), min_size=rows, max_size=rows
            )
        )
    ),
    st.sampled_from(MATRIX_STYLES),
)
def test_any_matrix_in_any_style_reads_back(rows: list[list[int]], style: Any) -> None:
    matrix = np.array(rows)
    np.testing.assert_array_equal(value(style(matrix), K.MATRIX), matrix)


@given(
    st.lists(
        st.lists(st.floats(-100, 100, allow_nan=False).map(lambda v: round(v, 2)), min_size=3, max_size=3),
        min_size=2,
        max_size=3,
    )
)
def test_decimal_matrices_read_back(rows: list[list[float]]) -> None:
    matrix = np.array(rows)
    for style in (lambda m: m.tolist(), lambda m: str(m.tolist()), _bmatrix):
        np.testing.assert_allclose(value(style(matrix), K.MATRIX), matrix)


# -- junk never raises and stays cheap --------------------------------------------------------

PIECES = [
    "1",
    "9",
    "0",
    ".",
    "e",
    "E",
    "+",
    "-",
    "*",
    "/",
    "^",
    "(",
    ")",
    "[",
    "]",
    "{",
    "}",
    ",",
    ";",
    " ",
    "\n",
    "x",
    "×",
    "·",
    "%",
    "=",
    "H",
    "W",
    "K",
    "\\frac",
    "\\times",
    "\\cdot",
    "\\left",
    "\\begin{bmatrix}",
    "\\end{bmatrix}",
    "&",
    "\\\\",
    "²",
    "−",
    "$",
    "...",
    "e10",
    "∞",
    "NaN",
    "_",
    "'",
    "torch.Size(",
]
JUNK = st.one_of(st.text(max_size=300), st.lists(st.sampled_from(PIECES), max_size=400).map("".join))
#: Per answer, in CPU seconds of this process (wall time would measure the machine's load): a bound
#: that catches runaway work (a parse that backtracks exponentially takes seconds, or never ends),
#: not a speed test. 50 ms failed on a slow host for a 300-deep ``\\frac`` read in 85 ms.
BUDGET = 0.5


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(JUNK, st.sampled_from(list(AnswerKind)))
def test_junk_never_raises_and_is_read_quickly(junk: str, kind: AnswerKind) -> None:
    result, spent = _timed_read(junk, kind)
    assert spent < BUDGET
    assert isinstance(result, Read | Unreadable)


def _timed_read(raw: str, kind: AnswerKind) -> tuple[Read | Unreadable, float]:
    """The uncached read and its CPU seconds, without the garbage collector: a collection of the
    worker's whole heap (0.6 s once a few thousand tests have run) is not this answer's work."""
    gc.disable()
    try:
        started = time.process_time()
        result = _read(raw, kind, Asked(SYMBOLS), None)
        return result, time.process_time() - started
    finally:
        gc.enable()


ADVERSARIAL = [
    "a " * 1000 + "1",
    "(" * 1000 + "1" + ")" * 1000,
    "1+" * 999 + "1",
    "9^" * 500 + "9",
    "\\frac{" * 300 + "1" + "}{2}" * 300,
    "H+" * 400 + "H",
    "HW" * 500,
    "[" * 1000,
    "[1," * 5000,
    "\\begin{bmatrix}" * 1000,
    "1e999999",
    "10^10^10",
    "x" * 20_000,
    "[[" + "1 " * 9000 + "]]",
    "H*" * 99 + "H",
    "(H+W+M+N+K)^12",
    # 7^(12^7): a minute to compute before numbers in formulas were bounded
    "(((((((7^12)^12)^12)^12)^12)^12)^12)H",
    # sympy's floor asked its assumptions about the whole product
    "⌊(" + "".join(f"(H+W+M+N+K+{i})" for i in range(1, 7)) + ")^2/7⌋",
]


@pytest.mark.parametrize("kind", list(AnswerKind))
def test_adversarial_answers_are_bounded(kind: AnswerKind) -> None:
    for junk in ADVERSARIAL:
        result, spent = _timed_read(junk, kind)
        assert spent < BUDGET, junk[:40]
        assert isinstance(result, Read | Unreadable)


@pytest.mark.parametrize(
    ("raw", "side"),
    [
        ("9 \\times 9", 9),
        ("$512 + 1 - 504 = 9 \\times 9$", 9),
        ("9x9", 9),
        ("9 by 9", 9),
        ("9", 9),
        (9, 9),
    ],
    ids=str,
)
def test_a_squares_side_reads_from_both_sides(raw: object, side: int) -> None:
    """Seed 004 answers "kernel side length" with ``9 × 9``: on a part that asks for a square's side
    two equal sides read as the side; anything else reads as a number."""
    assert read_answer(raw, K.INTEGER, square=True) == Read(Number(Fraction(side)), f"{side:,}")
    assert value("9 × 9", K.INTEGER) == Number(Fraction(81))  # elsewhere it is a product


@pytest.mark.parametrize("raw", ["9 x 8", "29 × 31", "$29 \\times 31$", "3 by 5"])
def test_unequal_sides_are_not_a_squares_side(raw: str) -> None:
    """Two unequal sides on a part that asks for a square's side are refused, not multiplied
    into an area nor read as one side by a guessed order (rf_h of ``29 × 31``: 29 or 31?)."""
    result = read_answer(raw, K.INTEGER, square=True)
    assert isinstance(result, Unreadable) and "not a square" in result.reason, result


WORDED = [
    ("9,792 (\\text{second layer})", Number(Fraction(9792))),
    ("about 86% reduction", Number(Fraction(86), percent=True)),
    ("• Total: 11329414656", Number(Fraction(11329414656))),
    ("so the answer = roughly 95.2 %", Number(Fraction(952, 10), percent=True)),
    ("16 convoluted", Number(Fraction(16))),
    ("90 channels per cell", Number(Fraction(90))),
]


@pytest.mark.parametrize(("raw", "expected"), WORDED, ids=[raw for raw, _ in WORDED])
def test_a_number_with_words_around_it(raw: str, expected: Number) -> None:
    """A label before the number, a hedge, a unit after it and a note in brackets are read."""
    assert value(raw, K.INTEGER) == expected


PROSE = [
    # another number in the sentence: which one is the answer is a guess
    "Need 36 layers to reach 8×8",
    "Need 36 layers to reach 8 by 8",
    "A 224 by 224 image needs 36 layers",
    "Need 21 layers of 256→256 to reach spatial size of 224×224",
    "16 convoluted filters of size $1 \\times 1 \\times 32$",
    "Total 99 layers at 256 channels",
    # one number, but the sentence around it bounds it ("less than 100", "at least 36"); a sentence
    # that only states it is read (tests/grader/test_reading_claims.py)
    "less than 100",
    "at least 36 layers",
]


@pytest.mark.parametrize("raw", PROSE)
def test_a_number_is_not_picked_out_of_a_sentence(raw: str) -> None:
    """Prose around a number is refused, with a sentence saying what was not read: the reader
    never guesses which number of a sentence is the answer."""
    result = read_answer(raw, K.INTEGER)
    assert isinstance(result, Unreadable) and "read" in result.reason


@pytest.mark.parametrize("raw", ["idk", "NaN", "\\frac{1}{0}", "no idea at all", "12x"])
def test_a_sentence_without_a_number_is_still_unreadable(raw: str) -> None:
    assert isinstance(read_answer(raw, K.INTEGER), Unreadable)


@given(st.floats(allow_nan=False, allow_infinity=False))
def test_a_matrix_element_is_shown_as_a_number_without_its_thousands_separators(number: float) -> None:
    """``show_element`` (each element of every matrix read) writes what ``show_number`` writes,
    the commas left out: the two cannot drift apart."""
    assert show_element(number) == show_number(number).replace(",", "")
