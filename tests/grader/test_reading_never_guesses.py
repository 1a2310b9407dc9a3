"""Reading never guesses: where an answer can be read two ways it is refused with a sentence saying
what to write, and where it can be read one way it is read that way. Forms students wrote on a
sheet of 2026 (decimal commas after a zero, the exact side of ``≈``, a chain ending on a rounded
conversion, a layout labelled by the student, scale words of other languages, ``%`` after three
decimals, number words with commas, Markdown emphasis, a negative count)."""

from __future__ import annotations

from fractions import Fraction

import pytest

from grader.engine import grade_submission
from grader.reading import Number, Read, Unreadable, read_answer
from grader.results import GradedPart, Status
from problems.kinds import AnswerKind, Dimension
from problems.loader import load_bank, parse_set

K = AnswerKind


# -- a comma after a leading zero is a decimal comma, never a thousands group ------------------------

LEADING_ZERO = [
    ("0,714 G", K.REAL, None, "0.714"),
    ("0,959", K.REAL, None, "0.959"),
    ("0,390 M", K.INTEGER, None, "0.390"),
    ("0,001 GB", K.INTEGER, Dimension.BYTES, "0.001"),
    ("Accuracy: 0,959", K.REAL, None, "0.959"),
    ("about 0,714 GMACs", K.INTEGER, Dimension.MACS, "0.714"),
]


@pytest.mark.parametrize(("raw", "kind", "dimension", "decimal"), LEADING_ZERO, ids=[c[0] for c in LEADING_ZERO])
def test_a_comma_after_a_leading_zero_is_refused_as_a_decimal_comma(
    raw: str, kind: AnswerKind, dimension: Dimension | None, decimal: str
) -> None:
    result = read_answer(raw, kind, dimension=dimension)
    assert isinstance(result, Unreadable), result
    assert "decimal comma" in result.reason and f"write the decimal with a point, {decimal}." in result.reason, result


@pytest.mark.parametrize(("raw", "value"), [("10,714", 10_714), ("1,234,567", 1_234_567), ("max(0,5)", 5)])
def test_groups_that_do_not_start_with_zero_still_read(raw: str, value: int) -> None:
    result = read_answer(raw, K.INTEGER)
    assert isinstance(result, Read) and result.value.value == value, result


# -- after ≈, the exact side is the answer, whatever unit it is stated in ----------------------------

#: AlexNet's first convolution: 55 × 55 × 96 = 290,400 values, 1,161,600 bytes in float32,
#: 105,415,200 MACs (each value 11 · 11 · 3 of them).
ALEXNET = """\
id: never-guesses
title: Reading never guesses
problems:
  - id: n
    title: n
    type: network
    input: [227, 227, 3]
    dtype: float32
    layers:
      - {kind: conv, name: conv1, out_channels: 96, kernel: 11, stride: 4}
    parts:
      - {key: bytes, quantity: memory.conv1}
      - {key: mib, quantity: memory_mib.conv1}
      - {key: macs, quantity: macs.conv1}
      - {key: shape, quantity: shape.conv1}
      - {key: chw, quantity: shape.conv1, layout: CHW}
"""
SET = parse_set(ALEXNET)


def graded(key: str, answer: str) -> GradedPart:
    return grade_submission(SET, {f"n.{key}": answer}).parts[f"n.{key}"]


def test_the_set_is_what_the_cases_say() -> None:
    solved = SET.solve()
    assert solved["n.bytes"].value == 1_161_600 and solved["n.macs"].value == 105_415_200
    assert solved["n.mib"].value == Fraction(1_161_600, 2**20) and solved["n.shape"].value == (55, 55, 96)


EXACT_SIDE = [
    ("bytes", "290400*4 = 1161600 bytes ≈ 1.16 MB", 1_161_600),
    ("bytes", "290,400 × 4 = 1,161,600 bytes ≈ 1.11 MiB", 1_161_600),
    ("bytes", "1161600 B ≈ 1.2 MB", 1_161_600),
    ("macs", "105,415,200 MACs ≈ 0.1 GMACs", 105_415_200),
    ("macs", "105,415,200 MACs \\approx 105.4 MMACs", 105_415_200),
    ("mib", "1,161,600 bytes ≈ 1.11 MiB", Fraction(1_161_600, 2**20)),
]


@pytest.mark.parametrize(("key", "answer", "value"), EXACT_SIDE, ids=[c[1] for c in EXACT_SIDE])
def test_the_exact_side_of_an_approximation_is_graded_whatever_its_unit(key: str, answer: str, value: Fraction) -> None:
    part = graded(key, answer)
    assert part.status is Status.CORRECT, (answer, part.feedback, part.read_as)
    assert "Close, but rounded" not in part.feedback and "agrees" in (part.read_as or ""), part


