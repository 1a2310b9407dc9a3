"""Grading code parts: a student's module run in the sandbox on tests drawn for them, judged
against our solvers' references, or (a driver's part without a kind) the instructor's solution
run through the same driver calls in the sandbox (``references``, cached). Pure: the caller hands
in ``run``, which routes to a warm ``sandbox.Sandbox`` per runtime; code is never run any other way
(no sandbox: the part is ``invalid``, with a sentence saying why).

- :func:`grade_code`: every (answered) code part of a submission, one run per part.
- :func:`check_solution`: the set's solutions must pass their tests (``grader check``, an upload);
  :func:`checked_code` adds the notes that refuse nothing.
- :func:`visible_tests`: a graded part's tests as a reader may see them.
- ``plan.calls_for``: the calls of one part for one student; ``source.read_source``: the answer's
  text as a module (a notebook's code cells), or why not; ``source.read_module`` adds the note on a
  notebook's lines set aside (``%matplotlib``, ``!pip``), which the part's feedback carries, queued
  and graded.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, replace

from grader.code.check import CodeCheck, check_solution, checked_code, mutant_issues
from grader.code.judge import NOT_RUN, graded
from grader.code.plan import Planned, calls_for, planned
from grader.code.references import Run, with_references
from grader.code.source import Refused, read_module, read_source
from grader.code.visibility import visible_tests
from grader.results import GradedPart, GradedSubmission, Status
from problems.code.parts import CodePart
from problems.kinds import JSON
from problems.sets import ProblemSet
from sandbox.calls import CallResult
from sandbox.calls import Status as RunStatus
from sandbox.walls import SandboxFailed, SandboxUnavailable

QUEUED = "Queued: your code runs in the sandbox; its result appears here."
RUNNING = "Running in the sandbox."
NO_ANSWER = "No answer given."


#: How a code part not run for want of a sandbox opens its feedback.
NOT_GRADED_HERE = "Code is not graded on this server"
#: How a code part opens its feedback when the sandbox failed before the module was loaded.
SANDBOX_FAILED = "Not graded: the sandbox failed"
#: The order a run makes its tests in: those a student reads first, those shown after the close
#: next, the hidden ones last. The sandbox hands its process each call only once the one before has
#: answered, so no message a student reads can hold a test's inputs that are not shown.
RUN_ORDER = {"visible": 0, "after_close": 1, "hidden": 2}


def unavailable(reason: str) -> str:
    return f"{NOT_GRADED_HERE}: the sandbox could not start ({reason})."


def not_graded(error: SandboxUnavailable) -> str:
    """Why a code part was not graded: the sandbox could not start, or it failed before the module
    was loaded (the server's failure, said so: none of the student's code ran)."""
    if isinstance(error, SandboxFailed):
        return f"{SANDBOX_FAILED} before your code was loaded ({error}); your code is not at fault."
    return unavailable(str(error))


def _noted(feedback: str, note: str) -> str:
    """A part's feedback followed by the note on its notebook's lines set aside, if any."""
    return " ".join(text for text in (feedback, note) if text)


def received(key: str, part: CodePart, raw: JSON) -> GradedPart:
    """A code answer as submitted, before it runs: ``unanswered`` when blank, ``invalid`` with the
    reason when it cannot be run (not text, too large, a notebook with shell lines, a syntax error),
    else ``queued`` (with the note on a notebook's lines set aside). A part answered with a number
    about another part's code (``module``) is ``queued`` once answered: the number is read when that
    code runs."""
    if part.module is not None:
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            return GradedPart(key, 0.0, part.points, Status.UNANSWERED, NO_ANSWER)
        return GradedPart(key, 0.0, part.points, Status.QUEUED, QUEUED)
    source, note = read_module(raw)
    if source is None:
        return GradedPart(key, 0.0, part.points, Status.UNANSWERED, NO_ANSWER)
    if isinstance(source, Refused):
        return GradedPart(key, 0.0, part.points, Status.INVALID, source.reason)
    return GradedPart(key, 0.0, part.points, Status.QUEUED, _noted(QUEUED, note))


Read = Callable[[JSON], tuple[str | Refused | None, str]]


def _read_once() -> Read:
    """:func:`read_module`, each text read once: one file answering four parts is checked (its size,
    its notebook, its syntax) once, not once per part."""
    read: dict[str, tuple[str | Refused | None, str]] = {}

    def reading(raw: JSON) -> tuple[str | Refused | None, str]:
        if not isinstance(raw, str):
            return read_module(raw)
        if raw not in read:
            read[raw] = read_module(raw)
        return read[raw]

    return reading


def _runnable(key: str, part: CodePart, answers: Mapping[str, JSON], read: Read) -> tuple[str, str] | GradedPart:
    """The module the part's tests run (its own answer, or that of the part its ``module`` names) with
    the note on its own notebook's lines set aside ("" for another part's), or the part's grade when
    there is nothing to run."""
    if part.module is None:
        source, note = read(answers.get(key))
        return (source, note) if isinstance(source, str) else received(key, part, answers.get(key))
    own = received(key, part, answers.get(key))
    if own.status is not Status.QUEUED:
        return own
    module_key = f"{key.partition('.')[0]}.{part.module}"
    source = read(answers.get(module_key))[0]
    if isinstance(source, str):
        return source, ""
    checked = f"This answer is checked by running your code in {module_key}"
    feedback = f"{checked}, which has no answer." if source is None else f"{checked}, which cannot run. {source.reason}"
    return GradedPart(key, 0.0, part.points, Status.INVALID, feedback)


@dataclass(frozen=True)
class _Runnable:
    """A code part ready to run: its module's text, the note on its notebook's lines set aside, and
    its tests drawn for the student."""

    key: str
    part: CodePart
    source: str
    note: str
    plans: list[Planned]


def grade_code(
    problem_set: ProblemSet,
    answers: Mapping[str, JSON],
    *,
    student: str | None,
    run: Run,
    keys: Collection[str] | None = None,
) -> dict[str, GradedPart]:
    """Every code part of the set (or those of ``keys``), from the submission's whole ``answers``
    (a kind may judge against another answer): blank → ``unanswered``; unreadable → ``invalid``;
    else run in the sandbox and judged test by test. The parts that run the same module in the same
    runtime (one uploaded file answering four parts) share one run (``run(runtime, source,
    calls)``): the module is loaded once, and a call that times out or crashes costs that call
    only, as within a part. Where the sandbox cannot start, the part is ``invalid`` and says so. A
    judged part's feedback ends with the note on its notebook's lines set aside (``%matplotlib``,
    ``!pip``), if any."""
    found: dict[str, GradedPart] = {}
    runs: dict[tuple[str, str], list[_Runnable]] = {}
    read = _read_once()
    for key, part in problem_set.code().items():
        if keys is not None and key not in keys:
            continue
        runnable = _runnable(key, part, answers, read)
        if isinstance(runnable, GradedPart):
            found[key] = runnable
            continue
        source, note = runnable
        plans = planned(problem_set, key, student)
        runs.setdefault((part.runtime, source), []).append(_Runnable(key, part, source, note, plans))
    for (runtime, source), parts in runs.items():
        try:
            results = _run_in_order(run, runtime, source, [plan for each in parts for plan in each.plans])
        except SandboxUnavailable as error:
            for each in parts:
                found[each.key] = GradedPart(each.key, 0.0, each.part.points, Status.INVALID, not_graded(error))
            continue
        start = 0
        for each in parts:
            own, start = results[start : start + len(each.plans)], start + len(each.plans)
            found[each.key] = _judged(problem_set, each, own, answers, student=student, run=run)
    return {key: found[key] for key in problem_set.code() if key in found}  # the set's order


def _run_in_order(run: Run, runtime: str, source: str, plans: list[Planned]) -> list[CallResult]:
    """The results of the plans' calls in the plans' order, the calls made in :data:`RUN_ORDER`."""
    order = sorted(range(len(plans)), key=lambda index: RUN_ORDER[plans[index].test.visibility])
    made = run(runtime, source, [plans[index].call for index in order])
    results = [CallResult(RunStatus.ERROR, message=NOT_RUN)] * len(plans)  # (a run answers every call)
    for index, result in zip(order, made, strict=False):
        results[index] = result
    return results


def _judged(
    problem_set: ProblemSet,
    each: _Runnable,
    results: list[CallResult],
    answers: Mapping[str, JSON],
    *,
    student: str | None,
    run: Run,
) -> GradedPart:
    """One part judged on its calls' results, its references the kind's or its solution's (run, or
    found cached, through ``run``)."""
    try:
        plans = with_references(problem_set, each.key, student, each.plans, run)
    except SandboxUnavailable as error:
        return GradedPart(each.key, 0.0, each.part.points, Status.INVALID, not_graded(error))
    judged = graded(each.key, each.part, plans, results, answers)
    return replace(judged, feedback=_noted(judged.feedback, each.note)) if each.note else judged


def with_code(
    graded: GradedSubmission, problem_set: ProblemSet, answers: Mapping[str, JSON], *, student: str | None, run: Run
) -> GradedSubmission:
    """A submission graded by the engine (its code parts ``queued``) with those parts run and judged:
    what grading offline does in one go (the service runs them as jobs)."""
    queued = [key for key, part in graded.parts.items() if part.status is Status.QUEUED]
    if not queued:
        return graded
    done = grade_code(problem_set, answers, student=student, run=run, keys=queued)
    return replace(graded, parts={key: done.get(key, part) for key, part in graded.parts.items()})


__all__ = [
    "NOT_GRADED_HERE",
    "QUEUED",
    "RUNNING",
    "RUN_ORDER",
    "SANDBOX_FAILED",
    "CodeCheck",
    "Refused",
    "Run",
    "calls_for",
    "check_solution",
    "checked_code",
    "grade_code",
    "mutant_issues",
    "not_graded",
    "read_module",
    "read_source",
    "received",
    "unavailable",
    "visible_tests",
    "with_code",
]
