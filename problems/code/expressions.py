"""The size of an input as a set file writes it: a number, a name of the test's settings, or
integer arithmetic of them (``(H + 2*pad - HH) // stride + 1``).

An author's text is never evaluated: it is parsed by :mod:`ast` into a tree, and only integer
literals, names and the four operators ``+ - * //`` (with parentheses, which the tree has already
resolved) are accepted; anything else (a call, an attribute, a float, ``/``, ``**``) is refused
with what it is. The tree is then walked with the test's integer settings bound, each step kept
within :data:`LIMIT` so that a product of names cannot grow without bound.
"""

from __future__ import annotations

import ast
from collections.abc import Mapping

#: Characters of one size expression: a course writes a few dozen.
MAX_TEXT = 200
#: Nodes of one parsed expression.
MAX_NODES = 100
#: The largest magnitude a step of the arithmetic may reach (a size is far below it).
LIMIT = 10**12

_OPERATORS: dict[type[ast.operator], str] = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.FloorDiv: "//"}


class SizeError(ValueError):
    """A size expression refused, in a sentence an author can act on."""


def parse(text: str) -> ast.expr:
    """The tree of a size expression, or :class:`SizeError` naming what it may not hold."""
    if len(text) > MAX_TEXT:
        raise SizeError(f"a size expression has at most {MAX_TEXT} characters")
    try:
        tree = ast.parse(text.strip(), mode="eval").body
    except (SyntaxError, RecursionError, MemoryError, ValueError):
        wanted = "integer arithmetic of the test's settings (+ - * // and parentheses)"
        raise SizeError(f"{text!r} is not {wanted}") from None
    nodes = list(ast.walk(tree))
    if len(nodes) > MAX_NODES:
        raise SizeError(f"a size expression has at most {MAX_NODES} terms and operators")
    for node in nodes:
        if isinstance(node, ast.BinOp) and type(node.op) not in _OPERATORS:
            raise SizeError(f"{text!r}: only + - * // are allowed (not {type(node.op).__name__})")
        if isinstance(node, ast.Constant) and (type(node.value) is not int):
            raise SizeError(f"{text!r}: only whole numbers are allowed (not {node.value!r})")
        if not isinstance(node, ast.BinOp | ast.Constant | ast.Name | ast.Load | ast.operator):
            raise SizeError(f"{text!r}: only numbers, settings and + - * // are allowed (not {type(node).__name__})")
    return tree


def names(text: str) -> set[str]:
    """The settings a size expression names."""
    return {node.id for node in ast.walk(parse(text)) if isinstance(node, ast.Name)}


def size(text: str | int, settings: Mapping[str, object]) -> int:
    """The value of a size (a number as it is, an expression with ``settings`` bound); a name
    that is not an integer setting, a division by zero or a step past :data:`LIMIT` is refused."""
    if isinstance(text, int):
        return text
    return _value(parse(text), text, settings)


def _value(node: ast.expr, text: str, settings: Mapping[str, object]) -> int:
    if isinstance(node, ast.Constant):
        assert isinstance(node.value, int)
        return node.value
    if isinstance(node, ast.Name):
        found = settings.get(node.id)
        if found is None:
            raise SizeError(f"{text!r} names {node.id!r}, which the test does not give")
        if type(found) is not int:
            raise SizeError(f"{text!r} names {node.id!r}, which is not a whole number ({found!r})")
        return found
    assert isinstance(node, ast.BinOp)
    left, right = _value(node.left, text, settings), _value(node.right, text, settings)
    if isinstance(node.op, ast.FloorDiv) and right == 0:
        raise SizeError(f"{text!r} divides by zero")
    result = {ast.Add: left + right, ast.Sub: left - right, ast.Mult: left * right}.get(type(node.op))
    value = left // right if result is None else result
    if abs(value) > LIMIT:
        raise SizeError(f"{text!r} is past {LIMIT:,}")
    return value
