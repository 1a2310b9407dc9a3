"""Numbers as students write them: ``13,107,400``, ``1.1e10``, ``1.1 × 10^10``, ``3 x 3``, ``86%``,
``17/4``, ``(5·5·3 + 1)·32 = 2432``, ``15.47 G``, ``2432 parameters``."""

from __future__ import annotations

import math
import re
from dataclasses import replace
from fractions import Fraction

from grader.reading.claims import agrees, check_chain, check_note, read_sentence, set_aside, trailing_clause
from grader.reading.claims import check_working as check_bracket
from grader.reading.expression import MAX_DIGITS
from grader.reading.grammar import read_result
from grader.reading.text import check_size, check_working, plain, result_part
from grader.reading.units import AMBIGUOUS_SCALES, is_scale, unit_of
from grader.reading.values import Number, ReadError
from grader.reading.words import number_words
from problems.kinds import JSON, Dimension

MAX_SCALAR_TEXT = 2_000

_INTEGER = re.compile(r"\s*[-+]?\d{1,30}\s*")
#: Digit groups of three, joined by one kind of separator: 13,107,400 · 13 107 400 · 13'107'400.
#: A first group is never 0 (``0,714`` groups nothing: see ``_LEADING_ZERO``).
_GROUPED = re.compile(r"(?<![\d.])[1-9]\d{0,2}(?:(?P<sep>[,'\u2009\u202f\u00a0])\d{3})(?:(?P=sep)\d{3})*(?![\d])")
_UNDERSCORED = re.compile(r"(?<=\d)_(?=\d)")
_LATEX_GROUPS = re.compile(r"(?<=\d)(?:\{,\}|\\,|\\ |~)(?=\d{3}(?!\d))")
_SPACED = re.compile(r"\s*[-+]?[1-9]\d{0,2}(?: \d{3})+\s*")
#: The same groups inside a longer text (``61 706 + 1 000``, ``4 816 896 bytes``): one space between
#: groups of exactly three digits, no digit or group separator on either side of the run.
_SPACED_INSIDE = re.compile(r"(?<![\d.,])(?<!\d )[1-9]\d{0,2}(?: \d{3})+(?![\d,])(?! \d)")
#: A comma after a leading zero: ``0,714`` is a decimal comma, never a thousands group, and no set
#: says its answers are written with decimal commas, so it is refused (``max(0,5)`` separates).
_LEADING_ZERO = re.compile(r"(?<![\d.,])(?<![A-Za-z]\()0,\d+(?![\d.,])")
#: ``x`` or ``by`` between numbers is a times sign: ``3 x 3 x 16``, ``2 by 2``, ``63-by-63-by-16``.
LETTER_TIMES = re.compile(r"(?<=[\d)])(?:\s*(?:[xX]|[bB][yY])\s*|-[bB][yY]-)(?=[\d(])")

