"""The grammar of an answer that is one number: what it may be, parsed exactly (a lark LALR
parser, built once) and evaluated exactly (Fractions, with the bounds of ``expression.Exact``).
Whatever the grammar does not cover is refused with a sentence that names what was not
understood; nothing is repaired by dropping words, and no number is picked out of prose.

Before the grammar, the text is brought to one notation (``text.plain``: LaTeX, unicode signs,
``x`` and ``by`` between numbers as times, grouped digits joined) and a working is set aside:
the answer is what follows its last ``=`` (``⇒``, ``→``, ``≈``, ``\\approx`` read as ``=``).
A working may not give several values (``H = 63, W = 63``): that is refused too.

A hyphen between two plain numbers with no space on either side (``30-40``, ``95-96%``,
``30-40 channels``), when those two numbers are the whole value, is how a range is typed as much
as a subtraction: it is refused, with a sentence asking for the one value (a subtraction is
written with spaces, ``30 - 40``). Anywhere else a hyphen subtracts: inside a working
(``(128-3)/1+1``, ``128-3+1``), before the last ``=`` (``128-3 = 125``), or spaced (``30 - 40``).
"""

from __future__ import annotations

import math
import re
from fractions import Fraction

from lark import Lark, Token, Transformer, v_args
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken

from grader.reading.expression import MAX_DIGITS, Exact
from grader.reading.values import MAX_DEPTH, Number, ReadError

#: The grammar. ``answer`` is the result of a working (see the module docstring).
GRAMMAR = r"""
answer: [LABEL] [HEDGE] value [PERCENT] [unit] [NOTE]

// a scale word follows a number, never a sum: "2 + 3 million" is not read as 5 million
?value: sum
    | NUMBER SCALE             -> scaled

// arithmetic: + - * / ^, implicit multiplication before a bracket (2(3 + 4)), functions
?sum: product
    | sum "+" product          -> add
    | sum "-" product          -> subtract
?product: signed
    | product "*" signed       -> multiply
    | product "/" signed       -> divide
    | product bracketed        -> multiply
?signed: power
    | "-" signed               -> negate
    | "+" signed
?power: atom
    | atom "^" signed          -> power
?bracketed: group
    | group "^" signed         -> power
?atom: NUMBER                  -> number
    | group
    | call
?group: "(" sum ")"
    | "⌊" sum "⌋"              -> floor
    | "⌈" sum "⌉"              -> ceil
call: NAME "(" sum ("," sum)* ")"
    | "√" atom                 -> root

// words around the value
unit: NAME+
NUMBER: /(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?/
NAME: /[A-Za-z](?:[A-Za-z_\-]*[A-Za-z0-9])?/
LABEL.3: /[A-Za-z][A-Za-z0-9 _'().\-]{0,40}:/
HEDGE.2: /~|(?:about|approx\.?|approximately|roughly|around|circa|ca\.)(?![A-Za-z])/i
SCALE.2: /(?:thousands?|millions?|billions?|trillions?|mil|mio|bn|kilo|mega|giga|[kKmMgGbBtT])(?![A-Za-z])/
PERCENT.2: /%|(?:percent|per cent|pct)(?![A-Za-z])/i
NOTE.3: /\(\s*[A-Za-z]{2,}[A-Za-z\-]*(?:\s+[A-Za-z][A-Za-z\-]*)*\s*\)/

%ignore " "
"""

_SCALES = {"k": 10**3, "thousand": 10**3, "kilo": 10**3, "m": 10**6, "mil": 10**6, "mio": 10**6, "million": 10**6}
_SCALES |= {"mega": 10**6, "g": 10**9, "b": 10**9, "bn": 10**9, "billion": 10**9, "giga": 10**9}
_SCALES |= {"t": 10**12, "trillion": 10**12}
#: Units a scale letter may prefix: ``GMACs``, ``MFLOPs``, ``kparams``.
_PREFIXED = {"mac", "macs", "flop", "flops", "madd", "madds", "mult-adds", "param", "params", "ops"}
#: Words that make a unit a qualifier, a range or a choice: ``36 or more``, ``441 or 444``.
_QUALIFIERS = {"or", "and", "to", "than", "between", "either", "nor", "not", "plus", "minus", "times", "more", "less"}
_QUALIFIERS |= {"least", "most", "over", "under", "up", "below", "above", "until", "maybe", "perhaps", "probably"}
_RANGE_WORDS = re.compile(
    r"\b(?:between|either|maybe|perhaps)\b|(?<=\d)\s*%?\s*(?:[A-Za-z]+\s+)?\b(?:or|to|and|than)\s+(?=[-+~]?\d)", re.I
)
#: A word in front of the number that is neither a label (it ends with a colon), a hedge nor a function.
_LEAD = re.compile(r"[A-Za-z]+(?![A-Za-z(:])")
_HEDGES = re.compile(r"about|approx|approximately|roughly|around|circa|ca", re.I)
_FUNCTIONS = "floor, ceil, sqrt, log2, min, max, abs"
#: Two plain numbers joined by an unspaced hyphen as the whole value (see the module docstring):
#: after an optional label and hedge, before an optional percent sign and words.
_HYPHEN_RANGE = re.compile(
    r"(?:[A-Za-z][A-Za-z0-9 _'().\-]{0,40}:)?\s*"
    r"(?:(?:~|about|approx\.?|approximately|roughly|around|circa|ca\.)\s*)?"
    r"(?P<range>[-+]?\d+(?:\.\d+)?%?-\d+(?:\.\d+)?)(?![\d.eE])\s*(?:%|pct|percent)?\s*(?:[A-Za-z][A-Za-z\s\-]*)?",
    re.I,
)


