"""The warm worker: runs INSIDE the sandbox, imports the runtime once, then serves submissions.

The worker never runs a submission's code, nor even reads one. For each submission it forks a
handler, which forks the process that runs the code (:mod:`sandbox.child`) before the request
arrives, then reads the request and passes it on (a fork of the warm runtime takes 3 to 5 ms
here: both are made while the service is busy elsewhere, not between a request and its answers).
So each submission starts from the same clean state: no module, monkey-patch or global that one
submission leaves is seen by the next, and no freed memory holds another submission's text or
inputs. After each submission the worker kills every process but itself (``kill(-1)``: the
sandbox's PID namespace holds only it, the sandbox's init and what submissions started), reaps
them (it is their subreaper) and empties the scratch directory. The worker and its handlers are
not dumpable, so no submission can read their memory or descriptors through ``/proc``; each
submission's process gets a seccomp filter that lets it signal only itself.

Protocol (frames of :mod:`sandbox.wire`): the service sends a JSON request, the module's code
(marshalled by :mod:`sandbox.syntax`'s compiler) and its input arrays on fd 0; the worker answers,
per call, a JSON header and the call's arrays on fd 1, then ``done``.
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import importlib
import os
import signal
import sys
import time
import traceback
from collections.abc import Callable
from typing import Any

from sandbox import wire
from sandbox.child import last_line, prepare, run_child, send

SCRATCH = "/scratch"
REQUEST, RESPONSE = 0, 1
_PR_SET_DUMPABLE, _PR_SET_CHILD_SUBREAPER = 4, 36


def _kill_everything_else() -> None:
    """SIGKILL every process of the sandbox but this one and its init, and reap them all."""
    with contextlib.suppress(ProcessLookupError):
        os.kill(-1, signal.SIGKILL)
    while True:
        try:
            os.waitpid(-1, 0)
        except ChildProcessError:
            return


def _wipe_scratch() -> None:
    """Empty the scratch directory, whatever modes the submission left on what it made."""
    stack = [os.path.join(SCRATCH, name) for name in os.listdir(SCRATCH)]
    directories = []
    while stack:
        path = stack.pop()
        if os.path.isdir(path) and not os.path.islink(path):
            os.chmod(path, 0o700)
            directories.append(path)
            stack += [os.path.join(path, name) for name in os.listdir(path)]
        else:
            os.unlink(path)
    for path in reversed(directories):  # children were found after their parents
        os.rmdir(path)


class ChildEnded(Exception):
    """The submission's process stopped answering: ``status`` says how."""

    def __init__(self, status: str, message: str) -> None:
        super().__init__(message)
        self.status, self.message = status, message


def _reap(pid: int, cpu_seconds: float) -> ChildEnded:
    """How the child ended, once it has (it closed its pipe). A SIGKILL is the OOM killer's or the
    CPU limit's: the service, which sees the memory cgroup, tells which."""
    _, status, usage = os.wait4(pid, 0)
    if os.WIFSIGNALED(status):
        number = os.WTERMSIG(status)
        if number == signal.SIGXCPU:
            return ChildEnded("timeout", f"over its {cpu_seconds:g} s of CPU time")
        cpu = usage.ru_utime + usage.ru_stime
        over = number == signal.SIGKILL and cpu >= cpu_seconds - 0.5
        return ChildEnded("killed-cpu" if over else "killed", f"killed by signal {number}")
    return ChildEnded("error", "the process exited during the call")


_OVERWRITTEN = "the submission wrote over its results channel"


def _await_load(results: wire.Frames, limits: dict[str, Any]) -> None:
    """Wait for the module to load; ChildEnded saying why when it did not."""
    loaded = wire.decode_json(results.frame(wire.MAX_JSON, time.monotonic() + limits["wall_seconds"]))
    if not isinstance(loaded, dict):
        raise ChildEnded("refused", _OVERWRITTEN)
    if loaded.get("loaded") is not True:
        status = loaded.get("status")
        message = str(loaded.get("message") or "the module did not load")[:500]
        raise ChildEnded(status if status in ("error", "memory") else "error", message)


