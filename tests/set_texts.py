"""Set files' texts that must not load, read as the loader refuses them (``tests/problems``)."""

from __future__ import annotations

import pytest

from problems.issues import Issue, SetFileError
from problems.loader import parse_set


def issues_of(text: str, source: str = "set.yaml") -> list[Issue]:
    """Every issue the loader finds in ``text``; fails the test where the text loads."""
    with pytest.raises(SetFileError) as refused:
        parse_set(text, source)
    return refused.value.issues
