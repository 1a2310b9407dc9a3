"""Each escape, attempted by real submitted code, fails: the assertions are on what that code
observed inside the sandbox, or on the call's status."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from sandbox import Call, CallResult, Limits, Sandbox, Status, cgroups, service, wire
from tests.sandbox.probes import LIMITS, probe, require_bwrap

REPO = Path(__file__).resolve().parents[2]


# a probe listing the processes it can see besides itself
OTHER_PROCESSES = """
import os
def probe():
    mine = (os.getpid(),)
    return report(sorted(int(p) for p in os.listdir("/proc") if p.isdigit() and int(p) not in mine))
"""


def lines(text: str) -> dict[str, str]:
    """``what: outcome`` lines by ``what``."""
    return dict(line.split(": ", 1) for line in text.splitlines())


def test_no_network_not_even_the_hosts_loopback(sandbox: Sandbox) -> None:
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    server.setblocking(False)
    port = server.getsockname()[1]
    try:
        seen = lines(
            probe(
                sandbox,
                """
import socket
def probe(port):
    def tcp(family, address):
        with socket.socket(family, socket.SOCK_STREAM) as s:
            s.settimeout(2)
            s.connect(address)
    return report(
        attempt("ipv4", lambda: tcp(socket.AF_INET, ("127.0.0.1", port))),
        attempt("ipv6", lambda: tcp(socket.AF_INET6, ("::1", port))),
        attempt("udp", lambda: socket.socket(socket.AF_INET, socket.SOCK_DGRAM)),
        attempt("netlink", lambda: socket.socket(socket.AF_NETLINK, socket.SOCK_RAW)),
        attempt("dns", lambda: socket.getaddrinfo("example.com", 80)),
    )
""",
                port,
            )
        )
        with pytest.raises(BlockingIOError):  # nothing ever reached the test's server
            server.accept()
    finally:
        server.close()
    for family in ("ipv4", "ipv6", "udp", "netlink"):
        assert seen[family].startswith("PermissionError"), seen
    assert seen["dns"].startswith("gaierror"), seen


def test_the_service_files_are_not_there(sandbox: Sandbox, tmp_path: Path) -> None:
    mine = tmp_path / "secret.txt"
    mine.write_text("the test's own file")
    paths = [
        str(REPO / "pyproject.toml"),
        str(REPO / "sandbox" / "service.py"),
        str(mine),
        "/etc/shadow",
        "/etc/passwd",
        "/root/.bashrc",
        "/proc/1/root/etc/shadow",
    ]
    seen = lines(
        probe(
            sandbox,
            """
def probe(*paths):
    return report(*(attempt(path, lambda path=path: open(path, "rb").read(40)) for path in paths))
""",
            *paths,
        )
    )
    for path in paths:
        assert seen[path].startswith(("FileNotFoundError", "PermissionError")), (path, seen[path])


def test_the_service_environment_is_not_seen(monkeypatch: pytest.MonkeyPatch) -> None:
    require_bwrap()
    monkeypatch.setenv("GRADER_TEST_SECRET", "s3cr3t-value")
    with Sandbox(LIMITS) as box:
        text = probe(
            box,
            """
import os
def probe():
    def environ(pid):
        with open(f"/proc/{pid}/environ", "rb") as f:
            return f.read()
    return report(
        "env: " + repr(dict(os.environ)),
        attempt("self", lambda: environ("self")),
        attempt("init", lambda: environ(1)),
        attempt("worker", lambda: environ(2)),
    )
""",
        )
    assert "s3cr3t-value" not in text
    assert "GRADER_TEST_SECRET" not in text
    seen = lines(text)
    assert seen["worker"].startswith("PermissionError"), seen


def test_the_warm_worker_and_the_init_cannot_be_read(sandbox: Sandbox) -> None:
    seen = lines(
        probe(
            sandbox,
            """
