"""The "signal only yourself" wall, attacked every way one process can signal another: each attempt,
made by real submitted code against the warm worker (pid 2 in the sandbox, the submission's
parent), is refused with EPERM, and the same warm worker then serves the next
submission. ``kill`` and its kin are tried in ``test_escapes.py``; these are the indirect ways: a
file's owner signalled on I/O, ``pidfd_send_signal`` on a ``/proc`` directory, a terminal's process
group, a child given to the worker."""

from __future__ import annotations

import errno
import struct

import pytest

from sandbox import Sandbox, seccomp
from tests.sandbox.probes import probe

# Prepended to each attack: raw system calls through ctypes, and the numbers the attacks use.
COMMON = """
import ctypes, fcntl, os, platform, signal, socket, struct
libc = ctypes.CDLL(None, use_errno=True)
# clone, pidfd_send_signal, fcntl
NUMBERS = {"x86_64": (56, 424, 72), "aarch64": (220, 424, 25)}[platform.machine()]
F_SETOWN, F_SETSIG, F_SETOWN_EX, F_OWNER_PID = 8, 10, 15, 1
FIOSETOWN, SIOCSPGRP, TIOCSPGRP, FIOASYNC = 0x8901, 0x8902, 0x5410, 0x5452
def raw(number, *args):
    result = libc.syscall(number, *(ctypes.c_long(arg) for arg in args))
    if result < 0:
        raise OSError(ctypes.get_errno(), os.strerror(ctypes.get_errno()))
    return result
def asynchronous(fd):
    fcntl.fcntl(fd, fcntl.F_SETFL, fcntl.fcntl(fd, fcntl.F_GETFL) | os.O_ASYNC)
"""

ATTACKS = {
    # the reported attack in full: the worker made the pipe's owner, SIGKILL its signal, O_ASYNC,
    # then I/O on it; each step is attempted whatever the one before answered
    "fcntl F_SETOWN": """
def probe():
    r, w = os.pipe()
    steps = [
        attempt("owner", lambda: fcntl.fcntl(r, F_SETOWN, 2)),
        attempt("signal", lambda: fcntl.fcntl(r, F_SETSIG, signal.SIGKILL)),
        attempt("owner, high bits", lambda: raw(NUMBERS[2], r, F_SETOWN | (1 << 32), 2)),
        attempt("owner group", lambda: fcntl.fcntl(r, F_SETOWN, -2)),
    ]
    asynchronous(r)
    os.write(w, b"x")
    return report(*steps)
""",
    "fcntl F_SETOWN_EX": """
def probe():
    r, w = os.pipe()
    steps = [
        attempt("owner worker", lambda: fcntl.fcntl(r, F_SETOWN_EX, struct.pack("ii", F_OWNER_PID, 2))),
        attempt("owner parent", lambda: fcntl.fcntl(r, F_SETOWN_EX, struct.pack("ii", F_OWNER_PID, os.getppid()))),
        attempt("signal", lambda: fcntl.fcntl(r, F_SETSIG, signal.SIGKILL)),
    ]
    asynchronous(r)
    os.write(w, b"x")
    return report(*steps)
""",
    # a socket's owner, through ioctl rather than fcntl: SIGIO (which terminates) on its I/O
    "ioctl FIOSETOWN": """
def probe():
    a, b = socket.socketpair()
    steps = [
        attempt("owner", lambda: fcntl.ioctl(a, FIOSETOWN, struct.pack("i", 2))),
        attempt("owner parent", lambda: fcntl.ioctl(a, FIOSETOWN, struct.pack("i", os.getppid()))),
        attempt("process group", lambda: fcntl.ioctl(a, SIOCSPGRP, struct.pack("i", 2))),
    ]
    fcntl.ioctl(a, FIOASYNC, struct.pack("i", 1))
    b.send(b"x")
    return report(*steps)
""",
    "ioctl TIOCSPGRP": """
def probe():
    try:
        fd = os.open("/dev/ptmx", os.O_RDWR | os.O_NOCTTY)
    except OSError:
        fd, _ = os.pipe()  # the filter answers before the kernel looks at the descriptor
    return report(attempt("terminal group", lambda: fcntl.ioctl(fd, TIOCSPGRP, struct.pack("i", 2))))
""",
    # a descriptor of /proc/PID is a pidfd to pidfd_send_signal, and anyone may open the directory
    "pidfd_send_signal": """
def probe():
    def send(pid):
        fd = os.open(f"/proc/{pid}", os.O_RDONLY | os.O_DIRECTORY)
        signal.pidfd_send_signal(fd, signal.SIGKILL)
    def send_raw(pid):
        fd = os.open(f"/proc/{pid}", os.O_RDONLY | os.O_DIRECTORY)
        raw(NUMBERS[1], fd, signal.SIGKILL, 0, 0)
    return report(attempt("worker", lambda: send(2)), attempt("parent", lambda: send(os.getppid())),
                  attempt("worker raw", lambda: send_raw(2)))
""",
    # a child given to the worker rather than to the submission, SIGKILL its exit signal
    "clone CLONE_PARENT": """
def probe():
    def clone():
        pid = raw(NUMBERS[0], 0x00008000 | signal.SIGKILL, 0, 0, 0, 0)
        if pid == 0:
            os._exit(0)
        return pid
    return report(attempt("parent's child", clone))
""",
}


