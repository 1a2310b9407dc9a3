"""The process that runs one submission's code, forked by the warm worker (:mod:`sandbox.runner`): it takes its
limits and its seccomp filter before any of that code runs, says so (the service then knows that a
death before that word is the sandbox's, not the submission's), loads the module, and runs each
call as the service hands it over, reporting each on its results pipe (frames of :mod:`sandbox.wire`).

A call's inputs (and a driver's code) reach this process only when that call starts: the service
writes them into the request pipe once the call before has answered. So while a call runs, the
process holds no later call's inputs, whatever the student's code looks for (its frames, the
collector's objects, its memory)."""

from __future__ import annotations

import ctypes
import functools
import marshal
import os
import resource
import sys
import time
import traceback
import types
from typing import Any

from sandbox import drivers, probes, seccomp, wire

_PR_SET_DUMPABLE = 4


def last_line(error: BaseException) -> str:
    """The exception's last line, as a traceback ends (``ValueError: shapes differ``), capped."""
    text = traceback.format_exception_only(type(error), error)[-1].strip()
    return text[:500]


def decode_value(spec: Any, frames: list[bytes]) -> Any:
    """An argument of a call: an array or a driver's code (each a frame of the call's), or a scalar."""
    if "array" in spec:
        return wire.read_array(frames[spec["array"]])
    if "code" in spec:
        return marshal.loads(frames[spec["code"]])
    return spec["value"]


def next_call(requests: wire.Frames) -> tuple[dict[str, Any], list[bytes]]:
    """The next call as the service hands it over: its header and its frames (arrays, code)."""
    call = wire.decode_json(requests.frame(wire.MAX_JSON))
    return call, [requests.frame(1 << 31) for _ in range(call["frames"])]


def resolve(module: types.ModuleType, dotted: str) -> Any:
    """The function a call names: a name in the module, dotted for an attribute (``Net.forward``),
    or a probe of :mod:`sandbox.probes` by its reserved name (``@torch.forward``), which takes the
    module first."""
    if dotted.startswith(probes.PREFIX):
        return functools.partial(probes.find(dotted), module)
    target: Any = module
    for name in dotted.split("."):
        target = getattr(target, name)
    return target


def prepare() -> bytes:
    """What a submission's process does before it has a submission (it may be forked ahead of one):
    its own session, the first one the OOM killer takes, and its signal filter assembled. Returns
    the filter, installed by :func:`run_child` once the request is read."""
    os.setsid()
    # the first one the OOM killer takes (its /proc files are its own only while it is dumpable)
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_DUMPABLE, 1, 0, 0, 0)
    with open("/proc/self/oom_score_adj", "w") as adj:
        adj.write("1000")
    libc.prctl(_PR_SET_DUMPABLE, 0, 0, 0, 0)
    return seccomp.compile_filter(seccomp.signals_filter(os.getpid()))