import ctypes, os
def probe():
    libc = ctypes.CDLL(None, use_errno=True)
    def check(result):
        if result < 0:
            raise OSError(ctypes.get_errno(), os.strerror(ctypes.get_errno()))
    def vm_read(pid):
        local = ctypes.create_string_buffer(16)
        iov_local = (ctypes.c_void_p * 2)(ctypes.cast(local, ctypes.c_void_p), 16)
        iov_remote = (ctypes.c_void_p * 2)(0x400000, 16)
        check(libc.process_vm_readv(pid, iov_local, 1, iov_remote, 1, 0))
    def read(path):
        with open(path, "rb") as f:
            return f.read(1)
    lines = [f"parent: {os.getppid()}"]
    for name, pid in (("init", 1), ("worker", 2)):
        lines += [
            attempt(f"{name} mem", lambda: read(f"/proc/{pid}/mem")),
            attempt(f"{name} environ", lambda: read(f"/proc/{pid}/environ")),
            attempt(f"{name} fds", lambda: os.listdir(f"/proc/{pid}/fd")),
            attempt(f"{name} control socket", lambda: read(f"/proc/{pid}/fd/0")),
            attempt(f"{name} vm_read", lambda: vm_read(pid)),
            attempt(f"{name} attach", lambda: check(libc.ptrace(16, pid, 0, 0))),
            attempt(f"{name} seize", lambda: check(libc.ptrace(0x4206, pid, 0, 0))),
        ]
    return report(*lines)
""",
        )
    )
    assert seen.pop("parent") == "2"  # the submission's parent is the warm worker
    assert len(seen) == 14
    for what, outcome in seen.items():
        assert outcome.startswith(("PermissionError", "OSError: [Errno 1]")), (what, outcome)


def test_nothing_can_be_written_outside_scratch(sandbox: Sandbox) -> None:
    seen = lines(
        probe(
            sandbox,
            """
import os, numpy
def probe():
    def write(path):
        with open(path, "w") as f:
            f.write("x")
    targets = ["/planted", "/usr/planted", "/dev/shm/planted", "/dev/planted", "/tmp/planted",
               "/proc/sys/kernel/hostname", os.path.join(os.path.dirname(numpy.__file__), "planted.py")]
    return report(*(attempt(path, lambda path=path: write(path)) for path in targets),
                  attempt("scratch", lambda: write("/scratch/fine")))
""",
        )
    )
    assert seen.pop("scratch") == "SUCCEEDED None"
    for path, outcome in seen.items():
        assert outcome.startswith(("OSError: [Errno 30]", "FileNotFoundError", "PermissionError")), (path, outcome)


def test_the_warm_worker_cannot_be_killed(sandbox: Sandbox) -> None:
    worker = sandbox.worker_pid
    seen = lines(
        probe(
            sandbox,
            """
import ctypes, os, platform, signal
# kill, tgkill, tkill, rt_sigqueueinfo
NUMBERS = {"x86_64": (62, 234, 200, 129), "aarch64": (129, 131, 130, 138)}[platform.machine()]
def probe():
    kill, tgkill, tkill, sigqueue = NUMBERS
    libc = ctypes.CDLL(None, use_errno=True)
    def raw(number, *args):
        if libc.syscall(number, *(ctypes.c_long(arg) for arg in args)) != 0:
            raise OSError(ctypes.get_errno(), os.strerror(ctypes.get_errno()))
    return report(
        attempt("worker", lambda: os.kill(2, signal.SIGKILL)),
        attempt("parent", lambda: os.kill(os.getppid(), signal.SIGKILL)),
        attempt("init", lambda: os.kill(1, signal.SIGKILL)),
        attempt("everyone", lambda: os.kill(-1, signal.SIGKILL)),
        attempt("worker group", lambda: os.killpg(2, signal.SIGKILL)),
        # the pid's high bits set: the kernel reads the low 32, and so does the filter
        attempt("high bits", lambda: raw(kill, 2 | (1 << 32), 9)),
        attempt("tgkill", lambda: raw(tgkill, 2, 2, 9)),
        attempt("tkill", lambda: raw(tkill, 2, 9)),
        attempt("sigqueue", lambda: raw(sigqueue, 2, 9, 0)),
        attempt("pidfd", lambda: os.pidfd_open(2)),
    )
