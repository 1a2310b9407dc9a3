"""A memory is a quantity with a unit: a part asks for it in bytes, kB, KiB, MB or MiB, an answer
may state it in any unit of bytes or bits (B, kB, KiB, MB, MiB, GB, GiB, bits, Mbit), and the two
are compared in the part's unit. A bare number is in the part's unit; a bare number that is the
memory in the other kind of prefix (MB for MiB) or in bits is named as that mistake."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest

from grader.engine import grade_submission
from grader.reading import Read, Unreadable, read_answer
from grader.results import Status
from problems.kinds import AnswerKind, Dimension, dimension_of, unit_size
from problems.loader import parse_set
from problems.sets import ProblemSet

#: One convolution's output, 24 × 224 × 224 values in float32: 4,816,896 bytes (4.59375 MiB,
#: 4.816896 MB), asked in each unit a part may ask a memory in.
NETWORK = """\
id: memory-units
title: Memory in units
problems:
  - id: n
    title: n
    type: network
    input: [224, 224, 3]
    dtype: float32
    layers:
      - {kind: conv, name: conv1, out_channels: 24, kernel: 3, padding: 1}
    parts:
      - {key: bytes, quantity: memory.conv1}
      - {key: kb, quantity: memory_kb.conv1}
      - {key: kib, quantity: memory_kib.conv1}
      - {key: mb, quantity: memory_mb.conv1}
      - {key: mib, quantity: memory_mib.conv1}
