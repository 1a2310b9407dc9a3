"""Units as part of the value: a stated unit is parsed with its SI or binary prefix and converted
to what the part measures, named as a mistake where it is a known confusion, and refused where it
does not fit; ``B`` is a byte on a part in bytes, never a billion there."""

from __future__ import annotations

from fractions import Fraction

import pytest

from grader.engine import grade_submission
from grader.reading import Read, Unreadable, read_answer
from grader.results import Status
from problems.kinds import AnswerKind, Dimension, dimension_of
from problems.loader import load_bank

K, D = AnswerKind, Dimension
BANK = load_bank()

CONVERTED = [
    ("61.0 MB", D.BYTES, 61_000_000),
    ("61 MB", D.BYTES, 61_000_000),
    ("1.16 MB", D.BYTES, 1_160_000),
    ("64 kB", D.BYTES, 64_000),
    ("64 KiB", D.BYTES, 65_536),
    ("2 MiB", D.BYTES, 2_097_152),
    ("1 GiB", D.BYTES, 2**30),
    ("61 B", D.BYTES, 61),
    ("61 bytes", D.BYTES, 61),
    ("488 Mbit", D.BYTES, 61_000_000),
    ("64 bits", D.BYTES, 8),
    ("61 B", D.PARAMETERS, 61_000_000_000),  # a billion where the part is not in bytes
    ("0.714 GMACs", D.MACS, 714_000_000),
    ("3.6 GFLOPs", D.FLOPS, 3_600_000_000),
    ("25.6 M params", D.PARAMETERS, 25_600_000),
    ("25.6M parameters", D.PARAMETERS, 25_600_000),
    ("2 kparams", D.PARAMETERS, 2_000),
    ("150528 values", D.COUNT, 150_528),
    ("1.16 MB", None, 1_160_000),  # a part of unknown dimension still keeps the prefix
]


@pytest.mark.parametrize(("raw", "dimension", "expected"), CONVERTED, ids=[f"{r} on {d}" for r, d, _ in CONVERTED])
def test_a_unit_that_fits_is_converted(raw: str, dimension: Dimension | None, expected: int) -> None:
    result = read_answer(raw, K.INTEGER, dimension=dimension)
    assert isinstance(result, Read) and result.value.value == Fraction(expected), result


REFUSED = [
    (
        "3 GFLOPs",
        D.BYTES,
        "“GFLOPs” is a number of floating-point operations (FLOPs), but this answer is a size in bytes",
    ),
    ("444 params", D.BYTES, "“params” is a number of parameters, but this answer is a size in bytes"),
    ("61 MB", D.PARAMETERS, "“MB” is a size in bytes, but this answer is a number of parameters"),
    ("61 MB", D.MACS, "a size in bytes, but this answer is a number of multiply-accumulates"),
    ("150528 values", D.BYTES, "“values” is a count of values, but this answer is a size in bytes"),
    ("61 Mb", D.BYTES, "“Mb” could be bits or bytes: write MB or Mbit"),
    ("61 b", D.BYTES, "could be bits, bytes or a billion"),
    ("2 KiMACs", D.MACS, "binary prefixes"),
]


@pytest.mark.parametrize(("raw", "dimension", "reason"), REFUSED, ids=[f"{r} on {d}" for r, d, _ in REFUSED])
def test_a_unit_that_does_not_fit_is_refused_saying_why(raw: str, dimension: Dimension, reason: str) -> None:
    result = read_answer(raw, K.INTEGER, dimension=dimension)
    assert isinstance(result, Unreadable) and reason in result.reason, result


def test_the_dimension_of_a_part_comes_from_its_quantity() -> None:
    assert [dimension_of(q) for q in ("memory.conv1", "macs.total", "flops.x", "params.fc", "values.pool")] == [
        D.BYTES,
        D.MACS,
        D.FLOPS,
        D.PARAMETERS,
        D.COUNT,
    ]
    assert dimension_of("side.conv1") is D.LENGTH and dimension_of("params_reduction.total") is D.PERCENT
    memory = BANK["classic-exam"].solve()["alexnet.memory"].part
    assert memory.dimension is D.BYTES


# -- graded: alexnet.memory is 1,161,600 bytes; q1b.macs1 is 19,660,800 MACs ------------------------