#: A list bullet in front of an answer ("• Total: 35284", "- Total: 35284").
_BULLET = re.compile(r"^\s*(?:[•▪‣◦]|[-*](?=\s+[A-Za-z]))\s*")
#: Two numbers joined by an en or em dash, the typographic range: ``30–40``.
_DASHED_RANGE = re.compile(r"\s*[-+−]?\d[\d.,]*\s*%?\s*[–—]\s*\d[\d.,]*\s*%?\s*")
#: Dots that can only group thousands: two groups or more (``1.234.567``); a decimal has one dot.
_DOT_GROUPS = re.compile(r"(?<![\d.,])[1-9]\d{0,2}(?:\.\d{3}){2,}(?![\d.])")
#: One dot before three digits, after one to three (not a zero): ``1.234`` is ambiguous, unless it
#: is a mantissa (``1.234e9``, ``1.234 × 10^9``), a percent sign follows it (``88.498%``: a share
#: is a decimal) or a scale or a prefixed unit does (see ``_before_scale``).
_DOT_AMBIGUOUS = re.compile(
    r"(?<![\d.,])[1-9]\d{0,2}\.\d{3}(?![\d.eE])(?!\s*(?:[*×xX·]|\\times|\\cdot)\s*10\s*\^)"
    r"(?!\s*(?:\\?%|(?i:percent|per cent|pct)(?![A-Za-z])))"
)
#: One comma group (``51,264``): before a scale or a prefixed unit it could be a decimal comma too.
_COMMA_GROUP = re.compile(r"(?<![\d.,])[1-9]\d{0,2},\d{3}(?![\d.,])")
#: Two numbers grouped by commas, a slash between them, as the whole answer (``51,264 / 51,200``): a
#: division, or two values side by side?
_GROUPED_SLASH = re.compile(
    r"\s*(?:[A-Za-z][A-Za-z0-9 _'().\-]{0,40}:)?\s*(?P<pair>\d{1,3}(?:,\d{3})+\s*/\s*\d{1,3}(?:,\d{3})+)"
    r"\s*(?:[A-Za-z][A-Za-z \-]*)?\.?\s*"
)
#: The word after a number: letters, accented too (``millón``; with an abbreviation's dot), or a Chinese
#: or Japanese scale.
_NEXT_WORD = re.compile(r"\s*([A-Za-z\u00c0-\u017f][A-Za-z\u00c0-\u017f\-]*\.?|[千万萬亿億])")
#: Indian grouping: lakhs and crores in pairs of digits before the last three (``1,23,45,678``).
_INDIAN = re.compile(r"(?<![\d.,])[1-9]\d?(?:,\d{2})+,\d{3}(?![\d,])")
#: Markdown emphasis around a value or a word (``**51264**``, ``__51264__``, ``*51264*``): its marks
#: stand against what they emphasise, away from any operand (``2*3*4`` and ``3 * 3`` are products).
_EMPHASIS = re.compile(
    r"(?<![\w*)\]])(?P<mark>\*\*|__|\*|_)(?=[^\s*_])(?P<inner>[^*_\n]+?)(?<=[^\s*_])(?P=mark)(?![\w*(\[])"
)
#: A hedge after the value: ``36?``, ``1.8e9 or so``, ``95% roughly``, ``ten thousand-ish``.
_TRAILING_HEDGE = re.compile(
    r"(?<=[\w%)])(?P<hedge>\s*\?|\s+(?:or so|or thereabouts|approx\.?|approximately|roughly)|-ish|(?<=\d)ish)"
    r"\s*\.?\s*$",
    re.I,
)


#: The last relation of a working is an approximation (``≈``, ``\\approx``): its result is hedged.
_RELATION = r"=|≈|≅|⇒|→|⟶|⟹|\\approx|\\simeq|\\to\b|\\rightarrow|\\Rightarrow|\\implies"
_APPROXIMATE = re.compile(rf"(?:≈|≅|\\approx|\\simeq)(?!.*(?:{_RELATION}))", re.S)


#: A square written by its two equal sides (``9 × 9``, ``9x9``, ``9 \times 9``), once in plain notation,
#: possibly with a word saying what it is a square of (``22 × 22 pixels``, ``9 × 9 kernel``).
_SQUARE = re.compile(r"(\d{1,9})\s*\*\s*(\d{1,9})(?:\s*(?P<words>[A-Za-z][A-Za-z \-]{0,40}?))?\s*\.?\s*")
#: Words that name what a square's side is the side of, or its unit: after ``a × a`` they keep it a
#: side. Any other word leaves the text to the number's own grammar (``9 × 9 params`` is a count).
SIDE_WORDS = {"px", "pixel", "pixels", "kernel", "kernels", "filter", "filters", "window", "windows", "cell"}
SIDE_WORDS |= {"cells", "grid", "grid cells", "map", "maps", "feature map", "feature maps", "feature-map"}
SIDE_WORDS |= {"patch", "patches", "region", "receptive field", "field", "image", "output", "input", "tile"}
SIDE_WORDS |= {"conv", "convolution", "pool", "pooling", "spatial", "square", "neurons", "positions"}


