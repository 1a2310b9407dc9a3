"""A student's process holds only the call it runs: each call's inputs, and a driver's code (never
its text), reach it when that call starts, once the call before has answered; a message that
quotes a driver is withheld besides. A process that fails before the module loads is the
sandbox's failure: tried again on a fresh process, past that the sandbox says it failed; never a
call's result, never the student's error."""

from __future__ import annotations

import marshal
import select
import time
from dataclasses import replace
from typing import Any

import numpy as np
import pytest

from sandbox import Call, Sandbox, SandboxFailed, Status, drivers, service, wire
from sandbox.drivers import DRIVER
from tests.sandbox.probes import LIMITS, REACHABLE, REPORT, observed, require_bwrap

#: The value every element of a call's input holds, by the call it belongs to.
MARKS = {"first": 1111.25, "second": 2222.25, "third": 3333.25}

# What a student's function reaches from where it runs: every object the collector tracks and what
# each holds, and every frame up its stack and what its names hold. ``seen(*needles)``: the names
# of the marks found (in arrays, or as bytes in any buffer) and the needles found in any text (but
# the needles themselves).
WALK = REPORT + (
    """
import gc, sys
import numpy as np

# (kept negated: the module's compiled code, which the process holds, must not hold the marks' bytes)
MARKS = {name: -value for name, value in NEGATED_MARKS.items()}

"""
    + REACHABLE
    + """

def seen(*needles):
    found = set()
    for root in _reachable():
        for value in (root, *gc.get_referents(root)):
            if isinstance(value, np.ndarray) and value.dtype.kind == "f":
                found.update(name for name, mark in MARKS.items() if (value == mark).any())
            elif isinstance(value, (bytes, bytearray)):
                found.update(name for name, mark in MARKS.items() if np.float64(mark).tobytes() in value)
                found.update(needle for needle in needles if needle.encode() in value)
            elif isinstance(value, str) and not any(value is needle for needle in needles):
                found.update(needle for needle in needles if needle in value)
    return sorted(found)

def look(x):
    return report(*seen())
"""
).replace("NEGATED_MARKS", repr({name: -value for name, value in MARKS.items()}))


def _marked(name: str) -> np.ndarray:
    """A 5×7 image (a hidden test's, say) whose every element is the mark of ``name``."""
    return np.full((5, 7), MARKS[name])


def test_a_call_holds_no_later_calls_inputs(sandbox: Sandbox) -> None:
    """Before, the process read every call's inputs before its first call: the first call found the
    second's and the third's (the hidden tests' inputs, for a run that makes those last)."""
    names = list(MARKS)
    calls = [Call("look", (_marked(name),), seconds=10) for name in names]
    results = sandbox.run(WALK, calls)
    for index, result in enumerate(results):
        found = observed(result).split()
        assert names[index] in found, (index, found)  # (the walk finds what it looks for: its own input)
        later = set(names[index + 1 :]) & set(found)
        assert not later, f"call {index + 1} found the inputs of the calls after it: {sorted(later)}"


DRIVER_TEXT = """
# the instructor's note: a secret worth keeping
found = student.look_for_the_driver()
return {"found": found}
"""
#: What the student's function looks for: the driver's comment, and one of its statements.
NEEDLES = ("a secret worth keeping", "student.look_for_the_driver()")


def test_a_drivers_text_never_reaches_the_process(sandbox: Sandbox) -> None:
    """The driver runs in the student's process, compiled by the service: its code is there (its
    names and constants), its text is not. Before, the text came with the request, and a student's
    function found it by walking up its frames."""
    # (the needles spelled backwards: the module's own text, which the process holds, must not hold them)
    backwards = tuple(needle[::-1] for needle in NEEDLES)
    source = WALK + f"\ndef look_for_the_driver():\n    return report(*seen(*(n[::-1] for n in {backwards!r})))\n"
    [result] = sandbox.run(source, [Call(DRIVER, (DRIVER_TEXT, "found"), {}, seconds=10)])
    assert observed(result) == "", observed(result)


