"""A memory and pids cgroup per warm worker, so that its whole process tree (the worker, a
submission and whatever that submission starts) has one memory limit, one process limit and an
OOM count the service can read to tell "over its memory" from any other kill.

Both layouts: v1 (a hierarchy per controller, as on this project's test machines) and v2 (one
unified tree, where the service's own cgroup must be able to delegate the controllers). Where
neither can be written, :func:`create` returns None and the sandbox falls back to per-process
RLIMIT_DATA and RLIMIT_NPROC, which it reports.
"""

from __future__ import annotations

import contextlib
import errno
import itertools
import os
import signal
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path("/sys/fs/cgroup")
PREFIX = "grader-sandbox-"
_counter = itertools.count()


@dataclass(frozen=True)
class Cgroup:
    """The group's directories (one per v1 controller, or the one v2 directory) and its files."""

    directories: tuple[Path, ...]
    procs: tuple[Path, ...]  # where a process is moved into the group
    oom_file: Path  # memory.oom_control (v1) or memory.events (v2): holds "oom_kill N"

    def oom_kills(self) -> int:
        try:
            for line in self.oom_file.read_text().splitlines():
                name, _, value = line.partition(" ")
                if name == "oom_kill":
                    return int(value)
        except OSError:
            pass
        return 0

    def remove(self, timeout: float = 10.0) -> None:
        """Kill what is left in the group, wait until it is empty, and remove it. A sandbox's
        processes outlive its bwrap by a moment (they die with it, asynchronously); a group that
        still holds one cannot be removed."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            left = self._processes()
            if not left:
                break
            for pid in left:
                with contextlib.suppress(OSError):
                    os.kill(pid, signal.SIGKILL)
            time.sleep(0.005)
        for directory in self.directories:
            # an emptied group can still be busy for a moment while its last process finishes exiting
            while True:
                try:
                    directory.rmdir()
                except OSError as error:
                    if error.errno == errno.EBUSY and time.monotonic() < deadline:
                        time.sleep(0.005)
                        continue
                break

    def _processes(self) -> set[int]:
        pids: set[int] = set()
        for procs in self.procs:
            with contextlib.suppress(OSError):
                pids.update(int(line) for line in procs.read_text().split())
        return pids


def _own_paths() -> dict[str, str]:
    """This process's cgroup per v1 controller name, and ``""`` for the v2 tree."""
    paths: dict[str, str] = {}
    for line in Path("/proc/self/cgroup").read_text().splitlines():
        _, controllers, path = line.split(":", 2)
        for controller in controllers.split(",") if controllers else [""]:
            paths[controller] = path
    return paths


def _write(path: Path, value: str) -> None:
    path.write_text(value)


def _create_v1(memory_bytes: int, pids: int, name: str) -> Cgroup | None:
    own = _own_paths()
    if "memory" not in own or "pids" not in own:
        return None
    memory = ROOT / "memory" / own["memory"].lstrip("/") / name
    pid_group = ROOT / "pids" / own["pids"].lstrip("/") / name
    made: list[Path] = []
    try:
        for directory in (memory, pid_group):
            directory.mkdir()
            made.append(directory)
        _write(memory / "memory.limit_in_bytes", str(memory_bytes))
        swap = memory / "memory.memsw.limit_in_bytes"
        if swap.exists():  # no swapping past the limit where swap is accounted
            _write(swap, str(memory_bytes))
        _write(memory / "memory.swappiness", "0") if (memory / "memory.swappiness").exists() else None
        _write(pid_group / "pids.max", str(pids))
    except OSError:
        for directory in reversed(made):
            with contextlib.suppress(OSError):
                directory.rmdir()
        return None
    return Cgroup(
        (memory, pid_group), (memory / "cgroup.procs", pid_group / "cgroup.procs"), memory / "memory.oom_control"
    )


def _create_v2(memory_bytes: int, pids: int, name: str) -> Cgroup | None:
    if not (ROOT / "cgroup.controllers").exists():
        return None
    own = ROOT / _own_paths().get("", "/").lstrip("/")
    group = own / name
    try:
        enabled = (own / "cgroup.subtree_control").read_text().split()
        missing = [c for c in ("memory", "pids") if c not in enabled]
        if missing:
            _write(own / "cgroup.subtree_control", " ".join(f"+{c}" for c in missing))
        group.mkdir()
    except OSError:
        return None
    try:
        _write(group / "memory.max", str(memory_bytes))
        if (group / "memory.swap.max").exists():
            _write(group / "memory.swap.max", "0")
        _write(group / "pids.max", str(pids))
    except OSError:
        with contextlib.suppress(OSError):
            group.rmdir()
        return None
    return Cgroup((group,), (group / "cgroup.procs",), group / "memory.events")


def _remove_stale(parent: Path) -> None:
    """Remove the empty groups of services that died without removing theirs (named by their pid)."""
    for directory in parent.glob(f"{PREFIX}*"):
        owner = directory.name.removeprefix(PREFIX).split("-")[0]
        try:
            os.kill(int(owner), 0)
        except ProcessLookupError:
            with contextlib.suppress(OSError):
                directory.rmdir()
        except (ValueError, OSError):
            continue


def create(memory_bytes: int, pids: int) -> Cgroup | None:
    """A new group with these limits under this process's own, or None where none can be made."""
    name = f"{PREFIX}{os.getpid()}-{next(_counter)}"
    group = _create_v1(memory_bytes, pids, name) or _create_v2(memory_bytes, pids, name)
    for directory in group.directories if group else ():
        _remove_stale(directory.parent)
    return group