def read_side(raw: JSON, dimension: Dimension | None = None, unit_size: int = 1) -> Number:
    """The side of a square: ``9 × 9`` (the last such pair in a working) reads as 9, and so does
    ``9 × 9 kernel`` or ``22 × 22 pixels`` (a word of ``SIDE_WORDS``); two unequal sides
    (``29 × 31``) are not a square's, and are refused rather than multiplied (the answer is a
    side, not an area); anything else reads as a number."""
    if isinstance(raw, str):
        text = result_part(plain(LETTER_TIMES.sub("*", check_size(raw, MAX_SCALAR_TEXT))))
        square = _SQUARE.fullmatch(set_aside(text)[0])
        words = square.group("words") if square else None
        if words is not None and " ".join(words.lower().split()) not in SIDE_WORDS:
            square = None
        if square and int(square.group(1)) == int(square.group(2)):
            return Number(Fraction(int(square.group(1))))
        if square:
            first, second = square.group(1), square.group(2)
            raise ReadError(f"{first} × {second} is not a square: give the one side asked for.")
    return read_number(raw, dimension, unit_size)


def read_number(raw: JSON, dimension: Dimension | None = None, unit_size: int = 1) -> Number:
    """A JSON number or typed text as an exact number; ``dimension``: what the part measures,
    which a unit in the text must fit (see ``units``), in units of ``unit_size`` base units."""
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
    return read_number_text(raw, dimension, unit_size)


def read_number_text(text: str, dimension: Dimension | None = None, unit_size: int = 1) -> Number:
    """Typed text as one number, by the grammar of ``grammar.py``, or a sentence saying why not.
    What is written beside the value (working, a note, a sentence, a hedge) is set aside and
    shown, never read into it (``claims``)."""
    check_size(text, MAX_SCALAR_TEXT)
    if _INTEGER.fullmatch(text):
        return Number(Fraction(int(text)))
    if _SPACED.fullmatch(text):
        return Number(Fraction(int(text.replace(" ", ""))))
    text = _BULLET.sub("", text, count=1)
    text, emphasis = _without_emphasis(text)
    if _DASHED_RANGE.fullmatch(text):
        raise ReadError("A dash between two numbers gives a range: give the one value you mean.")
    typed = text
    text, hedge = _trailing_hedge(text)
    slashed = _GROUPED_SLASH.fullmatch(re.split(r"=|≈", text)[-1])
    if slashed:
        pair = slashed.group("pair")
        division = re.sub(r"\s", "", pair).replace(",", "")
        raise ReadError(
            f"“{pair}” could be a division or two values: give the one value you mean (a division is read "
            f"written without thousands separators, {division})."
        )
    main, aside = set_aside(plain(LETTER_TIMES.sub("*", ungroup(number_words(text), dimension))))
    pieces = working_pieces(main)
    result = pieces[-1] if pieces else ""
    try:
        number = read_result(result, dimension, unit_size)
        words = ""
    except ReadError as error:
        result, clause = trailing_clause(result)
        sentence = read_sentence(result)
        if sentence is None and not clause:
            raise error from None
        words, said, value = sentence or ("", "", result)
        number = read_result(value, dimension, unit_size)
        hedge = hedge or said
        words = " … ".join(part for part in (words, clause) if part)
    check_chain(pieces, number, typed)
    if aside is not None and aside.working:
        check_bracket(aside, number)
    elif aside is not None:
        check_note(aside)
    exact = _exact_before_rounding(pieces, number, typed, dimension, unit_size)
    approximate = exact is None and _APPROXIMATE.search(typed) is not None
    if exact is not None:
        number = exact
    hedge = hedge or number.hedge or (_approximation(typed) if approximate else "")
    notes = [f"the words “{words}” were not read"] if words else []
    if exact is not None:
        relation = "≈" if _APPROXIMATE.search(typed) else "="
        notes.append(f"the rounded form “{relation} {pieces[-1].strip()}” agrees")
    if aside is not None:
        notes.append(f"the working “{aside.text}” agrees" if aside.working else f"the note “{aside.text}” was not read")
    if emphasis:
        notes.append(f"the Markdown emphasis {emphasis} was set aside")
    return replace(number, hedged=bool(hedge) or number.hedged, hedge=hedge, aside="; ".join(notes))