def _call_limits(call: dict[str, Any], limits: dict[str, Any]) -> tuple[float, float]:
    """The call's CPU and wall seconds: its own, else the sandbox's per call."""
    cpu, wall = call.get("cpu_seconds"), call.get("wall_seconds")
    return float(cpu or limits["cpu_seconds"]), float(wall or limits["wall_seconds"])


def _forward(results: wire.Frames, index: int, limits: dict[str, Any], wall_seconds: float) -> None:
    """Read call ``index``'s answer within its wall time and output budget; pass it on."""
    deadline = time.monotonic() + wall_seconds
    header = wire.decode_json(results.frame(wire.MAX_JSON, deadline))
    if not isinstance(header, dict):
        raise ChildEnded("refused", _OVERWRITTEN)
    count, status, seconds = header.get("outputs"), header.get("status"), header.get("seconds")
    if status not in ("ok", "error", "memory", "refused") or not isinstance(count, int):
        raise ChildEnded("refused", _OVERWRITTEN)
    if not 0 <= count <= limits["max_outputs"]:
        raise ChildEnded("refused", _OVERWRITTEN)
    budget = limits["output_bytes"]
    payloads = []
    for _ in range(count):
        payloads.append(results.frame(budget, deadline))
        budget -= len(payloads[-1])
    answer = {
        "call": index,
        "status": status,
        "message": str(header.get("message", ""))[:500],
        "tuple": bool(header.get("tuple")),
        "seconds": seconds if isinstance(seconds, float) else 0.0,
    }
    send(RESPONSE, answer, tuple(payloads))


def _explain(error: Exception, limits: dict[str, Any], wall_seconds: float) -> ChildEnded:
    if isinstance(error, ChildEnded):
        return error
    if isinstance(error, wire.Deadline):
        return ChildEnded("timeout", f"over its {wall_seconds:g} s of wall time")
    if isinstance(error, wire.TooLarge):
        return ChildEnded("output-too-large", f"output over {limits['output_bytes']} bytes")
    return ChildEnded("refused", str(error))


def relay(pid: int, fd: int, request: dict[str, Any], start: int) -> int:
    """Forward the child's answers from call ``start`` on. Returns the call to start the next child
    at: ``len(calls)`` when all are answered; after a call that broke the child (reported), the
    next one; if the module never loaded, ``len(calls)`` too (each call reported with why)."""
    limits, calls = request["limits"], request["calls"]
    results = wire.Frames(fd)
    index, loaded = start, False
    cpu, wall = float(limits["cpu_seconds"]), float(limits["wall_seconds"])  # loading the module
    try:
        _await_load(results, limits)
        loaded = True
        while index < len(calls):
            cpu, wall = _call_limits(calls[index], limits)
            _forward(results, index, limits, wall)
            index += 1
        return index
    except EOFError:
        ended = _reap(pid, cpu)
    except (wire.WireError, wire.Deadline, ChildEnded) as error:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        ended = _explain(error, limits, wall)
    failed = range(index, index + 1) if loaded else range(start, len(calls))
    for number in failed:
        send(RESPONSE, {"call": number, "status": ended.status, "message": ended.message})
    return failed.stop


def _forked(body: Callable[[], None]) -> int:
    """A child that runs ``body`` and exits (70 when it raised, its traceback on the stderr it has:
    the worker's, which the service reads when the worker ends, or a submission's /dev/null): its pid."""
    pid = os.fork()
    if pid == 0:
        code = 0
        try:
            body()
        except BaseException:
            traceback.print_exc()
            code = 70
        finally:
            os._exit(code)
    return pid