""",
        )
    )
    for what, outcome in seen.items():
        assert outcome.startswith(("PermissionError", "OSError: [Errno 1]")), (what, outcome)
    # and the same warm worker serves the next submission
    assert probe(sandbox, "def probe():\n    return report('alive')\n") == "alive"
    assert sandbox.worker_pid == worker


def test_a_fork_bomb_meets_the_process_limit(sandbox: Sandbox) -> None:
    seen = lines(
        probe(
            sandbox,
            """
import os, signal
def probe():
    children = 0
    try:
        while True:
            if os.fork() == 0:
                while True:
                    signal.pause()
            children += 1
    except OSError as error:
        return report(f"children: {children}", f"stopped: {type(error).__name__}")
""",
        )
    )
    assert int(seen["children"]) < LIMITS.pids
    assert seen["stopped"] == "BlockingIOError"  # EAGAIN from fork
    # no process of it is left for the next submission to meet
    assert probe(sandbox, OTHER_PROCESSES) == "[1, 2]"


#: The memory tests' limits: LIMITS' memory, with time enough for the OOM killer. Near its limit
#: the group's mapped files (the interpreter's, numpy's) are reclaimed and read again until the
#: kill comes: at a load of ten that took more than LIMITS' 4 s, and the hog was said to be out of time.
MEMORY_LIMITS = replace(LIMITS, wall_seconds=120.0, cpu_seconds=60)


@pytest.fixture
def memory_sandbox() -> Iterator[Sandbox]:
    require_bwrap()
    with Sandbox(MEMORY_LIMITS) as box:
        box.start()
        yield box


def test_a_memory_hog_is_stopped_and_the_service_goes_on(memory_sandbox: Sandbox) -> None:
    sandbox = memory_sandbox
    worker = sandbox.worker_pid
    source = "import numpy as np\ndef hog():\n    return np.ones(1 << 30, dtype=np.uint8).sum()\n"
    results = sandbox.run(source + "def fine():\n    return np.ones(3)\n", [Call("hog"), Call("fine")])
    assert [r.status for r in results] == [Status.MEMORY, Status.OK]
    assert sandbox.worker_pid == worker  # the submission died, not the warm worker
    assert sandbox.memory_limited_by_cgroup


def test_calls_killed_for_memory_before_their_answers_are_read_are_each_over_their_memory(
    memory_sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On a loaded machine the service may read a process's answers only after it was killed: each
    killed call is still over its memory, not "killed by signal 9". Here the service's read of each
    call's answer waits until the group has counted one more OOM kill than the calls answered so far
    (each call after a killed one runs in a fresh process)."""
    worker = memory_sandbox._worker
    assert worker is not None and worker.group is not None
    group = worker.group
    before, read = group.oom_kills(), service._Worker._answer

    def read_late(self: service._Worker, frames: wire.Frames, deadline: float, cpu: int) -> CallResult:
        waited_until = time.monotonic() + 120
        while group.oom_kills() <= before + len(worker.answers) and time.monotonic() < waited_until:
            time.sleep(0.01)  # (polling the count: the condition this reader waits for)
        return read(self, frames, deadline, cpu)

    source = "import numpy as np\ndef hog():\n    return np.ones(1 << 30, dtype=np.uint8).sum()\n"
    monkeypatch.setattr(service._Worker, "_answer", read_late)  # the service's reads of each call's answer
    results = memory_sandbox.run(source, [Call("hog")] * 3)
    assert group.oom_kills() == before + 3
    assert [(r.status, r.message) for r in results] == [(Status.MEMORY, "over its 256 MiB of memory")] * 3


