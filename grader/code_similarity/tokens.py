"""A submission's code → tokens in their matching form, with the text each came from kept as evidence.

The lexer is Pygments' Python lexer: a regular-expression lexer, linear in the text and tolerant of
code that does not parse (an unclosed bracket, a notebook's ``%magic`` line, a half-written
function), where the standard library's ``tokenize`` raises and ``ast`` needs code that compiles.
Nothing is run, imported or parsed into a tree; a text longer than :data:`MAX_CHARS` is lexed up to
there (so a hostile 100 MB answer costs what a long homework costs).

What is masked for matching, and why. Copying on a formulaic homework (everyone writes the same four
loops from the same lecture) is told from honest work by what is rare in the class, so only what a
copier changes for free is masked:

- **masked**: the names a student chooses (variables, parameters, functions, classes, imports and
  their aliases: ``np`` may be renamed as freely as ``out``). Each
  becomes :data:`NAME`; the k-gram hashing (:mod:`.winnow`) then puts back *which* earlier name of
  the same k-gram it is (Baker's parameterised matching), so ``dx[i, j] += w[i, j] * d[i]``
  differs from ``dx[i, j] += w[j, i] * d[j]``, yet renaming every ``i`` to ``row`` changes nothing;
- **kept as they are**: keywords, operators, numbers, strings, builtins (``range``, ``len``), the
  names after a dot (``np.tensordot``, ``x.shape``: the library's API, not a choice of name) and
  keyword arguments' names (``axis=``, ``mode=``). Numbers and strings kept are what separated the
  planted copies in the anchors' trial; an all-masked stream (Dolos's) made every honest pair of
  a formulaic homework look copied;
- **left out of the stream**: whitespace, comments and docstrings (a copier rewrites them first),
  each comment or docstring kept as a token of its own kind for the evidence (:data:`COMMENT`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import Enum
from functools import cache
from typing import TYPE_CHECKING

from pygments.token import Comment, Name, Punctuation, String, Text, _TokenType

if TYPE_CHECKING:
    from pygments.lexer import RegexLexer

#: The longest text lexed, in characters: about 5,000 lines of code, a hundred times a homework's.
MAX_CHARS = 200_000
#: The matching form of a name the student chose (see the module).
NAME = "\x00name"


class Kind(Enum):
    """What a token is to the comparison."""

    CODE = "code"  # matched as its text
    NAME = "name"  # matched by where the same name was used before (Baker's encoding)
    COMMENT = "comment"  # evidence only: a comment or docstring


@dataclass(frozen=True, slots=True)
class Token:
    """A token: its kind, its text as written, its matching form and the line it starts on (1-based)."""

    kind: Kind
    text: str
    match: str
    line: int


@cache
def _lexer() -> RegexLexer:
    """Pygments' Python lexer, made the first time code is lexed: its module and the compiling of
    its rules cost about 0.1 s, which every process importing the similarity's modules (the service,
    every worker) paid at start, most never lexing anything."""
    from pygments.lexers.python import PythonLexer

    return PythonLexer(stripnl=False, ensurenl=False)


def lex(source: str) -> list[Token]:
    """``source``'s tokens (up to :data:`MAX_CHARS` characters of it) in their matching form.

    >>> [t.match for t in lex("y = np.sum(x, axis=0)  # total") if t.kind is not Kind.COMMENT]
    ['\\x00name', '=', '\\x00name', '.', 'sum', '(', '\\x00name', ',', 'axis', '=', '0', ')']
    """
    text = source[:MAX_CHARS]
    raw = [(_role(kind), value) for _, kind, value in _lexer().get_tokens_unprocessed(text)]
    tokens: list[Token] = []
    line = 1
    depth = 0  # brackets open: a name followed by ``=`` inside them is a keyword argument
    pending: list[tuple[str, int]] = []  # a string's pieces, joined into one token
    for index, (role, value) in enumerate(raw):
        at = line
        line += value.count("\n")
        if role is _Role.STRING:
            pending.append((value, at))
            continue
        if pending:
            tokens.append(_string(pending))
            pending = []
        if role is _Role.SPACE or not value.strip():
            continue
        if role is _Role.COMMENT:
            tokens.append(Token(Kind.COMMENT, value, _comment(value), at))
        elif role is _Role.NAME and _chosen(tokens, raw, index, depth):
            tokens.append(Token(Kind.NAME, value, NAME, at))
        else:
            if role is _Role.BRACKET:
                depth = max(0, depth + sum(_DEPTH.get(char, 0) for char in value))
            tokens.append(Token(Kind.CODE, value, value, at))
    if pending:
        tokens.append(_string(pending))
    return tokens


class _Role(Enum):
    """What the lexer's token type is to :func:`lex`."""

    SPACE = 1
    COMMENT = 2  # a comment or a docstring
    STRING = 3  # a piece of a string literal
    NAME = 4  # a name that may be the student's
    API = 5  # a builtin, a decorator
    BRACKET = 6
    OTHER = 7


_DEPTH = {"(": 1, "[": 1, "{": 1, ")": -1, "]": -1, "}": -1}


@cache
def _role(kind: _TokenType) -> _Role:
    """A token type's role (a few dozen types: each is classified once)."""
    if kind in Text:
        return _Role.SPACE
    if kind in Comment or kind in String.Doc:
        return _Role.COMMENT
    if kind in String:
        return _Role.STRING
    if kind in Name.Builtin or kind in Name.Decorator:
        return _Role.API
    if kind in Name:
        return _Role.NAME
    if kind in Punctuation:
        return _Role.BRACKET
    return _Role.OTHER


def _chosen(tokens: list[Token], raw: list[tuple[_Role, str]], index: int, depth: int) -> bool:
    """Whether a name is one the student chose (masked), not the API's."""
    if tokens and tokens[-1].kind is Kind.CODE and tokens[-1].text == ".":
        return False  # an attribute: x.shape, np.pad
    if depth > 0:  # a keyword argument: axis=(2, 3), mode="constant"
        following = next((value for _, value in raw[index + 1 : index + 3] if value.strip()), "")
        if following == "=":
            return False
    return True


def _string(pieces: list[tuple[str, int]]) -> Token:
    """A string literal's pieces (quotes, prefix, text, escapes) as one token."""
    text = "".join(value for value, _ in pieces)
    return Token(Kind.CODE, text, text, pieces[0][1])


def _comment(text: str) -> str:
    """A comment's or docstring's words, in lower case, for comparing comments."""
    return " ".join(text.strip("#\"' \t\r\n").casefold().split())


def code_of(raw: str) -> str:
    """The Python in an answer: its text, or a notebook's code cells joined in order. A notebook is
    read only when it is JSON with a ``cells`` list (the text is capped before it is parsed)."""
    head = raw.lstrip()[:1]
    if head != "{":
        return raw
    try:
        notebook = json.loads(raw[: MAX_CHARS * 4])
    except (ValueError, RecursionError):
        return raw
    cells = notebook.get("cells") if isinstance(notebook, dict) else None
    if not isinstance(cells, list):
        return raw
    sources = []
    for cell in cells:
        if isinstance(cell, dict) and cell.get("cell_type") == "code":
            source = cell.get("source", "")
            sources.append("".join(map(str, source)) if isinstance(source, list) else str(source))
    return "\n\n".join(sources)
