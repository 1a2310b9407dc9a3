"""What a submission gets back: correct arrays, each failure named per call, nothing carried over to
the next submission, and a clear refusal where the sandbox cannot run at all; in a runtime with a
problem's packages (``numpy+scipy``), those packages, loaded, and matplotlib drawing into files only."""

from __future__ import annotations

import os
import signal
import socket
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from harness.student_code import CONV_FORWARD
from sandbox import (
    Call,
    Limits,
    Sandbox,
    SandboxUnavailable,
    Status,
    UnknownRuntime,
    cgroups,
    runtime_modules,
    runtime_name,
    syntax,
    walls,
    wire,
)
from tests.sandbox.probes import LIMITS, REPORT, RESULTS_CHANNEL, observed, probe, require_bwrap


def test_a_convolution_comes_back_right(sandbox: Sandbox) -> None:
    rng = np.random.default_rng(3)
    x, w, b = rng.normal(size=(2, 3, 9, 8)), rng.normal(size=(4, 3, 3, 3)), rng.normal(size=4)
    (result,) = sandbox.run(CONV_FORWARD, [Call("conv_forward", (x, w, b), {"stride": 2, "pad": 1})])
    expected = torch.nn.functional.conv2d(
        torch.from_numpy(x), torch.from_numpy(w), torch.from_numpy(b), stride=2, padding=1
    ).numpy()
    assert result.status is Status.OK
    assert result.output.shape == (2, 4, 5, 4)  # type: ignore[union-attr]
    np.testing.assert_allclose(result.output, expected, rtol=1e-10, atol=1e-12)


def test_tuples_scalars_nan_and_inf_cross_as_values(sandbox: Sandbox) -> None:
    source = "import numpy as np\ndef f(a):\n    return a * np.inf, np.float32('nan'), 3, [1, 2]\n"
    source += "def g():\n    return [[1, 2], [3, 4]]\n"
    result, listed = sandbox.run(source, [Call("f", (np.array([1.0, -1.0]),)), Call("g")])
    assert result.status is Status.OK and result.returned_tuple
    first, nan, three, pair = result.outputs
    assert first.tolist() == [np.inf, -np.inf]
    assert np.isnan(nan) and nan.dtype == np.float32
    assert three == 3 and pair.tolist() == [1, 2]
    assert not listed.returned_tuple and listed.output.tolist() == [[1, 2], [3, 4]]  # type: ignore[union-attr]


def test_the_module_runs_as_its_check_compiled_it(sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    """The sandbox's process loads the code its check compiled: the module is compiled once, outside,
    with annotations read as PEP 563 reads them, as before."""
    compiles = []
    real = syntax._Compiler.check
    monkeypatch.setattr(syntax._Compiler, "check", lambda self, *args: compiles.append(1) or real(self, *args))
    source = f"import numpy as np  # {time.time_ns()}\ndef f(a: Undefined):\n    return a * 2\n"
    source += "def g(a):\n    return a.missing\n"
    assert syntax.check(source) is None
    doubled, failed = sandbox.run(source, [Call("f", (np.arange(3.0),)), Call("g", (np.arange(3.0),))])
    assert doubled.status is Status.OK and doubled.output.tolist() == [0.0, 2.0, 4.0]  # type: ignore[union-attr]
    assert failed.status is Status.ERROR and failed.message.endswith("has no attribute 'missing'")
    assert len(compiles) == 1


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("def f(:\n    pass\n", "SyntaxError: invalid syntax (line 1)"),
        ("x = " + "1+" * 200_000 + "1\n", "the module is nested too deeply to compile"),
        ("x = 1\x00\n", "SyntaxError: source code string cannot contain null bytes"),
        ("#" * (2 << 20), f"the module is {2 << 20} bytes, over the {1 << 20} a submission may have"),
    ],
)
def test_a_module_that_cannot_compile_is_refused_and_nothing_runs(source: str, message: str) -> None:
    require_bwrap()
    with Sandbox(LIMITS) as box:
        results = box.run(source, [Call("f"), Call("g")])
        assert [(r.status, r.message) for r in results] == [(Status.REFUSED, message)] * 2
        assert box.worker_pid is None  # no sandbox was even started for it


