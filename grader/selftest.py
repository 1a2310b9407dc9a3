"""A set's tests of itself, run by the grading engine: every part's own correct, incorrect and
unreadable answers (``grader.examples``) on the declared numbers and every probe variant, the
answers the set file declares under a part's ``checks``, and for a code part, that its tests catch
and name every built-in mistake of its kind (``grader.code.check``; running the solution needs
the sandbox, so that check is the caller's: ``grader.code.check_solution``).

A check with a literal ``answer`` is graded on the declared numbers only (a randomized set's
variants have other answers); a check with ``mistake: CODE`` grades the answer that mistake
computes, on the declared numbers and on every probe variant: any mistake grading names for the
part (``grader.comparison.reference``), a solver's or one seen in the value alone (``macs-vs-flops``).
Pure, like the engine: the issues are returned, placed in the set file when the set was read from one.
"""

from __future__ import annotations

from collections.abc import Sequence

from grader.code import mutant_issues
from grader.comparison.mistakes import EXPLANATIONS
from grader.comparison.reference import reference_for
from grader.engine import grade_submission
from grader.examples import choice_examples, examples
from grader.results import GradedPart, Status
from problems.issues import Issue
from problems.kinds import JSON
from problems.loader import PROBE_STUDENTS
from problems.parts import Check
from problems.positions import Step
from problems.render import to_json
from problems.sets import ProblemSet
from problems.solutions import step_issues


def check_set(problem_set: ProblemSet) -> list[Issue]:
    """Every way the set fails its own tests (none for a good set)."""
    issues: list[Issue] = []
    students = (None, *PROBE_STUDENTS) if problem_set.randomized else (None,)
    failed: set[tuple[str, str]] = set()  # (key, which example): a part failing on every variant is one issue
    for student in students:
        issues += _own_examples(problem_set, student, failed)
        issues += _own_steps(problem_set, student, failed)
    return issues + _declared_checks(problem_set, students) + mutant_issues(problem_set)


def _own_steps(problem_set: ProblemSet, student: str | None, failed: set[tuple[str, str]]) -> list[Issue]:
    """Every part's worked solution ends on its reference (the steps come from the solvers)."""
    places = _places(problem_set)
    issues = []
    for key, message in step_issues(problem_set, student).items():
        if (key, "steps") not in failed:
            failed.add((key, "steps"))
            index, number = places[key]
            issues.append(_issue(problem_set, ("problems", index, "parts", number), message + _variant(student)))
    return issues


def _issue(problem_set: ProblemSet, path: Sequence[Step], message: str) -> Issue:
    """An issue at a node of the set file (``("problems", 2, "parts", 0)``): field and problem
    from the path, line and column from the file when the set has one."""
    position = problem_set.where.find(path) if problem_set.where is not None else None
    index = path[1]
    assert isinstance(index, int)
    field = ".".join(str(step) for step in path[2:])
    line, column = (position.line, position.column) if position else (None, None)
    return Issue(line, column, field or None, message, problem_set.problems[index].id)


def _places(problem_set: ProblemSet) -> dict[str, tuple[int, int]]:
    """Each key's entry and part index."""
    return {
        f"{problem.id}.{part.key}": (index, problem.position(part.key))
        for index, problem in enumerate(problem_set.problems)
        for part in problem.in_order()
    }


def _variant(student: str | None) -> str:
    return f" (variant for {student!r})" if student else ""


def _own_examples(problem_set: ProblemSet, student: str | None, failed: set[tuple[str, str]]) -> list[Issue]:
    """The reference answers graded together, then each nudged one alone (a wrong answer among
    other wrong ones could earn follow-through credit), then unreadable ones together."""
    answers = problem_set.solve(student)
    own = {key: examples(answer) for key, answer in answers.items()}
    own |= {key: choice_examples(part) for key, part in problem_set.choice().items()}
    places = _places(problem_set)
    issues: list[Issue] = []

    def refuse(key: str, which: str, message: str) -> None:
        if (key, which) in failed:
            return
        failed.add((key, which))
        index, number = places[key]
        issues.append(_issue(problem_set, ("problems", index, "parts", number), message + _variant(student)))

    graded = grade_submission(problem_set, {key: e.correct for key, e in own.items()}, student=student).parts
    for key, example in own.items():
        if graded[key].status is not Status.CORRECT:
            refuse(key, "correct", f"its reference answer {_shown(example.correct)} is graded {_verdict(graded[key])}")
    for key, example in own.items():
        part = grade_submission(problem_set, {key: example.incorrect}, student=student).parts[key]
        if part.status is Status.CORRECT:
            refuse(key, "incorrect", f"a wrong answer, {_shown(example.incorrect)}, is graded correct")
    graded = grade_submission(problem_set, {key: e.unreadable for key, e in own.items()}, student=student).parts
    for key, example in own.items():
        if graded[key].status is not Status.INVALID:
            refuse(
                key,
                "unreadable",
                f"an unreadable answer, {_shown(example.unreadable)}, is graded {_verdict(graded[key])}",
            )
    return issues


def _declared_checks(problem_set: ProblemSet, students: tuple[str | None, ...]) -> list[Issue]:
    issues: list[Issue] = []
    for index, problem in enumerate(problem_set.problems):
        for part in problem.parts:
            key = problem.key(part)
            for position, check in enumerate(part.checks):
                path = ("problems", index, "parts", problem.position(part.key), "checks", position)
                issues += [_issue(problem_set, path, message) for message in _run(problem_set, key, check, students)]
    return issues


def _run(problem_set: ProblemSet, key: str, check: Check, students: tuple[str | None, ...]) -> list[str]:
    """What is wrong with one check: unknown codes, or each variant where it grades otherwise."""
    unknown = [code for code in (check.mistake, check.misconception) if code is not None and code not in EXPLANATIONS]
    if unknown:
        return [f"no mistake has the code {code!r} (see the reference for the codes)" for code in unknown]
    if check.mistake is None:
        return _compare(problem_set, key, check, check.answer, None)
    found: list[str] = []
    for student in students:
        # the mistakes grading names here, those a solver computes and those seen in the value alone
        # (``macs-vs-flops``): a check may name any of them, and no other
        part = reference_for(problem_set, student).parts[key]
        mistaken = next((value for code, value in part.mistakes if code.partition("@")[0] == check.mistake), None)
        if mistaken is None:
            return [f"the mistake {check.mistake!r} does not change the answer to {key}{_variant(student)}"]
        found += _compare(problem_set, key, check, to_json(part.answer.kind, mistaken), student)
    return found[:1]


def _compare(problem_set: ProblemSet, key: str, check: Check, answer: JSON, student: str | None) -> list[str]:
    graded = grade_submission(problem_set, {key: answer}, student=student).parts[key]
    wrong_status = graded.status.value != check.status
    wrong_code = check.misconception is not None and graded.misconception != check.misconception
    if not (wrong_status or wrong_code):
        return []
    expected = check.status + (f" ({check.misconception})" if check.misconception else "")
    return [f"the answer {_shown(answer)} is graded {_verdict(graded)}, not {expected}{_variant(student)}"]


def _verdict(part: GradedPart) -> str:
    return part.status.value + (f" ({part.misconception})" if part.misconception else "")


def _shown(answer: JSON) -> str:
    text = repr(answer) if isinstance(answer, str) else str(answer)
    return text if len(text) <= 60 else text[:57] + "..."
