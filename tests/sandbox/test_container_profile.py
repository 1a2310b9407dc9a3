"""The container profile a code worker runs under is the sandbox's own rules, less what bubblewrap
needs to build the walls: the committed file is what :mod:`sandbox.container` derives."""

from __future__ import annotations

import json
from pathlib import Path

from sandbox import container
from sandbox.seccomp import WALLS

PROFILE = Path(__file__).parents[2] / "docker" / "seccomp-code-worker.json"


def test_the_committed_profile_is_the_derived_one() -> None:
    assert PROFILE.read_text() == container.render(), "regenerate: python -m sandbox.container > " + str(PROFILE)


def test_bwrap_can_build_the_walls_under_it() -> None:
    refused = set(json.loads(PROFILE.read_text())["syscalls"][0]["names"])
    assert not refused & {"mount", "umount2", "pivot_root", "unshare", "setns", "clone", "clone3"}


def test_it_refuses_what_concerns_the_host() -> None:
    refused = set(container.refused())
    for name in (
        "kexec_load",
        "init_module",
        "finit_module",
        "reboot",
        "swapon",
        "bpf",
        "perf_event_open",
        "ptrace",
        "process_vm_readv",
        "open_by_handle_at",
        "keyctl",
        "io_uring_setup",
        "userfaultfd",
    ):
        assert name in refused, name
    walls = {rule.syscall for rule in WALLS}
    assert refused <= walls  # never a refusal the walls do not make: the profile only relaxes them


def test_only_the_architectures_with_tables() -> None:
    assert json.loads(PROFILE.read_text())["architectures"] == ["SCMP_ARCH_X86_64", "SCMP_ARCH_AARCH64"]
