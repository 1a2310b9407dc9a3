"""Reading never guesses, for shapes, lists of shapes, matrices and formulas: answers built from
the forms students type, together with the value each denotes, read as that value or are refused,
never as another value; answers that leave the value open (ranges, choices, numbers in notes,
unknown functions, ragged matrices) are all refused."""

from __future__ import annotations

import sympy
from hypothesis import given, settings
from hypothesis import strategies as st

from grader.reading import Read, Unreadable, read_answer
from problems.kinds import AnswerKind, Layout

K = AnswerKind
Shape = tuple[int, ...]

SIZES = st.lists(st.integers(1, 4096), min_size=2, max_size=4)
#: A size as typed, with its value: plain, or a working in brackets (where a separator is ×).
SIZE_WORKINGS = st.integers(1, 300).flatmap(
    lambda n: st.sampled_from([(str(n), n), (f"(({n + 2}-3)/1+1)", n), (f"({n}*2)/2", n), (f"({n - 1} + 1)", n)])
)
TIMES = ["x", " x ", "×", " × ", " \\times ", " by ", "*", " * "]
LABELS = ["", "output: ", "Shape: ", "Layer 2 (conv): ", "out = ", "$", "shape = "]
UNITS = ["", " feature map", " (output)", " pixels", " (HWC)", "."]


@st.composite
def shapes(draw: st.DrawFn) -> tuple[str, Shape]:
    """A shape in one of the ways it is written, with its sizes."""
    typed = draw(st.lists(SIZE_WORKINGS, min_size=2, max_size=4))
    texts, sizes = [t for t, _ in typed], tuple(n for _, n in typed)
    style = draw(st.sampled_from(["times", "tuple", "list", "spaces"]))
    if style == "times":
        body = draw(st.sampled_from(TIMES)).join(texts)
    elif style == "spaces":
        texts, sizes = [str(n) for n in sizes], sizes
        body = " ".join(texts)
    else:
        opening, closing = ("(", ")") if style == "tuple" else ("[", "]")
        body = opening + ", ".join(texts) + closing
    label = draw(st.sampled_from(LABELS))
    unit = draw(st.sampled_from(UNITS)) if style != "spaces" else ""
    text = label + body + unit
    return (text + "$" if label == "$" else text), sizes


@settings(max_examples=600, deadline=None)
@given(shapes())
def test_a_shape_reads_as_what_it_says_or_is_refused(form: tuple[str, Shape]) -> None:
    text, sizes = form
    result = read_answer(text, K.SHAPE)
    assert isinstance(result, Read), (text, result)
    assert result.value == sizes, (text, result.value, sizes)


NAMES = {"H": ["H={}", "H: {}", "height {}", "H = {}"], "W": ["W={}", "W: {}", "width {}"]}
NAMES |= {"C": ["C={}", "C: {}", "{} channels", "channels {}"]}


@settings(max_examples=200, deadline=None)
@given(
    st.permutations(["H", "W", "C"]),
    st.tuples(st.integers(1, 999), st.integers(1, 999), st.integers(1, 999)),
    st.sampled_from([", ", "; ", " and ", " "]),
    st.sampled_from([Layout.HWC, Layout.CHW]),
    st.data(),
)
def test_named_sizes_read_in_the_parts_layout_or_are_refused_when_one_is_missing(
    order: list[str], values: tuple[int, int, int], joint: str, layout: Layout, data: st.DataObject
) -> None:
    size = dict(zip("HWC", values, strict=True))
    forms = {axis: data.draw(st.sampled_from(NAMES[axis])).format(size[axis]) for axis in order}
    if joint == " " and any("=" not in forms[axis] for axis in order):
        return  # spaces alone separate named sizes only as H=63 W=63 C=16
    text = joint.join(forms[axis] for axis in order)
    result = read_answer(text, K.SHAPE, layout=layout)
    assert isinstance(result, Read) and result.value == tuple(size[axis] for axis in layout.value), (text, result)
    missing = joint.join(forms[axis] for axis in order[:2])
    assert isinstance(read_answer(missing, K.SHAPE, layout=layout), Unreadable), missing


