"""Numbers as students write them: ``13,107,400``, ``1.1e10``, ``1.1 × 10^10``, ``3 x 3``, ``86%``,
``17/4``, ``(5·5·3 + 1)·32 = 2432``, ``15.47 G``, ``2432 parameters``."""

from __future__ import annotations

import math
import re
from fractions import Fraction

from grader.reading.expression import MAX_DIGITS
from grader.reading.grammar import read_result
from grader.reading.text import check_size, check_working, plain, result_part
from grader.reading.values import Number, ReadError
from problems.kinds import JSON

MAX_SCALAR_TEXT = 2_000

_INTEGER = re.compile(r"\s*[-+]?\d{1,30}\s*")
#: Digit groups of three, joined by one kind of separator: 13,107,400 · 13 107 400 · 13'107'400.
_GROUPED = re.compile(r"(?<![\d.])\d{1,3}(?:(?P<sep>[,'\u2009\u202f\u00a0])\d{3})(?:(?P=sep)\d{3})*(?![\d])")
_UNDERSCORED = re.compile(r"(?<=\d)_(?=\d)")
_LATEX_GROUPS = re.compile(r"(?<=\d)(?:\{,\}|\\,|\\ |~)(?=\d{3}(?!\d))")
_SPACED = re.compile(r"\s*[-+]?\d{1,3}(?: \d{3})+\s*")
#: ``x`` or ``by`` between numbers is a times sign: ``3 x 3 x 16``, ``2 by 2``.
LETTER_TIMES = re.compile(r"(?<=[\d)])\s*(?:[xX]|[bB][yY])\s*(?=[\d(])")

#: A list bullet in front of an answer ("• Total: 35284", "- Total: 35284").
_BULLET = re.compile(r"^\s*(?:[•▪‣◦]|[-*](?=\s+[A-Za-z]))\s*")
#: Two numbers joined by an en or em dash, the typographic range: ``30–40``.
_DASHED_RANGE = re.compile(r"\s*[-+−]?\d[\d.,]*\s*%?\s*[–—]\s*\d[\d.,]*\s*%?\s*")


#: The last relation of a working is an approximation (``≈``, ``\\approx``): its result is hedged.
_RELATION = r"=|≈|≅|⇒|→|⟶|⟹|\\approx|\\simeq|\\to\b|\\rightarrow|\\Rightarrow|\\implies"
_APPROXIMATE = re.compile(rf"(?:≈|≅|\\approx|\\simeq)(?!.*(?:{_RELATION}))", re.S)


#: A square written by its two equal sides (``9 × 9``, ``9x9``, ``9 \times 9``), once in plain notation.
_SQUARE = re.compile(r"(\d{1,9})\s*\*\s*(\d{1,9})")


def read_side(raw: JSON) -> Number:
    """The side of a square: ``9 × 9`` (the last such pair in a working) reads as 9; two unequal
    sides (``29 × 31``) are not a square's, and are refused rather than multiplied (the answer
    is a side, not an area); anything else reads as a number."""
    if isinstance(raw, str):
        square = _SQUARE.fullmatch(result_part(plain(LETTER_TIMES.sub("*", check_size(raw, MAX_SCALAR_TEXT)))))
        if square and int(square.group(1)) == int(square.group(2)):
            return Number(Fraction(int(square.group(1))))
        if square:
            first, second = square.groups()
            raise ReadError(f"{first} × {second} is not a square: give the one side asked for.")
    return read_number(raw)


def read_number(raw: JSON) -> Number:
    """A JSON number or typed text as an exact number."""
    if isinstance(raw, bool):
        raise ReadError(f"{str(raw).lower()} is not a number.")
    if isinstance(raw, int):
        if len(str(abs(raw))) > MAX_DIGITS:
            raise ReadError(f"A number with more than {MAX_DIGITS} digits is not read.")
        return Number(Fraction(raw))
    if isinstance(raw, float):
        if not math.isfinite(raw):
            raise ReadError(f"{raw} is not a number that can be an answer.")
        return Number(Fraction(repr(raw)))
    if not isinstance(raw, str):
        raise ReadError("A single number is expected here, not a list or an object.")
    return read_number_text(raw)


def read_number_text(text: str) -> Number:
    """Typed text as one number, by the grammar of ``grammar.py``, or a sentence saying why not."""
    check_size(text, MAX_SCALAR_TEXT)
    if _INTEGER.fullmatch(text):
        return Number(Fraction(int(text)))
    if _SPACED.fullmatch(text):
        return Number(Fraction(int(text.replace(" ", ""))))
    text = _BULLET.sub("", text, count=1)
    if _DASHED_RANGE.fullmatch(text):
        raise ReadError("A dash between two numbers gives a range: give the one value you mean.")
    number = read_result(working_result(plain(LETTER_TIMES.sub("*", ungroup(text)))))
    if not number.hedged and _APPROXIMATE.search(text):
        return Number(number.value, number.percent, hedged=True)
    return number


def working_result(text: str) -> str:
    """The result of a working: the text after its last ``=``. A working that gives several
    values (``H = 63, W = 63, C = 16``) has no one result, and is refused."""
    if "=" not in text:
        return text
    pieces = [piece for piece in text.split("=") if piece.strip()]
    if any(re.search(r"[,;]", piece) for piece in pieces[1:-1]):
        raise ReadError("The answer gives several values (… = …, … = …): give one.")
    check_working(pieces[:-1])
    return pieces[-1] if pieces else ""


def ungroup(text: str) -> str:
    """Digit groups joined into plain numbers: ``13,107,400`` → ``13107400`` (also ``{,}``,
    ``\\,``, thin spaces, apostrophes and underscores between groups)."""
    text = _LATEX_GROUPS.sub("", text)
    text = _UNDERSCORED.sub("", text)
    return _GROUPED.sub(lambda m: re.sub(r"[,'\u2009\u202f\u00a0]", "", m.group()), text)
