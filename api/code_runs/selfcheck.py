"""A code worker's look at its own sandbox before it takes any student's code (``grader worker --queue
code``): on a host where the walls cannot stand (no bubblewrap, no user namespaces, no cgroups to
hold a budget, no seccomp, a runtime missing) the worker refuses to start, with a sentence per
failure, rather than take jobs it would answer "the sandbox is unavailable" to, or run code behind
weaker walls than the operator believes. One probe module per runtime, through the same warm
sandboxes the worker then grades with: it answers a call, and reports from inside what it can
reach (the network, the service's own files) and whether its seccomp filter is on."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import numpy as np

from api.code_runs.sandboxes import Sandboxes, missing_runtime
from sandbox import Call, SandboxUnavailable, Status, cgroups

#: The probe: each flag 1 where a wall holds. ``secret`` is a path of the service's own that must not
#: be seen from inside.
PROBE = """
import os
import socket

import numpy as np


def probe(secret):
    try:
        with socket.create_connection(("192.0.2.1", 9), timeout=1):
            offline = 0
    except OSError:
        offline = 1
    filtered = 0
    try:
        with open("/proc/self/status") as status:
            filtered = int(any(line.split() == ["Seccomp:", "2"] for line in status))
    except OSError:
        pass
    return np.array([1, offline, int(not os.path.exists(secret)), filtered])
"""
#: What each flag says when it is 0.
FAILURES = (
    "the sandbox does not run code",
    "code in the sandbox reaches the network",
    "code in the sandbox sees the service's own files",
    "the sandbox's seccomp filter is not on",
)


def problems(sandboxes: Sandboxes, runtimes: Iterable[str] = ("numpy",)) -> list[str]:
    """Why this host must not grade code (empty: it may), each failure in a sentence."""
    found = []
    group = cgroups.create(64 * 1024 * 1024, 16)
    if group is None:
        found.append(
            "no cgroup can be made for a sandbox (cgroup v2 with the memory and pids controllers delegated "
            "to this user, or cgroup v1's memory and pids hierarchies): a submission's memory and processes "
            "could not be held to its budget"
        )
    else:
        group.remove()
    secret = str(Path(__file__).resolve().parents[1])
    for runtime in runtimes:
        missing = missing_runtime(runtime, sandboxes.packages)
        if missing is not None:
            found.append(f"the {runtime} runtime: {missing}")
            continue
        try:
            (result,) = sandboxes.run(runtime, PROBE, [Call("probe", (secret,), seconds=30)])
        except SandboxUnavailable as error:
            found.append(f"the sandbox cannot start for the {runtime} runtime: {error}")
            continue
        if result.status != Status.OK:
            found.append(f"the probe failed in the {runtime} runtime ({result.status}): {result.message}")
            continue
        flags = np.asarray(result.outputs[0]).tolist()
        found += [f"{failure} ({runtime} runtime)" for failure, held in zip(FAILURES, flags, strict=True) if not held]
    return found
