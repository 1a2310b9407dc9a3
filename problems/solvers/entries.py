"""Worked entries of an image operation: one output entry written as the sum (or the max, min or
mean) of the very input and weight numbers the solver multiplied, for the first entries of a
matrix answer; the rest follow by the rule the last step states."""

from __future__ import annotations

from collections.abc import Sequence

from problems.solvers.steps import Step

#: Terms of a worked entry written out; a longer sum shows its first and last ones.
MAX_TERMS = 18


def number(value: object) -> str:
    """An array element as a step writes it: whole numbers without a point."""
    as_float = float(value)  # type: ignore[arg-type]  # numpy scalars and Python numbers alike
    if as_float.is_integer():
        return str(int(as_float))
    return f"{as_float:.6g}"


def _signed(value: object) -> str:
    text = number(value)
    return f"({text})" if text.startswith("-") else text


def _terms(items: Sequence[str], tex: bool = False) -> str:
    if len(items) > MAX_TERMS:
        dots = r"\dots" if tex else "…"
        items = [*items[: MAX_TERMS - 3], dots, *items[-2:]]
    return " + ".join(items)


def sum_of_products(where: str, pairs: Sequence[tuple[object, object]], bias: object | None, result: object) -> Step:
    """``out[1][1] = x·w + x·w + … (+ b) = result``: ``pairs`` are (input, weight) as multiplied."""
    texts = [f"{_signed(x)}·{_signed(w)}" for x, w in pairs]
    texes = [rf"{_signed(x)} \cdot {_signed(w)}" for x, w in pairs]
    if bias is not None:
        texts.append(_signed(bias))
        texes.append(_signed(bias))
    count = f" ({len(pairs)} products)" if len(pairs) > MAX_TERMS else ""
    return Step(
        f"{where} = {_terms(texts) or '0'} = {number(result)}{count}",
        f"{where} = {_terms(texes, tex=True) or '0'} = {number(result)}",
        _json(result),
    )


def window(where: str, mode: str, values: Sequence[object], divisor: int, result: object) -> Step:
    """A pooled entry: ``max(…)``, ``min(…)``, or the sum over the divisor."""
    listed = ", ".join(number(v) for v in values)
    if mode in ("max", "min"):
        text = f"{where} = {mode}({listed}) = {number(result)}"
        tex = rf"{where} = \{mode}({listed}) = {number(result)}"
    else:
        total = " + ".join(_signed(v) for v in values)
        text = f"{where} = ({total})/{divisor} = {number(result)}"
        tex = rf"{where} = \frac{{{total}}}{{{divisor}}} = {number(result)}"
    return Step(text, tex, _json(result))


def _json(value: object) -> int | float:
    as_float = float(value)  # type: ignore[arg-type]  # as in number()
    return int(as_float) if as_float.is_integer() else as_float


def first_entries(rows: int, cols: int) -> list[tuple[int, int]]:
    """The entries worked out: the first, and the one beside it (or below it) where there is one."""
    found = [(0, 0)]
    if cols > 1:
        found.append((0, 1))
    elif rows > 1:
        found.append((1, 0))
    return found
