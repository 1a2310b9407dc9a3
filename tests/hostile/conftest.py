"""The hostile suite runs against a real ``grader serve`` under a memory cap
(:mod:`hostile_service`), one per test module."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from hostile_service import Hostile, hostile_service


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hostile]:
    with hostile_service(tmp_path_factory.mktemp("hostile")) as service:
        yield service
