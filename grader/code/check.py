"""A set's code parts checked before students see them.

- :func:`mutant_issues` (pure, part of ``grader.selftest.check_set``): every built-in mistake of a
  part's kind must change the output of some test beyond the tolerance AND be named there by the
  judge; a set whose tests cannot tell a mistake from the right answer is refused at the part's
  ``tests``, naming the mistake. A driver's own mistake needs feedback unless the catalogue has it.
- :func:`check_solution`: the instructor's solution (and driver, and mutants) must compile, apart
  (:mod:`sandbox.syntax`); run through the caller's sandbox, the solution must pass every test
  (on the set's own draw and two probe students'), else it is refused at the test; and each
  mistake a driver's part declares must fail a visible test on each of those draws, named there by
  its code alone (else: "your tests cannot tell it from a right answer", or from another mistake).
  A mutant that raises where it is never named is caught all the same (its student's test fails
  with the exception): not refused, it is a note (:func:`checked_code`), since no test could name it.
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from dataclasses import dataclass, field

from grader.code.judge import graded, judge, judged_test, named_by
from grader.code.plan import Planned, planned
from grader.code.references import Run, with_references

__all__ = ["CodeCheck", "Run", "check_solution", "checked_code", "compile_issues", "mutant_issues"]
from grader.comparison.mistakes import EXPLANATIONS
from grader.results import TestStatus
from problems.code import mutants
from problems.code.kinds import Outputs
from problems.code.parts import CodePart
from problems.issues import Issue
from problems.loader import PROBE_STUDENTS
from problems.positions import Step
from problems.sets import ProblemSet
from sandbox import syntax
from sandbox.calls import CallResult
from sandbox.calls import Status as RunStatus

#: Whose draws the solution is run on: the set's own and two students'.
SOLUTION_STUDENTS: tuple[str | None, ...] = (None, *PROBE_STUDENTS[:2])


def mutant_issues(problem_set: ProblemSet) -> list[Issue]:
    """Each built-in mistake no test of its part catches and names, one issue per mistake. A mistake
    with several forms (padding on the top and left only, or on the bottom and right only) is caught
    when every form is caught by some test."""
    issues = []
    for index, position, key, part in _code_parts(problem_set):
        if part.kind is None:
            for number, mistake in enumerate(part.mistakes):
                if mistake.feedback is None and mistake.code not in EXPLANATIONS:
                    message = f"{mistake.code!r} is not a mistake of the catalogue: say what a student reads of it"
                    where = ("problems", index, "parts", position, "mistakes", number, "feedback")
                    issues.append(_issue(problem_set, where, message))
            continue
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
            _returned(found[number] if number < len(found) else _reference(plan))
            for plan, found in zip(plans, mistaken, strict=True)
        ]
        tests = graded("", part, plans, results, {}).tests or ()
        if not any(test.status is TestStatus.INCORRECT and test.misconception == code for test in tests):
            return False
    return forms > 0


def _reference(plan: Planned) -> Outputs:
    """A kind's reference (its solvers always give one)."""
    assert plan.reference is not None
    return plan.reference


def _returned(outputs: Outputs) -> CallResult:
    """What the sandbox hands back for a function that returned these arrays."""
    return CallResult(RunStatus.OK, outputs=outputs, returned_tuple=len(outputs) > 1)


@dataclass(frozen=True)
class CodeCheck:
    """What checking a set's code parts found: the issues that refuse it, and the notes that do not
    (a declared mistake caught where it raises, but never named)."""

    issues: list[Issue] = field(default_factory=list)
    notes: list[Issue] = field(default_factory=list)


def check_solution(problem_set: ProblemSet, run: Run) -> list[Issue]:
    """Every test each code part's solution fails and every declared mistake its tests cannot name,
    at their lines (the issues of :func:`checked_code`). Raises ``sandbox.SandboxUnavailable`` when
    the sandbox cannot start (nothing is known then)."""
    return checked_code(problem_set, run).issues


def checked_code(problem_set: ProblemSet, run: Run) -> CodeCheck:
    """:func:`check_solution`'s issues, with the notes on declared mistakes caught but never named."""
    issues = compile_issues(problem_set)
    notes: list[Issue] = []
    if issues:
        return CodeCheck(issues)
    failed: set[tuple[str, int]] = set()
    for index, position, key, part in _code_parts(problem_set):
        source = problem_set.solution_of(key)
        for student in SOLUTION_STUDENTS:
            plans = planned(problem_set, key, student)
            if part.kind is None:
                plans = with_references(problem_set, key, student, plans, run)
                results = [_solution_result(plan) for plan in plans]
                unsolved = [number for number, plan in enumerate(plans) if plan.reference is None]
                for number in unsolved:
                    if (key, number) not in failed:
                        failed.add((key, number))
                        message = _unsolved(plans[number], student)
                        issues.append(
                            _issue(problem_set, ("problems", index, "parts", position, "tests", number), message)
                        )
                if not unsolved:  # (its mistakes are checked once the solution runs on every test)
                    found, noted = _mistake_issues(problem_set, (index, position), part, plans, student)
                    issues += [issue for issue in found if all(issue.field != seen.field for seen in issues)]
                    notes += [note for note in noted if all(note.field != seen.field for seen in notes)]
            else:
                results = run(part.runtime, source, [plan.call for plan in plans])
            for number, (plan, result) in enumerate(zip(plans, results, strict=False)):
                answers = part.kind.solution_answers(plan.test, result.outputs) if part.kind is not None else {}
                status, feedback, _ = judge(part, plan, result, answers)
                if status is TestStatus.CORRECT or (key, number) in failed:
                    continue
                failed.add((key, number))
                variant = f" (variant for {student!r})" if student else ""
                message = f"the solution fails the test {plan.test.name!r}{variant}: {status.value}: {feedback}"
                issues.append(_issue(problem_set, ("problems", index, "parts", position, "tests", number), message))
    refused = {issue.field for issue in issues}  # a mistake refused on one draw is no note on another
    return CodeCheck(issues, [note for note in notes if note.field not in refused])


