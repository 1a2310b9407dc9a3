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
from dataclasses import dataclass, replace
from fractions import Fraction
from functools import cache

from lark import Lark, Token, Transformer, v_args
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken

from grader.reading.expression import MAX_DIGITS, Exact
from grader.reading.nouns import is_noun
from grader.reading.units import (
    SCALE_PATTERN,
    alternatives,
    check_fits,
    check_unambiguous,
    is_scale,
    scale_of,
    unit_of,
)
from grader.reading.values import MAX_DEPTH, Number, ReadError
from problems.kinds import Dimension

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
HEDGE.2: /~|(?:about|approx\.?|approximately|roughly|around|circa|ca\.|maybe|perhaps|probably)(?![A-Za-z])/i
SCALE.2: /{scale}/
PERCENT.2: /%|(?:percent|per cent|pct)(?![A-Za-z])/i
NOTE.3: /\(\s*[A-Za-z]{2,}[A-Za-z\-]*(?:\s+[A-Za-z][A-Za-z\-]*)*\s*\)/

%ignore " "
""".replace("{scale}", SCALE_PATTERN)

#: Units a scale letter may prefix: ``GMACs``, ``MFLOPs``, ``kparams`` (on a part of unknown
#: dimension, where the unit table's check does not apply).
_PREFIXED = {"mac", "macs", "flop", "flops", "madd", "madds", "mult-adds", "param", "params", "ops"}
#: Words that make a unit a qualifier, a range or a choice: ``36 or more``, ``441 or 444``.
_QUALIFIERS = {"or", "and", "to", "than", "between", "either", "nor", "not", "plus", "minus", "times", "more", "less"}
_QUALIFIERS |= {"least", "most", "over", "under", "up", "below", "above", "until"}
_RANGE_WORDS = re.compile(
    r"\b(?:between|either)\b|(?<=\d)\s*%?\s*(?:[A-Za-z]+\s+)?\b(?:or|to|and|than)\s+(?=[-+~]?\d)", re.I
)
#: A word in front of the number that is neither a label (it ends with a colon), a hedge nor a function.
_LEAD = re.compile(r"[A-Za-z]+(?![A-Za-z(:])")
_HEDGES = re.compile(r"about|approx|approximately|roughly|around|circa|ca|maybe|perhaps|probably", re.I)
_FUNCTIONS = "floor, ceil, sqrt, log2, min, max, abs"
#: Two plain numbers joined by an unspaced hyphen as the whole value (see the module docstring):
#: after an optional label and hedge, before an optional percent sign and words.
_HYPHEN_RANGE = re.compile(
    r"(?:[A-Za-z][A-Za-z0-9 _'().\-]{0,40}:)?\s*"
    r"(?:(?:~|about|approx\.?|approximately|roughly|around|circa|ca\.|maybe|perhaps|probably)\s*)?"
    r"(?P<range>[-+]?\d+(?:\.\d+)?%?-\d+(?:\.\d+)?)(?![\d.eE])\s*(?:%|pct|percent)?\s*(?:[A-Za-z][A-Za-z\s\-]*)?",
    re.I,
)


class _Literal(Fraction):
    """A number as typed, before any arithmetic: the only value a scale may follow. ``step`` is
    one unit of its last digit (0.1 for ``61.0``, 10^8 for ``1.2e9``): a scale or a unit after it
    makes it a rounded figure of that precision."""

    step: Fraction


def _literal(text: str, value: Fraction) -> _Literal:
    literal = _Literal(value)
    mantissa, _, exponent = text.lower().partition("e")
    decimals = len(mantissa.partition(".")[2])
    literal.step = Fraction(10) ** (int(exponent or 0) - decimals)
    return literal


class _PowerOfTen(Fraction):
    """``10^k`` as typed: after a mantissa with decimals it makes a figure in scientific notation."""


def _scientific(value: Fraction, step: Fraction) -> _Literal:
    literal = _Literal(value)
    literal.step = step
    return literal


@dataclass(frozen=True, slots=True)
class _Scaled:
    """A number followed by a scale word or letter (``61.1 million``, ``15 G``, ``61 B``): what
    the scale means may depend on the part (``B`` is a byte on a part in bytes)."""

    literal: _Literal
    word: str


@dataclass(frozen=True, slots=True)
class Parsed:
    """An answer as the grammar reads it, before its scale and unit are resolved for the part."""

    hedge: str | None
    value: Fraction | _Scaled
    percent: bool
    unit: tuple[str, ...]
    label: str = ""


@v_args(inline=True)
class _Evaluate(Transformer[Token, object]):
    """Each rule's value, built as the parser reduces it (no tree, no recursion)."""

    exact = Exact()

    def number(self, token: Token) -> Fraction:
        return _literal(str(token), self.exact.number(str(token)))

    def scaled(self, token: Token, scale: Token) -> _Scaled:
        return _Scaled(_literal(str(token), self.exact.number(str(token))), str(scale))

    def add(self, a: Fraction, b: Fraction) -> Fraction:
        return self.exact.add(a, b)

    def subtract(self, a: Fraction, b: Fraction) -> Fraction:
        return self.exact.subtract(a, b)

    def multiply(self, a: Fraction, b: Fraction) -> Fraction:
        product = self.exact.multiply(a, b)
        if isinstance(a, _Literal) and isinstance(b, _PowerOfTen) and a.step < 1:
            return _scientific(product, a.step * b)  # 1.13 × 10^10, rounded as 1.13e10 is
        return product

    def divide(self, a: Fraction, b: Fraction) -> Fraction:
        return self.exact.divide(a, b)

    def negate(self, a: Fraction) -> Fraction:
        return -a

    def power(self, base: Fraction, exponent: Fraction) -> Fraction:
        value = self.exact.power(base, exponent)
        if isinstance(base, _Literal) and base == 10 and base.step == 1 and exponent.denominator == 1:
            return _PowerOfTen(value)
        return value

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
        label: Token | None,
        hedge: Token | None,
        value: Fraction | _Scaled,
        percent: Token | None,
        unit: list[str] | None,
        _note: Token | None,
    ) -> Parsed:
        hedged = None if hedge is None else str(hedge)
        return Parsed(hedged, value, percent is not None, tuple(unit or ()), str(label or ""))


