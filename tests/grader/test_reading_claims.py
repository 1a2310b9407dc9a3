"""An answer and what is written beside it: working in brackets or chained by ``=`` is checked,
never multiplied in; a note or the words of a sentence are set aside and shown; hedges and
number words are read the same way everywhere. A note or a working never changes the value."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from grader.reading import Number, Read, Unreadable, read_answer
from problems.kinds import AnswerKind

K = AnswerKind


def read(raw: str, kind: AnswerKind = K.REAL) -> Read:
    result = read_answer(raw, kind)
    assert isinstance(result, Read), (raw, result)
    return result


def refused(raw: str, kind: AnswerKind = K.REAL) -> str:
    result = read_answer(raw, kind)
    assert isinstance(result, Unreadable), (raw, result)
    return result.reason


# -- an answer and its working -----------------------------------------------------------------

WORKED = [
    ("2432 (32×76)", 2432, "the working “(32*76)” agrees"),
    ("2432 (32 x 76)", 2432, "the working “(32*76)” agrees"),
    ("2432 (32 \\times 76) parameters", 2432, "agrees"),
    ("0.5 (1/2)", Fraction(1, 2), "the working “(1/2)” agrees"),
    ("2432 (= 32 · 76)", 2432, "agrees"),
    ("2432 (32 × 76 = 2432)", 2432, "agrees"),
    ("2432(32*76)", 2432, "agrees"),  # unspaced, but it works out to the number: its working
    ("13 ((28 - 3)/2 + 1)", 13, "agrees"),  # a size rounds down
    ("10.71 (75/7)", Fraction(1071, 100), "agrees"),  # rounded to the digits typed
    ("95.2% (0.952)", Fraction(952, 10), "agrees"),
    ("(5·5·3 + 1)·32 = 2432", 2432, ""),
    ("36 × 444 = 15984", 15984, ""),
    ("2432 = 32 × 76", 2432, ""),
    ("(28-3)/2+1 = 13", 13, ""),
    ("0.952 = 95.2%", Fraction(952, 10), ""),
    ("3·3 = 9·16 = 144", 144, ""),  # a run-on chain: its last two links agree
    ("75/7 ≈ 10.7", Fraction(107, 10), ""),  # an approximation is not checked
]


@pytest.mark.parametrize(("raw", "expected", "shown"), WORKED, ids=[raw for raw, _, _ in WORKED])
def test_a_working_is_checked_and_never_multiplied_in(raw: str, expected: Fraction | int, shown: str) -> None:
    result = read(raw, K.PERCENT if "%" in raw else K.REAL)
    assert result.value.value == Fraction(expected), (raw, result)
    assert shown in result.shown, result.shown


DISAGREEING = [
    ("55 (7×8)", "Your working gives 56, your answer says 55"),
    ("2431 (32 × 76)", "Your working gives 2,432, your answer says 2,431"),
    ("(5·5·3 + 1)·32 = 2431", "Your working gives 2,432, your answer says 2,431"),
    ("2400 = 32 × 76", "Your working gives 2,432, your answer says 2,400"),
    ("0.6 (1/2)", "Your working gives 0.5, your answer says 0.6"),
    ("8 (2^4)", "Your working gives 16, your answer says 8"),
]


@pytest.mark.parametrize(("raw", "reason"), DISAGREEING, ids=[raw for raw, _ in DISAGREEING])
def test_a_working_that_disagrees_with_the_answer_is_refused_with_both(raw: str, reason: str) -> None:
    assert reason in refused(raw)


def test_a_bracket_written_against_a_number_still_multiplies() -> None:
    """``2(3 + 4)`` is arithmetic, not a claim of 2: only a spaced bracket is working."""
    assert read("2(3 + 4)").value == Number(Fraction(14))
    assert read("sqrt(441)").value == Number(Fraction(21))


# -- a note in words, the seeds' sentences -----------------------------------------------------

NOTES = [
    ("10 (after the 2x2 pooling)", 10, "the note “(after the 2*2 pooling)” was not read"),
    ("10 (since no padding)", 10, "the note “(since no padding)” was not read"),
    (
        "RF = 10 (5 from conv1, +1 from pool, +4 from conv2)",
        10,
        "the note “(5 from conv1, +1 from pool, +4 from conv2)”",
    ),
    ("36 (kernel 3)", 36, "the note “(kernel 3)” was not read"),
    ("Thus, the CNN has a total of 10,860 parameters", 10860, "the words “Thus, the CNN has a total of” were not read"),
    ("The total number of parameters is 35284.", 35284, "the words “The total number of parameters is”"),
    ("So the output is about 95%", 95, "“about”"),
]


@pytest.mark.parametrize(("raw", "expected", "shown"), NOTES, ids=[raw for raw, _, _ in NOTES])
def test_a_note_or_a_sentence_is_set_aside_and_shown(raw: str, expected: int, shown: str) -> None:
    result = read(raw, K.PERCENT if "%" in raw else K.INTEGER)
    assert result.value.value == expected, result
    assert shown in result.shown, result.shown


STILL_REFUSED = [
    ("3 (kernel) 36", "Unexpected “36”"),  # two values outside the note
    ("Need 36 layers to reach 8", "Unexpected “8”"),
    ("less than 100", "“than” before the number"),
    ("at least 36 layers", "“least” before the number"),
    ("not 36", "“not” before the number"),
    ("Thus, the CNN has about 10,000 or 11,000 parameters", "“or”"),
]


@pytest.mark.parametrize(("raw", "reason"), STILL_REFUSED, ids=[raw for raw, _ in STILL_REFUSED])
def test_prose_that_bounds_the_value_or_holds_two_is_refused_naming_the_cause(raw: str, reason: str) -> None:
    assert reason in refused(raw, K.INTEGER)


def test_a_sentence_is_not_refused_for_its_comma() -> None:
    """A comma in a sentence is the sentence's, not a failed thousands group."""
    result = read_answer("Thus, the answer is not 36", K.INTEGER)
    assert isinstance(result, Unreadable) and "comma" not in result.reason, result


