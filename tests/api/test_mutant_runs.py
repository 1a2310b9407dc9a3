"""A driver's mistake runs are kept only when they ran to their end: a submitter whose budget of
sandbox wall time stops the mutants' runs (the service's own grader, held to that budget) leaves no
unnamed mistake behind for the next student of the same draw (every student of a set without
randomization), and a run that did end is kept. Through the real sandboxes."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import pytest

from api.code_runs.grading import sandboxed
from api.code_runs.sandboxes import Sandboxes
from grader.code import plan
from grader.code import references as cached
from problems.loader import parse_set
from sandbox import Call, CallResult
from tests.sandbox.probes import LIMITS, require_bwrap
from tests.set_texts import AFFINE_SOLUTION, affine_set

SOLUTION = AFFINE_SOLUTION
#: The first mistake's mutant takes 2 s a test (a slow way to the same wrong answer); the second is the slip.
SET = parse_set(
    affine_set(
        "budgeted-mutants",
        """\
          - code: weights-doubled
            feedback: "Multiply by w once."
            replace: "out = x.reshape(x.shape[0], -1) @ w + b"
            with: "out = __import__('time').sleep(2) or x.reshape(x.shape[0], -1) @ (2 * w) + b"
          - {code: bias-omitted, replace: "@ w + b", with: "@ w"}
""",
    )
)
KEY = "layers.affine"
NO_BIAS = SOLUTION.replace("@ w + b", "@ w")
STOPPED = "your budget of sandbox time on this assignment is spent"


class Counted(Sandboxes):
    """The service's sandboxes, counting the runs of each module text."""

    def __init__(self) -> None:
        super().__init__(limits=LIMITS)
        self.texts: list[str] = []

    def run(
        self, runtime: str, source: str, calls: Sequence[Call], *, within: float | None = None, stopped: str = ""
    ) -> list[CallResult]:
        self.texts.append(source)
        return super().run(runtime, source, calls, within=within, stopped=stopped)


@pytest.fixture
def sandboxes() -> Iterator[Counted]:
    require_bwrap()
    cached.forget()
    plan.forget()
    pool = Counted()
    try:
        (warm,) = pool.run("numpy", "def f():\n    return 1.0\n", [Call("f")])  # started before any budget runs
        assert warm.outputs, warm.message
        pool.texts.clear()
        yield pool
    finally:
        pool.close()
        cached.forget()


def test_mutant_runs_stopped_by_a_submitters_budget_are_not_kept(sandboxes: Counted) -> None:
    # the first submitter has 1.5 s of budget left: their module and the solution run (milliseconds),
    # the slow mutant is stopped at the budget's end and the slip's mutant never runs
    first = sandboxed(sandboxes).within(1.5, STOPPED)(SET, {KEY: SOLUTION}, None)[KEY]
    assert first["status"] == "correct", first["feedback"]  # the solution's reference was had in time
    assert len(sandboxes.texts) == 4  # the module, the solution, both mutants (the last stopped at once)

    # the next student of the same draw makes the slip, with time to spare: named
    later = sandboxed(sandboxes)(SET, {KEY: NO_BIAS}, None)[KEY]
    assert later["status"] == "incorrect"
    assert later["misconception"] == "bias-omitted", later["feedback"]
    assert later["tests"] is not None and {test["misconception"] for test in later["tests"]} == {"bias-omitted"}
    # the solution's run was kept (it ended); the mutants' were not, and ran again
    assert sandboxes.texts[4:] == [NO_BIAS, *sandboxes.texts[2:4]]

    # now every run ended, and is kept: a third submission runs its own module only
    third = sandboxed(sandboxes)(SET, {KEY: NO_BIAS}, None)[KEY]
    assert third["misconception"] == "bias-omitted"
    assert sandboxes.texts[7:] == [NO_BIAS]
