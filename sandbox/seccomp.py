"""Seccomp filters as classic BPF, assembled here from a declarative list of rules.

Why not libseccomp: its comparisons are on the full 64-bit argument, while the kernel reads a
``pid_t`` or a socket family as the low 32 bits of its register; a rule such as "kill only your own
pid" written with libseccomp is bypassed by setting the high bits (``syscall(SYS_kill, 2 | 1 << 32,
9)`` passes ``!= 2`` and still kills pid 2). The rules here compare the low 32 bits only, of the one
argument a rule names (the first by default; ``fcntl``'s and ``ioctl``'s command is the second, an
``unsigned int`` the kernel reads the same way), and the program is small enough to read: an
architecture check, then one jump per rule. The syscall numbers are the kernel's
(``asm/unistd_64.h``, ``asm-generic/unistd.h``) for the two architectures the project ships on;
another architecture has no filter, so no sandbox.

The same module serves both sides of the wall: the service hands :func:`walls_filter` to bwrap
(``--seccomp FD`` reads the raw program), and the sandbox's runner installs :func:`signals_filter`
in each submission's process (``prctl(PR_SET_SECCOMP)``) once it knows that process's pid.
"""

from __future__ import annotations

import ctypes
import errno
import platform
import struct
from dataclasses import dataclass

# struct seccomp_data: int nr; u32 arch; u64 instruction_pointer; u64 args[6] (little-endian: the low
# half of args[i] is at 16 + 8 i)
_NR, _ARCH, _ARGS = 0, 4, 16
_LD_ABS, _JEQ, _JGE, _JSET, _RET = 0x20, 0x15, 0x35, 0x45, 0x06
_RET_KILL_PROCESS, _RET_ERRNO, _RET_ALLOW = 0x80000000, 0x00050000, 0x7FFF0000
_X32_BIT = 0x40000000  # x86_64's x32 ABI: the same arch value, numbers with this bit set

_ARCHES = {"x86_64": 0xC000003E, "aarch64": 0xC00000B7}
# name: (x86_64, aarch64); None where the architecture has no such call
_NUMBERS: dict[str, tuple[int | None, int | None]] = {
    "ptrace": (101, 117),
    "process_vm_readv": (310, 270),
    "process_vm_writev": (311, 271),
    "kcmp": (312, 272),
    "pidfd_getfd": (438, 438),
    "mount": (165, 40),
    "umount2": (166, 39),
    "pivot_root": (155, 41),
    "chroot": (161, 51),
    "move_mount": (429, 429),
    "open_tree": (428, 428),
    "fsopen": (430, 430),
    "fsconfig": (431, 431),
    "fsmount": (432, 432),
    "fspick": (433, 433),
    "mount_setattr": (442, 442),
    "unshare": (272, 97),
    "setns": (308, 268),
    "keyctl": (250, 219),
    "add_key": (248, 217),
    "request_key": (249, 218),
    "bpf": (321, 280),
    "perf_event_open": (298, 241),
    "userfaultfd": (323, 282),
    "io_uring_setup": (425, 425),
    "io_uring_enter": (426, 426),
    "io_uring_register": (427, 427),
    "fanotify_init": (300, 262),
    "open_by_handle_at": (304, 265),
    "name_to_handle_at": (303, 264),
    "kexec_load": (246, 104),
    "kexec_file_load": (320, 294),
    "init_module": (175, 105),
    "finit_module": (313, 273),
    "delete_module": (176, 106),
    "reboot": (169, 142),
    "swapon": (167, 224),
    "swapoff": (168, 225),
    "syslog": (103, 116),
    "acct": (163, 89),
    "quotactl": (179, 60),
    "lookup_dcookie": (212, 18),
    "vhangup": (153, 58),
    "settimeofday": (164, 170),
    "clock_settime": (227, 112),
    "clock_adjtime": (305, 266),
    "adjtimex": (159, 171),
    "sethostname": (170, 161),
    "setdomainname": (171, 162),
    "iopl": (172, None),
    "ioperm": (173, None),
    "personality": (135, 92),
    "socket": (41, 198),
    "clone": (56, 220),
    "clone3": (435, 435),
    "kill": (62, 129),
    "tkill": (200, 130),
    "tgkill": (234, 131),
    "rt_sigqueueinfo": (129, 138),
    "rt_tgsigqueueinfo": (297, 240),
    "pidfd_open": (434, 434),
    "pidfd_send_signal": (424, 424),
    "fcntl": (72, 25),
    "ioctl": (16, 29),
    "shmget": (29, 194),
    "shmat": (30, 196),
    "shmctl": (31, 195),
    "shmdt": (67, 197),
    "semget": (64, 190),
    "semop": (65, 193),
    "semctl": (66, 191),
    "semtimedop": (220, 192),
    "msgget": (68, 186),
    "msgsnd": (69, 189),
    "msgrcv": (70, 188),
    "msgctl": (71, 187),
    "mq_open": (240, 180),
    "mq_unlink": (241, 181),
    "mq_timedsend": (242, 182),
    "mq_timedreceive": (243, 183),
    "mq_notify": (244, 184),
    "mq_getsetattr": (245, 185),
}

