"""The references of a driver's part without a kind: the instructor's solution run through the
same driver calls as the student's code, in the sandbox (one run), and each declared mistake's
mutant likewise (one run each). Nothing of theirs runs here: the caller's ``run`` does it.

A student's references cost 1 + M sandbox runs, so each run is kept once per set content, part,
student and module (the solution, or a mistake's mutant) in a bounded LRU (:data:`CACHE_SIZE`
runs); a set changed in any way (its solution, its driver, a test) has another digest, so a stale
reference is never served. A run is kept only when it ran to its end: every call answered, each
with what the code returned or raised. A run stopped for time or memory may be the machine's, or
its student's budget spent before it (the service's ``run`` stops a run there): kept, it would
stand for every later student of the same draw (all of a set without randomization), a solution
without its reference or a mistake never named.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import replace

from grader.code.plan import Planned, Solved, planned
from problems.code import mutants
from problems.sets import ProblemSet
from sandbox.calls import Call, CallResult
from sandbox.calls import Status as RunStatus

#: ``run(runtime, source, calls)``: the calls made on the module in a sandbox of that runtime.
Run = Callable[[str, str, Sequence[Call]], list[CallResult]]
#: Runs kept (each a few small arrays per test): a student's solution and mutants are 1 + M of them.
CACHE_SIZE = 4096
#: How a run that answered a call ended when it ran to its end (anything else: stopped).
_TO_ITS_END = (RunStatus.OK, RunStatus.ERROR)

_lock = threading.Lock()
_cache: OrderedDict[tuple[str, ...], tuple[CallResult, ...]] = OrderedDict()


def with_references(
    problem_set: ProblemSet, key: str, student: str | None, plans: list[Planned], run: Run
) -> list[Planned]:
    """The plans of ``key`` with their references: a kind's plans as they are (its solvers answer),
    a driver's with the solution's and the mutants' outputs on the same draw."""
    part = problem_set.code()[key]
    if part.kind is not None:
        return plans
    found = solved(problem_set, key, student, run)
    return [replace(plan, solved=one) for plan, one in zip(plans, found, strict=True)]


def solved(problem_set: ProblemSet, key: str, student: str | None, run: Run) -> tuple[Solved, ...]:
    """Per test of ``key`` for ``student``: the solution's outputs and each mistake's (each run
    cached once it ran to its end)."""
    part = problem_set.code()[key]
    solution = problem_set.solution_of(key)
    digest = hashlib.sha256("\x1f".join((part.model_dump_json(), solution, part.runtime)).encode()).hexdigest()
    remembered = (problem_set.id, problem_set.version, key, "" if student is None else student, digest)
    calls = [plan.call for plan in planned(problem_set, key, student)]

    def ran(module: str, source: str) -> tuple[CallResult, ...]:
        return _ran((*remembered, module), lambda: run(part.runtime, source, calls), len(calls))

    results = ran("solution", solution)
    mutated = [
        (mistake.code, ran(f"mistake {number}", mutants.source(mistake, solution)))
        for number, mistake in enumerate(part.mistakes)
    ]
    return tuple(
        Solved(
            result.outputs if result.status is RunStatus.OK else None,
            "" if result.status is RunStatus.OK else f"{result.status.value}: {result.message}",
            tuple((code, runs[index]) for code, runs in mutated),
        )
        for index, result in enumerate(results)
    )


def _ran(remembered: tuple[str, ...], run: Callable[[], list[CallResult]], count: int) -> tuple[CallResult, ...]:
    """One module's run on every call: kept, or made (and kept if it ran to its end)."""
    with _lock:
        if remembered in _cache:
            _cache.move_to_end(remembered)
            return _cache[remembered]
    raw = run()
    results = _padded(raw, count)
    if len(raw) == count and all(result.status in _TO_ITS_END for result in raw):
        with _lock:
            _cache[remembered] = results
            while len(_cache) > CACHE_SIZE:
                _cache.popitem(last=False)
    return results


def _padded(results: list[CallResult], count: int) -> tuple[CallResult, ...]:
    """One result per call: a run stopped early leaves the rest not run."""
    missing = CallResult(RunStatus.ERROR, message="not run: the sandbox stopped before this test")
    return (*results[:count], *[missing] * (count - len(results)))


def forget() -> None:
    """Empty the cache (tests; a process that must not serve what it computed before)."""
    with _lock:
        _cache.clear()
