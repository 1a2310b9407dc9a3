"""A misspelt field of a set file is refused with the field it likely means: the key the entry
should not have, beside the field it lacks (``out_chanels`` beside a missing ``out_channels``), or
else near an optional field the type takes there (``gird`` for an anchor level's ``grid``)."""

from __future__ import annotations

import pytest

from set_texts import issues_of

SET = """id: typo
title: A typo
problems:
  - id: q1
    type: network
    input: [8, 8, 3]
    layers:
      - {{kind: conv, name: c, {field}: 4, kernel: 3}}
    parts:
      - {{key: s, quantity: shape.c}}
"""


def issues(text: str) -> list[str]:
    return [f"{issue.field}: {issue.message}" for issue in issues_of(text)]


def test_a_misspelt_field_names_the_field_it_likely_means() -> None:
    assert "layers.0.conv.out_chanels: Extra inputs are not permitted: did you mean `out_channels`?" in issues(
        SET.format(field="out_chanels")
    )


def test_a_key_like_no_missing_field_gets_no_guess() -> None:
    (extra,) = [issue for issue in issues(SET.format(field="colour")) if "colour" in issue]
    assert extra.endswith("Extra inputs are not permitted")


ANCHORS = """id: typo
title: A typo
problems:
  - id: q1
    type: anchors
    head: ssd
    levels:
      - {{{field}: 38, anchors: 4}}
    parts:
      - {{key: n, quantity: anchors}}
"""


@pytest.mark.parametrize(("typed", "meant"), [("gird", "grid"), ("strid", "stride"), ("ratio", "ratios")])
def test_a_misspelt_optional_field_names_the_field_it_likely_means(typed: str, meant: str) -> None:
    """An anchor level gives its map by one of three optional fields: none is missing beside the
    misspelt key, so the guess comes from the fields the level takes."""
    found = issues(ANCHORS.format(field=typed))
    assert f"levels.0.{typed}: Extra inputs are not permitted: did you mean `{meant}`?" in found, found
