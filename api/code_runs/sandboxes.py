"""The process's warm sandboxes, one pool per runtime (``numpy``, ``numpy+scipy``), reused across
code runs: starting a warm worker costs 0.3 s with numpy, 1.5 s with scipy or matplotlib and
seconds with torch, running a submission in one a few milliseconds. A sandbox runs one submission at a time, so
a pool holds as many as the process grades at once.

A runtime this machine does not have (torch not installed, a package outside the code workers'
allow-list ``GRADER_CODE_PACKAGES``) is refused with a sentence, as is a sandbox that cannot start
(:class:`sandbox.SandboxUnavailable`): the engine then stores the part ``invalid`` with that
sentence, and never runs the code unsandboxed.

A run may be given a number of wall seconds (its student's budget left,
:mod:`api.code_runs.budget`): past them its sandbox's worker is killed (a warm worker is started
again for the next run), and the calls it had not answered are reported stopped, with the reason,
rather than run at 10 s of wall time each."""

from __future__ import annotations

import contextlib
import importlib.util
import os
import queue
import signal
import threading
from collections.abc import Collection, Sequence

from api.kit import metrics
from api.kit.config import not_offered
from sandbox import (
    Call,
    CallResult,
    Limits,
    Sandbox,
    SandboxUnavailable,
    Status,
    UnknownRuntime,
    runtime_parts,
    top_level_packages,
)

#: Seconds between the kills of a stopped run's worker (the sandbox starts a successor once, to try
#: again a run whose worker died before answering: that one is killed too).
KILL_EVERY = 0.05


def missing_runtime(runtime: str, offered: Collection[str] | None = None) -> str | None:
    """Why this machine cannot offer ``runtime`` to submitted code, or None: a base or a package the
    sandbox does not know, a package outside ``offered`` (the code workers' allow-list,
    ``GRADER_CODE_PACKAGES``; None: any installed here), or one not installed."""
    try:
        _, packages = runtime_parts(runtime)
        needed = top_level_packages(runtime)
    except UnknownRuntime as error:
        return str(error)
    if offered is not None and (refused := [package for package in packages if package not in offered]):
        return not_offered(refused, offered)
    absent = [package for package in needed if importlib.util.find_spec(package) is None]
    if absent:
        install = " ".join("'grader[torch]'" if package == "torch" else package for package in absent)
        return (
            f"the machines that grade code have no {', '.join(absent)}, which the {runtime} runtime needs: "
            f"install it there (pip install {install}) and submit again"
        )
    return None


class Sandboxes:
    """Up to ``size`` warm sandboxes per runtime, each lent to one run at a time. Thread-safe."""

    def __init__(
        self,
        *,
        size: int = 1,
        limits: Limits | None = None,
        packages: Collection[str] | None = None,
        counted: bool = True,
    ) -> None:
        """``packages``: those a problem may add to its runtime (``GRADER_CODE_PACKAGES``; None: any
        installed); ``counted``: whether its runs are submissions, counted in ``grader_sandboxes_busy``
        (an instructors' set checks' sandbox is not)."""
        if size < 1:
            raise ValueError("a pool holds at least one sandbox")
        self.size = size
        self.counted = counted
        self.limits = limits or Limits()
        self.packages = None if packages is None else tuple(packages)
        self._lock = threading.Lock()
        self._idle: dict[str, queue.SimpleQueue[Sandbox]] = {}
        self._made: dict[str, list[Sandbox]] = {}

    def run(
        self, runtime: str, source: str, calls: Sequence[Call], *, within: float | None = None, stopped: str = ""
    ) -> list[CallResult]:
        """``source`` loaded and ``calls`` made in a warm sandbox of ``runtime``; raises
        SandboxUnavailable (nothing run) where that runtime or the sandbox cannot be had.
        ``within``: wall seconds the run may use, once it has a sandbox; the calls not answered by
        then are ``timeout`` results saying ``stopped``."""
        reason = missing_runtime(runtime, self.packages)
        if reason is not None:
            raise SandboxUnavailable(reason)
        if within is not None and within <= 0:
            return [CallResult(Status.TIMEOUT, message=stopped) for _ in calls]
        sandbox = self._borrow(runtime)
        if self.counted:
            metrics.SANDBOXES_BUSY.inc()
        done, fired = threading.Event(), threading.Event()
        if within is not None:
            watch = threading.Thread(target=_stop, args=(sandbox, within, done, fired), daemon=True)
            watch.start()
        try:
            results = sandbox.run(source, calls)
        finally:
            done.set()
            if self.counted:
                metrics.SANDBOXES_BUSY.dec()
            self._idle[runtime].put(sandbox)
        return _marked_stopped(results, stopped) if fired.is_set() else results

    def warm(self, runtime: str) -> None:
        """One sandbox of ``runtime`` started now rather than at its first run; raises
        SandboxUnavailable where it cannot start."""
        sandbox = self._borrow(runtime)
        try:
            sandbox.start()
        finally:
            self._idle[runtime].put(sandbox)

    def _borrow(self, runtime: str) -> Sandbox:
        with self._lock:
            idle = self._idle.setdefault(runtime, queue.SimpleQueue())
            made = self._made.setdefault(runtime, [])
            try:
                return idle.get_nowait()
            except queue.Empty:
                if len(made) < self.size:
                    made.append(Sandbox(self.limits, runtime))
                    return made[-1]
        return idle.get()  # every sandbox of the runtime is busy: the next one given back

    def close(self) -> None:
        """Stops every warm worker (a later run starts them again)."""
        with self._lock:
            for made in self._made.values():
                for sandbox in made:
                    sandbox.close()


def _stop(sandbox: Sandbox, seconds: float, done: threading.Event, fired: threading.Event) -> None:
    """Past ``seconds``, kills the sandbox's worker until the run is over (its successor too)."""
    if done.wait(seconds):
        return
    fired.set()
    while not done.is_set():
        pid = sandbox.worker_pid
        if pid is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        done.wait(KILL_EVERY)


def _marked_stopped(results: list[CallResult], stopped: str) -> list[CallResult]:
    """A stopped run's results: the calls answered keep theirs; the ones the kill cut short (the
    sandbox reports them as errors, the last ones) say why."""
    kept = list(results)
    index = len(kept)
    while index > 0 and kept[index - 1].status is Status.ERROR:
        index -= 1
    return kept[:index] + [CallResult(Status.TIMEOUT, message=stopped) for _ in kept[index:]]
