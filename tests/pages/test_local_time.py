"""Dates on a course's pages: an instant shown in the course's zone with the zone named, and a
wall-clock time typed in a form read as the instant it names there; around a change of the clocks
a skipped time is refused with a sentence and a time passed twice is the first of the two."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from api.kit.local_time import LocalTimeRefused, form_value, read_local, shown

CHICAGO = ZoneInfo("America/Chicago")


@pytest.mark.parametrize(
    ("moment", "zone", "expected"),
    [
        # standard and daylight time, each with its abbreviation
        (datetime(2030, 1, 2, 3, 4, tzinfo=UTC), "America/Chicago", "2030-01-01 21:04 CST"),
        (datetime(2030, 7, 1, 17, 0, tzinfo=UTC), "America/Chicago", "2030-07-01 12:00 CDT"),
        (datetime(2030, 7, 1, 17, 0, tzinfo=UTC), "UTC", "2030-07-01 17:00 UTC"),
        (datetime(2030, 7, 1, 17, 0, tzinfo=UTC), "Europe/Paris", "2030-07-01 19:00 CEST"),
        # a zone without letters for its time: the offset, named as one
        (datetime(2030, 7, 1, 17, 0, tzinfo=UTC), "America/Sao_Paulo", "2030-07-01 14:00 UTC-03:00"),
        (datetime(2030, 7, 1, 17, 0, tzinfo=UTC), "Asia/Kathmandu", "2030-07-01 22:45 UTC+05:45"),
        # an instant stored with another offset is the same instant
        (datetime(2030, 1, 2, 4, 4, tzinfo=timezone(timedelta(hours=1))), "America/Chicago", "2030-01-01 21:04 CST"),
    ],
)
def test_an_instant_is_shown_in_the_zone_with_the_zone_named(moment: datetime, zone: str, expected: str) -> None:
    assert shown(moment, ZoneInfo(zone)) == expected


def test_no_date_is_shown_as_nothing() -> None:
    assert shown(None, CHICAGO) == "" and form_value(None, CHICAGO) == ""


@pytest.mark.parametrize(
    ("typed", "instant"),
    [
        ("2030-01-01T21:04", datetime(2030, 1, 2, 3, 4, tzinfo=UTC)),  # CST, UTC-6
        ("2030-07-01T12:00", datetime(2030, 7, 1, 17, 0, tzinfo=UTC)),  # CDT, UTC-5
        ("2030-07-01T12:00:30", datetime(2030, 7, 1, 17, 0, 30, tzinfo=UTC)),  # (an input with seconds)
        (" 2030-07-01 12:00 ", datetime(2030, 7, 1, 17, 0, tzinfo=UTC)),
        # the hours around the changes of 2030 that exist once
        ("2030-03-10T01:59", datetime(2030, 3, 10, 7, 59, tzinfo=UTC)),
        ("2030-03-10T03:00", datetime(2030, 3, 10, 8, 0, tzinfo=UTC)),
        ("2030-11-03T00:59", datetime(2030, 11, 3, 5, 59, tzinfo=UTC)),
        ("2030-11-03T02:00", datetime(2030, 11, 3, 8, 0, tzinfo=UTC)),
        # a text with its own offset names that instant, whatever the course's zone
        ("2030-07-01T12:00Z", datetime(2030, 7, 1, 12, 0, tzinfo=UTC)),
        ("2030-07-01T12:00+02:00", datetime(2030, 7, 1, 10, 0, tzinfo=UTC)),
    ],
)
def test_a_typed_time_is_the_instant_it_names_in_the_zone(typed: str, instant: datetime) -> None:
    read = read_local(typed, CHICAGO)
    assert read == instant and read.tzinfo is UTC


def test_what_a_form_holds_reads_back_as_the_same_instant() -> None:
    for moment in (datetime(2030, 1, 2, 3, 4, tzinfo=UTC), datetime(2030, 7, 1, 17, 0, tzinfo=UTC)):
        assert form_value(moment, CHICAGO) in ("2030-01-01T21:04", "2030-07-01T12:00")
        assert read_local(form_value(moment, CHICAGO), CHICAGO) == moment


@pytest.mark.parametrize(
    ("typed", "zone", "words"),
    [
        # the hour Chicago's clocks skip on 2030-03-10 (02:00 CST becomes 03:00 CDT)
        ("2030-03-10T02:00", "America/Chicago", "the clocks go forward an hour that night, from CST to CDT"),
        ("2030-03-10T02:30", "America/Chicago", "2030-03-10 02:30 does not exist in America/Chicago"),
        ("2030-03-10T02:59", "America/Chicago", "does not exist"),
        # Lord Howe Island moves its clocks by half an hour
        ("2030-10-06T02:15", "Australia/Lord_Howe", "the clocks go forward 30 minutes that night"),
    ],
)
def test_a_time_the_clocks_skip_is_refused_with_a_sentence(typed: str, zone: str, words: str) -> None:
    with pytest.raises(LocalTimeRefused, match=words):
        read_local(typed, ZoneInfo(zone))


def test_a_time_the_clocks_pass_twice_is_the_first_of_the_two() -> None:
    """01:30 on 2030-11-03 happens in CDT (06:30 UTC), then an hour later in CST: the first is
    taken, and shown with its abbreviation so that the page says which."""
    read = read_local("2030-11-03T01:30", CHICAGO)
    assert read == datetime(2030, 11, 3, 6, 30, tzinfo=UTC)
    assert shown(read, CHICAGO) == "2030-11-03 01:30 CDT"
    assert shown(read + timedelta(hours=1), CHICAGO) == "2030-11-03 01:30 CST"


@pytest.mark.parametrize(
    ("typed", "words"),
    [
        ("soon", "should be a date and time such as 2026-12-01T23:59, not 'soon'"),
        ("2030-02-30T10:00", "should be a date and time"),
        ("2030-07-01T25:00", "should be a date and time"),
        ("9999-12-31T23:59", "too far in the past or the future"),
    ],
)
def test_text_that_names_no_instant_is_refused_with_a_sentence(typed: str, words: str) -> None:
    with pytest.raises(LocalTimeRefused, match=words):
        read_local(typed, CHICAGO)
