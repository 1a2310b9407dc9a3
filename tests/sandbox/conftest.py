"""A fresh sandbox (its own warm worker and cgroup) per test, with small limits."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from sandbox import Sandbox
from tests.sandbox.probes import LIMITS, require_bwrap


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    """A fresh sandbox (its own warm worker and cgroup) per test."""
    require_bwrap()
    with Sandbox(LIMITS) as box:
        box.start()
        yield box
