"""Dates as a course's people read them: shown in the course's time zone with the zone named (on its
pages, and in the sentences that refuse work past a date), and read from its forms (a
``datetime-local`` input: a wall-clock time, no zone) as a time in that zone.

A wall-clock time names one instant except around a change of the clocks:

* in the hour the clocks skip (a gap: 02:30 on the night they go forward), it names none, and is
  refused with a sentence saying so;
* in the hour they pass twice (an overlap: 01:30 on the night they go back), it names two; it is
  read as the **first** of them (``fold=0``, before the clocks go back), which every date input
  says, and pages then show it with its abbreviation (``01:30 CDT``, not ``01:30 CST``).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

#: How every page writes a date: to the minute, with the zone's abbreviation.
SHOWN = "%Y-%m-%d %H:%M"
#: How a ``datetime-local`` input holds one.
FORM = "%Y-%m-%dT%H:%M"
#: What the forms' hints say of the overlap rule.
OVERLAP_RULE = "a time the clocks pass twice, when they go back, is read as the first of the two"


class LocalTimeRefused(ValueError):
    """A typed date that names no instant: unreadable, or skipped by the clocks. Its text is a
    sentence for the person who typed it."""


def zone_abbreviation(moment: datetime) -> str:
    """``CST``, ``CEST``, ``UTC``; an offset (``UTC-03:00``) where the zone has no letters for it."""
    name = moment.tzname() or ""
    if name[:1].isalpha():
        return name
    offset = moment.utcoffset() or timedelta()
    sign = "-" if offset < timedelta() else "+"
    minutes = abs(int(offset.total_seconds())) // 60
    return f"UTC{sign}{minutes // 60:02d}:{minutes % 60:02d}"


def shown(moment: datetime | None, zone: ZoneInfo) -> str:
    """``2026-12-01 23:59 CST``: the instant in ``zone``, its abbreviation telling the two
    readings of an overlap apart; empty for no date."""
    if moment is None:
        return ""
    local = moment.astimezone(zone)
    return f"{local.strftime(SHOWN)} {zone_abbreviation(local)}"


def stated(moment: datetime, zone: ZoneInfo) -> str:
    """``2026-12-01 23:59 CST``, or ``2026-12-01 14:03:27 CST`` for an instant between minutes (a
    timed attempt's end): what a refusal says of the date it refuses past, where the minute alone
    could read as later than the refused moment."""
    local = moment.astimezone(zone)
    return (
        shown(moment, zone)
        if not (local.second or local.microsecond)
        else (f"{local.strftime(SHOWN)}:{local.second:02d} {zone_abbreviation(local)}")
    )


def form_value(moment: datetime | None, zone: ZoneInfo) -> str:
    """The instant as a ``datetime-local`` input in ``zone`` holds it (to the minute); empty for none."""
    return "" if moment is None else moment.astimezone(zone).strftime(FORM)


def read_local(text: str, zone: ZoneInfo) -> datetime:
    """The instant (in UTC) that ``text``, a date and time as a ``datetime-local`` input sends it
    (``2026-12-01T23:59``), names in ``zone``; a text with its own offset (``...T23:59-06:00``,
    ``...Z``) names that instant. :class:`LocalTimeRefused` for text that is not a date and time,
    and for a time the clocks skip; the first of the two readings of a time they pass twice."""
    try:
        typed = datetime.fromisoformat(text.strip())
    except ValueError:
        raise LocalTimeRefused(
            f"should be a date and time such as 2026-12-01T23:59, not {text.strip()[:40]!r}"
        ) from None
    if typed.tzinfo is not None:
        return _in_utc(typed, text)
    first, second = typed.replace(tzinfo=zone, fold=0), typed.replace(tzinfo=zone, fold=1)
    if first.utcoffset() == second.utcoffset():
        return _in_utc(first, text)
    if not _exists(_in_utc(first, text), typed, zone):
        jump = (second.utcoffset() or timedelta()) - (first.utcoffset() or timedelta())
        raise LocalTimeRefused(
            f"{typed.strftime(SHOWN)} does not exist in {zone.key}: the clocks go forward {_length(jump)} that "
            f"night, from {zone_abbreviation(first)} to {zone_abbreviation(second)}; type a time before or after "
            "the jump"
        )
    return _in_utc(first, text)


def _exists(instant: datetime, wall: datetime, zone: ZoneInfo) -> bool:
    """Whether ``zone``'s clocks show ``wall`` at ``instant`` (not so for a time they skip)."""
    return instant.astimezone(zone).replace(tzinfo=None) == wall


def _in_utc(moment: datetime, text: str) -> datetime:
    try:
        return moment.astimezone(UTC)
    except OverflowError:
        raise LocalTimeRefused(f"{text.strip()[:40]!r} is too far in the past or the future") from None


def _length(jump: timedelta) -> str:
    minutes = abs(int(jump.total_seconds())) // 60
    if minutes % 60 == 0:
        hours = minutes // 60
        return "an hour" if hours == 1 else f"{hours} hours"
    return f"{minutes} minutes"
