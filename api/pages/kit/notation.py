"""Text of statements, readings and answers as HTML, with the matrices marked for KaTeX.

A matrix in a statement or an answer is written ``[[1, 0], [-1, 4]]``; it becomes
``<span class="tex" data-tex="\\begin{bmatrix}1 & 0 \\\\ -1 & 4\\end{bmatrix}">[[1, 0], [-1, 4]]</span>``,
which ``grader.js`` typesets with KaTeX. Without JavaScript the text stays as written, which
reads well enough. Only lists of numbers are converted, so no text of a student's ever reaches
KaTeX as TeX; everything else is escaped.
"""

from __future__ import annotations

import json
import re
from typing import Any

from markupsafe import Markup, escape

#: A list of flat lists: ``[[1, 2], [3, 4]]`` (a matrix; a tensor's channels are matrices in a row).
MATRIX = re.compile(r"\[\s*\[[^\[\]]*\](?:\s*,\s*\[[^\[\]]*\])*\s*\]")
ROW = re.compile(r"\[([^\[\]]*)\]")
NUMBER = re.compile(r"^[-−]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?$")


def matrix_tex(text: str) -> str | None:
    """``\\begin{bmatrix}...\\end{bmatrix}`` for a matrix of numbers, else None."""
    rows = [[entry.strip() for entry in row.split(",")] for row in ROW.findall(text)]
    if not rows or any(not all(NUMBER.match(entry) for entry in row) for row in rows):
        return None
    body = r" \\ ".join(" & ".join(entry.replace("−", "-") for entry in row) for row in rows)
    return r"\begin{bmatrix}" + body + r"\end{bmatrix}"


#: Inline code as set files write it in statements and prompts: `conv_forward(x, w, b)`.
INLINE_CODE = re.compile(r"`([^`\n]+)`")


def with_math(text: str | None) -> Markup:
    """``text`` escaped, each matrix in it marked for KaTeX and each `inline code` span set as
    code (a statement's backticks are the author's Markdown, not the student's to read)."""
    if not text:
        return Markup("")
    pieces: list[str] = []
    last = 0
    for found in MATRIX.finditer(text):
        tex = matrix_tex(found.group(0))
        if tex is None:
            continue
        pieces.append(_with_code(text[last : found.start()]))
        pieces.append(Markup('<span class="tex" data-tex="{}">{}</span>').format(tex, found.group(0)))
        last = found.end()
    pieces.append(_with_code(text[last:]))
    return Markup("").join(pieces)


def _with_code(text: str) -> Markup:
    """``text`` escaped, its backtick spans as ``<code>``."""
    pieces: list[str] = []
    last = 0
    for found in INLINE_CODE.finditer(text):
        pieces.append(escape(text[last : found.start()]))
        pieces.append(Markup("<code>{}</code>").format(found.group(1)))
        last = found.end()
    pieces.append(escape(text[last:]))
    return Markup("").join(pieces)


#: Answer kinds whose readings are matrices (typeset as they are typed).
MATRIX_KINDS = frozenset({"matrix", "tensor"})


def needs_math(problems: list[dict[str, Any]]) -> bool:
    """Whether a page of these problems (statements, parts, a choice part's options) shows a matrix: only then
    does it load KaTeX (the larger part of an assignment page's weight)."""
    return any(
        MATRIX.search(problem["statement"] or "")
        or any(
            part.get("kind") in MATRIX_KINDS
            or any(MATRIX.search(option["text"]) for option in part.get("choices") or ())
            for part in problem["parts"]
        )
        for problem in problems
    )


def answer_text(value: Any) -> str:
    """An answer as it goes in a text input: a string as typed, anything else (a number or the
    nested lists an API client sent) as JSON."""
    if value is None:
        return ""
    return value if isinstance(value, str) else json.dumps(value)