#: A link of a working that is one figure (its thousands already joined), possibly after a label and
#: before a unit, a scale or a name of what it counts: ``1161600 bytes``, ``300774272 MACs``.
_FIGURE = re.compile(r"\s*(?:[A-Za-z][A-Za-z0-9 _'().\-]{0,40}:)?\s*\d+(?:\.\d+)?\s*(?:[A-Za-z][A-Za-z\-]*\.?\s*){0,3}")
#: A figure in scientific notation as plain notation writes it: ``1.13 * 10^(10)``.
_MANTISSA = re.compile(r"\s*\d+\.(?P<decimals>\d+)\s*\*\s*10\s*\^\s*\(?(?P<exponent>-?\d{1,3})\)?\s*")


def _exact_before_rounding(
    pieces: list[str], number: Number, typed: str, dimension: Dimension | None, unit_size: int
) -> Number | None:
    """The number stated before its rounded form: in ``11,329,414,656 ≈ 1.13 × 10¹⁰`` the answer is
    the exact count the student wrote, the figure after ``≈`` its rounding (which must agree),
    whatever unit either side is stated in (``1161600 bytes ≈ 1.16 MB``, ``300,774,272 MACs ≈
    0.3 GMACs``: each converted to the part's unit, and a unit that does not fit the part is
    refused). A chain may end on a rounded conversion after ``=`` too (``… = 14,450,688 bytes =
    13.78 MiB``): a figure with a scale or a prefixed unit after a finer one is its rounding.
    None where the last link rounds nothing (no ``≈``, no figure rounded by its scale or unit), the
    link before it is not one figure (or, after ``=``, not a finer one), the two disagree, or the
    figure is zero (``1 = ≈ 0 thousand`` rounds nothing: its answer is what follows its last
    ``=``, as ever)."""
    if len(pieces) < 2 or number.hedged or number.value == 0 or not _FIGURE.fullmatch(pieces[-2]):
        return None
    approximate = _APPROXIMATE.search(typed) is not None
    if not approximate and not (number.precision and _FIGURE.fullmatch(pieces[-1])):
        return None
    exact = read_result(pieces[-2], dimension, unit_size)
    if exact.hedged or exact.value == number.value or (exact.precision >= number.precision and not approximate):
        return None
    mantissa = _MANTISSA.fullmatch(pieces[-1])
    if mantissa:  # 1.13 × 10^10: rounded to its mantissa's digits, as 1.13e10 is
        step = Fraction(10) ** (int(mantissa.group("exponent")) - len(mantissa.group("decimals")))
        return exact if abs(exact.value - number.value) * 2 <= step else None
    return exact if agrees(exact.value, number) else None


def _without_emphasis(text: str) -> tuple[str, str]:
    """The text without Markdown emphasis, and its marks as typed (``“**”``), or ``""`` for none."""
    marks: list[str] = []

    def strip(found: re.Match[str]) -> str:
        if f"“{found.group('mark')}”" not in marks:
            marks.append(f"“{found.group('mark')}”")
        return found.group("inner")

    return _EMPHASIS.sub(strip, text), " and ".join(marks)


def _approximation(text: str) -> str:
    found = _APPROXIMATE.search(text)
    return found.group().strip() if found else ""


def _trailing_hedge(text: str) -> tuple[str, str]:
    """The text without a hedge after the value (``36?``, ``1.8e9 or so``), and the hedge."""
    found = _TRAILING_HEDGE.search(text)
    if found is None:
        return text, ""
    return text[: found.start()], found.group("hedge").strip()