def serve_one(request: dict[str, Any], code: bytes, arrays: list[bytes], first: tuple[int, int]) -> None:
    """Run one submission's calls: in ``first`` (the pid and results pipe of the child forked ahead
    of the request), then in a fresh child from each call that broke the previous one. ``code`` (the
    module's, marshalled) and ``arrays``: the request's, as they came (each child reads its own)."""
    start = 0
    calls = request["calls"]
    ahead: tuple[int, int] | None = first
    while start < len(calls):
        if ahead is not None:
            (pid, read_end), ahead = ahead, None
        else:
            read_end, write_end = os.pipe()

            def after_a_broken_call(read_end: int = read_end, write_end: int = write_end, start: int = start) -> None:
                os.close(read_end)
                signals = prepare()
                run_child(write_end, request, code, [wire.read_array(payload) for payload in arrays], start, signals)

            pid = _forked(after_a_broken_call)
            os.close(write_end)
        try:
            start = relay(pid, read_end, request, start)
        finally:
            os.close(read_end)


def _fork_ahead() -> tuple[int, int, int]:
    """The submission's first process, forked before its request arrives (so that the fork and
    :func:`prepare` are not on the way from the request to its answers): it waits on a pipe of its
    own for the request the handler passes on. Returns its pid, its results pipe, and the pipe to
    pass the request on."""
    request_read, request_write = os.pipe()
    results_read, results_write = os.pipe()

    def ahead() -> None:
        os.close(request_write)
        os.close(results_read)
        signals = prepare()
        passed = wire.Frames(request_read)
        request = wire.decode_json(passed.frame(1 << 30))
        code = passed.frame(1 << 30)
        arrays = [wire.read_array(passed.frame(1 << 31)) for _ in range(request["arrays"])]
        os.close(request_read)
        run_child(results_write, request, code, arrays, 0, signals)

    pid = _forked(ahead)
    os.close(request_read)
    os.close(results_write)
    return pid, results_read, request_write


_SERVICE_CLOSED = 3


def handle_one() -> None:
    """The handler: read one request and serve it. Only a handler ever holds a submission's text and
    inputs, and it exits with them, so the worker's memory, which every later process starts as a
    copy of, never holds any submission's."""
    pid, results, passed_on = _fork_ahead()
    # the service sends the next request only once the worker said this one is done, after this
    # handler exits: nothing this reader reads ahead is another request's
    received = wire.Frames(REQUEST)
    try:
        header = received.frame(1 << 30)
    except EOFError:
        os._exit(_SERVICE_CLOSED)  # (the child ahead reads the end of its pipe, and exits)
    request = wire.decode_json(header)
    code = received.frame(1 << 30)
    arrays = [received.frame(1 << 31) for _ in range(request["arrays"])]
    wire.write_frames(passed_on, [header, code, *arrays])
    os.close(passed_on)
    serve_one(request, code, arrays, (pid, results))


def main() -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_DUMPABLE, 0, 0, 0, 0)
    libc.prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    os.chdir(SCRATCH)
    try:
        for name in sys.argv[1:]:
            importlib.import_module(name)
        if "torch" in sys.modules:
            sys.modules["torch"].set_num_threads(1)
    except BaseException as error:
        wire.write_frame(RESPONSE, wire.encode_json({"failed": f"the runtime did not import: {last_line(error)}"}))
        return
    _wipe_scratch()  # what the imports left there (matplotlib's font cache) is no submission's to see
    # the runtime's objects are every submission's starting state: frozen out of the collector's
    # reach, a forked process's collections do not touch (and so copy) the pages that hold them
    gc.collect()
    gc.freeze()
    wire.write_frame(RESPONSE, wire.encode_json({"ready": True, "pid": os.getpid()}))
    while True:
        handler = _forked(handle_one)
        _, status = os.waitpid(handler, 0)
        if os.WIFEXITED(status) and os.WEXITSTATUS(status) == _SERVICE_CLOSED:
            return
        _kill_everything_else()
        if status != 0:  # the handler failed (its traceback is on stderr): the service sees this worker end
            return
        try:
            _wipe_scratch()
        except OSError:
            # what cannot be removed must not meet the next submission: this worker retires
            wire.write_frame(RESPONSE, wire.encode_json({"done": True, "retire": True}))
            return
        wire.write_frame(RESPONSE, wire.encode_json({"done": True}))


if __name__ == "__main__":
    main()
