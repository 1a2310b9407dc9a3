"""The SQLite service's grading of code, in processes of its own: the judging (each test's reference
and the declared mistakes computed, the student's outputs compared) is CPU work in Python, and in
the service's process it held the interpreter while 300 students' ``POST`` waited for it. Here each
run is handed to one of a few child processes, each with its warm sandboxes, at a lower priority
(:func:`api.kit.priority.lower_priority`); the runner's threads (:mod:`api.code_runs.local`) only
claim a run, wait for its results and write them. A ``grader worker --queue code`` on PostgreSQL
judges in such processes too, one per job it runs at once, for the same reason: its interpreter is
the queue's and the database's.

A child keeps the sets it was sent (pickled once per version by the service) and the students'
draws it made, so a set is parsed and a student's problems drawn once per child, not per run. A
child that dies (killed, out of memory) breaks its pool: a new pool is started and the run tried
once more in it; a second failure is the run's (:func:`api.code_runs.run.run_code` then says the
grader failed, and the run is tried again at most :data:`api.code_runs.run.MAX_RUNS` times).
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import multiprocessing
import os
import pickle
import select
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Collection
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from multiprocessing import util
from typing import Any

from api.code_runs.grading import Sandboxed
from api.code_runs.sandboxes import Sandboxes
from api.kit import metrics
from api.kit.priority import lower_priority
from problems.sets import ProblemSet
from sandbox import Limits, SandboxUnavailable

log = logging.getLogger("grader.code")

#: Sets a child keeps parsed, and the service keeps pickled (a term uses a few versions at once).
KEPT_SETS = 8

#: What a child is asked: the set's version and pickled text, the answers, the variant, and the
#: run's allowance of sandbox wall time with the reason it stops (None: no allowance).
Within = tuple[float, str] | None

# A child's own state (set by :func:`_start` in each child, never in the service).
_sandboxes: Sandboxes | None = None
_sets: OrderedDict[str, ProblemSet] = OrderedDict()


class JudgeProcesses:
    """Grades code parts in ``processes`` child processes (started at the first run), each with warm
    sandboxes of its own. A :class:`api.code_runs.run.Stoppable`. Thread-safe: as many runs at once
    as there are processes."""

    def __init__(
        self,
        *,
        processes: int,
        limits: Limits | None = None,
        packages: Collection[str] | None = None,
        warm: str | None = None,
        busy: Callable[[float], None] = metrics.SANDBOXES_BUSY.inc,
    ) -> None:
        """``warm``: a runtime whose sandbox each child starts as it starts (:meth:`start`), not at its
        first run; ``busy``: told +1 as a run is handed to a child and -1 as it ends (the gauge of
        sandboxes busy, or a relay to the process that serves it)."""
        if processes < 1:
            raise ValueError("at least one judging process")
        self.processes = processes
        self.limits = limits or Limits()
        self.packages = None if packages is None else tuple(packages)
        self.warm = warm
        self.busy = busy
        self._lock = threading.Lock()
        self._pool: ProcessPoolExecutor | None = None
        self._pickled: OrderedDict[str, bytes] = OrderedDict()

    def __call__(
        self, problem_set: ProblemSet, answers: dict[str, Any], variant: str | None
    ) -> dict[str, dict[str, Any]]:
        return self._graded(problem_set, answers, variant, None)

    def within(self, seconds: float, reason: str) -> Callable[..., dict[str, dict[str, Any]]]:
        """The same grader, the run's sandbox calls stopped ``seconds`` after it starts in its process."""

        def grade(problem_set: ProblemSet, answers: dict[str, Any], variant: str | None) -> dict[str, dict[str, Any]]:
            return self._graded(problem_set, answers, variant, (seconds, reason))

        return grade

    def start(self) -> None:
        """Every child started now (and its sandbox of the ``warm`` runtime), not at the first runs:
        a code worker added at a deadline then judges its first submissions as fast as the next
        ones. Returns once they are up. (A pool starts a child for each task sent while none is
        idle: ``processes`` tasks sent at once start them all.) A child that dies as it starts
        leaves the pool to be started again at the first run, as without this."""
        pool = self._running()
        try:
            for started in [pool.submit(_started) for _ in range(self.processes)]:
                started.result()
        except BrokenProcessPool:
            log.warning("a judging process ended as it started: they start again at the first run")
            self._replace(pool)

    def close(self) -> None:
        """Stops the children (and their sandboxes) once their runs are over; a later run starts them again."""
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)

    def _graded(
        self, problem_set: ProblemSet, answers: dict[str, Any], variant: str | None, within: Within
    ) -> dict[str, dict[str, Any]]:
        pickled = self._pickle(problem_set)
        self.busy(1)
        try:
            for attempt in (1, 2):
                pool = self._running()
                try:
                    return pool.submit(_judge, problem_set.version, pickled, answers, variant, within).result()
                except BrokenProcessPool:
                    self._replace(pool)
                    if attempt == 2:
                        raise
            raise AssertionError("unreachable")
        finally:
            self.busy(-1)

    def _pickle(self, problem_set: ProblemSet) -> bytes:
        """The set as sent to a child: without the draws this process made (a fresh copy), pickled
        once per version."""
        version = problem_set.version
        with self._lock:
            if version and version in self._pickled:
                self._pickled.move_to_end(version)
                return self._pickled[version]
        pickled = pickle.dumps(dataclasses.replace(problem_set), protocol=pickle.HIGHEST_PROTOCOL)
        if version:
            with self._lock:
                self._pickled[version] = pickled
                while len(self._pickled) > KEPT_SETS:
                    self._pickled.popitem(last=False)
        return pickled

    def _running(self) -> ProcessPoolExecutor:
        with self._lock:
            if self._pool is None:
                # forkserver: a child is forked from a clean, single-threaded process that has
                # imported this module once, not from the service's threads, nor started from nothing
                context = multiprocessing.get_context("forkserver")
                context.set_forkserver_preload([__name__])
                self._pool = ProcessPoolExecutor(
                    self.processes,
                    mp_context=context,
                    initializer=_start,
                    initargs=(self.limits, self.packages, os.getpid(), self.warm),
                )
            return self._pool

    def _replace(self, broken: ProcessPoolExecutor) -> None:
        with self._lock:
            if self._pool is broken:
                self._pool = None
        broken.shutdown(wait=False, cancel_futures=True)