def test_each_failure_is_named_and_the_other_calls_still_run(sandbox: Sandbox) -> None:
    source = """
import time
def loop():
    while True:
        pass
def sleep():
    time.sleep(1000)
def huge():
    return np.zeros(1 << 21)
def raises():
    raise ValueError("shapes (2, 3) and (4,) differ")
def text():
    return "an answer"
def fine():
    return np.arange(3)
import numpy as np
"""
    names = ["loop", "fine", "sleep", "huge", "raises", "missing", "text", "fine"]
    began = time.monotonic()
    results = sandbox.run(source, [Call(name) for name in names])
    elapsed = time.monotonic() - began
    assert [r.status for r in results] == [
        Status.TIMEOUT,
        Status.OK,
        Status.TIMEOUT,
        Status.OUTPUT_TOO_LARGE,
        Status.ERROR,
        Status.ERROR,
        Status.REFUSED,
        Status.OK,
    ]
    assert results[4].message == "ValueError: shapes (2, 3) and (4,) differ"
    assert results[5].message == "AttributeError: module 'submission' has no attribute 'missing'"
    assert "not an array of numbers" in results[6].message
    assert results[7].outputs[0].tolist() == [0, 1, 2]
    assert elapsed < 2 * (LIMITS.wall_seconds + 2)  # two calls out of time, each stopped at its limit


def test_a_call_given_its_own_time_is_held_to_it_and_no_more() -> None:
    """A driver's test gives its time (``Call.seconds``), wall time as every limit of a call: a call
    given more than the sandbox's per-call limit (4 s here) finishes a wait the limit would stop,
    one given less is stopped at its own, and a call after them has the sandbox's limit again.
    Sleeps, not work: a wait takes the same wall time on a loaded machine."""
    require_bwrap()
    source = "import time\ndef nap(seconds):\n    time.sleep(seconds)\n    return seconds\n"
    calls = [Call("nap", (5.0,), seconds=8), Call("nap", (30.0,), seconds=1), Call("nap", (30.0,))]
    with Sandbox(LIMITS) as sandbox:
        long_enough, short, default = sandbox.run(source, calls)
        assert long_enough.status is Status.OK, long_enough.message
        assert (short.status, short.message) == (Status.TIMEOUT, "over its 1 s of wall time")
        assert (default.status, default.message) == (Status.TIMEOUT, "over its 4 s of wall time")
        with pytest.raises(ValueError, match="from 0 to 60 s of wall time"):
            sandbox.run(source, [Call("nap", (1.0,), seconds=61)])
    # the CPU limit is a backstop two whole seconds past (RLIMIT_CPU counts whole seconds)
    assert LIMITS.call_limits(8) == (10, 8.0)
    assert LIMITS.call_limits(0.5) == (3, 0.5)


def test_work_is_stopped_at_its_wall_time_not_before() -> None:
    """A call that computes, given 1 s: stopped by its wall time and said so, not by a CPU limit that
    the process's time before the call (its module's loading) brought closer."""
    require_bwrap()
    source = "import time\ndef spin():\n    while True:\n        pass\n"
    with Sandbox(LIMITS) as sandbox:
        (spun,) = sandbox.run(source, [Call("spin", seconds=1)])
    assert (spun.status, spun.message) == (Status.TIMEOUT, "over its 1 s of wall time")


def test_a_module_that_fails_to_load_fails_every_call(sandbox: Sandbox) -> None:
    results = sandbox.run("import nonexistent_package\n", [Call("f"), Call("g")])
    assert [(r.status, r.message) for r in results] == [
        (Status.ERROR, "ModuleNotFoundError: No module named 'nonexistent_package'")
    ] * 2


def test_a_module_that_never_finishes_loading_times_out_once_for_all_its_calls(sandbox: Sandbox) -> None:
    began = time.monotonic()
    results = sandbox.run("while True:\n    pass\n", [Call("f"), Call("g"), Call("h")])
    assert [r.status for r in results] == [Status.TIMEOUT] * 3
    assert time.monotonic() - began < LIMITS.wall_seconds + 2  # one wait, not one per call


