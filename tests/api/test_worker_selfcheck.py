"""A code worker looks at its own sandbox before it takes students' code (:mod:`api.code_runs.selfcheck`):
here the walls hold, the probe tells a wall that does not (run outside any sandbox it sees the
service's files and no seccomp filter), and ``grader worker --queue code`` on a host without
bubblewrap exits 1 with the sentence, before it touches the database; ``--queue grader`` alone
grades no code and is not held to it."""

from __future__ import annotations

import types
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

import sandbox.walls
from api.code_runs import selfcheck
from api.code_runs.sandboxes import Sandboxes
from cli.app import app as cli

#: A database no test runs: a worker that got past its self-check would fail to reach it instead.
NOWHERE = "postgresql+psycopg://grader@127.0.0.1:9/nowhere?connect_timeout=1"


def test_the_walls_hold_on_this_host() -> None:
    sandboxes = Sandboxes(size=1)
    try:
        assert selfcheck.problems(sandboxes) == []
    finally:
        sandboxes.close()


def test_the_probe_tells_walls_that_do_not_hold() -> None:
    """The probe's own verdict outside the sandbox (this test's process): the service's files seen,
    no seccomp filter. (This machine has no route out, so the network flag holds either way.)"""
    module = types.ModuleType("probe")
    exec(compile(selfcheck.PROBE, "probe", "exec"), module.__dict__)  # the project's own probe text
    flags = module.probe(str(Path(selfcheck.__file__).resolve().parents[1])).tolist()
    assert flags[0] == 1 and flags[2] == 0 and flags[3] == 0
    assert module.probe("/no/such/path")[2] == 1
    assert isinstance(module.probe("/"), np.ndarray)


@pytest.fixture
def no_bubblewrap(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(sandbox.walls, "SEARCH_PATH", str(tmp_path))  # where bwrap is looked for: nothing


def test_a_code_worker_without_bubblewrap_refuses_to_start_with_the_reason(no_bubblewrap, monkeypatch) -> None:
    monkeypatch.setenv("DATABASE_URL", NOWHERE)
    result = CliRunner().invoke(cli, ["worker", "--queue", "code", "--concurrency", "1"])
    assert result.exit_code == 1, result.output
    said = " ".join(result.output.split())
    assert "This host cannot grade students' code" in said
    assert "bubblewrap is not installed" in said and "apt-get install -y bubblewrap" in said


def test_a_worker_of_the_other_queue_alone_is_not_held_to_it(no_bubblewrap, monkeypatch) -> None:
    monkeypatch.setenv("DATABASE_URL", NOWHERE)
    result = CliRunner().invoke(cli, ["worker", "--queue", "grader", "--concurrency", "1"])
    assert "cannot grade students' code" not in result.output
    assert result.exit_code == 1 and "Cannot use the database" in " ".join(result.output.split())