# -- hedges and number words -------------------------------------------------------------------

HEDGED = [
    ("about 95%", Fraction(95), "about"),
    ("maybe 90", Fraction(90), "maybe"),
    ("perhaps 90", Fraction(90), "perhaps"),
    ("36?", Fraction(36), "?"),
    ("1.8e9 or so", Fraction(1_800_000_000), "or so"),
    ("~11.3 billion", Fraction(11_300_000_000), "~"),
    ("75/7 ≈ 10.71", Fraction(1071, 100), "≈"),
]


@pytest.mark.parametrize(("raw", "expected", "hedge"), HEDGED, ids=[raw for raw, _, _ in HEDGED])
def test_hedges_read_as_the_value_with_the_hedge_shown(raw: str, expected: Fraction, hedge: str) -> None:
    result = read(raw, K.PERCENT if "%" in raw else K.REAL)
    assert result.value.value == expected and result.value.hedged, result
    assert f"given as an approximation: “{hedge}”" in result.shown, result.shown


@pytest.mark.parametrize("raw", ["maybe 30 or 40", "36 or 40?", "36??", "between 30 and 40 or so"])
def test_a_hedge_does_not_make_a_choice_readable(raw: str) -> None:
    refused(raw)


WORDS = [
    ("ninety", 90),
    ("thirty-six", 36),
    ("thirty six", 36),
    ("two hundred and fifty-six", 256),
    ("twelve thousand three hundred four", 12304),
    ("one million two hundred thousand", 1_200_000),
    ("about ninety", 90),
    ("Thirty-Six parameters", 36),
    ("a hundred and twelve", 112),  # "a" is one before a scale word, not a word left unread
    ("a thousand", 1000),
    ("A hundred", 100),
    ("a million parameters", 1_000_000),
]


@pytest.mark.parametrize(("raw", "expected"), WORDS, ids=[raw for raw, _ in WORDS])
def test_number_words_read_up_to_the_millions(raw: str, expected: int) -> None:
    assert read(raw, K.INTEGER).value == Number(Fraction(expected))


@pytest.mark.parametrize("raw", ["six thirty", "thirty thirty", "one two", "twelve five", "thousand million"])
def test_number_words_that_are_not_one_number_are_refused(raw: str) -> None:
    refused(raw, K.INTEGER)