#: A unit or a scale in brackets at the end of a label, as torchinfo prints them: ``Total
#: mult-adds (G): 0.71``, ``Params size (MB): 0.25``.
_LABEL_UNIT = re.compile(r"\((?P<word>[A-Za-z]{1,12})\)\s*:$")


def label_unit(parsed: Parsed) -> Parsed:
    """The answer with the unit or scale its label states moved after its value, where it is read
    as any unit is (a label's bracket that holds neither, ``Layer 1 (conv):``, is left alone)."""
    found = _LABEL_UNIT.search(parsed.label)
    if found is None:
        return parsed
    word = found.group("word")
    if not is_scale(word) and unit_of(word) is None:
        return parsed
    if isinstance(parsed.value, _Scaled) or parsed.unit:
        raise ReadError(f"The label states a unit (“{word}”) and so does the answer: state it once.")
    if is_scale(word) and isinstance(parsed.value, _Literal):
        return replace(parsed, value=_Scaled(parsed.value, word))
    return replace(parsed, unit=(word,))


def resolve(parsed: Parsed, dimension: Dimension | None = None, unit_size: int = 1) -> Number:
    """The number an answer says, its scale and unit applied for the part's dimension (see
    ``units``): a unit that measures something else is refused, a known confusion is kept for
    grading to name, and a scaled or prefixed figure keeps the precision it was typed with. A
    value stated in a unit is given in the part's own unit, ``unit_size`` base units (``4.82 MB``
    on a part in MiB is 4.82·10^6 / 2^20); a bare number is already in it."""
    exact, factor, precision = Exact(), Fraction(1), Fraction(0)
    stated = ""  # the unit of the part's dimension the value was stated in, if any
    confusion: str | None = None
    others: tuple[tuple[str, Fraction], ...] = ()
    for word in parsed.unit:
        if word.lower() in _QUALIFIERS:
            raise ReadError(f"“{word}” after the number makes it a range, a bound or a choice: give one value.")
    value: Fraction
    if isinstance(parsed.value, _Scaled):
        factor = scale_of(parsed.value.word, dimension)
        stated = "B" if dimension is Dimension.BYTES and parsed.value.word == "B" else ""
        value, precision = parsed.value.literal, parsed.value.literal.step * factor
    else:
        value = parsed.value
    if parsed.unit:
        first = parsed.unit[0]
        check_unambiguous(first, value)
        if is_scale(first) and not (first == "B" and dimension is Dimension.BYTES):  # B: a byte there
            raise ReadError(f"A scale (“{first}”) follows a number, not a sum: write the value, like 3,000,002.")
        unit = unit_of(first)
        if unit is not None and unit.factor != 1 and not isinstance(value, _Literal):
            raise ReadError(f"A scale (“{first}”) follows a number, not a sum: write the value, like 3,000,002.")
        if unit is not None:
            confusion = check_fits(unit, dimension)
            if unit.factor != 1:
                step = precision or (value.step if isinstance(value, _Literal) else Fraction(0))
                precision = step * unit.factor
                others = alternatives(exact.multiply(value, factor * unit.factor), unit)
            factor *= unit.factor
            stated = first if unit.dimension is not None else ""
        elif len(first) > 1 and first[0] in "kKMGBT" and first[1:].lower() in _PREFIXED:
            raise ReadError(f"A scale (“{first}”) follows a number, not a sum: write the value, like 3,000,002.")
        elif len(first) < 2:
            raise ReadError(f"“{first}” after the number cannot be read.")
        elif not is_noun(first):
            raise ReadError(
                f"“{first}” after the number is not a unit, a scale or a word that is read here: write the number "
                "in digits, with a unit or a scale that is read (4.82 MB, 61.1 million, 6.11 crore) if you like."
            )
    if not precision and isinstance(value, _Literal) and value.step > 1:
        precision = value.step  # 1.8e9: a figure rounded to its mantissa's digits
    if stated and unit_size != 1:
        factor, precision = factor / unit_size, precision / unit_size
        others = tuple((code, other / unit_size) for code, other in others)
    number = exact.multiply(value, factor)
    return Number(
        number,
        percent=parsed.percent,
        hedged=parsed.hedge is not None,
        hedge=parsed.hedge or "",
        unit=(stated or " ".join(parsed.unit[:1])) if factor != 1 else "",
        precision=precision,
        confusion=confusion,
        alternatives=others,
    )


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


