"""Background work yields the CPU to requests: a process that grades (``grader worker``, the SQLite
service's judging processes) lowers its own scheduling priority at its start, so that at a deadline
a student's ``POST`` or a load balancer's ``/health`` is scheduled before another student's judging
on a host that runs both. (The sandboxes' own processes are held to a low CPU weight by their
cgroup: :mod:`sandbox.cgroups`.)

Niceness alone is weighed only within a process's autogroup where the kernel has them (Debian's
default, ``/proc/sys/kernel/sched_autogroup_enabled``): every session is one group, scheduled as one
process whatever its members' niceness. A process that leads its own session (a worker started by
a supervisor, a container's entrypoint, ``setsid``) lowers its group's weight too; one started from
a terminal shares the terminal's group and leaves it alone (the shell's other programs would be
slowed with it).
"""

from __future__ import annotations

import contextlib
import logging
import os
from pathlib import Path

log = logging.getLogger("grader.priority")

#: The niceness of grading processes (0 to 19; each step is about 1.25 times less CPU beside a
#: process at 0): at 5, a busy grader gets about a quarter of a core the service wants, and is not
#: starved (a student's run is held to wall seconds, which a starved judge would spend).
GRADING_NICENESS = 5


def lower_priority(niceness: int = GRADING_NICENESS) -> int:
    """Raises this process's niceness to ``niceness`` (never lowers it), and its autogroup's where it
    leads its session. Returns the niceness now. Called before the process starts threads: on Linux
    niceness is each thread's, and a thread starts with its creator's (so do child processes)."""
    now = os.getpriority(os.PRIO_PROCESS, 0)
    if now < niceness:
        try:
            os.setpriority(os.PRIO_PROCESS, 0, niceness)
            now = niceness
        except OSError as error:  # (a seccomp policy or a container may refuse it: then the default)
            log.warning("could not lower this grading process's priority: %s", error)
    if os.getsid(0) == os.getpid():
        with contextlib.suppress(OSError):  # (no autogroups here: niceness alone counts)
            Path("/proc/self/autogroup").write_text(str(niceness))
    return now
