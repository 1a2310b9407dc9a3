"""The time zones a course may be in: the IANA database's zones, by name; anything else refused
with a sentence naming what was given."""

from __future__ import annotations

import re

import pytest

from api.kit.zones import PATTERN, check_zone, zone_named, zone_names


@pytest.mark.parametrize(
    "name", ["UTC", "America/Chicago", "Europe/Paris", "America/Argentina/Buenos_Aires", "Etc/GMT+5"]
)
def test_a_zone_of_the_database_is_taken_as_it_is(name: str) -> None:
    assert check_zone(name) == name
    assert zone_named(name).key == name


@pytest.mark.parametrize(
    ("name", "words"),
    [
        # names of the zone directory that are no place: the server's own zone, POSIX leftovers
        ("localtime", "'localtime' is not a time zone"),
        ("posixrules", "'posixrules' is not a time zone"),
        ("Factory", "'Factory' is not a time zone"),
        # paths, in and out of the zone directory
        ("../../etc/passwd", "'../../etc/passwd' is not a time zone"),
        ("/usr/share/zoneinfo/UTC", "is not a time zone"),
        ("posix/America/Chicago", "is not a time zone"),
        ("right/UTC", "is not a time zone"),
        # unknown names, and names spelt with another case (suggested as spelt)
        ("Mars/Olympus_Mons", "'Mars/Olympus_Mons' is not a time zone: use a name of the IANA time zone database"),
        ("america/chicago", "did you mean America/Chicago?"),
        ("", "'' is not a time zone"),
        ("America/Chicago ", "did you mean"),  # (not stripped: the forms strip what is typed)
        ("A" * 500, "'" + "A" * 64 + "…' is not a time zone"),  # (quoted cut short)
    ],
)
def test_anything_else_is_refused_with_a_sentence_naming_it(name: str, words: str) -> None:
    with pytest.raises(ValueError, match=re.escape(words)):
        check_zone(name)


def test_the_choices_are_places_and_match_the_schemas_pattern() -> None:
    names = zone_names()
    assert "America/Chicago" in names and "UTC" in names and len(names) > 300
    assert not {"localtime", "posixrules", "Factory"} & names
    assert all(re.fullmatch(PATTERN, name) and len(name) <= 64 for name in names)


def test_a_stored_name_this_machine_no_longer_has_shows_dates_in_utc() -> None:
    assert zone_named("Mars/Olympus_Mons").key == "UTC" and zone_named(None).key == "UTC"
