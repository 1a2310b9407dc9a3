"""Scale words after a number, read from a table or refused by name: Indian (lakh, crore), the
press's (mn, bn, mln), German (Tsd., Mio., Mrd.), Chinese and Japanese (万, 亿); a word after a
number that is no scale, unit or name of what is counted is refused, never dropped; and a dot
before a scale is a decimal point (``61.706K``, thop's ``714.188M``)."""

from __future__ import annotations

from fractions import Fraction

import pytest

from grader.engine import grade_submission
from grader.reading import Read, Unreadable, read_answer
from grader.results import Status
from problems.kinds import AnswerKind, Dimension
from problems.loader import load_bank

K = AnswerKind
BANK = load_bank()


def value_of(raw: str, kind: AnswerKind = K.INTEGER, dimension: Dimension | None = None) -> Fraction:
    result = read_answer(raw, kind, dimension=dimension)
    assert isinstance(result, Read), (raw, result)
    return Fraction(result.value.value)


# (scale, its factor): each read in several forms (singular, plural, capitals, an abbreviation's dot,
# against the number or spaced, after a hedge or a label).
SCALES = [
    ("lakh", 10**5),
    ("lac", 10**5),
    ("crore", 10**7),
    ("mn", 10**6),
    ("mln", 10**6),
    ("bn", 10**9),
    ("Mio", 10**6),
    ("Mrd", 10**9),
    ("Tsd", 10**3),
    ("milliard", 10**9),
    ("million", 10**6),
    ("thousand", 10**3),
]


def forms(word: str) -> list[str]:
    return [f"3.5 {word}", f"3.5 {word.lower()}", f"3.5 {word.upper()}", f"3.5 {word}.", f"~3.5 {word}s"]


@pytest.mark.parametrize(("word", "factor"), SCALES, ids=[word for word, _ in SCALES])
def test_a_scale_word_is_read_in_every_form(word: str, factor: int) -> None:
    for raw in forms(word):
        assert value_of(raw) == Fraction(7, 2) * factor, raw


CHARACTERS = [("3.5万", 35_000), ("3.5 万", 35_000), ("1.2亿", 120_000_000), ("1.2 億", 120_000_000), ("7千", 7_000)]


@pytest.mark.parametrize(("raw", "value"), CHARACTERS, ids=[raw for raw, _ in CHARACTERS])
def test_a_chinese_or_japanese_scale_is_read(raw: str, value: int) -> None:
    assert value_of(raw) == value


ISSUE = [
    ("6.11 crore", 61_100_000),
    ("6.1100840 crore", 61_100_840),
    ("31.03 mn", 31_030_000),
    ("1.31 lakh", 131_000),
    ("11.33 Mrd.", 11_330_000_000),
    ("ca. 390 Tsd.", 390_000),
    ("Total: 2.5 lakh parameters", 250_000),
    ("two lakh", 200_000),
]


@pytest.mark.parametrize(("raw", "value"), ISSUE, ids=[raw for raw, _ in ISSUE])
def test_answers_once_read_without_their_scale(raw: str, value: int) -> None:
    assert value_of(raw) == value


UNKNOWN = ["6.11 arab", "2432 foo", "31.03 mm", "61 kazillion", "5 per filter", "2432 approximatively"]


@pytest.mark.parametrize("raw", UNKNOWN)
def test_a_word_that_is_not_read_is_refused_by_name(raw: str) -> None:
    result = read_answer(raw, K.INTEGER)
    word = raw.split()[1]
    assert isinstance(result, Unreadable) and f"“{word}” after the number is not" in result.reason, result


@pytest.mark.parametrize("raw", ["36 channels", "2432 trainable parameters", "10 classes", "55 neurons", "13 cells"])
def test_a_word_naming_what_is_counted_is_read_beside_the_value(raw: str) -> None:
    assert value_of(raw) == int(raw.split()[0])


@pytest.mark.parametrize("raw", ["2 + 3 crore", "(1 + 2) lakh", "2*3 Mio"])
def test_a_scale_after_a_sum_is_refused(raw: str) -> None:
    result = read_answer(raw, K.INTEGER)
    assert isinstance(result, Unreadable) and "follows a number, not a sum" in result.reason, result


# -- a dot before a scale or a prefixed unit is a decimal point ---------------------------------------

DECIMALS = [
    ("61.706K", 61_706),
    ("4.097M", 4_097_000),
    ("714.188M", 714_188_000),  # thop's printout
    ("Total params: 61.706K", 61_706),
    ("1.234 Mio.", 1_234_000),
    ("1.234 bn", 1_234_000_000),
    ("4.097 MB", 4_097_000),
    ("4.097 GFLOPs", 4_097_000_000),
]


@pytest.mark.parametrize(("raw", "value"), DECIMALS, ids=[raw for raw, _ in DECIMALS])
def test_a_dot_before_a_scale_is_a_decimal_point(raw: str, value: int) -> None:
    assert value_of(raw) == value


@pytest.mark.parametrize("raw", ["61.706", "1.234 parameters", "Total: 4.097"])
def test_a_dot_group_without_a_scale_is_still_ambiguous(raw: str) -> None:
    result = read_answer(raw, K.INTEGER)
    assert isinstance(result, Unreadable) and "a dot between thousands" in result.reason, result


# -- graded: c3d.params is 226,560 ------------------------------------------------------------------

GRADED = [
    ("2.2656 lakh", Status.CORRECT),
    ("22.656万", Status.CORRECT),
    ("0.22656 mn", Status.CORRECT),
    ("226.56 Tsd.", Status.CORRECT),
    ("226.560K", Status.CORRECT),
    ("2.27 lakh", Status.INCORRECT),  # rounded: the count is exact
    ("2.2656 crore", Status.INCORRECT),
    ("2.2656 arab", Status.INVALID),
]


@pytest.mark.parametrize(("answer", "status"), GRADED, ids=[answer for answer, _ in GRADED])
def test_a_count_with_a_scale_is_graded_as_read(answer: str, status: Status) -> None:
    part = grade_submission(BANK["classic-exam"], {"c3d.params": answer}).parts["c3d.params"]
    assert part.status is status, (answer, part.feedback)
