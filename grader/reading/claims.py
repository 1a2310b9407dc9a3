"""An answer and what a student writes beside it: its working, a note, the sentence around it.

The value is what the answer claims; everything else is set aside, shown back as not read, and
never changes the value:

- A trailing bracket after the value (``2432 (32 × 76)``, ``0.5 (1/2)``, ``10 (since no padding)``,
  possibly before a unit: ``2432 (32×76) parameters``) is working when it is arithmetic, and a note
  when it holds words. Working is checked: where its arithmetic disagrees with the claim, the
  answer is refused with both shown. It is never multiplied in; only a bracket written against a
  number with no space (``2(3 + 4)``) multiplies, as arithmetic does, unless it repeats that number.
- A working chained by ``=`` (``36 × 444 = 15984``, ``2432 = 32 × 76``) is checked the same way,
  its last two links against each other (a run-on chain, ``3·3 = 9·16 = 144``, links on). A chain
  with an approximation or an arrow in it (``≈``, ``→``, ``⇒``) says its links are not equal, and
  is not checked.
- A sentence with one number in it (``Thus, the CNN has a total of 10,860 parameters, solely
  from the convolutional layers``) is that number, unless a word around it bounds or changes it
  (``less than``, ``not``, ``twice``, ``or more``).

Agreeing allows for the rounding the claim shows: a whole claim from a fraction is its floor or
ceiling (``(28 − 3)/2 + 1 = 13``), a decimal, a scaled figure or one in scientific notation is
the working rounded to the digits typed (``10.71``, ``11.3 billion``, ``1.8e9``), and a
percentage is the working's fraction (``0.952 = 95.2%``); any other whole number is exact.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from fractions import Fraction

from grader.reading.expression import evaluate
from grader.reading.values import Number, ReadError, show_number

#: Names a bracket may belong to as a function's arguments: ``sqrt(441)`` is not a note.
FUNCTIONS = {"floor", "ceil", "ceiling", "sqrt", "abs", "log2", "log_2", "lg", "min", "max", "round", "log", "ln"}
FUNCTIONS |= {"exp"}
#: Relations that do not claim equality: a chain with one of them is not checked.
UNEQUAL = re.compile(
    r"≈|≅|∼|~|→|⟶|⇒|⟹|\\approx|\\simeq|\\sim|\\to\b|\\rightarrow|\\Rightarrow|\\implies|\\longrightarrow|->|=>"
)
#: A closing bracket at the end, possibly before unit words (``… (32×76) parameters``).
_TRAILING = re.compile(r"\)\s*(?P<unit>[A-Za-z][A-Za-z \-]*)?\s*\.?\s*$")
#: Words before a number that make it a bound, a choice or another quantity, not the value.
BOUNDING = {"not", "no", "never", "than", "least", "most", "between", "either", "or", "nor", "from", "to", "up"}
BOUNDING |= {"under", "over", "above", "below", "within", "nearly", "almost", "except", "plus", "minus", "times"}
BOUNDING |= {"divided", "squared", "cubed", "half", "double", "twice", "triple", "unless", "if", "without"}
#: Words after the value, in a clause without numbers, that make it a bound or another value
#: (``10,860, or more``, ``10,860 plus the biases``); ``not`` and ``from`` there qualify the sentence.
BOUNDING_AFTER = {"or", "nor", "least", "most", "more", "less", "fewer", "plus", "minus", "times", "than", "over"}
BOUNDING_AFTER |= {"under", "above", "below", "up", "twice", "double", "half"}
HEDGE_WORDS = {"about", "approximately", "approx", "roughly", "around", "circa", "maybe", "perhaps", "probably"}
#: A clause in words that ends the answer after a comma.
_CLAUSE = re.compile(r",\s*(?P<clause>[A-Za-z][A-Za-z ,;'’\-]*)\.?\s*$")
#: A sentence: words (no digits), then the value.
_SENTENCE = re.compile(r"(?P<words>[A-Za-z][A-Za-z ,;'’\-]*?)[\s,]+(?P<value>[-+~]?\.?\d.*)", re.S)


@dataclass(frozen=True, slots=True)
class Aside:
    """A trailing bracket set aside: its text as typed, and whether it is working (arithmetic)."""

    text: str
    working: bool


def set_aside(text: str) -> tuple[str, Aside | None]:
    """The answer without its trailing bracket (a unit after the bracket stays with the value),
    and the bracket; the text unchanged when it has none (see the module docstring).

    >>> set_aside("2432 (32*76)"), set_aside("2(3 + 4)")[1], set_aside("sqrt(441)")[1]
    (('2432', Aside(text='(32*76)', working=True)), None, None)
    """
    stripped = text.strip()
    trailing = _TRAILING.search(stripped)
    if trailing is None:
        return text, None
    close = trailing.start()
    opening = _opening(stripped, close)
    if opening is None:
        return text, None
    head, inner = stripped[:opening].rstrip(), stripped[opening + 1 : close].strip()
    unit = trailing.group("unit") or ""
    if not re.search(r"\d", re.split(r"[=:]", head)[-1]) or not inner or head[-1] in "+-*/^(=,;:~":
        return text, None
    spaced = stripped[opening - 1].isspace()
    last_word = re.search(r"([A-Za-z_]\w*)$", head)
    if last_word and (not spaced or last_word.group(1).lower() in FUNCTIONS):
        return text, None
    words = [word for word in re.findall(r"[A-Za-z_]+", inner) if word.lower() not in FUNCTIONS]
    links = [piece for piece in inner.split("=") if piece.strip()]
    working = not words and bool(links) and all(_arithmetic(piece) for piece in links)
    if not spaced and (not working or not _repeats(head, inner)):
        return text, None
    return f"{head} {unit}".strip(), Aside(f"({inner})", working)


#: Words in a note that offer its number as another answer: ``55 (or 56)``, ``55 (maybe 56)``.
CHOOSING = {"or", "maybe", "perhaps", "probably", "either", "alternatively", "otherwise", "else"}
#: A number that holds under a condition: ``55 (56 if rounding up)`` (not ``55 (if p = 0)``).
_CONDITIONAL = re.compile(r"\d\s*(?:[A-Za-z%]+\s+)?if\b", re.I)


def check_note(aside: Aside) -> None:
    """Refuse a note that offers another value (a number and a word of choice, or a number under a
    condition): two answers are not one, and which one was meant is not guessed."""
    words = {word.lower() for word in re.findall(r"[A-Za-z]+", aside.text)}
    if re.search(r"\d", aside.text) and (words & CHOOSING or _CONDITIONAL.search(aside.text)):
        raise ReadError(f"The note “{aside.text}” offers another value: give the one value you mean.")


def check_working(aside: Aside, claim: Number) -> None:
    """Refuse a claim its own working (in the bracket) disagrees with."""
    for piece in aside.text[1:-1].split("="):
        if piece.strip():
            _agree(evaluate(piece), claim, piece_first=False)


def check_chain(pieces: list[str], claim: Number, raw: str) -> None:
    """Refuse a chain whose last two links disagree (``… = 56 = 55``), when every link is
    arithmetic and claimed equal (no ``≈`` or arrow in ``raw``, the text as typed)."""
    if len(pieces) < 2 or UNEQUAL.search(raw) or not _arithmetic(pieces[-2]):
        return
    before = evaluate(pieces[-2])
    bare = re.fullmatch(r"\s*[-+]?[\d.]+\s*", pieces[-2]) is not None
    _agree(before, claim, piece_first=bare and _arithmetic(pieces[-1]) and not _bare(pieces[-1]))


def trailing_clause(text: str) -> tuple[str, str]:
    """The text without a clause in words after a comma that ends it (``10,860 parameters, solely
    from the convolutional layers``), and the clause; a clause that bounds the value is refused."""
    found = _CLAUSE.search(text)
    if found is None or not re.search(r"\d", text[: found.start()]):
        return text, ""
    clause = found.group("clause").strip()
    for word in re.findall(r"[A-Za-z]+", clause.lower()):
        if word in BOUNDING_AFTER:
            raise ReadError(f"“{word}” after the number makes it a bound, a choice or another value: give one value.")
    return text[: found.start()], clause


def read_sentence(text: str) -> tuple[str, str, str] | None:
    """A sentence ending in its one value: (the words before it, a hedge among them, the value's
    text), or None when the text is not such a sentence. A word that bounds or changes the
    number is refused by name."""
    match = _SENTENCE.fullmatch(text.strip())
    if match is None:
        return None
    words = match.group("words")
    found = [word.lower() for word in re.findall(r"[A-Za-z]+", words)]
    for word in found:
        if word in BOUNDING:
            raise ReadError(f"“{word}” before the number makes it a bound, a choice or another value: give one value.")
    hedges = [word for word in found if word in HEDGE_WORDS]
    return words.strip(" ,;"), (hedges[-1] if hedges else ""), match.group("value")


def _agree(working: Fraction, claim: Number, *, piece_first: bool) -> None:
    if agrees(working, claim):
        return
    said = str(claim)
    if piece_first:  # ``2400 = 32 × 76``: the bare number is the answer, the arithmetic after it the working
        said, working = show_number(working), claim.value
    raise ReadError(f"Your working gives {show_number(working)}, your answer says {said}: give the one value you mean.")


def agrees(working: Fraction, claim: Number) -> bool:
    """Whether the claim is the working's value, as rounded as the claim is typed."""
    targets = [(claim.value, 1), (claim.value / 100, 100)] if claim.percent else [(claim.value, 1)]
    for value, scale in targets:
        if working == value:
            return True
        if value.denominator == 1 and working.denominator != 1 and value in (math.floor(working), math.ceil(working)):
            return True
        step = claim.precision / scale if claim.precision else _step(value)
        if abs(working - value) * 2 <= step:
            return True
    return False