AF_UNIX = 1
CLONE_PARENT = 0x00008000
# fcntl commands that choose who a file's I/O signals (``SIGIO``, or any signal with F_SETSIG)
F_SETOWN, F_SETSIG, F_SETOWN_EX = 8, 10, 15
# ioctl commands that do the same on a socket (FIOSETOWN, SIOCSPGRP), or choose which process group a
# terminal signals (TIOCSPGRP); the same numbers on x86_64 and aarch64
FIOSETOWN, SIOCSPGRP, TIOCSPGRP = 0x8901, 0x8902, 0x5410
# CLONE_NEWNS | NEWCGROUP | NEWUTS | NEWIPC | NEWUSER | NEWPID | NEWNET
NEW_NAMESPACES = 0x00020000 | 0x02000000 | 0x04000000 | 0x08000000 | 0x10000000 | 0x20000000 | 0x40000000


class SeccompUnavailable(RuntimeError):
    """No filter can be built or installed here (an architecture without a table, no prctl)."""


@dataclass(frozen=True)
class Rule:
    """A syscall answered ``errno``, on the low 32 bits of its argument number ``arg`` (0, the first,
    unless said): unless they are one of ``allowed``; or, with ``denied``, only when they are one of
    those; or, with ``denied_bits``, only when they have one of those bits; always when none of the
    three is given."""

    syscall: str
    errno: int = errno.EPERM
    allowed: tuple[int, ...] = ()
    denied_bits: int = 0
    denied: tuple[int, ...] = ()
    arg: int = 0

    def __post_init__(self) -> None:
        if sum(map(bool, (self.allowed, self.denied_bits, self.denied))) > 1:
            raise ValueError(f"a rule for {self.syscall} says either allowed, denied or denied_bits")
        if not 0 <= self.arg < 6:
            raise ValueError("a syscall has six arguments, numbered 0 to 5")


# Everything a numerical submission has no use for and an escape would: debugging or reading other
# processes, mounts and namespaces, kernel keys and modules, BPF, io_uring (whose operations bypass
# seccomp), the clock and the host's names; System V IPC and POSIX message queues, whose objects
# outlive the process that made them (a channel to the next submission); sockets other than local
# ones; clone3, whose flags sit in memory a filter cannot read, answered ENOSYS so that the C library
# falls back to clone.
# fmt: off
_DENIED = (
    "ptrace", "process_vm_readv", "process_vm_writev", "kcmp", "pidfd_getfd",
    "mount", "umount2", "pivot_root", "chroot", "move_mount", "open_tree", "fsopen", "fsconfig", "fsmount",
    "fspick", "mount_setattr", "unshare", "setns", "keyctl", "add_key", "request_key", "bpf", "perf_event_open",
    "userfaultfd", "io_uring_setup", "io_uring_enter", "io_uring_register", "fanotify_init",
    "open_by_handle_at", "name_to_handle_at", "kexec_load", "kexec_file_load", "init_module", "finit_module",
    "delete_module", "reboot", "swapon", "swapoff", "syslog", "acct", "quotactl", "lookup_dcookie", "vhangup",
    "settimeofday", "clock_settime", "clock_adjtime", "adjtimex", "sethostname", "setdomainname", "iopl", "ioperm",
    "shmget", "shmat", "shmctl", "shmdt", "semget", "semop", "semctl", "semtimedop", "msgget", "msgsnd", "msgrcv",
    "msgctl", "mq_open", "mq_unlink", "mq_timedsend", "mq_timedreceive", "mq_notify", "mq_getsetattr",
)
# fmt: on
WALLS: tuple[Rule, ...] = (
    *(Rule(name) for name in _DENIED),
    Rule("personality", allowed=(0, 0xFFFFFFFF)),  # PER_LINUX, and the query
    Rule("socket", errno=errno.EACCES, allowed=(AF_UNIX,)),
    Rule("clone", denied_bits=NEW_NAMESPACES),
    Rule("clone3", errno=errno.ENOSYS),
)


