"""A list of integers as students write it: ``13, 26, 52``, ``[13, 26, 52]``, ``13; 26; 52``, one
per line, ``13 26 52``, ``13 → 26 → 52``; an item may be arithmetic (``416/32``) or a square's side (``13×13``).
Commas separate items here, so no thousands separators inside a list."""

from __future__ import annotations

import re

from grader.reading.numbers import read_side
from grader.reading.text import check_size
from grader.reading.values import ReadError
from problems.kinds import JSON

#: The most items a list answer may have.
MAX_ITEMS = 1_000
_BRACKETS = re.compile(r"^\s*[\[(](.*)[\])]\s*$", re.S)
#: Between items: a comma, a semicolon, a line, or an arrow (``13 → 26 → 52``: a sequence, not a working).
_SEPARATORS = re.compile(r"[,;\n→⟶]|->")
_PLAIN = re.compile(r"[\d\s]+")


def read_integer_list(raw: JSON) -> tuple[int, ...]:
    """The integers, in order.

    >>> read_integer_list("13, 26, 52"), read_integer_list("[416/32; 26x26; 52]"), read_integer_list("13 26 52")
    ((13, 26, 52), (13, 26, 52), (13, 26, 52))
    """
    if isinstance(raw, list):
        items: list[JSON] = list(raw)
    elif isinstance(raw, str):
        text = check_size(raw, 10_000)
        inner = _BRACKETS.match(text)
        text = inner.group(1) if inner else text
        parts = _SEPARATORS.split(text)
        if len(parts) == 1 and _PLAIN.fullmatch(text):
            parts = text.split()
        items = [part for part in parts if part.strip()]
    else:
        items = [raw]
    if not items or len(items) > MAX_ITEMS:
        raise ReadError(f"A list of 1 to {MAX_ITEMS} whole numbers is expected.")
    found = []
    for item in items:
        number = read_side(item)
        if number.percent or number.value.denominator != 1:
            raise ReadError(f"{number} is not a whole number.")
        found.append(int(number.value))
    return tuple(found)