def test_scratch_is_capped() -> None:
    require_bwrap()
    with Sandbox(Limits(scratch_bytes=4 << 20, file_bytes=64 << 20)) as box:
        seen = lines(
            probe(
                box,
                """
def probe():
    def fill():
        with open("big", "wb") as f:
            f.write(b"x" * (16 << 20))
    return report(attempt("fill", fill))
""",
            )
        )
    assert seen["fill"].startswith("OSError: [Errno 28]"), seen  # ENOSPC


def test_a_process_left_running_does_not_survive_its_submission(sandbox: Sandbox) -> None:
    probe(
        sandbox,
        """
import os
def probe():
    if os.fork() == 0:
        os.setsid()
        if os.fork() == 0:
            while True:
                with open("/scratch/ghost", "a") as f:
                    f.write("boo")
        os._exit(0)
    return report("forked")
""",
    )
    assert probe(sandbox, OTHER_PROCESSES) == "[1, 2]"  # the sandbox's init and the warm worker
    assert probe(sandbox, "import os\ndef probe():\n    return report(os.listdir('.'))\n") == "[]"


def test_host_processes_are_invisible(sandbox: Sandbox) -> None:
    assert probe(sandbox, OTHER_PROCESSES) == "[1, 2]"  # the sandbox's init and the warm worker


def test_without_a_cgroup_memory_is_limited_per_process(monkeypatch: pytest.MonkeyPatch) -> None:
    require_bwrap()
    monkeypatch.setattr(cgroups, "create", lambda memory_bytes, pids: None)
    with Sandbox(LIMITS) as box:
        source = "import numpy as np\ndef hog():\n    return np.ones(1 << 30, dtype=np.uint8).sum()\n"
        results = box.run(source + "def fine():\n    return np.ones(3)\n", [Call("hog"), Call("fine")])
        assert not box.memory_limited_by_cgroup
    assert [r.status for r in results] == [Status.MEMORY, Status.OK]


IPC = """
import ctypes, os
libc = ctypes.CDLL(None, use_errno=True)
libc.shmat.restype = ctypes.c_void_p
def check(result):
    if result in (-1, None, ctypes.c_void_p(-1).value):
        raise OSError(ctypes.get_errno(), os.strerror(ctypes.get_errno()))
    return result
def shared(create):
    segment = check(libc.shmget(0x5EED, 4096, 0o1600 if create else 0))  # IPC_CREAT | 0600
    address = check(libc.shmat(segment, None, 0))
    if create:
        ctypes.memmove(address, b"left by the last one", 20)
    return ctypes.string_at(address, 20)
def queue(create):
    flags = os.O_CREAT | os.O_RDWR if create else os.O_RDWR
    return check(libc.mq_open(b"/left", flags, 0o600, None))
def semaphores(create):
    return check(libc.semget(0x5EED, 1, 0o1600 if create else 0))
"""


def test_no_ipc_object_outlives_its_submission(sandbox: Sandbox) -> None:
    """System V shared memory, semaphores and POSIX message queues would outlive the process that
    made them (within the sandbox's IPC namespace): they are refused."""
    planted = lines(
        probe(
            sandbox,
            IPC
            + """
def probe():
    return report(attempt("shm", lambda: shared(True)), attempt("mq", lambda: queue(True)),
                  attempt("sem", lambda: semaphores(True)))
""",
        )
    )
    found = lines(
        probe(
            sandbox,
            IPC
            + """
def probe():
    return report(attempt("shm", lambda: shared(False)), attempt("mq", lambda: queue(False)),
                  attempt("sem", lambda: semaphores(False)))
""",
        )
    )
    for seen in (planted, found):
        for what, outcome in seen.items():
            assert outcome.startswith("PermissionError: [Errno 1]"), (what, outcome)