def walls_filter() -> tuple[Rule, ...]:
    """The rules for every process in the sandbox (the warm worker and each submission)."""
    return WALLS


def signals_filter(pid: int) -> tuple[Rule, ...]:
    """The rules for one submission's process ``pid`` and what it starts: signals only to itself or
    its own process group (the runner makes it a session leader), so never to the warm worker (its
    parent) or the sandbox's init.

    Every way one process signals another, and why it is refused or needs nothing:

    - ``kill`` (pid, 0 or minus its own group), ``tgkill``, ``rt_sigqueueinfo`` and
      ``rt_tgsigqueueinfo`` to its own pid only; ``tkill`` (a thread id, which this filter cannot
      tell from another process's) not at all; ``pidfd_open`` of its own pid only;
    - ``pidfd_send_signal``: not at all. Its target is a descriptor, which a filter cannot read, and
      not only a pidfd: a descriptor of a ``/proc/PID`` directory, which anyone may open, works too;
    - a file's owner, whom the kernel signals on I/O once ``O_ASYNC`` is set (``SIGIO``, or any
      signal chosen with ``F_SETSIG``, ``SIGKILL`` included): ``fcntl`` ``F_SETOWN``,
      ``F_SETOWN_EX`` and ``F_SETSIG``, and ``ioctl`` ``FIOSETOWN`` and ``SIOCSPGRP`` on a socket,
      are refused. A file nobody made the owner of signals nobody; ``F_SETLEASE`` and ``F_NOTIFY``
      make the caller itself the owner;
    - ``ioctl`` ``TIOCSPGRP``, the process group a terminal signals (``SIGINT``, ``SIGTTOU``,
      ``SIGHUP``): refused, although the kernel only accepts a group of the caller's own session;
    - ``clone`` with ``CLONE_PARENT``: refused. The child would be the worker's, not the
      submission's, and its exit would signal the worker. A child's other exit signals go to
      its own parent, a process of the submission (and become ``SIGCHLD`` when it is reparented);
    - not covered, since they signal only the caller: ``prctl(PR_SET_PDEATHSIG)``, timers
      (``timer_create``: ``SIGEV_THREAD_ID`` must name a thread of the caller's own process),
      ``alarm``, ``setitimer``, resource limits (``SIGXCPU``, ``SIGXFSZ``), ``SIGPIPE``;
      ``mq_notify`` is refused to everything in the sandbox (:data:`WALLS`), and so is ``ptrace``.
    """
    own = pid & 0xFFFFFFFF
    group = -pid & 0xFFFFFFFF
    return (
        Rule("kill", allowed=(own, 0, group)),
        Rule("tgkill", allowed=(own,)),
        Rule("tkill"),
        Rule("rt_sigqueueinfo", allowed=(own,)),
        Rule("rt_tgsigqueueinfo", allowed=(own,)),
        Rule("pidfd_open", allowed=(own,)),
        Rule("pidfd_send_signal"),
        Rule("fcntl", arg=1, denied=(F_SETOWN, F_SETSIG, F_SETOWN_EX)),
        Rule("ioctl", arg=1, denied=(FIOSETOWN, SIOCSPGRP, TIOCSPGRP)),
        Rule("clone", denied_bits=CLONE_PARENT),
    )