def test_nothing_of_one_submission_reaches_the_next(sandbox: Sandbox) -> None:
    probe(
        sandbox,
        """
import os, sys, numpy, types
def probe():
    with open("left.txt", "w") as f:
        f.write("for the next one")
    os.makedirs("locked/inner")
    with open("locked/inner/deep.txt", "w") as f:
        f.write("x")
    os.chmod("locked/inner", 0)
    os.chmod("locked", 0)
    numpy.sum = lambda *a, **k: 42
    numpy.ndarray  # a C type cannot be patched, a module's attribute can
    sys.modules["leak"] = types.ModuleType("leak")
    os.environ["LEAK"] = "1"
    return report("planted")
""",
    )
    seen = probe(
        sandbox,
        """
import os, sys, numpy
def probe():
    return report(os.listdir("."), numpy.sum(numpy.ones(3)), "leak" in sys.modules, os.environ.get("LEAK"))
""",
    )
    assert seen.splitlines() == ["[]", "3.0", "False", "None"]


DIG_TOO_DEEP = """
import os
def probe():
    for _ in range(30):  # 30 × 201 characters: a path longer than the kernel's PATH_MAX
        os.mkdir("d" * 200)
        os.chdir("d" * 200)
    return report("dug")
"""


def test_a_scratch_too_deep_to_empty_retires_its_worker(sandbox: Sandbox) -> None:
    first = sandbox.worker_pid
    assert probe(sandbox, DIG_TOO_DEEP) == "dug"
    assert probe(sandbox, "import os\ndef probe():\n    return report(os.listdir('/scratch'))\n") == "[]"
    assert sandbox.worker_pid not in (None, first)  # a new worker, on a new scratch