def test_the_issue_case_of_macs_reads_the_exact_count() -> None:
    result = read_answer("300,774,272 MACs ≈ 0.3 GMACs", K.INTEGER, dimension=Dimension.MACS)
    assert isinstance(result, Read) and result.value.value == 300_774_272 and not result.value.hedged, result


def test_an_exact_side_in_a_unit_that_does_not_fit_is_refused_not_dropped() -> None:
    result = read_answer("1161600 params ≈ 1.16 MB", K.INTEGER, dimension=Dimension.BYTES)
    assert isinstance(result, Unreadable) and "number of parameters" in result.reason, result


def test_a_wrong_exact_side_is_graded_wrong() -> None:
    part = graded("bytes", "1,161,700 bytes ≈ 1.16 MB")
    assert part.status is Status.INCORRECT, part


# -- a chain's exact value is kept over a later rounded conversion after = ---------------------------

CHAINS = [
    ("bytes", "290400 × 4 = 1,161,600 bytes = 1.11 MiB", "1,161,600; the rounded form “= 1.11 MiB” agrees"),
    ("bytes", "55·55·96·4 = 1161600 B = 1.16 MB", "1,161,600; the rounded form “= 1.16 MB” agrees"),
    (
        "mib",
        "290400*4 = 1,161,600 bytes = 1.11 MiB",
        "1.1077880859 (stated in bytes); the rounded form “= 1.11 MiB” agrees",
    ),
    ("macs", "55*55*96*363 = 105,415,200 MACs = 105.42 MMACs", "105,415,200; the rounded form “= 105.42 MMACs” agrees"),
]


@pytest.mark.parametrize(("key", "answer", "read_as"), CHAINS, ids=[c[1] for c in CHAINS])
def test_a_chain_is_graded_on_its_exact_value_not_its_rounded_conversion(key: str, answer: str, read_as: str) -> None:
    part = graded(key, answer)
    assert (part.status, part.read_as) == (Status.CORRECT, read_as), part


def test_the_issue_chain_reads_its_exact_bytes_without_a_float_fault() -> None:
    result = read_answer("128*28*28*4*36 = 14,450,688 bytes = 13.78 MiB", K.INTEGER, dimension=Dimension.BYTES)
    assert isinstance(result, Read) and result.value.value == 14_450_688, result
    assert result.shown == "14,450,688; the rounded form “= 13.78 MiB” agrees", result


def test_a_rounded_conversion_alone_is_shown_in_exact_decimals() -> None:
    result = read_answer("13.78 MiB", K.INTEGER, dimension=Dimension.BYTES)
    assert isinstance(result, Read) and result.value.value == Fraction(361_234_432, 25), result
    assert result.shown == "14449377.28 (stated in MiB)", result


def test_an_exact_figure_alone_in_a_chain_of_exact_figures_is_still_its_last_link() -> None:
    part = graded("bytes", "290400 × 4 = 1,161,600 bytes = 1,161,600 B")
    assert part.status is Status.CORRECT and part.read_as == "1,161,600", part


# -- a layout the student labels is read in that order ----------------------------------------------

LABELLED = [
    ("shape", "C×H×W = 96×55×55"),
    ("shape", "(C, H, W) = (96, 55, 55)"),
    ("shape", "$C \\times H \\times W = 96 \\times 55 \\times 55$"),
    ("shape", "C x H x W: 96 x 55 x 55"),
    ("shape", "96×55×55 (C×H×W)"),
    ("shape", "55 × 55 × 96 (HWC)"),
    ("chw", "H×W×C = 55×55×96"),
    ("chw", "[H, W, C] = [55, 55, 96]"),
]


@pytest.mark.parametrize(("key", "answer"), LABELLED, ids=[f"{key}: {answer}" for key, answer in LABELLED])
def test_sizes_whose_order_the_student_labels_are_read_in_that_order(key: str, answer: str) -> None:
    part = graded(key, answer)
    assert (part.status, part.misconception) == (Status.CORRECT, None), (answer, part)


def test_a_labelled_batch_is_read_in_the_labelled_order_and_named_as_a_batch() -> None:
    part = graded("shape", "[N, C, H, W] = [1, 96, 55, 55]")
    assert (part.status, part.misconception) == (Status.INCORRECT, None), part
    assert part.feedback == "1 × 55 × 55 × 96 has a batch size of 1 in front: the answer is one image's, 55 × 55 × 96."


def test_the_issue_layouts_read_in_the_order_labelled() -> None:
    assert read_answer("C×H×W = 128×28×28", K.SHAPE) == Read((28, 28, 128), "28 × 28 × 128")
    assert read_answer("[N, C, H, W] = [1, 512, 7, 7]", K.SHAPE) == Read((1, 7, 7, 512), "1 × 7 × 7 × 512")


