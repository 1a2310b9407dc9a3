"""The SQLite service judges code in processes of its own (:mod:`api.code_runs.judges`), at a lower
priority than the service's, each with its own warm sandboxes: what they grade is what the service's
own process would (the same parts, the same named mistake), a run held to an allowance is stopped
there, a judging process killed is replaced for the next run, and a service killed takes its judging
processes with it. Through the real sandboxes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from api.code_runs.grading import sandboxed
from api.code_runs.judges import JudgeProcesses
from api.code_runs.sandboxes import Sandboxes
from api.kit.priority import GRADING_NICENESS
from problems.loader import parse_set
from tests.api.processes import descendants, judging_processes, running, stat
from tests.sandbox.probes import LIMITS, require_bwrap
from tests.set_texts import AFFINE_SOLUTION, affine_set

from factories import until

SOLUTION = AFFINE_SOLUTION
BIAS_OMITTED = '          - {code: bias-omitted, feedback: "Add the bias.", replace: "@ w + b", with: "@ w"}\n'
SET = parse_set(affine_set("judged-apart", BIAS_OMITTED))
KEY = "layers.affine"
NO_BIAS = SOLUTION.replace("@ w + b", "@ w")
SLOW = SOLUTION.replace("    out =", "    __import__('time').sleep(30)\n    out =")


@pytest.fixture(scope="module")
def judges() -> Iterator[JudgeProcesses]:
    require_bwrap()
    made = JudgeProcesses(processes=1, limits=LIMITS)
    try:
        yield made
    finally:
        made.close()


def test_a_submission_is_graded_apart_as_the_services_own_process_would(judges: JudgeProcesses) -> None:
    here = Sandboxes(limits=LIMITS)
    try:
        for answer in (SOLUTION, NO_BIAS):
            apart = judges(SET, {KEY: answer}, None)
            assert apart == sandboxed(here)(SET, {KEY: answer}, None)
    finally:
        here.close()
    assert apart[KEY]["status"] == "incorrect"
    assert apart[KEY]["misconception"] == "bias-omitted"


def test_the_judging_runs_in_a_process_of_its_own_at_a_lower_priority(judges: JudgeProcesses) -> None:
    assert judges(SET, {KEY: SOLUTION}, None)[KEY]["status"] == "correct"
    (judge,) = judging_processes()  # (one judging process: its sandbox's bubblewrap is its child)
    assert judge != os.getpid()
    found = stat(judge)
    assert found is not None and found[2] == GRADING_NICENESS
    assert os.getpriority(os.PRIO_PROCESS, 0) < GRADING_NICENESS  # the service's own is left alone
    # a session of its own, so that with autogroups its weight is not the service's session's
    assert os.getsid(judge) == judge != os.getsid(0)
    group = Path(f"/proc/{judge}/autogroup")
    if group.exists():  # (a kernel with autogroups: the group's own weight lowered too)
        assert group.read_text().split()[-1] == str(GRADING_NICENESS)
        assert Path("/proc/self/autogroup").read_text() != group.read_text()


def test_a_run_held_to_an_allowance_is_stopped_in_its_process(judges: JudgeProcesses) -> None:
    reason = "stopped: your budget of sandbox time on this assignment is spent"
    graded = judges.within(1.0, reason)(SET, {KEY: SLOW}, None)[KEY]
    assert graded["status"] == "incorrect"
    assert [test["status"] for test in graded["tests"]] == ["timeout", "timeout"]
    assert all(f"({reason})" in test["feedback"] for test in graded["tests"])


def test_a_killed_judging_process_is_replaced_for_the_next_run(judges: JudgeProcesses) -> None:
    assert judges(SET, {KEY: SOLUTION}, None)[KEY]["status"] == "correct"
    for judge in judging_processes():
        os.kill(judge, signal.SIGKILL)
    assert judges(SET, {KEY: NO_BIAS}, None)[KEY]["misconception"] == "bias-omitted"
    assert judges(SET, {KEY: SOLUTION}, None)[KEY]["status"] == "correct"


#: A service that judges one run, says so, and waits (on its standard input, which stays open) to be killed.
SERVICE = f"""
import sys
from api.code_runs.judges import JudgeProcesses
from problems.loader import parse_set
from tests.set_texts import affine_set
judges = JudgeProcesses(processes=2)
graded = judges(parse_set(affine_set("killed-service", {BIAS_OMITTED!r})), {{{KEY!r}: {SOLUTION!r}}}, None)
print(graded[{KEY!r}]["status"], flush=True)
sys.stdin.read()
"""


def test_a_service_killed_outright_takes_its_judging_processes_and_their_sandboxes_with_it() -> None:
    """SIGKILL (or the OOM killer) gives the service no chance to stop its pool: the judging
    processes, children of a forkserver and not of the service, must end by themselves."""
    require_bwrap()
    root = Path(__file__).resolve().parents[2]
    service = subprocess.Popen(
        [sys.executable, "-c", SERVICE],
        cwd=root,
        env={**os.environ, "PYTHONPATH": str(root)},
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
    )
    try:
        assert service.stdout is not None
        assert service.stdout.readline().strip() == b"correct"
        under = descendants(service.pid)
        assert any(name == "bwrap" for name, _, _ in under.values()), under  # (a warm sandbox, and its judge)
        os.kill(service.pid, signal.SIGKILL)  # the service alone, as the OOM killer would
        service.wait(timeout=30)
        until(lambda: not any(running(pid) for pid in under), timeout=60, what="the killed service's judges ended")
    finally:
        if service.poll() is None:
            service.kill()
            service.wait()