def _start(limits: Limits, packages: tuple[str, ...] | None, service: int, warm: str | None = None) -> None:
    """In each child, before anything runs: a session of its own and its priority lowered, its end
    tied to the ``service`` process's, its sandboxes made (the ``warm`` runtime's started now, the
    others at their first run), and closed as it exits.

    The session, because with the kernel's autogroups a session is weighed as one process, its
    members' niceness counting only among themselves: in the service's session the judging shared
    the service's weight, so beside other busy processes the busier the judging, the less of the
    service's share was left for the students' requests. Leading its own, the child lowers its own
    group's weight (:func:`lower_priority`)."""
    global _sandboxes
    with contextlib.suppress(OSError):  # (already a session's leader)
        os.setsid()
    lower_priority()
    _end_with(service)
    _sandboxes = Sandboxes(size=1, limits=limits, packages=packages, counted=False)
    util.Finalize(None, _sandboxes.close, exitpriority=10)
    if warm is not None:
        try:
            _sandboxes.warm(warm)
        except SandboxUnavailable as error:  # (the first run tries again, and says why in its result)
            log.warning("the judging process's %s sandbox did not start: %s", warm, error)


def _started() -> None:
    """A task that only makes a pool start a child (:meth:`JudgeProcesses.start`)."""


def _end_with(service: int) -> None:
    """Exits this child as soon as ``service`` ends, however it ends. Needed: a forkserver's child
    is not the service's, so no signal reaches it when the service is killed (SIGKILL, the OOM
    killer), and each child holds the forkserver open; both would idle on, warm sandboxes and all,
    for as long as the host runs. A thread waits on the service's pidfd (Linux 5.3), or looks
    every second where there is none."""
    try:
        pidfd = os.pidfd_open(service)
    except (AttributeError, OSError):
        pidfd = None
    if not _alive(service):  # (it ended before this child started)
        os._exit(1)

    def watch() -> None:
        if pidfd is not None:
            select.select([pidfd], [], [])
        else:
            while _alive(service):
                time.sleep(1)
        os._exit(1)

    threading.Thread(target=watch, name="grader-judge-ends-with-service", daemon=True).start()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _judge(
    version: str, pickled: bytes, answers: dict[str, Any], variant: str | None, within: Within
) -> dict[str, dict[str, Any]]:
    """In a child: the submission's code parts graded, key → part JSON."""
    assert _sandboxes is not None, "a judging process is started by _start"
    problem_set = _sets.get(version) if version else None
    if problem_set is None:
        problem_set = pickle.loads(pickled)
        if version:
            _sets[version] = problem_set
            while len(_sets) > KEPT_SETS:
                _sets.popitem(last=False)
    else:
        _sets.move_to_end(version)
    grader = Sandboxed(_sandboxes)
    grade = grader if within is None else grader.within(*within)
    return grade(problem_set, answers, variant)
