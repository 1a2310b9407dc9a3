"""Numbers as students write them: ``13,107,400``, ``1.1e10``, ``1.1 × 10^10``, ``3 x 3``, ``86%``,
``17/4``, ``(5·5·3 + 1)·32 = 2432``, ``15.47 G``, ``2432 parameters``."""

from __future__ import annotations

import math
import re
from fractions import Fraction

from grader.reading.expression import MAX_DIGITS, evaluate
from grader.reading.text import check_size, plain, result_part
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
_PERCENT = re.compile(r"\s*(?:%|percent|per cent|pct)\s*$", re.IGNORECASE)

#: A list bullet in front of an answer ("• Total: 35284", "- Total: 35284").
_BULLET = re.compile(r"^\s*(?:[•▪‣◦]|[-*](?=\s+[A-Za-z]))\s*")
_PROSE_WORD = re.compile(r"[A-Za-z]{3,}")
_LATEX_COMMAND = re.compile(r"\\[A-Za-z]+")
_DIMENSIONS = re.compile(r"\d+(?:\s*(?:[x×*]|\bby\b)\s*\d+)+")
_CHAIN = re.compile(r"\d+(?:\s*(?:→|->|⟶|\\to|\\rightarrow)\s*\d+)+")
_PROSE_NUMBER = re.compile(r"(?<![\w.])([-−]?(?:\d+(?:\.\d+)?|\.\d+)(?:[eE][-+]?\d+)?)(\s*(?:%|\\%|percent\b))?")

#: Scale words and prefixes: "15.47 G", "11.3 billion", "0.714 GMACs".
_SCALES = {
    "k": 10**3,
    "thousand": 10**3,
    "m": 10**6,
    "mil": 10**6,
    "mio": 10**6,
    "million": 10**6,
    "millions": 10**6,
    "g": 10**9,
    "b": 10**9,
    "bn": 10**9,
    "billion": 10**9,
    "billions": 10**9,
    "giga": 10**9,
    "mega": 10**6,
    "kilo": 10**3,
    "t": 10**12,
    "trillion": 10**12,
}
_UNITS = {
    "mac",
    "macs",
    "flop",
    "flops",
    "madd",
    "madds",
    "mult-adds",
    "param",
    "params",
    "parameters",
    "weights",
    "ops",
    "operations",
}
_TRAILING_WORDS = re.compile(r"(?<=[\d)\s])\s*([A-Za-z][A-Za-z\-]*(?:\s+[A-Za-z][A-Za-z\-]*)*)\s*\.?\s*$")


#: A square written by its two equal sides (``9 × 9``, ``9x9``, ``9 \times 9``), once in plain notation.
_SQUARE = re.compile(r"(\d{1,9})\s*\*\s*(\d{1,9})")


def read_side(raw: JSON) -> Number:
    """The side of a square: ``9 × 9`` (the last such pair in a working) reads as 9; anything
    else reads as a number."""
    if isinstance(raw, str):
        square = _SQUARE.fullmatch(result_part(plain(LETTER_TIMES.sub("*", check_size(raw, MAX_SCALAR_TEXT)))))
        if square and square.group(1) == square.group(2):
            return Number(Fraction(int(square.group(1))))
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
    check_size(text, MAX_SCALAR_TEXT)
    if _INTEGER.fullmatch(text):
        return Number(Fraction(int(text)))
    if _SPACED.fullmatch(text):
        return Number(Fraction(int(text.replace(" ", ""))))
    text = _BULLET.sub("", text, count=1)
    try:
        return _strict(text)
    except ReadError:
        stated = _from_prose(text)
        if stated is None:
            raise
        return stated


def _from_prose(text: str) -> Number | None:
    """A number stated in a sentence (``Need 36 layers to reach 8×8``, ``a total of 10,860
    parameters``, ``about 86% reduction``): after the last ``=``, the first number that is not
    part of a size (``8×8``) or a chain (``256→256``). Only for text with words in it."""
    tail = text.rsplit("=", 1)[-1].replace("\\times", "×")
    tail = _LATEX_COMMAND.sub(" ", tail)  # \frac{1}{0} is not a sentence: its command is no word
    if not _PROSE_WORD.search(tail):
        return None
    tail = _CHAIN.sub(" ", _DIMENSIONS.sub(" ", ungroup(tail).replace("$", " ")))
    match = _PROSE_NUMBER.search(tail)
    if not match or len(match.group(1)) > MAX_DIGITS:
        return None
    return Number(Fraction(match.group(1).replace("−", "-")), percent=bool(match.group(2)))


def _strict(text: str) -> Number:
    """The whole text as one value: a working, an expression, a number with a unit."""
    text = ungroup(text)
    text = result_part(plain(LETTER_TIMES.sub("*", text)))
    percent = bool(_PERCENT.search(text))
    if percent:
        text = _PERCENT.sub("", text)
    text, scale = _strip_words(text)
    if "," in text:
        raise ReadError(
            "A comma can only group thousands (13,107,400); write decimals with a point and give one value."
        )
    if "%" in text:
        raise ReadError("A percent sign belongs at the end of the answer only.")
    if not text:
        raise ReadError("There is no number in the answer.")
    value = evaluate(text) * scale
    return Number(value, percent)


def ungroup(text: str) -> str:
    """Digit groups joined into plain numbers: ``13,107,400`` → ``13107400`` (also ``{,}``,
    ``\\,``, thin spaces, apostrophes and underscores between groups)."""
    text = _LATEX_GROUPS.sub("", text)
    text = _UNDERSCORED.sub("", text)
    return _GROUPED.sub(lambda m: re.sub(r"[,'\u2009\u202f\u00a0]", "", m.group()), text)


def _strip_words(text: str) -> tuple[str, int]:
    """Trailing words: a scale (``G``, ``billion``) multiplies, a unit (``params``) is dropped."""
    tail = len(text) - min(len(text), 80)  # words after a number are short: look at the end only
    match = _TRAILING_WORDS.search(text, tail)
    if not match:
        return text, 1
    words = match.group(1).split()
    scale = 1
    first = words[0].lower()
    if first in _SCALES:
        scale = _SCALES[first]
    elif len(words[0]) > 1 and words[0][0] in "kKMGBT" and words[0][1:].lower() in _UNITS:
        scale = _SCALES[words[0][0].lower()]
    elif len(words[0]) < 2:
        raise ReadError(f"“{words[0]}” after the number cannot be read.")
    return text[: match.start()].strip(), scale