@cache
def _parser() -> Lark:
    """The grammar's LALR parser, built the first time an answer is read: building it takes 0.1-0.3 s,
    which every process importing the readers (the service, every worker, the command line) paid
    at start, most of them before reading any answer, many never reading one."""
    return Lark(GRAMMAR, start="answer", parser="lalr", transformer=_Evaluate(), maybe_placeholders=True)


def read_result(text: str, dimension: Dimension | None = None, unit_size: int = 1) -> Number:
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
        parsed = _parser().parse(text)
    except UnexpectedInput as error:
        raise ReadError(_explain(text, error)) from None
    assert isinstance(parsed, Parsed)
    return resolve(label_unit(parsed), dimension, unit_size)


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
    sign = _SIGNS.get(found)
    if sign is not None:  # named in words: plain notation may have written it for another sign
        return f"{sign} is out of place here: an answer is a number, with a label before it or a unit after it."
    if isinstance(error, UnexpectedCharacters):
        return f"The character “{found}” cannot be read here."
    if re.fullmatch(r"[\d.]+", found) and len(found) <= MAX_DIGITS:
        return (
            f"Unexpected “{found}” after a complete value: the answer holds several numbers; give the one value "
            "you mean (working or a note goes in brackets after it)."
        )
    return f"Unexpected “{found[:20]}”: an answer is a number, with a label before it or a unit after it."


#: Signs that plain notation writes for others the student may have typed (``**`` and ``^``, ``×``
#: and ``*``, ``≈`` and ``=``): named in words, so a sentence never names a character not typed.
_SIGNS = {"^": "A power sign", "*": "A times sign", "/": "A division sign", "-": "A minus sign"}
_SIGNS |= {"=": "An equals sign or an arrow", "~": "A tilde", "(": "An opening bracket", ")": "A closing bracket"}