"""
SIZE = 4_816_896
SET: ProblemSet = parse_set(NETWORK)
PARTS = {"bytes": 1, "kb": 10**3, "kib": 2**10, "mb": 10**6, "mib": 2**20}
#: Each unit an answer may state, by the bytes (or bits, a bit being 1/8) it is.
STATED = {"B": 1, "bytes": 1, "kB": 10**3, "KiB": 2**10, "MB": 10**6, "MiB": 2**20, "GB": 10**9, "GiB": 2**30}
STATED |= {"bits": Fraction(1, 8), "kbit": Fraction(1000, 8), "Mbit": Fraction(10**6, 8), "Mibit": Fraction(2**20, 8)}


def grade(part: str, answer: str) -> tuple[Status, str | None, str]:
    graded = grade_submission(SET, {f"n.{part}": answer}).parts[f"n.{part}"]
    return graded.status, graded.misconception, graded.feedback


def exactly(value: Fraction) -> str:
    """A terminating fraction as every digit of its decimal (the units are powers of 2 and 10)."""
    return format(Decimal(value.numerator) / Decimal(value.denominator), "f")


def test_the_part_asks_in_its_unit_and_measures_bytes() -> None:
    solved = SET.solve()
    assert {key: solved[f"n.{key}"].value for key in PARTS} == {key: Fraction(SIZE, per) for key, per in PARTS.items()}
    for family, per in [("memory", 1), ("memory_kb", 1000), ("memory_kib", 1024), ("memory_mb", 10**6)]:
        assert (dimension_of(f"{family}.x"), unit_size(f"{family}.x")) == (Dimension.BYTES, per)
    assert unit_size("memory_mib.total") == 2**20 and unit_size("macs.conv1") == 1


# -- every digit, in any unit, on a part in any unit ------------------------------------------------

EXACT = [(part, f"{exactly(Fraction(SIZE) / per)} {unit}") for part in PARTS for unit, per in STATED.items()]


@pytest.mark.parametrize(("part", "answer"), EXACT, ids=[f"{a} for {p}" for p, a in EXACT])
def test_every_digit_in_any_unit_is_right_on_a_part_in_any_unit(part: str, answer: str) -> None:
    assert grade(part, answer)[0] is Status.CORRECT, (part, answer, grade(part, answer))


# -- rounded figures: right within the tolerance of a part in a larger unit -------------------------

ROUNDED = [
    ("mib", "4.59375 MiB"),
    ("mib", "4.59 MiB"),
    ("mib", "4.6 MiB"),
    ("mib", "4.82 MB"),
    ("mib", "4,816,896 bytes"),
    ("mib", "4\u202f816\u202f896 B"),  # grouped by narrow spaces
    ("mib", "≈ 4.8 MB"),
    ("mib", "0.00449 GiB"),
    ("mib", "4704 KiB"),
    ("mib", "36.75 Mibit"),
    ("mib", "36.75 Mibits"),
    ("mib", "4.82 megabytes"),
    ("mib", "4.59375 Mebibytes"),
    ("mib", "4.816896 × 10⁶ B"),  # scientific notation before a byte
    ("mib", "24 × 224 × 224 × 4 bytes"),
    ("mib", "4.59"),
    ("mb", "4.82 MB"),
    ("mb", "4.59 MiB"),
    ("mb", "4817 kB"),
    ("mb", "38.5 Mbit"),
    ("mb", "4.82"),
    ("kb", "4816.9 kB"),
    ("kb", "4.82 MB"),
    ("kib", "4.59 MiB"),
    ("kib", "4704"),
]


@pytest.mark.parametrize(("part", "answer"), ROUNDED, ids=[f"{a} for {p}" for p, a in ROUNDED])
def test_a_rounded_figure_in_a_unit_is_right_where_the_part_is_in_a_larger_unit(part: str, answer: str) -> None:
    status, code, feedback = grade(part, answer)
    assert (status, code) == (Status.CORRECT, None), (part, answer, feedback)


def test_a_memory_in_bytes_is_exact() -> None:
    """A part in bytes asks for every digit: a figure in MB is rounded, and told so."""
    for exact in ("4.816896 × 10⁶ B", "4.816896e6 bytes", "4816.896 kilobytes", "4.59375 MiB"):
        assert grade("bytes", exact)[0] is Status.CORRECT, exact
    status, _, feedback = grade("bytes", "4.82 MB")
    assert status is Status.INCORRECT and feedback.startswith("Close, but rounded"), feedback


# -- wrong, and the confusions named ----------------------------------------------------------------

WRONG = [
    # a bare number: the part's unit
    ("mib", "4.82", "mb-vs-mib"),  # the bytes divided by 10^6
    ("mib", "4.816896", "mb-vs-mib"),
    ("mib", "36.75", "bits-vs-bytes"),  # in Mibit
    ("mb", "4.59", "mb-vs-mib"),  # the bytes divided by 2^20
    ("mb", "38.54", "bits-vs-bytes"),
    ("kib", "4816.896", "mb-vs-mib"),
    ("kb", "4704", "mb-vs-mib"),
    ("bytes", "38535168", "bits-vs-bytes"),
    # a unit stated that does not say what the figure is
    ("mib", "4.82 MiB", "mb-vs-mib"),  # the MB figure, labelled MiB
    ("mb", "4.59 MB", "mb-vs-mib"),  # the MiB figure, labelled MB
    ("mib", "4.59375 Mibit", "bits-vs-bytes"),
    ("bytes", "4.816896 Mbit", "bits-vs-bytes"),
    # wrong, nothing to name
    ("mib", "9.19 MiB", None),
    ("mib", "1.15 MB", None),
    ("mb", "19.27", None),
    ("bytes", "1204224 B", None),
]


@pytest.mark.parametrize(("part", "answer", "code"), WRONG, ids=[f"{a} for {p}" for p, a, _ in WRONG])
def test_a_wrong_memory_is_wrong_and_a_confusion_named(part: str, answer: str, code: str | None) -> None:
    status, got, feedback = grade(part, answer)
    assert (status, got) == (Status.INCORRECT, code), (part, answer, feedback)


# -- read, not guessed: a unit that is not of bytes is refused, not dropped -------------------------

REFUSED = [
    ("4.59 GFLOPs", "is a number of floating-point operations"),
    ("4.59 Mb", "“Mb” could be bits or bytes"),
    ("4.59 params", "is a number of parameters"),
    ("4.59 MiMACs", "binary prefixes"),
]


@pytest.mark.parametrize(("answer", "reason"), REFUSED, ids=[a for a, _ in REFUSED])
def test_a_unit_that_is_not_a_memory_is_refused_on_a_part_in_mib(answer: str, reason: str) -> None:
    read = read_answer(answer, AnswerKind.REAL, dimension=Dimension.BYTES, unit_size=2**20)
    assert isinstance(read, Unreadable) and reason in read.reason, read
    assert grade("mib", answer)[0] is Status.INVALID


def test_the_unit_stated_is_shown_and_the_value_is_in_the_parts_unit() -> None:
    read = read_answer("4,816,896 bytes", AnswerKind.REAL, dimension=Dimension.BYTES, unit_size=2**20)
    assert isinstance(read, Read) and read.value.value == Fraction(147, 32)
    assert read.shown == "4.59375 (stated in bytes)"
    same = read_answer("4.59375 MiB", AnswerKind.REAL, dimension=Dimension.BYTES, unit_size=2**20)
    assert isinstance(same, Read) and same.shown == "4.59375"
