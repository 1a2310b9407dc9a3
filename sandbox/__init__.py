"""Running untrusted code: a student's module, behind bubblewrap, seccomp and cgroup walls, whose
functions only produce arrays; the judging happens outside. See docs/sandbox.md."""

from sandbox.calls import Call, CallResult, Status, Value
from sandbox.limits import (
    PACKAGES,
    RUNTIMES,
    Limits,
    UnknownRuntime,
    installed_packages,
    runtime_modules,
    runtime_name,
    runtime_parts,
    top_level_packages,
)
from sandbox.service import Sandbox
from sandbox.walls import SandboxFailed, SandboxUnavailable

__all__ = [
    "PACKAGES",
    "RUNTIMES",
    "Call",
    "CallResult",
    "Limits",
    "Sandbox",
    "SandboxFailed",
    "SandboxUnavailable",
    "Status",
    "UnknownRuntime",
    "Value",
    "installed_packages",
    "runtime_modules",
    "runtime_name",
    "runtime_parts",
    "top_level_packages",
]
