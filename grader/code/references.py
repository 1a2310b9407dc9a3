"""The references of a driver's part without a kind: the instructor's solution run through the
same driver calls as the student's code, in the sandbox (one run), and each declared mistake's
mutant likewise (one run each). Nothing of theirs runs here: the caller's ``run`` does it.

A student's references cost 1 + M sandbox runs, so they are computed once per set content,
part, student and kept in a bounded LRU (:data:`CACHE_SIZE` entries); a set changed in any way
(its solution, its driver, a test) has another digest, so a stale reference is never served. An
outcome that may be the machine's (a solution stopped for time or memory) is not kept.
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
#: Students' references kept (each a few small arrays per test and mistake).
CACHE_SIZE = 512

_lock = threading.Lock()
_cache: OrderedDict[tuple[str, ...], tuple[Solved, ...]] = OrderedDict()


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
    """Per test of ``key`` for ``student``: the solution's outputs and each mistake's (cached)."""
    part = problem_set.code()[key]
    solution = problem_set.solution_of(key)
    digest = hashlib.sha256("\x1f".join((part.model_dump_json(), solution, part.runtime)).encode()).hexdigest()
    remembered = (problem_set.id, problem_set.version, key, "" if student is None else student, digest)
    with _lock:
        if remembered in _cache:
            _cache.move_to_end(remembered)
            return _cache[remembered]
    calls = [plan.call for plan in planned(problem_set, key, student)]
    raw = run(part.runtime, solution, calls)
    results = _padded(raw, len(calls))
    mutated = [
        (mistake.code, _padded(run(part.runtime, mutants.source(mistake, solution), calls), len(calls)))
        for mistake in part.mistakes
    ]
    found = tuple(
        Solved(
            result.outputs if result.status is RunStatus.OK else None,
            "" if result.status is RunStatus.OK else f"{result.status.value}: {result.message}",
            tuple((code, runs[index]) for code, runs in mutated),
        )
        for index, result in enumerate(results)
    )
    if len(raw) == len(calls) and all(result.status in (RunStatus.OK, RunStatus.ERROR) for result in raw):
        with _lock:
            _cache[remembered] = found
            while len(_cache) > CACHE_SIZE:
                _cache.popitem(last=False)
    return found


def _padded(results: list[CallResult], count: int) -> list[CallResult]:
    """One result per call: a run stopped early leaves the rest not run."""
    missing = CallResult(RunStatus.ERROR, message="not run: the sandbox stopped before this test")
    return [*results[:count], *[missing] * (count - len(results))]


def forget() -> None:
    """Empty the cache (tests; a process that must not serve what it computed before)."""
    with _lock:
        _cache.clear()