def working_pieces(text: str) -> list[str]:
    """The links of a working, split at its ``=``: the last is the result. A working that gives
    several values (``H = 63, W = 63, C = 16``) has no one result, and is refused."""
    if "=" not in text:
        return [text]
    pieces = [piece for piece in text.split("=") if piece.strip()]
    if any(re.search(r"[,;]", piece) for piece in pieces[1:-1]):
        raise ReadError("The answer gives several values (… = …, … = …): give one.")
    check_working(pieces[:-1])
    return pieces or [""]


def working_result(text: str) -> str:
    """The result of a working: the text after its last ``=``."""
    return working_pieces(text)[-1]


def ungroup(text: str, dimension: Dimension | None = None) -> str:
    """Digit groups joined into plain numbers: ``13,107,400`` → ``13107400`` (also ``{,}``,
    ``\\,``, thin spaces, spaces, apostrophes and underscores between groups, Indian grouping
    ``1,23,45,678``, and dots where they can only group thousands, ``1.234.567``). A single dot
    group (``1.234``: a thousand and more, or a decimal?) is refused, asking for the form meant,
    and so is a comma after a leading zero (``0,714``: a decimal comma), and one comma group before
    a scale or a prefixed unit (``51,264 k``: 51,264 thousand, or 51.264 with a decimal comma; on a
    part in bytes ``B`` is a byte, no scale)."""
    text = _LATEX_GROUPS.sub("", text)
    text = _UNDERSCORED.sub("", text)
    zero = _LEADING_ZERO.search(text)
    if zero:
        found, decimal = zero.group(), zero.group().replace(",", ".")
        raise ReadError(
            f"“{found}” has a decimal comma (a thousands group never starts with 0): write the decimal with a "
            f"point, {decimal}."
        )
    for grouped in _DOT_GROUPS.finditer(text):
        if text[grouped.end() : grouped.end() + 1] == ",":
            raise ReadError(f"“{grouped.group()},…” has a decimal comma: write the number with a decimal point.")
    text = _DOT_GROUPS.sub(lambda m: m.group().replace(".", ""), text)
    ambiguous = next((m for m in _DOT_AMBIGUOUS.finditer(text) if not _before_scale(text, m.end())), None)
    if ambiguous:
        found = ambiguous.group()
        raise ReadError(
            f"“{found}” could be {found.replace('.', '')} (a dot between thousands) or a decimal: write "
            f"{found.replace('.', '')} or {found.replace('.', ',')} for the whole number, {found}0 for the decimal."
        )
    for group in _COMMA_GROUP.finditer(text):
        word = _NEXT_WORD.match(text, group.end())
        if word is None or (dimension is Dimension.BYTES and word.group(1) == "B"):
            continue
        if _before_scale(text, group.end()):
            found, scale = group.group(), word.group(1)
            whole, decimal = found.replace(",", ""), found.replace(",", ".")
            raise ReadError(
                f"“{found} {scale}” could be {whole} {scale} or, with a decimal comma, {decimal} {scale}: write "
                f"{whole} {scale} or {decimal} {scale}."
            )
    text = _INDIAN.sub(lambda m: m.group().replace(",", ""), text)
    text = _GROUPED.sub(lambda m: re.sub(r"[,'\u2009\u202f\u00a0]", "", m.group()), text)
    return _SPACED_INSIDE.sub(lambda m: m.group().replace(" ", ""), text)


def _before_scale(text: str, end: int) -> bool:
    """Whether a scale (``61.706K``, ``1.2 Mio.``) or a prefixed unit (``4.097 MB``, ``3.6 GFLOPs``)
    follows the number ending at ``end``: a dot before it is a decimal point (thop prints
    714,188,000 as ``714.188M``)."""
    word = _NEXT_WORD.match(text, end)
    if word is None:
        return False
    if is_scale(word.group(1)) or word.group(1).lower().rstrip(".") in AMBIGUOUS_SCALES:
        return True  # a scale of two meanings is refused for itself (``51.264 mil``)
    try:
        unit = unit_of(word.group(1).rstrip("."))
    except ReadError:
        return False
    return unit is not None and unit.factor != 1
