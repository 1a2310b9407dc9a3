"""Running untrusted code: a student's module, behind bubblewrap, seccomp and cgroup walls, whose
functions only produce arrays; the judging happens outside. See docs/sandbox.md."""

from sandbox.calls import Call, CallResult, Status, Value
from sandbox.limits import RUNTIMES, Limits
from sandbox.service import Sandbox
from sandbox.walls import SandboxUnavailable

__all__ = ["RUNTIMES", "Call", "CallResult", "Limits", "Sandbox", "SandboxUnavailable", "Status", "Value"]