def test_a_message_that_quotes_a_drivers_line_is_withheld(sandbox: Sandbox) -> None:
    """A student who rebuilt the driver's text from its code (or guessed it) cannot show it in a
    message: the service withholds a message quoting any of the driver's lines (spaces aside)."""
    source = (
        "def look_for_the_driver():\n"
        "    raise ValueError('the driver says: found  =  student.look_for_the_driver() ...')\n"
        "def plain():\n"
        "    raise ValueError('a message of my own')\n"
    )
    quoting, own = sandbox.run(
        source,
        [Call(DRIVER, (DRIVER_TEXT, "found"), {}), Call(DRIVER, ("return {'found': student.plain()}", "found"), {})],
    )
    assert (quoting.status, quoting.message) == (Status.ERROR, service.WITHHELD)
    assert own.status is Status.ERROR and own.message.startswith("calling `plain`: ValueError: a message of my own")


def test_the_driver_runs_from_the_code_the_service_compiled() -> None:
    """What crosses is the compiled body, under the driver's own file name: its lines are never the
    student's (a traceback's ``line 2 of your code`` comes from the student's module only)."""
    code = marshal.loads(drivers.compiled(DRIVER_TEXT))
    function = next(value for value in code.co_consts if hasattr(value, "co_filename"))
    assert (code.co_filename, function.co_name, function.co_filename) == (drivers.DRIVER_FILE, "__driver__", "<driver>")
    assert "a secret worth keeping" not in repr(code.co_consts) + repr(function.co_consts)


#: The pids of the processes killed before their request, and the service's own ``_run``.
KILLED: list[int] = []
RUN = service._Worker._run


def _killed_before_its_request(self: service._Worker, child: Any, *args: Any) -> None:
    """The service's ``_run``, whose first process is killed (SIGKILL, by its worker at the
    service's word) before it is handed its request: dead before it was prepared."""
    if not KILLED:
        KILLED.append(child.pid)
        wire.send_message(self.control, {"kill": child.pid})
        # the process is gone once its request pipe has no reader: its write end then polls POLLERR
        # (reported whatever the events asked for: none are, so the poll waits for that)
        poller = select.poll()
        poller.register(child.requests, 0)
        deadline = time.monotonic() + 60
        while not any(events & select.POLLERR for _, events in poller.poll(100)):
            assert time.monotonic() < deadline, "the killed process never ended"
    RUN(self, child, *args)


def test_a_process_killed_before_it_is_prepared_is_replaced_and_costs_nothing(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Before, the calls of such a run were each answered ``killed by signal 9``: the student's
    error, for a death before any of their code ran."""
    KILLED.clear()
    worker = sandbox.worker_pid
    monkeypatch.setattr(service._Worker, "_run", _killed_before_its_request)
    source = "import numpy as np\ndef f(x):\n    return x * 2\n"
    results = sandbox.run(source, [Call("f", (np.arange(3),)), Call("f", (np.ones(2),))])
    assert len(KILLED) == 1
    assert [(result.status, result.message) for result in results] == [(Status.OK, "")] * 2
    assert [result.output.tolist() for result in results] == [[0, 2, 4], [2.0, 2.0]]
    assert sandbox.worker_pid == worker  # a fresh process of the same worker, not a new worker


def test_a_sandbox_whose_processes_cannot_prepare_fails_and_blames_no_call() -> None:
    """Every process fails as it prepares (a limit it may not take): each is tried again, then a
    fresh worker's, then the sandbox says it failed. Before, each call was answered ``error``
    with the sandbox's sentence, as if the student's code had raised."""
    require_bwrap()
    failed = pytest.raises(SandboxFailed, match="before the code was loaded: the process could not prepare itself")
    with Sandbox(replace(LIMITS, open_files=1 << 40)) as box, failed:
        box.run("def f():\n    return 1\n", [Call("f"), Call("f")])


def test_a_module_that_ends_its_process_as_it_loads_is_the_students_failure(sandbox: Sandbox) -> None:
    """Past its word that it is prepared, a process's end is the submission's: a module that exits
    as it loads fails every call, and is not tried again as the sandbox's failure."""
    results = sandbox.run("import os\nos._exit(3)\n", [Call("f"), Call("g")])
    assert [(result.status, result.message) for result in results] == [
        (Status.ERROR, "the process exited during the call")
    ] * 2