def _scale(word: str) -> int:
    return _SCALES[word.lower().removesuffix("s")] if len(word) > 1 else _SCALES[word.lower()]


class _Literal(Fraction):
    """A number as typed, before any arithmetic: the only value a scale may follow."""


@v_args(inline=True)
class _Evaluate(Transformer[Token, object]):
    """Each rule's value, built as the parser reduces it (no tree, no recursion)."""

    exact = Exact()

    def number(self, token: Token) -> Fraction:
        return _Literal(self.exact.number(str(token)))

    def scaled(self, token: Token, scale: Token) -> Fraction:
        return self.exact.multiply(self.exact.number(str(token)), Fraction(_scale(str(scale))))

    def add(self, a: Fraction, b: Fraction) -> Fraction:
        return self.exact.add(a, b)

    def subtract(self, a: Fraction, b: Fraction) -> Fraction:
        return self.exact.subtract(a, b)

    def multiply(self, a: Fraction, b: Fraction) -> Fraction:
        return self.exact.multiply(a, b)

    def divide(self, a: Fraction, b: Fraction) -> Fraction:
        return self.exact.divide(a, b)

    def negate(self, a: Fraction) -> Fraction:
        return -a

    def power(self, base: Fraction, exponent: Fraction) -> Fraction:
        return self.exact.power(base, exponent)

    def floor(self, a: Fraction) -> Fraction:
        return Fraction(math.floor(a))

    def ceil(self, a: Fraction) -> Fraction:
        return Fraction(math.ceil(a))

    def root(self, a: Fraction) -> Fraction:
        return _sqrt(a)

    def call(self, name: Token, *arguments: Fraction) -> Fraction:
        return _call(str(name), list(arguments))

    def unit(self, *words: Token) -> list[str]:
        return [str(word) for word in words]

    def answer(
        self,
        _label: Token | None,
        hedge: Token | None,
        value: Fraction,
        percent: Token | None,
        unit: list[str] | None,
        _note: Token | None,
    ) -> Number:
        factor = 1
        for word in unit or []:
            if word.lower() in _QUALIFIERS:
                raise ReadError(f"“{word}” after the number makes it a range, a bound or a choice: give one value.")
        if unit:
            first = unit[0]
            prefixed = len(first) > 1 and first[0] in "kKMGBT" and first[1:].lower() in _PREFIXED
            word = first.lower()
            scale = word in _SCALES or (len(word) > 2 and word.removesuffix("s") in _SCALES)
            if scale or (prefixed and not isinstance(value, _Literal)):
                raise ReadError(f"A scale (“{first}”) follows a number, not a sum: write the value, like 3,000,002.")
            if prefixed:
                factor = _scale(first[0])
            elif len(first) < 2:
                raise ReadError(f"“{first}” after the number cannot be read.")
        number = self.exact.multiply(value, Fraction(factor))
        return Number(number, percent=percent is not None, hedged=hedge is not None)


def _call(name: str, arguments: list[Fraction]) -> Fraction:
    """The functions students use, computed exactly; any other name is refused, never dropped."""
    lowered = name.lower()
    if lowered in ("floor", "ceil", "sqrt", "abs", "log2", "log_2") and len(arguments) != 1:
        raise ReadError(f"{name}(…) takes one value, not {len(arguments)}.")
    if lowered == "floor":
        return Fraction(math.floor(arguments[0]))
    if lowered in ("ceil", "ceiling"):
        return Fraction(math.ceil(arguments[0]))
    if lowered == "sqrt":
        return _sqrt(arguments[0])
    if lowered == "abs":
        return abs(arguments[0])
    if lowered in ("log2", "log_2", "lg"):
        return _log2(arguments[0])
    if lowered in ("min", "max"):
        if len(arguments) < 2:
            raise ReadError(f"{name}(…) compares two or more values; give the value itself.")
        return min(arguments) if lowered == "min" else max(arguments)
    if lowered == "round":
        raise ReadError("round(…) is not read (half up, half to even?): write floor(…) or ceil(…), or the number.")
    if lowered in ("log", "ln", "exp"):
        raise ReadError(f"{name}(…) is not read: write log2(…) for a power of two, or the number itself.")
    raise ReadError(f"“{name}” is not a function that is read here (the functions are {_FUNCTIONS}).")


