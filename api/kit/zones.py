"""The time zones a course may be in: names of the IANA time zone database (``America/Chicago``),
as :mod:`zoneinfo` loads them from the system or the ``tzdata`` package.

A name is accepted only if it is one of the database's zones: files of the zone directory that
are not places (``localtime``, a link to the server's own zone; ``posixrules``; ``Factory``), paths,
and names ``zoneinfo`` cannot load are refused with a sentence naming what was given.
"""

from __future__ import annotations

from functools import cache
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from pydantic import AfterValidator, WithJsonSchema

#: A course's zone unless it names one (and what a stored name this machine lacks is shown in).
DEFAULT_TIME_ZONE = "UTC"
#: Files of a zone directory that name no place: the server's own zone, and POSIX leftovers.
NOT_PLACES = frozenset({"localtime", "posixrules", "Factory"})
#: The longest name stored (the database's longest is 32 characters).
MAX_LENGTH = 64
#: What a name looks like (the JSON schema's pattern; what it lets through is then looked up).
PATTERN = r"^[A-Za-z][A-Za-z0-9_+-]*(?:/[A-Za-z0-9_+-]+)*$"
EXAMPLE = "America/Chicago"


@cache
def zone_names() -> frozenset[str]:
    """Every zone a course may choose (read from the disk once per process)."""
    names = available_timezones() - NOT_PLACES
    return frozenset(name for name in names if not name.startswith(("posix/", "right/")))


@cache
def _by_folded_case() -> dict[str, str]:
    return {name.casefold(): name for name in zone_names()}


def check_zone(name: str) -> str:
    """``name`` if it is a zone of the database that loads; :class:`ValueError` with a sentence
    (suggesting the name spelt right when only its case or surrounding spaces differ) otherwise."""
    if name in zone_names():
        try:
            ZoneInfo(name)
            return name
        except (ZoneInfoNotFoundError, ValueError, OSError):
            pass
    shown = name if len(name) <= MAX_LENGTH else name[:MAX_LENGTH] + "…"
    near = _by_folded_case().get(name.strip().casefold())
    hint = f"did you mean {near}?" if near else f"use a name of the IANA time zone database, e.g. {EXAMPLE}"
    raise ValueError(f"{shown!r} is not a time zone: {hint}")


@cache
def zone_named(name: str | None) -> ZoneInfo:
    """The zone of a stored name; UTC for none, or for a name this machine's zone database no
    longer has (it was checked when stored: a page still shows every date, named as UTC)."""
    try:
        return ZoneInfo(check_zone(name or DEFAULT_TIME_ZONE))
    except ValueError:
        return ZoneInfo(DEFAULT_TIME_ZONE)


#: A time zone as requests send it: a name of the IANA database, checked by :func:`check_zone`.
TimeZoneName = Annotated[
    str,
    AfterValidator(check_zone),
    WithJsonSchema(
        {
            "type": "string",
            "maxLength": MAX_LENGTH,
            "pattern": PATTERN,
            "description": "A time zone of the IANA database, e.g. `America/Chicago`, `Europe/Paris` or `UTC`: "
            "the course's pages show and read every date in it (the REST API keeps ISO 8601 with offsets).",
            "examples": [EXAMPLE],
        }
    ),
]
