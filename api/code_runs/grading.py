"""How the service grades code parts: the engine's :func:`grader.code.grade_code`, its calls routed
to the process's warm sandboxes (:class:`api.code_runs.sandboxes.Sandboxes`)."""

from __future__ import annotations

from typing import Any

from api.code_runs.run import GradeCode
from api.code_runs.sandboxes import Sandboxes
from grader.code import grade_code
from problems.sets import ProblemSet


def sandboxed(sandboxes: Sandboxes) -> GradeCode:
    """Grades a submission's code parts in ``sandboxes``: key → part JSON, every test kept (readers
    see them filtered, :func:`grader.code.visible_tests`)."""

    def grade(problem_set: ProblemSet, answers: dict[str, Any], variant: str | None) -> dict[str, dict[str, Any]]:
        graded = grade_code(problem_set, answers, student=variant, run=sandboxes.run)
        return {key: dict(part.to_json()) for key, part in graded.items()}

    return grade
