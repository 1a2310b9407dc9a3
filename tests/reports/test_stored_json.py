"""An attempt's stored parts and answers are read by orjson, as the standard library reads them: a
student's number is read exactly whatever its size (an answer holding an integer past 64 bits, which
orjson reads as a float, again by the standard library), and what orjson refuses but the standard
library reads (a NaN: SQLite's text may hold one) is still read."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime

import pytest

from api.reports.attempts import Attempt


def _attempt(parts_text: str | None, answers_text: str | None = None) -> Attempt:
    return Attempt(1, "s", 1, 0.0, datetime(2026, 1, 1, tzinfo=UTC), 1.0, None, parts_text, answers_text, 1)


@pytest.mark.parametrize(
    "text",
    [
        '{"p.a": {"status": "correct", "score": 1.0, "read_as": "5 \\u00d7 4"}}',
        '{"p.a": "\\u00e9t\\u00e9 \\ud83d\\ude00", "p.b": [1, 2.5, null, true]}',
        '{"p.a": {"rubric": [{"id": 3, "points": 0.1}]}}',
    ],
)
def test_stored_parts_and_answers_read_as_the_standard_library_reads_them(text: str) -> None:
    read = _attempt(text, text)
    assert read.parts == json.loads(text)
    assert read.answers == json.loads(text)


@pytest.mark.parametrize(
    "number",
    [
        123456789012345678901234567890,
        -9223372036854775809,  # (one past a signed 64-bit integer's least)
        18446744073709551616,  # (one past an unsigned one's greatest)
        9223372036854775807,
        -9223372036854775808,
        18446744073709551615,
    ],
)
def test_a_students_long_integer_is_read_exactly(number: int) -> None:
    text = json.dumps({"p.a": number, "p.b": [1, number], "p.c": {"nested": number}})
    answers = _attempt(None, text).answers
    assert answers == json.loads(text)
    assert isinstance(answers["p.a"], int) and isinstance(answers["p.c"]["nested"], int)


@pytest.mark.parametrize(
    "number",
    [
        *("0.1", "1e-320", "2.2250738585072014e-308", "1.7976931348623157e308", "0.30000000000000004"),
        *("-0.0", "1E5", "9.3e18", "-1e30", "12345678901234567890.5"),
    ],
)
def test_a_float_reads_as_the_standard_library_reads_it(number: str) -> None:
    text = f'{{"p.a": {number}, "p.b": [{number}]}}'
    answers = _attempt(None, text).answers
    assert answers == json.loads(text) and repr(answers["p.a"]) == repr(json.loads(text)["p.a"])


def test_a_nan_orjson_refuses_is_read() -> None:
    assert math.isnan(_attempt('{"p.a": {"score": NaN}}').parts["p.a"]["score"])


@pytest.mark.parametrize("text", [None, "", "[1, 2]", "null"])
def test_nothing_or_not_an_object_reads_as_no_parts(text: str | None) -> None:
    assert _attempt(text, text).parts == {} and _attempt(text, text).answers == {}