# -- properties: a note or a working never changes the value -----------------------------------

VALUES = st.integers(1, 10**6)
NOTE_WORDS = st.lists(
    st.sampled_from(["after", "the", "pooling", "since", "no", "padding", "conv1", "2x2"]), min_size=1
)


@settings(max_examples=300, deadline=None)
@given(VALUES, NOTE_WORDS, st.sampled_from(["", " parameters", " MACs"]))
def test_a_note_never_changes_the_value(value: int, words: list[str], unit: str) -> None:
    note = " ".join(words)
    if not any(word.isalpha() and len(word) > 1 for word in words):
        return
    plain, noted = read_answer(f"{value}{unit}", K.INTEGER), read_answer(f"{value}{unit} ({note})", K.INTEGER)
    assert isinstance(plain, Read) and isinstance(noted, Read), (note, noted)
    assert noted.value == plain.value


@settings(max_examples=300, deadline=None)
@given(st.integers(1, 999), st.integers(1, 999), st.sampled_from(["×", "*", " x ", " \\times ", "·"]))
def test_a_working_never_changes_the_value(a: int, b: int, times: str) -> None:
    product = a * b
    for text in (f"{product} ({a}{times}{b})", f"{a}{times}{b} = {product}", f"{product} = {a}{times}{b}"):
        result = read_answer(text, K.INTEGER)
        assert isinstance(result, Read) and result.value == Number(Fraction(product)), (text, result)
    wrong = read_answer(f"{product + 1} ({a}{times}{b})", K.INTEGER)
    assert isinstance(wrong, Unreadable) and "Your working gives" in wrong.reason, wrong


# -- a note that offers another value is a second answer ----------------------------------------------

ALTERNATIVES = [
    "55 (or 56 if rounding up)",
    "55 (56 if rounding up)",
    "55 (or 56)",
    "55 (maybe 56)",
    "2432 (perhaps 2464 with the biases)",
    "13 (otherwise 14)",
    "95.2% (or 95.3%)",
]


@pytest.mark.parametrize("raw", ALTERNATIVES)
def test_a_note_that_offers_another_value_is_refused(raw: str) -> None:
    assert "offers another value" in refused(raw), raw


@pytest.mark.parametrize("raw", ["55 (since 110/2)", "55 (if p = 0)", "36 (or so)", "10 (5 from conv1, +4 from conv2)"])
def test_a_note_with_a_number_that_offers_none_is_set_aside(raw: str) -> None:
    assert "was not read" in read(raw).shown, raw


# -- an exact value with its rounded form after ≈: the exact value is the answer ------------------------

EXACT_THEN_ROUNDED = [
    ("11,329,414,656 ≈ 1.13 × 10¹⁰", 11_329_414_656),
    ("11,329,414,656 ≈ 1.13 x 10^10", 11_329_414_656),
    ("11329414656 \\approx 1.13e10", 11_329_414_656),
    ("2432 ≈ 2.4k", 2432),
    ("36 × 444 = 15984 ≈ 16k", 15984),
    ("10.714285 ≈ 10.71", Fraction(10714285, 10**6)),
]


@pytest.mark.parametrize(("raw", "expected"), EXACT_THEN_ROUNDED, ids=[raw for raw, _ in EXACT_THEN_ROUNDED])
def test_the_exact_value_before_its_rounding_is_the_answer(raw: str, expected: int | Fraction) -> None:
    result = read(raw)
    assert result.value == Number(Fraction(expected)) and not result.value.hedged, result
    assert "the rounded form" in result.shown and "agrees" in result.shown, result.shown


@pytest.mark.parametrize("raw", ["11,329,414,656 ≈ 1.2 × 10¹⁰", "75/7 ≈ 10.71", "≈ 2432", "2432 ≈ 2.5k"])
def test_a_rounding_that_does_not_agree_or_has_no_exact_value_before_it_stays_the_answer(raw: str) -> None:
    """The figure after ≈ is read, hedged, as before: the link before it is no plain number, or the
    figure is not its rounding."""
    assert read(raw).value.hedged, raw