def _setup(result_fd: int, request_fd: int, limits: dict[str, Any], cpu: int, signals: bytes) -> None:
    """Before any student code: no inherited descriptors but the two pipes, limits (``cpu``: the
    CPU seconds of the calls this process may be handed, together), the signal filter."""
    devnull = os.open("/dev/null", os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(devnull, fd)
    low, high = sorted((result_fd, request_fd))
    os.closerange(3, low)
    os.closerange(low + 1, high)
    os.closerange(high + 1, 1 << 16)
    # loading the module gets the sandbox's per-call CPU time (each call then gets its own, up to
    # the total); past the soft limit SIGXCPU, past the hard one SIGKILL
    load = int(limits["cpu_seconds"])
    resource.setrlimit(resource.RLIMIT_CPU, (load, load + cpu + 1))
    resource.setrlimit(resource.RLIMIT_FSIZE, (limits["file_bytes"], limits["file_bytes"]))
    resource.setrlimit(resource.RLIMIT_NOFILE, (limits["open_files"], limits["open_files"]))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    if limits.get("data_bytes"):
        # no cgroup on this host: the weaker per-process limits (RLIMIT_NPROC counts every process of
        # the uid, other sandboxes' too, which is why it is not used beside a pids cgroup)
        resource.setrlimit(resource.RLIMIT_DATA, (limits["data_bytes"], limits["data_bytes"]))
        resource.setrlimit(resource.RLIMIT_NPROC, (limits["pids"], limits["pids"]))
    seccomp.install(signals)


def _cpu(call: dict[str, Any], limits: dict[str, Any]) -> int:
    """The call's CPU seconds: its own (``sandbox.Call.seconds``), else the sandbox's per call."""
    return int(call.get("cpu_seconds") or limits["cpu_seconds"])


def send(fd: int, header: dict[str, Any], outputs: tuple[bytes, ...] = ()) -> None:
    wire.write_frames(fd, [wire.encode_json({**header, "outputs": len(outputs)}), *outputs])


def run_child(result_fd: int, requests: wire.Frames, request: dict[str, Any], code: bytes, signals: bytes) -> None:
    """The submission's process, once :func:`prepare` gave it ``signals`` (its filter) and the
    service its ``request`` (its limits, the calls it may be handed, the module's text) and
    ``code`` (the module, compiled outside, marshalled): prepare, say so, load the module, then run
    each call the service writes into ``requests`` and report each."""
    try:
        _setup(result_fd, requests.fd, request["limits"], int(request["cpu"]), signals)
    except Exception as error:
        send(result_fd, {"prepared": False, "message": f"the process could not prepare itself: {last_line(error)}"})
        return
    # from here on what goes wrong is the submission's: the service counts on this word for that
    send(result_fd, {"prepared": True})
    module = types.ModuleType("submission")
    module.__file__ = drivers.SUBMISSION
    sys.modules["submission"] = module
    drivers.capture(request["source"])
    try:
        # Running the student's module is the point of the sandbox; it happens only here, past the walls.
        exec(marshal.loads(code), module.__dict__)
    except MemoryError:
        send(result_fd, {"loaded": False, "status": "memory", "message": "MemoryError while loading the module"})
        return
    except BaseException as error:
        send(result_fd, {"loaded": False, "status": "error", "message": last_line(error)})
        return
    send(result_fd, {"loaded": True})
    for _ in range(int(request["calls"])):
        try:
            call, frames = next_call(requests)
        except (EOFError, wire.WireError):
            return  # the service has no more calls for this process (or the submission read its pipe)
        _run_call(result_fd, module, call, frames, request["limits"])
        del call, frames


def _run_call(result_fd: int, module: types.ModuleType, call: dict[str, Any], frames: list[bytes], limits: Any) -> None:
    """Make one call, within its CPU time, and report it."""
    used = resource.getrusage(resource.RUSAGE_SELF)
    soft = int(used.ru_utime + used.ru_stime) + _cpu(call, limits)
    hard = resource.getrlimit(resource.RLIMIT_CPU)[1]
    resource.setrlimit(resource.RLIMIT_CPU, (min(soft, hard), hard))
    began = time.perf_counter()
    try:
        function = resolve(module, call["function"])
        args = [decode_value(spec, frames) for spec in call["args"]]
        kwargs = {name: decode_value(spec, frames) for name, spec in call["kwargs"].items()}
        del frames[:]  # the inputs are the arguments' now: no second copy of them
        returned = function(*args, **kwargs)
        returned_tuple = isinstance(returned, tuple)  # a list is one array
        values = tuple(returned) if returned_tuple else (returned,)
        if len(values) > limits["max_outputs"]:
            raise wire.WireError(f"{len(values)} outputs, over the {limits['max_outputs']} allowed")
        payloads = tuple(wire.encode_array(value) for value in values)
    except MemoryError:
        send(result_fd, {"status": "memory", "message": "MemoryError", "seconds": time.perf_counter() - began})
        return
    except wire.WireError as error:
        send(result_fd, {"status": "refused", "message": str(error), "seconds": time.perf_counter() - began})
        return
    except drivers.DriverError as error:  # a sentence for the student already
        send(result_fd, {"status": "error", "message": str(error)[:500], "seconds": time.perf_counter() - began})
        return
    except BaseException as error:
        send(result_fd, {"status": "error", "message": last_line(error), "seconds": time.perf_counter() - began})
        return
    seconds = time.perf_counter() - began
    send(result_fd, {"status": "ok", "tuple": returned_tuple, "seconds": seconds}, payloads)
