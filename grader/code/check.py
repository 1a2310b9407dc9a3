"""A set's code parts checked before students see them.

- :func:`mutant_issues` (pure, part of ``grader.selftest.check_set``): every built-in mistake of a
  part's kind must change the output of some test beyond the tolerance AND be named there by the
  judge; a set whose tests cannot tell a mistake from the right answer is refused at the part's
  ``tests``, naming the mistake.
- :func:`check_solution`: the instructor's solution, run through the caller's sandbox, must pass
  every test (on the set's own draw and two probe students'), else it is refused at the test.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from grader.code.judge import graded, judge
from grader.code.plan import Planned, planned
from grader.comparison.mistakes import EXPLANATIONS
from grader.results import TestStatus
from problems.code.kinds import Outputs
from problems.code.parts import CodePart
from problems.issues import Issue
from problems.loader import PROBE_STUDENTS
from problems.positions import Step
from problems.sets import ProblemSet
from sandbox.calls import Call, CallResult
from sandbox.calls import Status as RunStatus

#: ``run(runtime, source, calls)``: the calls made on the module in a sandbox of that runtime.
Run = Callable[[str, str, Sequence[Call]], list[CallResult]]
#: Whose draws the solution is run on: the set's own and two students'.
SOLUTION_STUDENTS: tuple[str | None, ...] = (None, *PROBE_STUDENTS[:2])


def mutant_issues(problem_set: ProblemSet) -> list[Issue]:
    """Each built-in mistake no test of its part catches and names, one issue per mistake. A mistake
    with several forms (padding on the top and left only, or on the bottom and right only) is caught
    when every form is caught by some test."""
    issues = []
    for index, position, key, part in _code_parts(problem_set):
        plans = planned(problem_set, key, None)
        for code in part.kind.mutants:
            if not _caught(part, plans, code):
                message = (
                    f"no test of {key} catches the mistake {code!r} ({EXPLANATIONS[code]}): add a test where it "
                    "changes the output, and tells it from the other mistakes"
                )
                issues.append(_issue(problem_set, ("problems", index, "parts", position, "tests"), message))
    return issues


def _caught(part: CodePart, plans: Sequence[Planned], code: str) -> bool:
    """Whether a module making the mistake ``code``, in each of its forms, fails some test named by
    it, as the judge grades the whole part (a test where the form changes nothing passes)."""
    mistaken = [[outputs for mistake, outputs in plan.mistakes if mistake == code] for plan in plans]
    forms = max((len(found) for found in mistaken), default=0)
    for number in range(forms):
        results = [
            _returned(found[number] if number < len(found) else plan.reference)
            for plan, found in zip(plans, mistaken, strict=True)
        ]
        tests = graded("", part, plans, results, {}).tests or ()
        if not any(test.status is TestStatus.INCORRECT and test.misconception == code for test in tests):
            return False
    return forms > 0


def _returned(outputs: Outputs) -> CallResult:
    """What the sandbox hands back for a function that returned these arrays."""
    return CallResult(RunStatus.OK, outputs=outputs, returned_tuple=len(outputs) > 1)


def check_solution(problem_set: ProblemSet, run: Run) -> list[Issue]:
    """Every test each code part's solution fails, at the test's line. Raises
    ``sandbox.SandboxUnavailable`` when the sandbox cannot start (nothing is known then)."""
    issues = []
    failed: set[tuple[str, int]] = set()
    for index, position, key, part in _code_parts(problem_set):
        source = problem_set.solution_of(key)
        for student in SOLUTION_STUDENTS:
            plans = planned(problem_set, key, student)
            results = run(part.runtime, source, [plan.call for plan in plans])
            for number, (plan, result) in enumerate(zip(plans, results, strict=False)):
                status, feedback, _ = judge(part, plan, result, part.kind.solution_answers(plan.test, result.outputs))
                if status is TestStatus.CORRECT or (key, number) in failed:
                    continue
                failed.add((key, number))
                variant = f" (variant for {student!r})" if student else ""
                message = f"the solution fails the test {plan.test.name!r}{variant}: {status.value}: {feedback}"
                issues.append(_issue(problem_set, ("problems", index, "parts", position, "tests", number), message))
    return issues


def _code_parts(problem_set: ProblemSet) -> list[tuple[int, int, str, CodePart]]:
    """Each code part with its entry's index and its position among the entry's parts."""
    return [
        (index, problem.position(part.key), f"{problem.id}.{part.key}", part)
        for index, problem in enumerate(problem_set.problems)
        for part in problem.code
    ]


def _issue(problem_set: ProblemSet, path: Sequence[Step], message: str) -> Issue:
    position = problem_set.where.find(path) if problem_set.where is not None else None
    index = path[1]
    assert isinstance(index, int)
    line, column = (position.line, position.column) if position else (None, None)
    return Issue(line, column, ".".join(str(step) for step in path[2:]), message, problem_set.problems[index].id)
