"""The warm worker: runs INSIDE the sandbox, imports the runtime once, then makes the processes that
run submissions.

The worker never runs a submission's code, nor reads any of it. It forks a fresh process
(:mod:`sandbox.child`) from its own clean state before each run is asked for, with two pipes of its
own, and hands the service their other ends over its control socket (``SCM_RIGHTS``). The service
writes the run's request into the one and reads the answers from the other, within each call's wall
time and the output budget; the worker only waits for the process to end, killing it when the
service says so (a call past its wall time, an answer over its budget, or its last answer read).
Then it kills every process but itself (``kill(-1)``: the sandbox's PID namespace holds only it,
the sandbox's init and what submissions started), reaps them (it is their subreaper), empties the
scratch directory, says how the process ended, and forks the next one, which prepares itself
while the service judges. So each
run starts from the same clean state: no module, monkey-patch or global that one submission leaves
is seen by the next, and since no submission's text, inputs or outputs ever pass through the
worker, whose memory every later process starts as a copy of, no freed memory holds another's. A
call that breaks its process costs that call: the service asks the next process to run the calls
after it. The worker is not dumpable, so no submission can read its memory or descriptors through
``/proc``; each submission's process gets a seccomp filter that lets it signal only itself.

Protocol: the control socket (``SOCK_SEQPACKET``, the worker's fd 0) carries one JSON message a
packet (:func:`sandbox.wire.send_message`). The worker says ``{"ready": true}`` once the runtime
is imported (else ``{"failed": why}``); ``{"child": pid}`` with the request pipe's write end and
the results pipe's read end; ``{"ended": pid, "signal": number or null, "cpu": seconds}`` once that
process and all it started are gone and the scratch directory is empty, with ``"retire": true``
when the directory could not be emptied (the worker then exits). The service says
``{"kill": pid}``. On the request pipe: the request (a JSON header, the module's code marshalled
by :mod:`sandbox.syntax`'s compiler), then each call (a JSON header and its frames: arrays, a
driver's code), written only once the call before has answered. On the results pipe: the word that
the process is prepared, then that the module loaded, then per call a JSON header and the call's
arrays (:mod:`sandbox.child`).
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import importlib
import os
import select
import signal
import socket
import sys
import traceback
from collections.abc import Callable
from typing import Any

from sandbox import wire
from sandbox.child import last_line, prepare, run_child

SCRATCH = "/scratch"
CONTROL = 0
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


def _fork_child() -> tuple[int, int, int]:
    """A process for the next run, forked ahead of its request: it prepares itself (:func:`prepare`),
    then waits on a pipe of its own for the request (its header and the module's code), runs the
    calls the service hands over on that pipe one by one, and exits. Returns its pid, the request
    pipe's write end and the results pipe's read end."""
    request_read, request_write = os.pipe()
    results_read, results_write = os.pipe()

    def child() -> None:
        # not the control socket: the service must see the worker's end when the worker ends
        devnull = os.open("/dev/null", os.O_RDWR)
        os.dup2(devnull, CONTROL)
        os.close(devnull)
        os.close(request_write)
        os.close(results_read)
        signals = prepare()
        requests = wire.Frames(request_read)
        request = wire.decode_json(requests.frame(1 << 30))
        code = requests.frame(1 << 30)
        run_child(results_write, requests, request, code, signals)

    pid = _forked(child)
    os.close(request_read)
    os.close(results_write)
    return pid, request_write, results_read


def _await_end(control: socket.socket, pid: int) -> tuple[int, float] | None:
    """Wait for process ``pid`` to end, killing it when the service says so: its wait status and
    CPU seconds, or None when the service closed the control socket (the process is killed)."""
    pidfd = os.pidfd_open(pid)
    try:
        poller = select.poll()
        poller.register(pidfd, select.POLLIN)
        poller.register(control.fileno(), select.POLLIN)
        while True:
            ready = {fd for fd, _ in poller.poll()}
            if pidfd in ready:
                _, status, usage = os.wait4(pid, 0)
                return status, usage.ru_utime + usage.ru_stime
            message, _ = wire.receive_message(control)
            if message is None:
                os.kill(pid, signal.SIGKILL)
                return None
            if isinstance(message, dict) and message.get("kill") == pid:  # (a late one names an older process)
                os.kill(pid, signal.SIGKILL)
    finally:
        os.close(pidfd)


def serve(control: socket.socket) -> None:
    """Fork a process for each run, and clean up after it, until the service closes the socket."""
    while True:
        pid, request_write, results_read = _fork_child()
        try:
            wire.send_message(control, {"child": pid}, (request_write, results_read))
        finally:
            os.close(request_write)
            os.close(results_read)
        ended = _await_end(control, pid)
        _kill_everything_else()
        if ended is None:
            return
        status, cpu = ended
        report: dict[str, Any] = {"ended": pid, "signal": None, "cpu": cpu}
        if os.WIFSIGNALED(status):
            report["signal"] = os.WTERMSIG(status)
        try:
            _wipe_scratch()
        except OSError:
            # what cannot be removed must not meet the next submission: this worker retires
            wire.send_message(control, {**report, "retire": True})
            return
        wire.send_message(control, report)


def main() -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_DUMPABLE, 0, 0, 0, 0)
    libc.prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    os.chdir(SCRATCH)
    control = socket.socket(fileno=CONTROL)
    try:
        for name in sys.argv[1:]:
            importlib.import_module(name)
        if "torch" in sys.modules:
            sys.modules["torch"].set_num_threads(1)
    except BaseException as error:
        wire.send_message(control, {"failed": f"the runtime did not import: {last_line(error)}"})
        return
    _wipe_scratch()  # what the imports left there (matplotlib's font cache) is no submission's to see
    # the runtime's objects are every submission's starting state: frozen out of the collector's
    # reach, a forked process's collections do not touch (and so copy) the pages that hold them
    gc.collect()
    gc.freeze()
    wire.send_message(control, {"ready": True, "pid": os.getpid()})
    serve(control)


if __name__ == "__main__":
    main()
