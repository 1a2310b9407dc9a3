"""What form an answer of each kind should take, as a sentence with an example in the kind
itself: the second half of every "could not be read" feedback."""

from __future__ import annotations

from problems.kinds import AnswerKind, Layout

_EXAMPLE_SIDES = {"C": "16", "H": "126", "W": "126"}

FORMS: dict[AnswerKind, str] = {
    AnswerKind.INTEGER: "Write a whole number, like 2432 or 13,107,400; arithmetic such as (5·5·3 + 1)·32 is read too.",
    AnswerKind.REAL: "Write a number, like 4.25, 17/4 or 1.1e-3; arithmetic is read too.",
    AnswerKind.PERCENT: "Write a percentage, like 95.2%.",
    AnswerKind.MATRIX: "Write the matrix row by row, like [[1, 0], [-1, 4]] or [1 0; -1 4], or one row per line, "
    r"or as \begin{{bmatrix}} 1 & 0 \\ -1 & 4 \end{{bmatrix}}.",
    AnswerKind.TENSOR: "Write one matrix per channel, like [[[1, 0], [0, 1]], [[2, 2], [0, 1]]], "
    "or one bmatrix per channel.",
    AnswerKind.SHAPE: "Write the shape as {axes}, like {example}.",
    AnswerKind.SHAPE_LIST: "Write one shape per line (or separated by semicolons), each as {axes}, like {example}.",
    AnswerKind.FORMULA: "Write a formula in the symbols {symbols}, like {formula}.",
    AnswerKind.FORMULA_SHAPE: "Write the sizes as formulas in {symbols}, separated by ×, like {formula_shape}.",
    AnswerKind.INTEGER_LIST: "Write the whole numbers in order, separated by commas, like 13, 26, 52.",
}
assert set(FORMS) == set(AnswerKind), "every answer kind needs its expected form"


def expected_form(kind: AnswerKind, symbols: tuple[str, ...] = (), layout: Layout | None = None) -> str:
    """The sentence for ``kind``, filled in for the part's layout and symbols.

    >>> expected_form(AnswerKind.SHAPE, layout=Layout.CHW)
    'Write the shape as C × H × W, like 16 × 126 × 126.'
    """
    axes = (layout or Layout.HWC).value
    names = list(symbols) or ["H", "W", "N"]
    return FORMS[kind].format(
        axes=" × ".join(axes),
        example=" × ".join(_EXAMPLE_SIDES[a] for a in axes),
        symbols=", ".join(names),
        formula="·".join(names[:2]) + (f" + {names[-1]}²" if len(names) > 2 else ""),
        formula_shape=" × ".join(names[:3]),
    )