@settings(max_examples=200, deadline=None)
@given(st.lists(SIZES, min_size=2, max_size=5), st.sampled_from(["\n", "; ", " -> ", " → ", "\n- "]), st.booleans())
def test_a_list_of_shapes_reads_as_what_it_says(sizes: list[list[int]], joint: str, labelled: bool) -> None:
    lines = [("conv 3x3: " if labelled else "") + " × ".join(map(str, shape)) for shape in sizes]
    text = joint.join(lines)
    result = read_answer(text, K.SHAPE_LIST)
    assert isinstance(result, Read) and result.value == [tuple(shape) for shape in sizes], (text, result)


#: Shapes that leave a size open, or are not a shape: every one refused.
OPEN_SHAPES = [
    "{a}x{a}x16 or {b}x{b}x16",
    "{a}x{a}x16 or so",
    "{a}-{b} x {a} x 16",
    "{a}x{a}x16?",
    "about {a}x{a}x16",
    "between {a}x{a}x16 and {b}x{b}x16",
    "{a}x{a}x16 (after {b} layers)",
    "{a}x{a}x16 (stride {b})",
    "{a} x {a} x 16 = {b}",
    "{a}+1 x {b} x 16",
    "{a}-1 x {b} x 16",
    "{b}, {a}x{a}x16",
    "({a}*2, {b}, 16)",
    "H={a}, W={b}",
    "H={a} W={b}",
    "H={a}, W={b}, 16",
    "H={a}, H={b}, C=16",
    "{a}x{a}x16 approx",
    "{a}x{b}x16x",
    "output is {a}x{a}x16",
    "{a}x{a}x16, maybe {b}x{b}x16",
]


@settings(max_examples=400, deadline=None)
@given(st.integers(2, 500), st.integers(2, 500), st.sampled_from(OPEN_SHAPES))
def test_a_shape_that_leaves_a_size_open_is_refused(a: int, b: int, form: str) -> None:
    text = form.format(a=a, b=b)
    result = read_answer(text, K.SHAPE)
    assert isinstance(result, Unreadable), (text, result)


# -- matrices ------------------------------------------------------------------------------------

ROWS = st.integers(1, 4).flatmap(
    lambda width: st.lists(st.lists(st.integers(-99, 99), min_size=width, max_size=width), min_size=1, max_size=4)
)


def _matrix_texts(rows: list[list[int]]) -> list[str]:
    lines = [" & ".join(map(str, row)) for row in rows]
    return [
        "[" + ", ".join("[" + ", ".join(map(str, row)) + "]" for row in rows) + "]",
        "[" + "\n ".join("[" + " ".join(f"{v:3d}" for v in row) + "]" for row in rows) + "]",
        "\\begin{bmatrix} " + " \\\\ ".join(lines) + " \\end{bmatrix}",
        "$\\begin{pmatrix} " + " \\\\ ".join(lines) + " \\end{pmatrix}$",
        "\n".join(" ".join(map(str, row)) for row in rows),
        "Output: [" + "; ".join(" ".join(map(str, row)) for row in rows) + "]",
        "A = np.array(" + str(rows) + ")",
    ]


@settings(max_examples=300, deadline=None)
@given(ROWS, st.integers(0, 6))
def test_a_matrix_reads_as_what_it_says_or_is_refused(rows: list[list[int]], style: int) -> None:
    text = _matrix_texts(rows)[style]
    result = read_answer(text, K.MATRIX)
    if isinstance(result, Unreadable):
        return  # a form a reader may refuse (a single element), never misread
    assert result.value.tolist() == rows, (text, result.value)


OPEN_MATRICES = [
    "[[{a}, 0], [{b}]]",
    "[[{a}, 0], [{b}, 4]] (after {b} steps)",
    "[[{a}, 0], [{b}, 4]] or [[{b}, 0], [{a}, 4]]",
    "[[{a}, 0], [{b}, 4]]?",
    "[[{a}, 0], [{b}, 4]] approx",
    "[[{a}, 0], [{b}, 4]] {b}",
    "[[{a}, 0], [{a}-{b}, 4]]",
    "\\begin{{bmatrix}} {a} & 0 \\\\ {b} \\end{{bmatrix}}",
    "[[{a}, 0], [{b}, foo]]",
]


@settings(max_examples=250, deadline=None)
@given(st.integers(1, 500), st.integers(1, 500), st.sampled_from(OPEN_MATRICES))
def test_a_matrix_with_a_ragged_row_or_words_is_refused(a: int, b: int, form: str) -> None:
    text = form.format(a=a, b=b)
    assert isinstance(read_answer(text, K.MATRIX), Unreadable), text


# -- formulas ------------------------------------------------------------------------------------

