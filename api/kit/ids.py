"""The form of the ids in paths: a key no row can have is looked up nowhere."""

from __future__ import annotations

import re

ID_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]{0,63}")
#: Larger ids cannot exist (and would overflow the database's integer).
MAX_ROW_ID = 2**31 - 1


def may_exist(key: str | int) -> bool:
    """Whether a row could have this key: an id of the form ids take, a row number in range. Other
    keys are looked up nowhere (a NUL byte or a 40-digit number is an error to PostgreSQL)."""
    return ID_PATTERN.fullmatch(key) is not None if isinstance(key, str) else 1 <= key <= MAX_ROW_ID
