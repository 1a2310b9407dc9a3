"""The seccomp profile a container that grades code runs under (``docker/seccomp-code-worker.json``),
derived from the sandbox's own rules so the two cannot drift apart.

Docker's default profile refuses what bubblewrap needs to build the walls (``unshare``, ``mount``,
``pivot_root``, ``setns``, namespace flags to ``clone``). This profile allows exactly those on top of
the walls' rules. It still refuses everything else the walls refuse that concerns the host: kernel
modules, kexec, reboot, swap, clocks, keys, BPF, perf, io_uring, handles, ptrace. Inside the
container, bwrap installs the full filter (:func:`sandbox.seccomp.walls_filter`) on every process
of the sandbox, so a submission meets both. System V IPC, message queues, sockets and
``personality`` stay allowed in the container itself: the service and its worker use them, and
the walls refuse them to submissions.

Regenerate with ``python -m sandbox.container > docker/seccomp-code-worker.json`` (a test
compares the file with this module).
"""

from __future__ import annotations

import errno
import json
from typing import Any

from sandbox.seccomp import WALLS

#: What bwrap does to build the sandbox, which the walls then refuse to everything inside.
BWRAP_NEEDS = frozenset({"mount", "umount2", "pivot_root", "unshare", "setns"})
#: What the service and its worker processes use themselves (the walls refuse them to submissions).
SERVICE_NEEDS = frozenset(
    {"personality", "socket", "clone", "clone3", "kill", "tkill", "tgkill", "rt_sigqueueinfo", "pidfd_open"}
    | {"shmget", "shmat", "shmctl", "shmdt", "semget", "semop", "semctl", "semtimedop"}
    | {"msgget", "msgsnd", "msgrcv", "msgctl"}
    | {"mq_open", "mq_unlink", "mq_timedsend", "mq_timedreceive", "mq_notify", "mq_getsetattr"}
)
#: Docker's names of the architectures the sandbox has tables for. Calls of any other ABI (i386,
#: x32) are killed by the profile's bad-architecture default, as the walls kill them.
ARCHITECTURES = ("SCMP_ARCH_X86_64", "SCMP_ARCH_AARCH64")


def refused() -> list[str]:
    """The calls the container refuses: the walls' unconditional refusals, less what bwrap and the
    service need."""
    names = {rule.syscall for rule in WALLS if not rule.allowed and not rule.denied_bits and not rule.denied}
    return sorted(names - BWRAP_NEEDS - SERVICE_NEEDS)


def profile() -> dict[str, Any]:
    """The profile, in Docker's format (``docker run --security-opt seccomp=FILE``)."""
    return {
        "defaultAction": "SCMP_ACT_ALLOW",
        "architectures": list(ARCHITECTURES),
        "syscalls": [{"names": refused(), "action": "SCMP_ACT_ERRNO", "errnoRet": errno.EPERM}],
    }


def render() -> str:
    return json.dumps(profile(), indent=2) + "\n"


if __name__ == "__main__":
    print(render(), end="")