def _instruction(code: int, jt: int, jf: int, k: int) -> bytes:
    return struct.pack("<HBBI", code, jt, jf, k)


def _rule_block(rule: Rule, number: int) -> list[bytes]:
    """``if nr == number: <the rule's verdict>``; the jump over it when nr differs is prepended."""
    deny = _RET_ERRNO | (rule.errno & 0xFFFF)
    load = _instruction(_LD_ABS, 0, 0, _ARGS + 8 * rule.arg)
    if rule.denied_bits:
        body = [
            load,
            _instruction(_JSET, 0, 1, rule.denied_bits),
            _instruction(_RET, 0, 0, deny),
            _instruction(_RET, 0, 0, _RET_ALLOW),
        ]
    elif rule.allowed or rule.denied:
        values = rule.allowed or rule.denied
        # each test jumps, on a match, over the remaining tests to the last return but one: the allow
        # for allowed values, the deny for denied ones
        first, second = (deny, _RET_ALLOW) if rule.allowed else (_RET_ALLOW, deny)
        count = len(values)
        body = [load]
        body += [_instruction(_JEQ, count - index, 0, value) for index, value in enumerate(values)]
        body += [_instruction(_RET, 0, 0, first), _instruction(_RET, 0, 0, second)]
    else:
        body = [_instruction(_RET, 0, 0, deny)]
    return [_instruction(_JEQ, 0, len(body), number), *body]


def architecture() -> str:
    machine = platform.machine()
    if machine not in _ARCHES:
        raise SeccompUnavailable(f"the sandbox has no seccomp table for the {machine} architecture")
    return machine


def compile_filter(rules: tuple[Rule, ...], machine: str | None = None) -> bytes:
    """The BPF program (an array of ``struct sock_filter``) for ``rules``: a process of another
    architecture (i386 calls on x86_64, or x32's) is killed, listed syscalls get their verdict, the
    rest are allowed."""
    machine = machine or architecture()
    column = 0 if machine == "x86_64" else 1
    program = [
        _instruction(_LD_ABS, 0, 0, _ARCH),
        _instruction(_JEQ, 1, 0, _ARCHES[machine]),
        _instruction(_RET, 0, 0, _RET_KILL_PROCESS),
        _instruction(_LD_ABS, 0, 0, _NR),
    ]
    if machine == "x86_64":
        program += [_instruction(_JGE, 0, 1, _X32_BIT), _instruction(_RET, 0, 0, _RET_KILL_PROCESS)]
    for rule in rules:
        number = _NUMBERS[rule.syscall][column]
        if number is None:
            continue
        block = _rule_block(rule, number)
        # a block ends in returns, so the accumulator (the syscall number) is reloaded only after one
        # that loaded an argument; reload after every block to keep the blocks independent
        program += [*block, _instruction(_LD_ABS, 0, 0, _NR)]
    program.append(_instruction(_RET, 0, 0, _RET_ALLOW))
    if len(program) > 4096:
        raise SeccompUnavailable("the seccomp filter is longer than the kernel accepts")
    return b"".join(program)


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


_PR_SET_NO_NEW_PRIVS, _PR_SET_SECCOMP, _SECCOMP_MODE_FILTER = 38, 22, 2


def install(program: bytes) -> None:
    """Install ``program`` on the calling thread's process (and what it starts): sets no_new_privs
    first, as the kernel requires of an unprivileged caller. Irreversible by design."""
    libc = ctypes.CDLL(None, use_errno=True)
    buffer = ctypes.create_string_buffer(program, len(program))
    fprog = _SockFprog(len(program) // 8, ctypes.cast(buffer, ctypes.c_void_p))
    if libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        raise SeccompUnavailable(f"prctl(PR_SET_NO_NEW_PRIVS) failed: errno {ctypes.get_errno()}")
    if libc.prctl(_PR_SET_SECCOMP, _SECCOMP_MODE_FILTER, ctypes.byref(fprog), 0, 0) != 0:
        raise SeccompUnavailable(f"prctl(PR_SET_SECCOMP) failed: errno {ctypes.get_errno()}")