def test_a_worker_gone_before_its_last_process_is_killed_costs_no_answer(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The service tells the worker to end a process once its calls are answered; a worker that
    retired first (it could not empty the scratch directory) is no longer there to tell. Under load
    that order happened by itself, and the call got a second, made-up answer ("the process exited
    during the call") beside its own; here it is forced: the message waits until the worker is gone."""
    told = wire.send_message
    worker = sandbox._worker
    assert worker is not None

    def after_the_worker_is_gone(sock: socket.socket, value: Any, fds: Sequence[int] = ()) -> None:
        if isinstance(value, dict) and "kill" in value:
            worker.process.wait(timeout=60)  # a bound: the worker exits as soon as it has retired
        told(sock, value, fds)

    monkeypatch.setattr(wire, "send_message", after_the_worker_is_gone)
    results = sandbox.run(REPORT + DIG_TOO_DEEP, [Call("probe")])
    assert [(result.status, result.message) for result in results] == [(Status.OK, "")]
    assert observed(results[0]) == "dug"
    monkeypatch.undo()
    assert probe(sandbox, "def probe():\n    return report('next')\n") == "next"
    assert sandbox.worker_pid not in (None, worker.pid)


def test_a_pickle_smuggled_as_output_is_refused_not_loaded(sandbox: Sandbox, tmp_path: Path) -> None:
    """Written straight to the results channel: as an array of dtype object, and as a ``.npy`` file
    that holds a pickle."""
    marker = tmp_path / "unpickled"
    module = (
        REPORT
        + RESULTS_CHANNEL
        + """
import io, json, os, pickle, struct
import numpy as np

class Payload:
    def __reduce__(self):
        return (open, (MARKER, "w"))

def frame(payload):
    return struct.pack(">I", len(payload)) + payload

def send(array):
    channel = results_channel()
    header = json.dumps({"status": "ok", "outputs": 1, "tuple": False}).encode()
    os.write(channel, frame(header) + frame(array))
    os._exit(0)

def smuggle_framed():
    described = json.dumps({"dtype": "|O", "shape": [1], "fortran": False}).encode()
    send(frame(described) + pickle.dumps(np.array([Payload()], dtype=object)))

def smuggle_npy():
    buffer = io.BytesIO()
    np.save(buffer, np.array([Payload()], dtype=object), allow_pickle=True)
    send(buffer.getvalue())
""".replace("MARKER", repr(str(marker)))
    )
    ((framed,), (npy,)) = (sandbox.run(module, [Call(name)]) for name in ("smuggle_framed", "smuggle_npy"))
    assert (framed.status, npy.status) == (Status.REFUSED, Status.REFUSED), (framed, npy)
    assert "dtype '|O' is refused" in framed.message
    assert "not a plain array's" in npy.message
    assert not marker.exists()


def test_a_submission_holds_no_descriptor_but_its_two_pipes(sandbox: Sandbox) -> None:
    """Not the worker's control socket, nor anything else the worker has: the pipe its calls come
    in by (read only, and empty while a call runs: the next call is written once this one has
    answered) and the pipe its answers go out by (write only)."""
    seen = probe(
        sandbox,
        """
import fcntl, os, struct, termios
def probe():
    held = {}
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue  # the listing's own, closed by now
        if not target.startswith("pipe:"):
            held[int(fd)] = target
            continue
        mode = os.O_ACCMODE & fcntl.fcntl(int(fd), fcntl.F_GETFL)
        waiting = struct.unpack("i", fcntl.ioctl(int(fd), termios.FIONREAD, bytes(4)))[0]
        held[int(fd)] = f"pipe {'read' if mode == os.O_RDONLY else 'write'} {waiting if mode == os.O_RDONLY else ''}"
    return report(*(f"{fd}: {target}" for fd, target in sorted(held.items())))
""",
    )
    held = dict(line.split(": ", 1) for line in seen.splitlines())
    assert [held.pop(fd) for fd in ("0", "1", "2")] == ["/dev/null"] * 3
    assert sorted(value.strip() for value in held.values()) == ["pipe read 0", "pipe write"], held


def test_a_process_that_closes_its_results_pipe_is_stopped_at_its_calls_wall_time(sandbox: Sandbox) -> None:
    """Its answers cannot come, but it waits on (using no CPU time: a read of a pipe nobody writes
    to): the call is out of wall time, and the next call runs in a fresh process."""
    source = (
        RESULTS_CHANNEL
        + """
import os
import numpy as np
def hide():
    channel = results_channel()
    os.close(channel)
    os.read(os.pipe()[0], 1)
def fine():
    return np.arange(3)
"""
    )
    began = time.monotonic()
    hidden, fine = sandbox.run(source, [Call("hide"), Call("fine")])
    assert (hidden.status, hidden.message) == (Status.TIMEOUT, f"over its {LIMITS.wall_seconds:g} s of wall time")
    assert fine.status is Status.OK and fine.outputs[0].tolist() == [0, 1, 2]
    assert time.monotonic() - began < 4 * (LIMITS.wall_seconds + 2)  # a bound against a hang, not the test


def test_a_process_that_answers_all_its_calls_early_is_ended_with_its_run(sandbox: Sandbox) -> None:
    """A thread of its own writes the call's answer while the call itself waits: the run is over
    with that answer, and the process goes with it. Else the worker would wait for it, and the
    next submission would find no process ready and a worker replaced."""
    worker = sandbox.worker_pid
    source = (
        RESULTS_CHANNEL
        + """
import json, os, struct, threading

def forge(channel):
    header = json.dumps({"status": "error", "outputs": 0, "message": "written early"}).encode()
    os.write(channel, struct.pack(">I", len(header)) + header)

def stall():
    # (the channel found before the pipe below is made: that pipe's write end is write-only too)
    threading.Thread(target=forge, args=(results_channel(),)).start()
    os.read(os.pipe()[0], 1)  # a pipe nobody writes to: the call never returns
"""
    )
    (early,) = sandbox.run(source, [Call("stall")])
    assert (early.status, early.message) == (Status.ERROR, "written early")
    assert probe(sandbox, "def probe():\n    return report('next')\n") == "next"
    assert sandbox.worker_pid == worker  # the same worker: it did not stop answering


def test_a_dead_worker_is_replaced_at_the_next_run(sandbox: Sandbox) -> None:
    first = sandbox.worker_pid
    assert first is not None
    os.kill(first, signal.SIGKILL)
    # a killed process ends a moment later (much later on a loaded machine): wait for that, so that
    # the next run meets a dead worker rather than one still finishing its exit
    deadline = time.monotonic() + 60
    while sandbox.worker_pid is not None and time.monotonic() < deadline:
        time.sleep(0.01)
    assert sandbox.worker_pid is None, "the killed worker never ended"
    assert probe(sandbox, "def probe():\n    return report('again')\n") == "again"
    assert sandbox.worker_pid not in (None, first)


def test_without_bubblewrap_nothing_runs(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(walls, "SEARCH_PATH", str(tmp_path))
    with Sandbox(LIMITS) as box, pytest.raises(SandboxUnavailable, match=r"apt-get install -y bubblewrap"):
        box.run("def f():\n    return 1\n", [Call("f")])


def test_a_sandbox_that_cannot_start_says_why(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    fake = tmp_path / "bwrap"  # as bwrap answers where namespaces are refused (a default Docker seccomp profile)
    fake.write_text("#!/bin/sh\necho 'bwrap: No permissions to creating new namespace' >&2\nexit 1\n")
    fake.chmod(0o755)
    (tmp_path / "setpriv").symlink_to("/usr/bin/setpriv")
    monkeypatch.setattr(walls, "SEARCH_PATH", str(tmp_path))
    with Sandbox(LIMITS) as box, pytest.raises(SandboxUnavailable, match="No permissions to creating new namespace"):
        box.run("def f():\n    return 1\n", [Call("f")])


def test_the_torch_runtime_has_torch_imported(tmp_path: Path) -> None:
    require_bwrap()
    with Sandbox(Limits(memory_bytes=2 << 30, wall_seconds=20), runtime="torch") as box:
        text = observed(
            box.run(
                REPORT
                + "import sys\ndef probe():\n    import torch\n"
                + "    return report(torch.nn.Linear(3, 2).weight.shape, 'torch' in sys.modules)\n",
                [Call("probe")],
            )[0]
        )
    assert text == "torch.Size([2, 3])\nTrue"


def test_a_scipy_runtime_convolves_as_numpy_does() -> None:
    require_bwrap()
    source = "from scipy.signal import convolve2d\ndef f(x, k):\n    return convolve2d(x, k, mode='valid')\n"
    rng = np.random.default_rng(5)
    x, k = rng.normal(size=(6, 7)), rng.normal(size=(3, 2))
    with Sandbox(LIMITS, runtime="numpy+scipy") as box:
        (result,) = box.run(source, [Call("f", (x, k))])
    windows = np.lib.stride_tricks.sliding_window_view(x, k.shape)
    assert result.status is Status.OK, result.message
    # a convolution is a correlation with the kernel flipped
    np.testing.assert_allclose(result.output, np.einsum("ijkl,kl->ij", windows, k[::-1, ::-1]), rtol=1e-12)


def test_a_matplotlib_runtime_draws_into_a_file_on_agg_and_show_does_nothing() -> None:
    require_bwrap()
    drawing = """
import os
import matplotlib
import matplotlib.pyplot as plt
def probe():
    plt.plot([0, 1, 2], [2, 0, 1])
    plt.savefig("plot.png")
    plt.show()  # no display: Agg only warns
    with open("plot.png", "rb") as f:
        head = f.read(4)
    return report(matplotlib.get_backend().lower(), head, os.path.getsize("plot.png") > 1000)
"""
    listed = "import os\ndef probe():\n    return report(sorted(os.listdir('.')))\n"
    with Sandbox(LIMITS, runtime="numpy+matplotlib") as box:
        assert probe(box, drawing).splitlines() == ["agg", repr(b"\x89PNG"), "True"]
        # neither the worker's imports (matplotlib's font cache) nor the drawing reach the next submission
        assert probe(box, listed) == "[]"


def test_an_unknown_package_is_refused_with_the_allow_list_and_nothing_starts() -> None:
    require_bwrap()
    with Sandbox(LIMITS, runtime="numpy+requests") as box:
        with pytest.raises(SandboxUnavailable) as refused:
            box.run("def f():\n    return 1\n", [Call("f")])
        assert box.worker_pid is None
    assert str(refused.value) == "the sandbox offers no package 'requests' (it offers scipy, matplotlib)"


def test_a_runtimes_name_gives_its_modules_base_first() -> None:
    assert runtime_name("numpy", ["scipy", "matplotlib", "scipy"]) == "numpy+matplotlib+scipy"
    assert runtime_modules("torch+scipy") == ("numpy", "torch", "scipy", "scipy.signal")
    assert runtime_modules("numpy+matplotlib") == ("numpy", "matplotlib", "matplotlib.pyplot")
    with pytest.raises(UnknownRuntime, match=r"no runtime named 'julia' \(it has numpy, torch\)"):
        runtime_modules("julia+scipy")


def test_a_closed_sandbox_leaves_no_cgroup_behind(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    require_bwrap()

    def groups() -> set[Path]:
        # this process's other sandboxes (another test's, still open) are not this test's business;
        # one of their groups may go while the tree is walked, which os.walk passes over
        prefix = f"grader-sandbox-{os.getpid()}-"
        found = {Path(root, name) for root, names, _ in os.walk("/sys/fs/cgroup") for name in names}
        return {path for path in found if path.name.startswith(prefix)} - before

    before: set[Path] = set()
    before = groups()
    with Sandbox(LIMITS) as box:
        box.start()
        assert groups()  # this machine's cgroups are writable: the worker has its group
        os.kill(box.worker_pid or 0, signal.SIGKILL)  # a dead worker's group goes too
        assert probe(box, "def probe():\n    return report('fine')\n") == "fine"
    monkeypatch.setattr(walls, "SEARCH_PATH", str(tmp_path))
    with Sandbox(LIMITS) as box, pytest.raises(SandboxUnavailable):
        box.start()  # and so does the group of one that could not start
    assert groups() == set()


def test_a_sandbox_runs_at_a_low_cpu_weight_beside_the_service(sandbox: Sandbox) -> None:
    # at a deadline the service's requests come before the submissions' code: the worker's whole
    # tree is in a cpu group of weight CPU_WEIGHT (this machine's cpu controller is writable)
    assert sandbox.worker_pid is not None
    lines = Path(f"/proc/{sandbox.worker_pid}/cgroup").read_text().splitlines()
    groups = {
        controller: path
        for _, controllers, path in (line.split(":", 2) for line in lines)
        for controller in controllers.split(",")
    }
    if Path("/sys/fs/cgroup/cpu").is_dir():  # v1: a group of the cpu hierarchy of its own
        assert groups["cpu"].rsplit("/", 1)[-1].startswith(cgroups.PREFIX)
        weight = int(Path("/sys/fs/cgroup/cpu", groups["cpu"].lstrip("/"), "cpu.shares").read_text())
        assert weight == cgroups.V1_DEFAULT_SHARES * cgroups.CPU_WEIGHT // cgroups.DEFAULT_CPU_WEIGHT
    else:  # v2
        weight = int(Path("/sys/fs/cgroup", groups[""].lstrip("/"), "cpu.weight").read_text())
        assert weight == cgroups.CPU_WEIGHT
    assert weight <= cgroups.V1_DEFAULT_SHARES // 4
    # and the code inside cannot raise it: the group's files are not its to write
    written = probe(
        sandbox,
        "def probe():\n"
        "    import glob\n"
        "    for name in glob.glob('/sys/fs/cgroup/**/cpu.*', recursive=True):\n"
        "        try:\n"
        "            open(name, 'w').write('10000')\n"
        "            return report('wrote ' + name)\n"
        "        except OSError:\n"
        "            pass\n"
        "    return report('none written')\n",
    )
    assert written == "none written"


def test_a_runtime_that_does_not_fit_its_memory_says_so() -> None:
    require_bwrap()
    small = Limits(memory_bytes=96 << 20)
    with Sandbox(small, runtime="torch") as box, pytest.raises(SandboxUnavailable, match="does not fit in its 96 MiB"):
        box.start()


def test_no_memory_of_one_submission_reaches_the_next(sandbox: Sandbox) -> None:
    # the first submission's text holds FIRST + SECOND side by side; the second holds them apart and
    # looks through every byte of its own memory (which starts as a copy of the worker's) for the pair
    sandbox.run("TOKEN = 'alpha-7f3c9e0b1domega-91d2aa4e6c'\ndef f():\n    return 1\n", [Call("f")])
    seen = probe(
        sandbox,
        """
import ctypes, re
def probe():
    ctypes.CDLL(None).prctl(4, 1, 0, 0, 0)  # PR_SET_DUMPABLE: its own /proc/self/mem, to read itself
    first, second = b"alpha-7f3c9e0b1d", b"omega-91d2aa4e6c"
    found = scanned = 0
    with open("/proc/self/maps") as maps, open("/proc/self/mem", "rb", buffering=0) as memory:
        for line in maps:
            fields = line.split()
            if not fields[1].startswith("rw"):
                continue
            start, end = (int(part, 16) for part in fields[0].split("-"))
            try:
                memory.seek(start)
                chunk = memory.read(end - start)
            except OSError:
                continue
            scanned += len(chunk)
            for match in re.finditer(re.escape(first), chunk):
                at = match.end()
                found += chunk[at:at + len(second)] == second
    return report(found, scanned > 1 << 20)
""",
    )
    assert seen == "0\nTrue"
