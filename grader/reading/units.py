"""Units and scales after a number: ``15.47 G``, ``61.1 million``, ``61.0 MB``, ``1.2 GiB``,
``0.714 GMACs``, ``3.6 GFLOPs``. A unit is part of the value: its prefix (SI or binary) scales it,
and it must fit what the part measures (``problems.kinds.Dimension``). A unit that measures
something else is refused; one that is a known confusion (FLOPs given where MACs are asked) is
read and named, so grading can say which mistake it is. A small table of our own: a unit is a
prefix and a base, nothing is guessed from a word that is not in it.

On a part measured in bytes, ``B`` is a byte, never a billion; ``Mb`` (megabits by the standard,
megabytes by habit) is refused there with a sentence asking for ``MB`` or ``Mbit``.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from grader.reading.values import ReadError, show_number
from problems.kinds import Dimension

#: Scale words and letters after a number (``NUMBER SCALE`` in the grammar), lower-cased, singular.
SCALES = {"k": 10**3, "thousand": 10**3, "kilo": 10**3, "m": 10**6, "mio": 10**6, "million": 10**6}
SCALES |= {"mega": 10**6, "g": 10**9, "b": 10**9, "bn": 10**9, "billion": 10**9, "giga": 10**9}
SCALES |= {"t": 10**12, "trillion": 10**12}
#: The scales of other habits, each with one meaning: Indian (lakh 10^5, crore 10^7), the press's
#: mn, mln, bln, German Tsd., Mio., Mrd., the milliard; written with a dot or a plural too.
SCALES |= {"lakh": 10**5, "lac": 10**5, "crore": 10**7, "mn": 10**6, "mln": 10**6, "bln": 10**9}
SCALES |= {"tsd": 10**3, "mrd": 10**9, "milliard": 10**9}
#: The million of other languages: Spanish millón, millones; Portuguese milhão, milhões; Italian
#: milione, milioni; German Million, Millionen.
SCALES |= {"millón": 10**6, "millon": 10**6, "millones": 10**6, "milhão": 10**6, "milhões": 10**6}
SCALES |= {"milione": 10**6, "milioni": 10**6, "millionen": 10**6}
#: Scale words with two meanings, refused with the sentence saying what to write: ``mil`` is a
#: thousand in Spanish and Portuguese (``513 mil``: 513,000) and a million in English shorthand.
AMBIGUOUS_SCALES = {"mil": "a thousand in Spanish and Portuguese, a million in English shorthand"}
#: Chinese and Japanese scales, written against the number (``1.2亿``): 万 10^4, 亿 10^8.
SCALES |= {"千": 10**3, "万": 10**4, "萬": 10**4, "亿": 10**8, "億": 10**8}
_SCALE_WORDS = sorted((word for word in SCALES if len(word) > 1), key=len, reverse=True)
#: A scale as the grammar's ``SCALE`` token: a word in any case, with a plural or an abbreviation's
#: dot (``crores``, ``Mrd.``), a letter (``k``, ``M``, ``B``) or a character (``万``).
SCALE_PATTERN = rf"(?:(?i:{'|'.join(_SCALE_WORDS)})s?\.?|[kKmMgGbBtT]|[千万萬亿億])(?![A-Za-z])"

#: Prefixes of a unit, longest first: SI (powers of 1000) and binary (powers of 1024).
PREFIXES = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "k": 10**3, "K": 10**3, "M": 10**6, "G": 10**9}
PREFIXES |= {"T": 10**12}
#: The same prefixes as words, in any case (``megabytes``, ``Mebibytes``).
PREFIXES |= {"kilo": 10**3, "mega": 10**6, "giga": 10**9, "tera": 10**12}
PREFIXES |= {"kibi": 2**10, "mebi": 2**20, "gibi": 2**30, "tebi": 2**40}
_PREFIX_ORDER = sorted(PREFIXES, key=len, reverse=True)

#: Bases, lower-cased (``B`` is matched before lower-casing: a byte, where ``b`` is a bit).
_BASES: dict[str, Dimension | None] = {"byte": Dimension.BYTES, "bytes": Dimension.BYTES}
_BASES |= {"bit": Dimension.BYTES, "bits": Dimension.BYTES}
_BASES |= {word: Dimension.MACS for word in ("mac", "macs", "madd", "madds", "mult-adds", "multiply-adds")}
_BASES |= {"flop": Dimension.FLOPS, "flops": Dimension.FLOPS}
_BASES |= {word: Dimension.PARAMETERS for word in ("param", "params", "parameter", "parameters", "weights")}
_BASES |= {word: Dimension.COUNT for word in ("values", "elements", "activations")}
_BASES |= {"px": Dimension.LENGTH, "pixel": Dimension.LENGTH, "pixels": Dimension.LENGTH, "ops": None}
_BITS = {"bit", "bits"}

_DESCRIBED = {
    Dimension.COUNT: "a count of values",
    Dimension.BYTES: "a size in bytes",
    Dimension.MACS: "a number of multiply-accumulates (MACs)",
    Dimension.FLOPS: "a number of floating-point operations (FLOPs)",
    Dimension.PARAMETERS: "a number of parameters",
    Dimension.PERCENT: "a percentage",
    Dimension.LENGTH: "a length in pixels",
}
#: Dimensions a unit may be stated in for a part of another: a parameter is counted like a value.
_FITS = {frozenset({Dimension.COUNT, Dimension.PARAMETERS})}
#: Units that are a known mistake for the part's dimension, by the mistake's code.
CONFUSIONS = {frozenset({Dimension.MACS, Dimension.FLOPS}): "macs-vs-flops"}


@dataclass(frozen=True, slots=True)
class Unit:
    """A unit as stated: its text, the factor to the base unit, and what it measures (None: a
    count of something the table does not know, such as ``ops``). ``bits``: the base is a bit,
    so the factor includes ÷8; ``binary``: the prefix is a power of 1024."""

    text: str
    factor: Fraction
    dimension: Dimension | None
    bits: bool = False
    binary: bool = False


def unit_of(word: str) -> Unit | None:
    """The unit a word names, or None when it is not a unit of the table (``layers``).

    >>> unit_of("MB").factor, unit_of("KiB").factor, unit_of("Gbit").factor, unit_of("layers")
    (Fraction(1000000, 1), Fraction(1024, 1), Fraction(125000000, 1), None)
    >>> unit_of("megabytes").factor, unit_of("Mebibytes").binary
    (Fraction(1000000, 1), True)
    """
    base = _base(word)
    if base is not None:
        return _unit(word, Fraction(1), base)
    for prefix in _PREFIX_ORDER:
        head = word[: len(prefix)] if len(prefix) <= 2 else word[: len(prefix)].lower()
        if head == prefix and len(word) > len(prefix):
            rest = word[len(prefix) :]
            if rest == "b":
                bytes_or_bits = f"{prefix}B or {prefix}bit"
                raise ReadError(f"“{word}” could be bits or bytes: write {bytes_or_bits}.")
            base = _base(rest)
            if base is not None:
                binary = prefix.endswith("i")
                if binary and _BASES[base] is not Dimension.BYTES:
                    raise ReadError(f"“{word}”: binary prefixes (Ki, Mi, Gi) are for bytes and bits.")
                return _unit(word, Fraction(PREFIXES[prefix]), base, binary)
    return None


def _base(word: str) -> str | None:
    if word == "B":
        return "byte"
    lowered = word.lower()
    return lowered if lowered in _BASES and word != "b" else None


def _unit(word: str, factor: Fraction, base: str, binary: bool = False) -> Unit:
    bits = base in _BITS
    return Unit(word, factor / 8 if bits else factor, _BASES[base], bits, binary)


def check_fits(unit: Unit, dimension: Dimension | None) -> str | None:
    """The code of the known confusion the unit makes for the part, None when it fits; a unit
    that measures something else is refused."""
    if dimension is None or unit.dimension is None or unit.dimension == dimension:
        return None
    pair = frozenset({unit.dimension, dimension})
    if pair in CONFUSIONS:
        return CONFUSIONS[pair]
    if pair in _FITS:
        return None
    raise ReadError(f"“{unit.text}” is {_DESCRIBED[unit.dimension]}, but this answer is {_DESCRIBED[dimension]}.")


def scale_of(word: str, dimension: Dimension | None) -> Fraction:
    """The factor of a scale word or letter; on a part in bytes ``B`` is a byte (and ``b`` is
    refused: a bit, a byte or a billion)."""
    if dimension is Dimension.BYTES and word.lower() == "b":
        if word == "B":
            return Fraction(1)
        raise ReadError("“b” after the number could be bits, bytes or a billion: write B for bytes.")
    lowered = word.lower().removesuffix(".")
    return Fraction(SCALES[lowered] if lowered in SCALES else SCALES[lowered.removesuffix("s")])


def check_unambiguous(word: str, value: Fraction) -> None:
    """Refuse a scale word with two meanings (``AMBIGUOUS_SCALES``), saying what to write (the
    number written out only then: every number with a word after it passes here)."""
    meanings = AMBIGUOUS_SCALES.get(word.lower().removesuffix("."))
    if meanings is not None:
        number = show_number(value)
        raise ReadError(
            f"“{word}” is {meanings}: write {number} thousand or {number} million, or the number in digits."
        )


def is_scale(word: str) -> bool:
    """Whether ``word`` is a scale of the table (``crores``, ``Mrd.``, ``M``)."""
    lowered = word.lower().removesuffix(".")
    return lowered in SCALES or (len(lowered) > 2 and lowered.removesuffix("s") in SCALES)


def alternatives(value: Fraction, unit: Unit) -> tuple[tuple[str, Fraction], ...]:
    """The value under the confusions a stated unit invites: the other kind of prefix (MB for
    MiB and the reverse), bits taken for bytes."""
    found: list[tuple[str, Fraction]] = []
    if unit.factor != 1 and not unit.bits and unit.dimension is Dimension.BYTES:
        power = {10**3: 1, 10**6: 2, 10**9: 3, 10**12: 4, 2**10: 1, 2**20: 2, 2**30: 3, 2**40: 4}[int(unit.factor)]
        other = Fraction(1000**power if unit.binary else 1024**power)
        found.append(("mb-vs-mib", value / unit.factor * other))
    if unit.bits:
        found.append(("bits-vs-bytes", value * 8))
    return tuple(found)