def grade(set_name: str, key: str, answer: str) -> tuple[Status, str | None, str]:
    part = grade_submission(BANK[set_name], {key: answer}).parts[key]
    return part.status, part.misconception, part.feedback


GRADED = [
    ("1161600 B", Status.CORRECT, None, ""),
    ("1.1616 MB", Status.CORRECT, None, ""),
    ("9.2928 Mbit", Status.CORRECT, None, ""),
    ("1161.6 kB", Status.CORRECT, None, ""),
    ("1.16 MB", Status.INCORRECT, None, "Close, but rounded"),
    ("1.11 MiB", Status.INCORRECT, None, "Close, but rounded"),
    ("1.11 MB", Status.INCORRECT, "mb-vs-mib", "MB and MiB differ"),  # the MiB figure, labelled MB
    ("1.1616 Mbit", Status.INCORRECT, "bits-vs-bytes", "A byte is 8 bits"),
    ("1.16 B", Status.INCORRECT, None, "whole number"),  # never 1.16 billion
]


@pytest.mark.parametrize(("answer", "status", "code", "feedback"), GRADED, ids=[g[0] for g in GRADED])
def test_a_memory_in_bytes_is_graded_in_the_unit_stated(
    answer: str, status: Status, code: str | None, feedback: str
) -> None:
    got_status, got_code, got_feedback = grade("classic-exam", "alexnet.memory", answer)
    assert (got_status, got_code) == (status, code), (answer, got_status, got_code, got_feedback)
    assert feedback in got_feedback, got_feedback


@pytest.mark.parametrize(
    ("answer", "status", "code"),
    [
        ("19.6608 MMACs", Status.CORRECT, None),
        ("19.6608 M", Status.CORRECT, None),
        ("19,660,800 MACs", Status.CORRECT, None),
        ("39.3216 MFLOPs", Status.INCORRECT, "macs-vs-flops"),
        ("19.6608 MFLOPs", Status.INCORRECT, "macs-vs-flops"),
        ("39,321,600", Status.INCORRECT, "macs-vs-flops"),
    ],
)
def test_flops_given_for_macs_are_named(answer: str, status: Status, code: str | None) -> None:
    got_status, got_code, feedback = grade("mobilenet-yolo", "q1b.macs1", answer)
    assert (got_status, got_code) == (status, code), (answer, feedback)


def test_a_rounded_figure_says_rounded_not_a_whole_number() -> None:
    """``19.66 M`` against 19,660,800: the figure is the count rounded, not a wrong count."""
    status, _, feedback = grade("mobilenet-yolo", "q1b.macs1", "19.66 M")
    assert status is Status.INCORRECT and feedback.startswith("Close, but rounded"), feedback
    assert "whole number" not in feedback


# -- a unit in a tool's label: torchinfo's "Total mult-adds (G): 0.71" -------------------------------

LABELLED = [
    ("Total mult-adds (G): 0.71", D.MACS, 710_000_000),
    ("Total mult-adds (M): 714.19", D.MACS, 714_190_000),
    ("Params size (MB): 0.25", D.BYTES, 250_000),
    ("Estimated Total Size (MB): 4.82", D.BYTES, 4_820_000),
    ("Total params (M): 25.56", D.PARAMETERS, 25_560_000),
    ("Layer 1 (conv): 2432", D.PARAMETERS, 2432),  # a bracket that holds no unit is the label's own
]


@pytest.mark.parametrize(("raw", "dimension", "expected"), LABELLED, ids=[r for r, _, _ in LABELLED])
def test_a_unit_in_a_label_is_the_values(raw: str, dimension: Dimension, expected: int) -> None:
    result = read_answer(raw, K.REAL, dimension=dimension)
    assert isinstance(result, Read) and result.value.value == expected, result


@pytest.mark.parametrize(
    ("raw", "dimension", "reason"),
    [
        ("Params size (MB): 0.25", D.PARAMETERS, "is a size in bytes"),
        ("Total mult-adds (G): 0.71 G", D.MACS, "so does the answer"),
        ("Total (M): 2 + 3", None, "follows a number, not a sum"),
    ],
)
def test_a_unit_in_a_label_is_checked_as_any_unit(raw: str, dimension: Dimension | None, reason: str) -> None:
    result = read_answer(raw, K.REAL, dimension=dimension)
    assert isinstance(result, Unreadable) and reason in result.reason, result
