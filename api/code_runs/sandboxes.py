"""The process's warm sandboxes, one pool per runtime, reused across code runs: starting a warm
worker costs 0.3 s with numpy and seconds with torch, running a submission in one a few
milliseconds. A sandbox runs one submission at a time, so a pool holds as many as the process
grades at once.

A runtime this machine does not have (torch not installed) is refused with a sentence, as is a
sandbox that cannot start (:class:`sandbox.SandboxUnavailable`): the engine then stores the part
``invalid`` with that sentence, and never runs the code unsandboxed."""

from __future__ import annotations

import importlib.util
import queue
import threading
from collections.abc import Sequence

from sandbox import RUNTIMES, Call, CallResult, Limits, Sandbox, SandboxUnavailable


def missing_runtime(runtime: str) -> str | None:
    """Why this machine cannot offer ``runtime`` to submitted code, or None."""
    if runtime not in RUNTIMES:
        return f"this grader knows no runtime {runtime!r} (it has {', '.join(sorted(RUNTIMES))})"
    absent = [module for module in RUNTIMES[runtime] if importlib.util.find_spec(module) is None]
    if absent:
        return (
            f"the machines that grade code have no {', '.join(absent)}, which the {runtime} runtime needs: "
            "install it there (pip install 'grader[torch]') and submit again"
        )
    return None


class Sandboxes:
    """Up to ``size`` warm sandboxes per runtime, each lent to one run at a time. Thread-safe."""

    def __init__(self, *, size: int = 1, limits: Limits | None = None) -> None:
        if size < 1:
            raise ValueError("a pool holds at least one sandbox")
        self.size = size
        self.limits = limits or Limits()
        self._lock = threading.Lock()
        self._idle: dict[str, queue.SimpleQueue[Sandbox]] = {}
        self._made: dict[str, list[Sandbox]] = {}

    def run(self, runtime: str, source: str, calls: Sequence[Call]) -> list[CallResult]:
        """``source`` loaded and ``calls`` made in a warm sandbox of ``runtime``; raises
        SandboxUnavailable (nothing run) where that runtime or the sandbox cannot be had."""
        reason = missing_runtime(runtime)
        if reason is not None:
            raise SandboxUnavailable(reason)
        sandbox = self._borrow(runtime)
        try:
            return sandbox.run(source, calls)
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