@pytest.mark.parametrize("attack", ATTACKS)
def test_no_way_of_signalling_another_process_gets_through(sandbox: Sandbox, attack: str) -> None:
    worker = sandbox.worker_pid
    text = probe(sandbox, COMMON + ATTACKS[attack])
    seen = dict(line.split(": ", 1) for line in text.splitlines())
    assert seen
    for what, outcome in seen.items():
        assert outcome.startswith(("PermissionError", "OSError: [Errno 1]")), (attack, what, outcome)
    # the same warm worker serves the next submission
    assert probe(sandbox, "def probe():\n    return report('alive')\n") == "alive"
    assert sandbox.worker_pid == worker


# A classic BPF interpreter for what compile_filter emits (loads, jumps, returns): the filter's
# verdict on a call, checked without the kernel.
def verdict(program: bytes, nr: int, args: tuple[int, ...], arch: int = 0xC000003E) -> int:
    data = struct.pack("<iIQ6Q", nr, arch, 0, *(list(args) + [0] * (6 - len(args))))
    accumulator, pc = 0, 0
    while True:
        code, jt, jf, k = struct.unpack_from("<HBBI", program, 8 * pc)
        pc += 1
        if code == 0x20:
            (accumulator,) = struct.unpack_from("<I", data, k)
        elif code == 0x06:
            return k
        elif code in (0x15, 0x35, 0x45):
            taken = {0x15: accumulator == k, 0x35: accumulator >= k, 0x45: bool(accumulator & k)}[code]
            pc += jt if taken else jf
        else:
            raise AssertionError(f"unexpected instruction {code:#x}")


ALLOW, EPERM = 0x7FFF0000, 0x00050000 | errno.EPERM


def test_a_rule_compares_the_argument_it_names_on_its_low_32_bits() -> None:
    program = seccomp.compile_filter(seccomp.signals_filter(7), "x86_64")
    fcntl, ioctl, clone = 72, 16, 56
    assert verdict(program, fcntl, (3, 8, 2)) == EPERM  # F_SETOWN
    assert verdict(program, fcntl, (3, 8 | 1 << 32, 2)) == EPERM  # the kernel reads an unsigned int
    assert verdict(program, fcntl, (3, 15, 0)) == EPERM  # F_SETOWN_EX
    assert verdict(program, fcntl, (3, 10, 9)) == EPERM  # F_SETSIG
    assert verdict(program, fcntl, (8, 4, 0)) == ALLOW  # F_SETFL on descriptor 8: the first argument
    assert verdict(program, fcntl, (3, 1, 0)) == ALLOW  # F_GETFD
    assert verdict(program, ioctl, (3, 0x8901, 0)) == EPERM  # FIOSETOWN
    assert verdict(program, ioctl, (3, 0x5410, 0)) == EPERM  # TIOCSPGRP
    assert verdict(program, ioctl, (3, 0x5421, 0)) == ALLOW  # FIONBIO
    assert verdict(program, 424, (3, 9, 0, 0)) == EPERM  # pidfd_send_signal
    assert verdict(program, clone, (0x01200011,)) == ALLOW  # fork's flags
    assert verdict(program, clone, (0x00008000 | 9,)) == EPERM  # CLONE_PARENT
    assert verdict(program, 62, (7, 9)) == ALLOW  # kill itself
    assert verdict(program, 62, (2 | 1 << 32, 9)) == EPERM  # kill the worker, the high bits set


def test_a_rule_says_one_of_allowed_denied_or_denied_bits() -> None:
    with pytest.raises(ValueError, match="either"):
        seccomp.Rule("fcntl", allowed=(1,), denied=(2,))
    with pytest.raises(ValueError, match="six arguments"):
        seccomp.Rule("fcntl", arg=6)