def test_unlabelled_sizes_in_another_order_are_still_channel_order() -> None:
    part = graded("shape", "96×55×55")
    assert (part.status, part.misconception) == (Status.INCORRECT, "channel-order"), part


@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        ("C×H×W = 96×55", "The labels C × H × W name 3 sizes, and the shape gives 2"),
        ("C×H = 96×55", "The labels C × H are not the axes of this shape: give it as H × W × C."),
    ],
)
def test_labels_that_do_not_fit_the_sizes_or_the_shape_are_refused(answer: str, reason: str) -> None:
    part = graded("shape", answer)
    assert part.status is Status.INVALID and reason in part.feedback, part


# -- scale words of other languages: read where they have one meaning, refused where two -------------


@pytest.mark.parametrize("raw", ["513 mil", "513 Mil", "51.264 mil", "about 513 mil parameters"])
def test_mil_is_refused_as_a_thousand_or_a_million(raw: str) -> None:
    result = read_answer(raw, K.INTEGER)
    assert isinstance(result, Unreadable), result
    assert "a thousand in Spanish and Portuguese, a million in English shorthand" in result.reason, result


SCALED = [
    ("51 millones", 51_000_000),
    ("1 millón", 1_000_000),
    ("51.264 millones", 51_264_000),
    ("2 milhões", 2_000_000),
    ("51.264 millón", 51_264_000),
    ("51.264 milhões", 51_264_000),
    ("3 milioni", 3_000_000),
    ("51.264 Millionen", 51_264_000),
    ("51.264 Mio.", 51_264_000),
    ("1.2 Mio", 1_200_000),
]


@pytest.mark.parametrize(("raw", "value"), SCALED, ids=[raw for raw, _ in SCALED])
def test_a_million_of_another_language_is_read(raw: str, value: int) -> None:
    result = read_answer(raw, K.INTEGER)
    assert isinstance(result, Read) and result.value.value == value, result


@pytest.mark.parametrize(
    ("raw", "dimension", "whole", "decimal"),
    [
        ("51,264 k", None, "51264 k", "51.264 k"),
        ("51,264 million", None, "51264 million", "51.264 million"),
        ("4,816 kB", Dimension.BYTES, "4816 kB", "4.816 kB"),
        ("about 105,415 MMACs", Dimension.MACS, "105415 MMACs", "105.415 MMACs"),
    ],
)
def test_one_comma_group_before_a_scale_is_refused_as_ambiguous(
    raw: str, dimension: Dimension | None, whole: str, decimal: str
) -> None:
    result = read_answer(raw, K.INTEGER, dimension=dimension)
    assert isinstance(result, Unreadable), result
    assert f"could be {whole} or, with a decimal comma, {decimal}: write {whole} or {decimal}." in result.reason


@pytest.mark.parametrize(
    ("raw", "dimension", "value"),
    [
        ("51,264,000 k", None, 51_264_000_000),
        ("1,161,600 bytes", Dimension.BYTES, 1_161_600),
        ("1,161 B", Dimension.BYTES, 1_161),
    ],
)
def test_groups_before_a_scale_that_cannot_be_a_decimal_comma_are_read(
    raw: str, dimension: Dimension | None, value: int
) -> None:
    result = read_answer(raw, K.INTEGER, dimension=dimension)
    assert isinstance(result, Read) and result.value.value == value, result


@pytest.mark.parametrize("raw", ["51,264 / 51,200", "Params: 51,264 / 51,200", "51,264/51,200 parameters"])
def test_two_grouped_numbers_with_a_slash_are_refused_as_a_division_or_two_values(raw: str) -> None:
    result = read_answer(raw, K.REAL)
    assert isinstance(result, Unreadable), result
    assert "could be a division or two values" in result.reason and "51264/51200" in result.reason, result


@pytest.mark.parametrize(
    ("raw", "value"), [("51264 / 51200", Fraction(801, 800)), ("51,264 / 51,200 = 1.00125", Fraction(801, 800))]
)
def test_a_division_written_as_one_is_read(raw: str, value: Fraction) -> None:
    result = read_answer(raw, K.REAL)
    assert isinstance(result, Read) and result.value.value == value, result


# -- a percent sign settles three decimals after a dot ------------------------------------------------


@pytest.mark.parametrize("raw", ["88.498%", "88.498 %", "88.498 percent", "88.498\\%", "Accuracy: 88.498%"])
def test_a_percent_sign_makes_three_decimals_a_decimal(raw: str) -> None:
    assert read_answer(raw, K.PERCENT) == Read(Number(Fraction(88_498, 1_000), percent=True), "88.498%")


