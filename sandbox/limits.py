"""The sandbox's budgets, and the named runtimes it can offer a submission."""

from __future__ import annotations

import math
from dataclasses import dataclass

MIB = 1 << 20


@dataclass(frozen=True)
class Limits:
    """Per sandbox (memory, processes, scratch: the warm worker and the submission it runs share
    them) and per call (time, output). Memory is a cgroup limit, not RLIMIT_AS: an address-space
    limit that leaves room for a submission's arrays refuses to map torch's libraries."""

    memory_bytes: int = 512 * MIB
    pids: int = 64
    wall_seconds: float = 10.0  # per call, and for loading the module
    cpu_seconds: int = 10  # per call (RLIMIT_CPU, counted from each call's start)
    output_bytes: int = 64 * MIB  # per call, all its arrays
    max_outputs: int = 16  # arrays per call
    file_bytes: int = 16 * MIB  # RLIMIT_FSIZE
    open_files: int = 64  # RLIMIT_NOFILE
    scratch_bytes: int = 64 * MIB  # the tmpfs that is the submission's working directory
    max_calls: int = 256
    source_bytes: int = 1 << 20  # the module's text
    start_seconds: float = 60.0  # the warm worker's start (an interpreter, numpy or torch)
    max_call_seconds: int = 60  # the most CPU time one call may be given (``Call.seconds``)

    def __post_init__(self) -> None:
        for name in ("memory_bytes", "pids", "wall_seconds", "cpu_seconds", "output_bytes", "max_outputs"):
            if getattr(self, name) <= 0:
                raise ValueError(f"the sandbox's {name} must be positive")
        if self.memory_bytes < 64 * MIB:
            raise ValueError("the sandbox needs at least 64 MiB of memory for the interpreter and numpy")

    def call_limits(self, seconds: float | None) -> tuple[int, float]:
        """A call's CPU seconds (whole: RLIMIT_CPU counts seconds) and its wall seconds: the call's
        own CPU time (at most ``max_call_seconds``), else ``cpu_seconds``; its wall time the
        sandbox's, stretched in the same proportion when the call is given more CPU time."""
        if seconds is None:
            return self.cpu_seconds, self.wall_seconds
        if not 0 < seconds <= self.max_call_seconds:
            raise ValueError(f"a call may take from 0 to {self.max_call_seconds} s of CPU time, not {seconds:g}")
        cpu = max(1, math.ceil(seconds))
        return cpu, max(self.wall_seconds, self.wall_seconds * cpu / self.cpu_seconds)


# A runtime: the modules the warm worker imports before any submission; the sandbox shows their
# distributions and those they require, each bound on its own (sandbox.walls.runtime_binds).
RUNTIMES: dict[str, tuple[str, ...]] = {
    "numpy": ("numpy",),
    "torch": ("numpy", "torch"),
}
