"""A machine without what a code part needs says so in a sentence, never fails obscurely: a runtime
whose packages are not installed (torch is optional) or unknown, and a sandbox that cannot start,
make the part ``invalid`` with the reason, and nothing runs unsandboxed; ``grader worker`` names
the queues it knows."""

from __future__ import annotations

import importlib.util
import subprocess
from pathlib import Path

import pytest

from api.assignments.sets import _solutions_checked
from api.code_runs.grading import sandboxed
from api.code_runs.sandboxes import Sandboxes, missing_runtime
from harness.server import VENV_BIN, server_env
from problems.loader import load_bank
from sandbox import Call, SandboxUnavailable

SET, KEY = "numpy-convolution", "conv.forward"
MODULE = "def conv_forward(x, w, b, stride=1, pad=0):\n    return x\n"


@pytest.fixture
def without_numpy(monkeypatch: pytest.MonkeyPatch) -> None:
    """This process as a machine without numpy installed (as far as the sandboxes can tell)."""
    found = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *rest: None if name == "numpy" else found(name, *rest)
    )


def test_a_runtime_this_machine_lacks_is_refused_with_what_to_install(without_numpy: None) -> None:
    reason = missing_runtime("numpy")
    assert reason is not None and "have no numpy" in reason and "install" in reason
    with pytest.raises(SandboxUnavailable, match="have no numpy"):
        Sandboxes().run("numpy", MODULE, [Call("conv_forward", (1, 2, 3))])


def test_an_unknown_runtime_is_named() -> None:
    assert missing_runtime("julia") == "this grader knows no runtime 'julia' (it has numpy, torch)"
    assert missing_runtime("numpy") is None


def test_a_part_whose_runtime_is_missing_is_invalid_with_the_sentence(without_numpy: None) -> None:
    grade = sandboxed(Sandboxes())
    part = grade(load_bank()[SET], {KEY: MODULE}, "s1")[KEY]
    assert part["status"] == "invalid" and part["score"] == 0.0
    assert "have no numpy" in part["feedback"] and "not graded" in part["feedback"].lower()


def test_a_part_whose_sandbox_cannot_start_is_invalid_with_the_reason(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*_: object) -> None:
        raise SandboxUnavailable("bubblewrap is not installed, so submitted code cannot be run safely")

    monkeypatch.setattr("sandbox.service._Worker.__init__", refuse)
    part = sandboxed(Sandboxes())(load_bank()[SET], {KEY: MODULE}, "s1")[KEY]
    assert part["status"] == "invalid" and "bubblewrap is not installed" in part["feedback"]


def test_grader_worker_names_the_queues_it_knows(tmp_path: Path) -> None:
    done = subprocess.run(
        [str(VENV_BIN / "grader"), "worker", "--queue", "cod"],
        env=server_env(DATABASE_URL="postgresql+psycopg://nobody@127.0.0.1:1/none"),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2, done.stdout + done.stderr
    assert "No queue cod: the queues are grader, code." in done.stderr


def test_a_set_with_code_parts_is_refused_at_upload_where_its_solutions_cannot_run() -> None:
    def unavailable(*_: object) -> None:
        raise SandboxUnavailable("the sandbox did not start: bwrap: No permissions to create a new namespace")

    (issue,) = _solutions_checked(load_bank()[SET], unavailable)
    assert "could not be run to check them, so it is not stored" in issue.message
    assert "No permissions to create a new namespace" in issue.message
    (issue,) = _solutions_checked(load_bank()[SET], None)
    assert "this server runs no code" in issue.message
