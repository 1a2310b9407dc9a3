"""cgroup v2 where the service's group holds processes, as a container's or a systemd unit's does: the
kernel refuses to enable controllers for the children of a group with processes of its own (EBUSY,
the "no internal processes" rule of Documentation/admin-guide/cgroup-v2.rst), so the sandbox moves
the group's processes into a leaf first and makes its groups beside it. This machine runs cgroup v1,
so the rule is played by a stand-in of the tree that enforces it (the v1 path and the real groups
are tested in test_runs.py)."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest

from sandbox import cgroups

OTHER = "4242"  # another process of the container (its init, say)


class Tree:
    """A cgroup v2 tree under ``root`` whose writes follow the kernel's rules for what is used here:
    a process is in one group at a time, and ``+controller`` is refused to a group with processes."""

    def __init__(self, root: Path, own: str) -> None:
        self.root = root
        root.mkdir()
        (root / "cgroup.controllers").write_text("cpuset cpu io memory pids\n")
        self.base = root / own
        self.base.mkdir(parents=True)
        (self.base / "cgroup.procs").write_text(f"{os.getpid()}\n{OTHER}\n")
        (self.base / "cgroup.subtree_control").write_text("")
        self.refuse: int | None = None  # an errno every write raises (a group not delegated)

    def write(self, path: Path, value: str) -> None:
        if self.refuse is not None:
            raise OSError(self.refuse, os.strerror(self.refuse))
        if path.name == "cgroup.subtree_control":
            if (path.parent / "cgroup.procs").read_text().split():
                raise OSError(errno.EBUSY, "Device or resource busy")
            enabled = path.read_text().split() + [name.lstrip("+") for name in value.split()]
            path.write_text(" ".join(enabled))
        elif path.name == "cgroup.procs":
            for procs in self.root.rglob("cgroup.procs"):
                procs.write_text("".join(f"{pid}\n" for pid in procs.read_text().split() if pid != value))
            path.write_text(path.read_text() + f"{value}\n" if path.exists() else f"{value}\n")
        else:
            path.write_text(value)

    def own(self) -> dict[str, str]:
        """This process's group, as /proc/self/cgroup says it on v2."""
        mine = str(os.getpid())
        for procs in self.root.rglob("cgroup.procs"):
            if mine in procs.read_text().split():
                return {"": "/" + str(procs.parent.relative_to(self.root))}
        raise AssertionError("this process is in no group")


@pytest.fixture
def tree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Tree:
    made = Tree(tmp_path / "cgroup", "kubepods/pod7/container")
    monkeypatch.setattr(cgroups, "ROOT", made.root)
    monkeypatch.setattr(cgroups, "own_paths", made.own)
    monkeypatch.setattr(cgroups, "_write", made.write)
    return made


def test_the_groups_processes_are_moved_into_a_leaf_and_the_sandboxes_made_beside_it(tree: Tree) -> None:
    group = cgroups.create(64 << 20, 16)
    assert group is not None
    (directory,) = group.directories
    assert directory.parent == tree.base  # beside the leaf, not inside it
    leaf = tree.base / cgroups.LEAF
    assert (leaf / "cgroup.procs").read_text().split() == [str(os.getpid()), OTHER]
    assert (tree.base / "cgroup.procs").read_text().split() == []
    assert set((tree.base / "cgroup.subtree_control").read_text().split()) == {"memory", "pids", "cpu"}
    assert (directory / "memory.max").read_text() == str(64 << 20)
    assert (directory / "pids.max").read_text() == "16"
    assert group.weighted and (directory / "cpu.weight").read_text() == str(cgroups.CPU_WEIGHT)
    # the next sandbox's group too, though this process is now in the leaf
    again = cgroups.create(64 << 20, 16)
    assert again is not None and again.directories[0].parent == tree.base


def test_a_group_that_is_not_delegated_gives_no_cgroup(tree: Tree) -> None:
    tree.refuse = errno.EACCES  # (the service's user may not write its group: the sandbox falls back to rlimits)
    assert cgroups.create(64 << 20, 16) is None
    assert not (tree.base / cgroups.LEAF).exists()