def compile_issues(problem_set: ProblemSet) -> list[Issue]:
    """Each solution, driver and mutant module that does not compile, at its field: compiled apart,
    never in this process (:mod:`sandbox.syntax`)."""
    issues = []
    for index, position, key, part in _code_parts(problem_set):
        solution = problem_set.solution_of(key)
        texts: list[tuple[tuple[Step, ...], str, str]] = [(("problems", index, "solution"), "the solution", solution)]
        if part.driver is not None:
            body = "def __driver__():\n" + textwrap.indent(part.driver, "    ") + "\n"
            texts.append((("problems", index, "parts", position, "driver"), "the driver", body))
        for number, mistake in enumerate(part.mistakes):
            where: tuple[Step, ...] = ("problems", index, "parts", position, "mistakes", number)
            texts.append((where, f"the mistake {mistake.code!r}", mutants.source(mistake, solution)))
        for where, what, text in texts:
            problem = syntax.check(text)
            if problem is not None:
                line = problem.line and (problem.line - 1 if what == "the driver" else problem.line)  # (its header)
                said = f" (line {line})" if line else ""
                issue = _issue(problem_set, where, f"{what} does not compile{said}: {problem.message}")
                if issue not in issues:
                    issues.append(issue)
    return issues


def _unsolved(plan: Planned, student: str | None) -> str:
    """Why a driver's test has no reference, as its author reads it: the sandbox words an error for
    the module it ran (there, the solution) as a student's ("your code"); an error raised neither in
    a call of the module nor at a line of it is the driver's own."""
    variant = f" (variant for {student!r})" if student else ""
    failure = plan.solved.failure if plan.solved is not None else "not run"
    status, _, message = failure.partition(": ")
    message = message.replace("of your code", "of the solution")
    if status != RunStatus.ERROR.value:
        return f"the solution, run through the driver, fails the test {plan.test.name!r}{variant}: {failure}"
    if message.startswith("calling `") or "of the solution" in message:
        return f"the solution fails the test {plan.test.name!r}{variant}: {message}"
    if "which the test could not use" in message:
        return f"the driver fails on the test {plan.test.name!r}{variant} with what the solution returned: {message}"
    return f"the driver fails on the test {plan.test.name!r}{variant}, outside any call of the solution: {message}"


def _solution_result(plan: Planned) -> CallResult:
    """What the solution's run answered on a driver's test, as the judge reads a student's."""
    solved = plan.solved
    if solved is None or solved.reference is None:
        why = solved.failure if solved is not None else "not run"
        return CallResult(RunStatus.ERROR, message=f"the solution fails here ({why})")
    return _returned(solved.reference)


def _mistake_issues(
    problem_set: ProblemSet, at: tuple[int, int], part: CodePart, plans: Sequence[Planned], student: str | None
) -> tuple[list[Issue], list[Issue]]:
    """Each declared mistake no visible test of ``student``'s draw (None: the declared one) names by
    its code alone: one that passes them all is told from no right answer, one that fails them
    only as another mistake does is told from that one; and, as notes, each one caught where it
    raises but named nowhere (a student who makes it reads the exception). Every probe variant is
    asked, since each student meets their own draw."""
    issues: list[Issue] = []
    notes: list[Issue] = []
    index, position = at
    if part.mistakes and "equal" not in part.rules.values():  # (named by `equal` outputs alone)
        judged = ", ".join(f"`{name}`" for name in part.rules)
        for number, mistake in enumerate(part.mistakes):
            message = (
                f"`{mistake.code}` can never be named: a mistake is named where the `equal` outputs are its "
                f"mutant's, and this part judges {judged} by thresholds alone; give an output `equal`, or drop "
                "the mistake"
            )
            issues.append(_issue(problem_set, ("problems", index, "parts", position, "mistakes", number), message))
        return issues, notes
    for number, mistake in enumerate(part.mistakes):
        confused: set[str] = set()
        caught = False
        raised: tuple[str, str] | None = None  # (the test, what the student reads there)
        for plan in plans:
            if plan.test.visibility != "visible" or plan.solved is None or plan.reference is None:
                continue
            code, result = plan.solved.mutants[number]
            if result.status is RunStatus.ERROR and raised is None:
                raised = (plan.test.name, result.message)
            if result.status is not RunStatus.OK:
                continue
            if judged_test(part, plan, result, {}).status is not TestStatus.INCORRECT:
                continue
            names = set(named_by(part, plan, result.outputs))
            if names == {code}:
                caught = True
                break
            confused |= names - {code}
        if caught:
            continue
        variant = "" if student is None else f" on the variant for {student!r}"
        where = ("problems", index, "parts", position, "mistakes", number)
        if raised is not None and not confused:
            message = (
                f"`{mistake.code}` is caught, but never named: it raises on {raised[0]!r}{variant}, where a student "
                f"who makes this mistake reads the exception rather than its feedback: “{raised[1]}”"
            )
            notes.append(_issue(problem_set, where, message))
            continue
        if confused:
            others = ", ".join(f"`{other}`" for other in sorted(confused))
            message = (
                f"your tests cannot tell `{mistake.code}` from {others}{variant}: add a visible test where they differ"
            )
        else:
            message = (
                f"your tests cannot tell `{mistake.code}` from a right answer{variant}: add a visible test where "
                "this mutant's outputs differ from the solution's"
            )
        issues.append(_issue(problem_set, where, message))
    return issues, notes


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
