"""How the service grades code parts: the engine's :func:`grader.code.grade_code`, its calls routed
to the process's warm sandboxes (:class:`api.code_runs.sandboxes.Sandboxes`), and held to a run's
allowance of sandbox wall time when given one (:meth:`Sandboxed.within`)."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from api.code_runs.sandboxes import Sandboxes
from grader.code import Run, grade_code
from problems.sets import ProblemSet
from sandbox import Call, CallResult

if TYPE_CHECKING:  # (not imported at run time: the judging processes import this module alone, api.code_runs.judges)
    from api.code_runs.run import GradeCode


class Sandboxed:
    """Grades a submission's code parts in ``sandboxes``: key → part JSON, every test kept (readers
    see them filtered, :func:`grader.code.visible_tests`). A :class:`api.code_runs.run.Stoppable`."""

    def __init__(self, sandboxes: Sandboxes) -> None:
        self.sandboxes = sandboxes

    def __call__(
        self, problem_set: ProblemSet, answers: dict[str, Any], variant: str | None
    ) -> dict[str, dict[str, Any]]:
        return _graded(problem_set, answers, variant, self.sandboxes.run)

    def within(self, seconds: float, reason: str) -> GradeCode:
        """The same, the run's sandbox calls (every part's) stopped ``seconds`` after it starts."""
        deadline = time.monotonic() + seconds

        def run(runtime: str, source: str, calls: Sequence[Call]) -> list[CallResult]:
            left = deadline - time.monotonic()
            return self.sandboxes.run(runtime, source, calls, within=left, stopped=reason)

        def grade(problem_set: ProblemSet, answers: dict[str, Any], variant: str | None) -> dict[str, dict[str, Any]]:
            return _graded(problem_set, answers, variant, run)

        return grade


def sandboxed(sandboxes: Sandboxes) -> Sandboxed:
    """The grader of code parts that runs them in ``sandboxes``."""
    return Sandboxed(sandboxes)


def _graded(
    problem_set: ProblemSet, answers: dict[str, Any], variant: str | None, run: Run
) -> dict[str, dict[str, Any]]:
    graded = grade_code(problem_set, answers, student=variant, run=run)
    return {key: dict(part.to_json()) for key, part in graded.items()}
