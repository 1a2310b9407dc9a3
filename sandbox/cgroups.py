"""A memory and pids cgroup per warm worker, so that its whole process tree (the worker, a
submission and whatever that submission starts) has one memory limit, one process limit and an
OOM count the service can read to tell "over its memory" from any other kill; and, where the cpu
controller can be written, a low CPU weight (:data:`CPU_WEIGHT`), so that at a deadline the
service's requests are scheduled before the submissions' code. Niceness cannot do that: bubblewrap
starts each sandbox in a session of its own, and with the kernel's autogroups (Debian's default)
each session is weighed as one process whatever its niceness.

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
#: A sandbox's CPU weight beside a process's default (cgroup v2 ``cpu.weight``, default 100; v1's
#: ``cpu.shares`` is scaled from it, default 1024): busy sandboxes yield the CPU to the service, a
#: quarter against its whole, and are not starved past their calls' wall-time limits by other work.
CPU_WEIGHT = 25
DEFAULT_CPU_WEIGHT = 100
V1_DEFAULT_SHARES = 1024
_counter = itertools.count()


@dataclass(frozen=True)
class Cgroup:
    """The group's directories (one per v1 controller, or the one v2 directory) and its files."""

    directories: tuple[Path, ...]
    procs: tuple[Path, ...]  # where a process is moved into the group
    oom_file: Path  # memory.oom_control (v1) or memory.events (v2): holds "oom_kill N"
    #: Whether the group holds its processes to :data:`CPU_WEIGHT` (the cpu controller was writable).
    weighted: bool = False

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


def own_paths() -> dict[str, str]:
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
    own = own_paths()
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
    directories = [memory, pid_group]
    cpu = _weighted_v1(own, name)
    if cpu is not None:
        directories.append(cpu)
    return Cgroup(
        tuple(directories),
        tuple(directory / "cgroup.procs" for directory in directories),
        memory / "memory.oom_control",
        weighted=cpu is not None,
    )


def _weighted_v1(own: dict[str, str], name: str) -> Path | None:
    """A group of the v1 cpu hierarchy at :data:`CPU_WEIGHT`, or None (no cpu hierarchy, or not writable:
    the sandbox's memory and pids limits hold all the same)."""
    if "cpu" not in own:
        return None
    cpu = ROOT / "cpu" / own["cpu"].lstrip("/") / name
    try:
        cpu.mkdir()
    except OSError:
        return None
    try:
        _write(cpu / "cpu.shares", str(V1_DEFAULT_SHARES * CPU_WEIGHT // DEFAULT_CPU_WEIGHT))
    except OSError:
        with contextlib.suppress(OSError):
            cpu.rmdir()
        return None
    return cpu


def _create_v2(memory_bytes: int, pids: int, name: str) -> Cgroup | None:
    if not (ROOT / "cgroup.controllers").exists():
        return None
    own = _v2_base()
    group = own / name
    try:
        _enable(own, ("memory", "pids"))
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
    return Cgroup((group,), (group / "cgroup.procs",), group / "memory.events", weighted=_weighted_v2(own, group))


#: On cgroup v2, the leaf group the service's own processes are moved into, so that the group they
#: were in (a container's, a systemd unit's delegated one) may hand its controllers to the sandboxes'.
LEAF = "grader-processes"


def _v2_base() -> Path:
    """The v2 group the sandboxes' groups are made in: this process's own, or the one above the leaf
    it was moved into (:func:`_enable`)."""
    own = ROOT / own_paths().get("", "/").lstrip("/")
    return own.parent if own.name == LEAF else own


def _enable(base: Path, controllers: tuple[str, ...]) -> None:
    """``controllers`` enabled for ``base``'s children. A group that holds processes cannot (cgroup
    v2's "no internal processes" rule: the kernel refuses with EBUSY), which is where a container's
    or a unit's processes are: they are moved into the leaf :data:`LEAF` first, as systemd's
    delegation expects of a program that manages its subtree."""
    missing = [name for name in controllers if name not in (base / "cgroup.subtree_control").read_text().split()]
    if not missing:
        return
    enable = " ".join(f"+{name}" for name in missing)
    try:
        _write(base / "cgroup.subtree_control", enable)
    except OSError as error:
        if error.errno != errno.EBUSY:
            raise
        _into_leaf(base)
        _write(base / "cgroup.subtree_control", enable)


def _into_leaf(base: Path) -> None:
    """Every process of ``base`` moved into ``base/LEAF`` (one that exits meanwhile is passed over)."""
    leaf = base / LEAF
    leaf.mkdir(exist_ok=True)
    for pid in (base / "cgroup.procs").read_text().split():
        try:
            _write(leaf / "cgroup.procs", pid)
        except OSError as error:
            if error.errno != errno.ESRCH:
                raise


def _weighted_v2(own: Path, group: Path) -> bool:
    """Whether ``group`` could be set to :data:`CPU_WEIGHT` (the cpu controller delegated to the
    service's group, or enabled here now); without it the sandbox runs at the default weight."""
    try:
        _enable(own, ("cpu",))
        _write(group / "cpu.weight", str(CPU_WEIGHT))
    except OSError:
        return False
    return True


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