def test_a_reduction_of_three_decimals_is_graded() -> None:
    """mobilenet-yolo's separable layer 2 saves 3047/32 = 95.21875 % of its parameters."""
    mobilenet = load_bank()["mobilenet-yolo"]
    part = grade_submission(mobilenet, {"q1c.param_reduction2": "95.219%"}).parts["q1c.param_reduction2"]
    assert part.status is Status.CORRECT, part
    bare = grade_submission(mobilenet, {"q1c.param_reduction2": "95.219"}).parts["q1c.param_reduction2"]
    assert bare.status is Status.INVALID and "could be 95219" in bare.feedback, bare


# -- number words with commas -------------------------------------------------------------------------

WORDS = [
    ("fifty-one thousand, two hundred and sixty-four", 51_264),
    ("Fifty-one thousand, two hundred and sixty-four parameters", 51_264),
    ("Total: fifty-one thousand, two hundred sixty-four", 51_264),
    ("one million, two hundred thousand, and five", 1_200_005),
]


@pytest.mark.parametrize(("raw", "value"), WORDS, ids=[raw for raw, _ in WORDS])
def test_number_words_with_a_comma_after_a_scale_word_are_one_number(raw: str, value: int) -> None:
    result = read_answer(raw, K.INTEGER)
    assert isinstance(result, Read) and result.value.value == value, result


@pytest.mark.parametrize("raw", ["thirty, forty", "fifty-one, two hundred"])
def test_number_words_separated_by_a_comma_elsewhere_are_still_two_numbers(raw: str) -> None:
    assert isinstance(read_answer(raw, K.INTEGER), Unreadable)


# -- Markdown emphasis around a number is set aside, and no message names a sign not typed ------------

EMPHASIS = [
    ("**51264**", "“**”"),
    ("__51264__", "“__”"),
    ("*51264*", "“*”"),
    ("Total: **51,264** parameters", "“**”"),
    ("**Total:** 51264", "“**”"),
]


@pytest.mark.parametrize(("raw", "mark"), EMPHASIS, ids=[raw for raw, _ in EMPHASIS])
def test_markdown_emphasis_around_a_number_is_set_aside_with_a_note(raw: str, mark: str) -> None:
    result = read_answer(raw, K.INTEGER)
    assert isinstance(result, Read) and result.value.value == 51_264, result
    assert result.shown == f"51,264; the Markdown emphasis {mark} was set aside", result


@pytest.mark.parametrize(("raw", "value"), [("2*3*4", 24), ("3 * 3", 9), ("(2)*(3)*4", 24), ("13_107_400", 13_107_400)])
def test_stars_and_underscores_between_operands_are_not_emphasis(raw: str, value: int) -> None:
    result = read_answer(raw, K.INTEGER)
    assert isinstance(result, Read) and result.value.value == value and not result.value.aside, result


@pytest.mark.parametrize(
    ("raw", "sign"),
    [
        ("**51264", "A power sign is out of place here"),
        ("5 ** ** 2", "A power sign is out of place here"),
        ("36 × × 2", "A times sign is out of place here"),
        ("36 kernels × 2", "A times sign is out of place here"),
        ("36 ÷ ÷ 2", "A division sign is out of place here"),
    ],
)
def test_a_message_never_names_a_sign_the_student_did_not_type(raw: str, sign: str) -> None:
    result = read_answer(raw, K.INTEGER)
    assert isinstance(result, Unreadable), result
    for shown in ("“^”", "“*”", "“=”"):
        assert shown not in result.reason, result
    assert sign in result.reason


@pytest.mark.parametrize("raw", ["36 ×× 2", "3 ×× 3 × 16", "36 ·· 2", "2 *× 3"])
def test_two_times_signs_in_a_row_are_a_slip_refused_never_a_power(raw: str) -> None:
    """Only ``**`` as typed is Python's power: ``36 ×× 2`` was read as 36² = 1,296."""
    result = read_answer(raw, K.INTEGER)
    assert isinstance(result, Unreadable), result
    assert "A times sign is out of place here" in result.reason, result


@pytest.mark.parametrize(("raw", "value"), [("36 ** 2", 1_296), ("2**10", 1_024), ("3^2 * 4", 36)])
def test_a_power_typed_as_two_asterisks_is_still_a_power(raw: str, value: int) -> None:
    result = read_answer(raw, K.INTEGER)
    assert isinstance(result, Read) and result.value.value == value, result


# -- an impossible count gets a sentence ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "answer"), [("bytes", "-1161600"), ("macs", "-105,415,200"), ("macs", "55*55*96 - 363*290400")]
)
def test_a_negative_count_is_told_it_cannot_be_negative(key: str, answer: str) -> None:
    part = graded(key, answer)
    assert part.status is Status.INCORRECT, part
    assert part.feedback == "Not right: this count cannot be negative. Check the signs in your working.", part


def test_a_wrong_positive_count_is_still_just_not_right() -> None:
    assert graded("bytes", "7").feedback == "Not right."
