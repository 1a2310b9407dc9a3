"""The sandbox's budgets, and the named runtimes it can offer a submission: a base (numpy, torch) and
the packages a problem adds to it, as one name (``numpy+scipy``)."""

from __future__ import annotations

import importlib.util
import math
from collections.abc import Iterable
from dataclasses import dataclass

MIB = 1 << 20


@dataclass(frozen=True)
class Limits:
    """Per sandbox (memory, processes, scratch: the warm worker and the submission it runs share
    them) and per call (time, output). Memory is a cgroup limit, not RLIMIT_AS: an address-space
    limit that leaves room for a submission's arrays refuses to map torch's libraries.

    A call's time is wall time, measured by the service: what a student waits for and what holds a
    sandbox, and the only time that stops code that sleeps or blocks. ``RLIMIT_CPU`` is a backstop
    at least a second past it, which a process of one thread never reaches first."""

    memory_bytes: int = 512 * MIB
    pids: int = 64
    wall_seconds: float = 10.0  # per call, and for loading the module: the limit a call is held to
    cpu_seconds: int = 12  # per call and for loading (RLIMIT_CPU, counted from each call's start): the backstop
    output_bytes: int = 64 * MIB  # per call, all its arrays
    max_outputs: int = 16  # arrays per call
    file_bytes: int = 16 * MIB  # RLIMIT_FSIZE
    open_files: int = 64  # RLIMIT_NOFILE
    scratch_bytes: int = 64 * MIB  # the tmpfs that is the submission's working directory
    max_calls: int = 256
    source_bytes: int = 1 << 20  # the module's text
    start_seconds: float = 60.0  # the warm worker's start (an interpreter, numpy or torch)
    max_call_seconds: int = 60  # the most wall time one call may be given (``Call.seconds``)

    def __post_init__(self) -> None:
        for name in ("memory_bytes", "pids", "wall_seconds", "cpu_seconds", "output_bytes", "max_outputs"):
            if getattr(self, name) <= 0:
                raise ValueError(f"the sandbox's {name} must be positive")
        if self.memory_bytes < 64 * MIB:
            raise ValueError("the sandbox needs at least 64 MiB of memory for the interpreter and numpy")

    def call_limits(self, seconds: float | None) -> tuple[int, float]:
        """A call's CPU seconds (the backstop) and its wall seconds (its limit): the call's own wall
        time (at most ``max_call_seconds``) and two whole seconds more of CPU (RLIMIT_CPU counts
        whole seconds, and the child's limit counts from its process's CPU time before the call,
        rounded down: one second of the two may go there); else the sandbox's per call."""
        if seconds is None:
            return self.cpu_seconds, self.wall_seconds
        if not 0 < seconds <= self.max_call_seconds:
            raise ValueError(f"a call may take from 0 to {self.max_call_seconds} s of wall time, not {seconds:g}")
        return math.ceil(seconds) + 2, float(seconds)


# A runtime's base: the modules the warm worker imports before any submission; the sandbox shows their
# distributions and those they require, each bound on its own (sandbox.walls.runtime_binds).
RUNTIMES: dict[str, tuple[str, ...]] = {
    "numpy": ("numpy",),
    "torch": ("numpy", "torch"),
}

# The packages a problem may add to its base (``packages: [scipy]``, named after a ``+``: ``numpy+scipy``),
# each a distribution of that name, and the modules the warm worker imports for it, once per worker
# rather than in every submission: scipy.signal (1.3 s, and it imports most of scipy: ndimage, stats,
# optimize, linalg), matplotlib's pyplot (its font cache is built then).
PACKAGES: dict[str, tuple[str, ...]] = {
    "scipy": ("scipy", "scipy.signal"),
    "matplotlib": ("matplotlib", "matplotlib.pyplot"),
}


class UnknownRuntime(ValueError):
    """A runtime's name with a base or a package the sandbox does not offer; the message lists those it does."""


def runtime_name(base: str, packages: Iterable[str] = ()) -> str:
    """The name of ``base`` with ``packages`` (``numpy+matplotlib+scipy``): one name for one set of packages."""
    return "+".join((base, *sorted(set(packages))))


def runtime_parts(runtime: str) -> tuple[str, tuple[str, ...]]:
    """The base and the packages a runtime's name gives; :class:`UnknownRuntime` for one not offered."""
    base, *packages = runtime.split("+")
    if base not in RUNTIMES:
        raise UnknownRuntime(f"the sandbox has no runtime named {base!r} (it has {', '.join(RUNTIMES)})")
    unknown = [package for package in packages if package not in PACKAGES]
    if unknown:
        raise UnknownRuntime(
            f"the sandbox offers no package {', '.join(map(repr, unknown))} (it offers {', '.join(PACKAGES)})"
        )
    return base, tuple(packages)


def runtime_modules(runtime: str) -> tuple[str, ...]:
    """The modules the warm worker of ``runtime`` imports, its base's then its packages', each once."""
    base, packages = runtime_parts(runtime)
    return tuple(dict.fromkeys((*RUNTIMES[base], *(module for package in packages for module in PACKAGES[package]))))


def top_level_packages(runtime: str) -> tuple[str, ...]:
    """The top-level packages of ``runtime``'s modules: each is installed by a distribution of its name."""
    return tuple(dict.fromkeys(module.partition(".")[0] for module in runtime_modules(runtime)))


def installed_packages() -> tuple[str, ...]:
    """The packages of :data:`PACKAGES` installed on this machine, found without importing them."""
    return tuple(package for package in PACKAGES if importlib.util.find_spec(package) is not None)
