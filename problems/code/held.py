"""Data a driver may not read: the names its data set keeps outside the sandbox (``y_test``).

A driver runs in the student's process, so whatever it holds the student's code can read (a walk up
the frames), and whatever it computes there the student's code can change (an array whose ``==``
lies, ``numpy.mean`` replaced at import). A set file written before the labels were kept, whose
driver scores the predictions against ``y_test`` itself, is refused at its driver with the form
that replaces it, rather than failing at its first run with a ``NameError``.

The text is read by Python's tokenizer, not compiled (``sandbox.syntax`` compiles a driver apart):
a name in a comment or a string is not a read, nor is an attribute (``student.y_test``).
"""

from __future__ import annotations

import io
import tokenize
from collections.abc import Collection


def first_read(driver: str, names: Collection[str]) -> tuple[str, int] | None:
    """The first of ``names`` the driver's text uses as a name, and its line in the driver; None
    when it uses none (or does not tokenize: the compile check refuses it then)."""
    if not names:
        return None
    previous = ""
    try:
        for token in tokenize.generate_tokens(io.StringIO(driver).readline):
            if token.type == tokenize.NAME and token.string in names and previous != ".":
                return token.string, token.start[0]
            if token.type not in (tokenize.NL, tokenize.NEWLINE, tokenize.COMMENT, tokenize.INDENT, tokenize.DEDENT):
                previous = token.string
    except (tokenize.TokenError, SyntaxError):
        return None
    return None
