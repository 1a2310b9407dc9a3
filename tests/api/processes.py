"""The processes under this one, read from ``/proc``: which of them judge code (the parents of
sandboxes), and at what niceness."""

from __future__ import annotations

import os
from pathlib import Path


def stat(pid: int) -> tuple[str, int, int] | None:
    """(name, parent, niceness) of a process, or None once it is gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    name = text[text.index("(") + 1 : text.rindex(")")]
    fields = text[text.rindex(")") + 2 :].split()
    return name, int(fields[1]), int(fields[16])


def descendants(root: int) -> dict[int, tuple[str, int, int]]:
    """Every process under ``root``: pid → (name, parent, niceness)."""
    found = {int(entry.name): stat(int(entry.name)) for entry in Path("/proc").iterdir() if entry.name.isdigit()}
    alive = {pid: seen for pid, seen in found.items() if seen is not None}
    under: dict[int, tuple[str, int, int]] = {}
    grew = True
    while grew:
        grew = False
        for pid, seen in alive.items():
            if pid not in under and (seen[1] == root or seen[1] in under):
                under[pid] = seen
                grew = True
    return under


def judging_processes() -> list[int]:
    """This process's descendants that started a sandbox (bubblewrap) as their own child."""
    under = descendants(os.getpid())
    return sorted(
        {
            parent
            for name, parent, _ in under.values()
            if name == "bwrap" and parent in under and under[parent][0] != "bwrap"  # (bwrap forks a bwrap)
        }
    )


def running(pid: int) -> bool:
    """Whether ``pid`` still runs (a zombie, ended but not yet reaped by its parent, does not)."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return text[text.rindex(")") + 2 :].split()[0] not in ("Z", "X")