SYMBOLS = ("H", "W", "N", "K", "M")
H, W, N, KK, M = (sympy.Symbol(s, positive=True, integer=True) for s in SYMBOLS)
FACTORS = [("H", H), ("W", W), ("N", N), ("K", KK), ("M", M), ("K^2", KK**2), ("K²", KK**2), ("2", 2)]
FACTORS += [("(K-1)", KK - 1)]
FORMULA_TIMES = [" \\times ", "·", "*", " ", " \\cdot ", " × "]


@st.composite
def formulas(draw: st.DrawFn) -> tuple[str, sympy.Expr]:
    terms = draw(st.lists(st.lists(st.sampled_from(FACTORS), min_size=1, max_size=4), min_size=1, max_size=3))
    times = draw(st.sampled_from(FORMULA_TIMES))
    texts, value = [], sympy.Integer(0)
    for term in terms:
        texts.append(times.join(text for text, _ in term))
        product = sympy.Integer(1)
        for _, factor in term:
            product *= factor
        value += product
    text = " + ".join(texts)
    return draw(st.sampled_from(["", "MACs = ", "$", "Params: "])) + text + draw(st.sampled_from(["", " MACs"])), value


@settings(max_examples=300, deadline=None)
@given(formulas())
def test_a_formula_reads_as_what_it_says_or_is_refused(form: tuple[str, sympy.Expr]) -> None:
    text, expected = form
    text = text + "$" if text.startswith("$") else text
    result = read_answer(text, K.FORMULA, SYMBOLS)
    if isinstance(result, Unreadable):
        # a unit after a formula is not read; nor a number after a space (H 2: two values side by side)
        assert text.rstrip("$").endswith(" MACs") or " 2" in text, (text, result)
        return
    assert _expanded(result.value) == _expanded(expected), (text, result.value, expected)


def _expanded(expression: sympy.Expr) -> sympy.Expr:
    """The formula over plain symbols, expanded: equal formulas are then the same expression."""
    return sympy.expand(expression.subs({s: sympy.Symbol(str(s)) for s in expression.free_symbols}))


OPEN_FORMULAS = [
    "foo(H)",
    "H W N (for {a} layers)",
    "H*W*N + {a} extra",
    "H*W*N or H*W*M",
    "H*W*N?",
    "HWN approx",
    "H*W*N, {a} layers",
    "H*W*N where N = {a}",
    "H*W*N, with N = {a}",
    "sqrt(H)",
    "log(H)",
    "~HWN",
    "H*W*N (stride {a})",
]


@settings(max_examples=200, deadline=None)
@given(st.integers(1, 500), st.sampled_from(OPEN_FORMULAS))
def test_a_formula_with_an_unknown_function_or_a_number_in_prose_is_refused(a: int, form: str) -> None:
    text = form.format(a=a)
    assert isinstance(read_answer(text, K.FORMULA, SYMBOLS), Unreadable), text


@settings(max_examples=150, deadline=None)
@given(st.integers(1, 10**6), st.sampled_from(["where", "for", "given", "if"]), st.sampled_from(["x", "N", "k"]))
def test_a_working_that_ends_by_setting_a_variable_is_refused(value: int, word: str, name: str) -> None:
    for kind in (K.INTEGER, K.REAL):
        assert isinstance(read_answer(f"{value} {word} {name} = 3", kind), Unreadable)


# -- a bracket of working after a shape is set aside, never multiplied into its last size ---------


@settings(max_examples=150, deadline=None)
@given(st.lists(st.integers(1, 512), min_size=2, max_size=4), st.data())
def test_working_after_a_shape_is_never_multiplied_in(sizes: list[int], data: st.DataObject) -> None:
    """``252×252 (504/2)`` was read as 252 × 63,504: the working works out one of the sizes (which
    one cannot be told), so it is set aside where it gives one of them, and refused where it
    gives none."""
    shape = " × ".join(map(str, sizes))
    size = data.draw(st.sampled_from(sizes))
    for working in (f"{2 * size}/2", f"{size + 2} - 2", f"({size - 1}) + 1"):
        assert read_answer(f"{shape} ({working})", K.SHAPE) == Read(tuple(sizes), shape), working
    other = max(sizes) + 1
    refused = read_answer(f"{shape} ({2 * other}/2)", K.SHAPE)
    assert isinstance(refused, Unreadable) and "none of the sizes" in refused.reason, refused