def _step(value: Fraction) -> Fraction:
    """One unit of the last decimal of a number as written (0.01 for 4.25); 0 for a whole number,
    which is exact unless it was typed with a scale or an exponent (its ``precision``)."""
    if value.denominator != 1:
        for places in range(1, 13):
            if (value * 10**places).denominator == 1:
                return Fraction(1, 10**places)
    return Fraction(0)


def _arithmetic(text: str) -> bool:
    try:
        evaluate(text)
    except (ReadError, ValueError, ZeroDivisionError, OverflowError):
        return False
    return True


def _bare(text: str) -> bool:
    return re.fullmatch(r"\s*[-+]?[\d.]+\s*", text) is not None


def _repeats(head: str, inner: str) -> bool:
    """Whether an unspaced bracket after a plain number works out to that number (``2432(32·76)``)."""
    if not _bare(head):
        return False
    try:
        return all(evaluate(piece) == Fraction(head.strip()) for piece in inner.lstrip("=").split("=") if piece.strip())
    except (ReadError, ValueError, ZeroDivisionError, OverflowError):
        return False


def _opening(text: str, close: int) -> int | None:
    depth = 0
    for index in range(close, -1, -1):
        if text[index] == ")":
            depth += 1
        elif text[index] == "(":
            depth -= 1
            if depth == 0:
                return index
    return None