def _sqrt(value: Fraction) -> Fraction:
    """An exact square root, or a refusal: an irrational root has no exact value to grade."""
    if value < 0:
        raise ReadError("The square root of a negative number is not a real number.")
    top, bottom = math.isqrt(value.numerator), math.isqrt(value.denominator)
    if top * top != value.numerator or bottom * bottom != value.denominator:
        raise ReadError(f"√{value} is not a whole number or a fraction: give the value you mean as a number.")
    return Fraction(top, bottom)


def _log2(value: Fraction) -> Fraction:
    if value > 0 and value.numerator & (value.numerator - 1) == 0 and value.denominator == 1:
        return Fraction(value.numerator.bit_length() - 1)
    if value > 0 and value.numerator == 1 and value.denominator & (value.denominator - 1) == 0:
        return Fraction(1 - value.denominator.bit_length())
    raise ReadError(f"log2 of {value} is not a whole number: give the value you mean as a number.")


_PARSER = Lark(GRAMMAR, start="answer", parser="lalr", transformer=_Evaluate(), maybe_placeholders=True)


def read_result(text: str) -> Number:
    """The result of a working (the text after its last ``=``, in plain notation) as a number.

    >>> str(read_result("floor(99/2) + 1")), str(read_result("~11.3 billion MACs")), read_result("~3").hedged
    ('50', '11,300,000,000', True)
    """
    text = text.strip().rstrip(".;,").strip() if not text.rstrip().endswith("..") else text
    if not text:
        raise ReadError("There is no number in the answer.")
    _check_depth(text)
    ranged = hyphen_range(text)
    if ranged:
        raise ReadError(ranged)
    try:
        value = _PARSER.parse(text)
    except UnexpectedInput as error:
        raise ReadError(_explain(text, error)) from None
    assert isinstance(value, Number)
    return value


def hyphen_range(text: str) -> str | None:
    """Why ``text`` is refused when its value is two numbers joined by an unspaced hyphen, or None.

    >>> hyphen_range("(128-3)/1+1"), hyphen_range("30 - 40"), hyphen_range("30-40")[:41]
    (None, None, '“30-40” is a range or a subtraction: give')
    """
    match = _HYPHEN_RANGE.fullmatch(text.strip())
    if match is None:
        return None
    found = match.group("range")
    spaced = found[0] + found[1:].replace("-", " - ", 1) if found[0] in "+-" else found.replace("-", " - ", 1)
    return (
        f"“{found}” is a range or a subtraction: give the one value you mean "
        f"(a subtraction is written with spaces, {spaced})."
    )


def _check_depth(text: str) -> None:
    depth = deepest = 0
    for char in text:
        if char in "(⌊⌈":
            depth += 1
            deepest = max(deepest, depth)
        elif char in ")⌋⌉":
            depth -= 1
    if deepest > MAX_DEPTH:
        raise ReadError(f"The answer nests deeper than {MAX_DEPTH} levels.")


def _explain(text: str, error: UnexpectedInput) -> str:
    """A sentence that says what was not understood."""
    if isinstance(error, UnexpectedCharacters):
        found = text[error.pos_in_stream or 0 :][:1]
    elif isinstance(error, UnexpectedToken) and error.token.type != "$END":
        found = str(error.token)
    else:
        found = ""
    if found == "?":
        return "A question mark leaves the answer open: give the one value you mean."
    if found == ",":
        return "A comma can only group thousands (13,107,400); write decimals with a point and give one value."
    if found == "%":
        return "A percent sign belongs at the end of the answer only."
    ranged = _RANGE_WORDS.search(text)
    if ranged:
        return f"“{ranged.group().strip()}” gives a range or a choice: give the one value you mean."
    if not re.search(r"\d", text):
        return f"“{text[:40]}” is not a number; write the value itself."
    lead = _LEAD.match(text)
    if lead and not _HEDGES.fullmatch(lead.group()):
        word = lead.group()
        return f"“{word}” before the number is not read: start with the number, or a label and a colon (Total: 36)."
    if isinstance(error, UnexpectedEOF) or (isinstance(error, UnexpectedToken) and error.token.type == "$END"):
        return "The answer ends in the middle of an expression."
    if isinstance(error, UnexpectedCharacters):
        return f"The character “{found}” cannot be read here."
    if re.fullmatch(r"[\d.]+", found) and len(found) <= MAX_DIGITS:
        return f"Unexpected “{found}” after a complete value: give one value (a number in a note is not read)."
    return f"Unexpected “{found[:20]}”: an answer is a number, with a label before it or a unit after it."
