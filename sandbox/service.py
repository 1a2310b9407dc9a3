"""The trusted side: :class:`Sandbox` keeps one warm worker behind the walls and runs submissions
through it, one at a time.

A syntax error is found before the worker is asked (:mod:`sandbox.syntax`, which compiles apart
and executes nothing) and the submission is refused without running. Everything the worker
answers is read with caps and parsed as untrusted: arrays by :func:`sandbox.wire.read_array`
(never unpickled), statuses from a closed set. A worker that dies or stops answering is killed and
replaced at the next run; a run that cannot start the sandbox raises :class:`SandboxUnavailable`
and runs nothing.

A call's inputs, and a driver's code (compiled here: its text never crosses), are written to the
process only when that call starts, once the call before has answered; so a process holds the
calls it has made and the one it makes, never a later one. A process that ends before it says it
is prepared (its limits and filter taken, before the module loads) ran nothing of the submission:
that is the sandbox's failure, tried again on a fresh process, and past :data:`PREPARE_TRIES` on a
fresh worker, then :class:`SandboxFailed`, never a call's result.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np

from sandbox import cgroups, drivers, seccomp, syntax, walls, wire
from sandbox.calls import Call, CallResult, Status
from sandbox.limits import Limits
from sandbox.walls import SandboxFailed, SandboxUnavailable

log = logging.getLogger(__name__)

# Move the shell into the worker's cgroup before it becomes bwrap, so that no process of the
# sandbox ever runs outside the group: "sh -c SCRIPT sh COUNT FILE... BWRAP-ARGS...".
_ENTER_CGROUP = 'n=$1; shift; while [ "$n" -gt 0 ]; do echo $$ > "$1" || exit 121; shift; n=$((n-1)); done; exec "$@"'


#: Processes one request tries before its worker is taken for broken, when each ends before it is prepared.
PREPARE_TRIES = 3


def _encode_value(value: Any, frames: list[bytes]) -> dict[str, Any]:
    if isinstance(value, np.ndarray | np.generic):
        frames.append(wire.encode_array(value))
        return {"array": len(frames) - 1}
    if value is None or isinstance(value, bool | int | float | str):
        return {"value": value}
    raise TypeError(f"a call's argument must be an array or a plain scalar, not {type(value).__name__}")


def _encode_call(call: Call, cpu: int) -> bytes:
    """One call as it is handed to the process when it starts: a JSON header, then its frames (its
    arrays; a driver's code, compiled here, in place of its text)."""
    frames: list[bytes] = []
    args: list[dict[str, Any]] = []
    values = call.args
    driver = values[0] if call.function == drivers.DRIVER and values else None
    if isinstance(driver, str):
        frames.append(drivers.compiled(driver))
        args.append({"code": 0})
        values = values[1:]
    args += [_encode_value(value, frames) for value in values]
    kwargs = {name: _encode_value(value, frames) for name, value in call.kwargs.items()}
    header = {"function": call.function, "args": args, "kwargs": kwargs, "cpu_seconds": cpu, "frames": len(frames)}
    return wire.framed([wire.encode_json(header), *frames])


#: A driver's line shorter than this (spaces left out) is not looked for in a message: ``out = f(x)``
#: may well be the student's own line too.
QUOTED_LINE = 12
WITHHELD = "the message is withheld: it quotes the test's driver"


def _driver_lines(calls: Sequence[Call]) -> frozenset[str]:
    """The lines of the calls' drivers, spaces left out, that a message must not quote."""
    texts = {call.args[0] for call in calls if call.function == drivers.DRIVER and call.args}
    return frozenset().union(*(_lines(text) for text in texts if isinstance(text, str)))


@functools.lru_cache(maxsize=256)
def _lines(driver: str) -> frozenset[str]:
    """A driver's lines of at least :data:`QUOTED_LINE` characters, spaces left out (once per text)."""
    compact = ("".join(line.split()) for line in driver.splitlines())
    return frozenset(line for line in compact if len(line) >= QUOTED_LINE)


def _without_drivers(results: list[CallResult], lines: frozenset[str]) -> list[CallResult]:
    """``results``, each message that quotes a line of a driver withheld. The driver's text never
    reaches the process, so its message cannot hold it; this is the service's own check besides."""
    if not lines:
        return results
    kept = []
    for result in results:
        compact = "".join(result.message.split()) if result.message else ""
        if compact and any(line in compact for line in lines):
            result = CallResult(result.status, result.outputs, result.returned_tuple, WITHHELD, result.seconds)
        kept.append(result)
    return kept


def _code_or_refusal(source: str, limit: int) -> bytes | str:
    """``source``'s code object, marshalled (the worker's process loads it behind the walls), or why
    it cannot be run (its syntax error, as Python says it). Compiling runs nothing; it happens in a
    process of its own under a CPU limit (:mod:`sandbox.syntax`), since the compiler's time grows
    with the square of the module's scopes."""
    size = len(source.encode(errors="surrogatepass"))
    if size > limit:
        return f"the module is {size} bytes, over the {limit} a submission may have"
    code = syntax.compiled(source)
    if isinstance(code, bytes):
        return code
    return code.message + (f" (line {code.line})" if code.line else "")


class _Child(NamedTuple):
    """A process the worker forked for a run: its pid, and the pipes to write its request into and
    to read its answers from."""

    pid: int
    requests: int
    results: int


class _Unprepared(Exception):
    """The process ended, or said it could not prepare itself, before it said it was prepared: none
    of the submission ran. The sandbox's failure, never the submission's."""


class _Broke(Exception):
    """The process stopped answering: ``status`` (one of the child's, or ``killed``, ``killed-cpu``)
    and ``message`` say how."""

    def __init__(self, status: str, message: str) -> None:
        super().__init__(message)
        self.status, self.message = status, message


_OVERWRITTEN = "the submission wrote over its results channel"


class _Worker:
    """One bwrap process running :mod:`sandbox.runner`, in its own cgroup. The service talks with it
    over a control socket, and with each process it forks for a run through that process's pipes,
    reading every answer within its call's wall time and the output budget."""

    def __init__(self, limits: Limits, runtime: str) -> None:
        self.limits = limits
        try:
            program = seccomp.compile_filter(seccomp.walls_filter())
        except seccomp.SeccompUnavailable as error:
            raise SandboxUnavailable(str(error)) from None
        self.group = cgroups.create(limits.memory_bytes, limits.pids)
        if self.group is None:
            log.warning("no writable memory and pids cgroup: the sandbox limits memory per process (RLIMIT_DATA)")
        self.retiring = False  # it could not clean up after a run: the next run starts another
        self.ahead: _Child | None = None  # the process forked for the next run, once its message is read
        self.answers: list[CallResult] = []  # the current request's, as they arrive
        self.oom_counted = 0  # the group's OOM kills before the current request, and those its killed calls took
        try:
            self._start(runtime, program)
        except BaseException:
            if self.group:
                self.group.remove()
            raise
        self.pid = int(self.process.pid)

    def _start(self, runtime: str, program: bytes) -> None:
        """Start bwrap inside the group and wait for the worker's ``ready``."""
        read_end, write_end = os.pipe()
        try:
            wire.write_all(write_end, program)
        finally:
            os.close(write_end)
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        try:
            bwrap = walls.command(runtime=runtime, seccomp_fd=read_end, scratch_bytes=self.limits.scratch_bytes)
            procs = [str(path) for path in self.group.procs] if self.group else []
            self.process = subprocess.Popen(
                ["/bin/sh", "-c", _ENTER_CGROUP, "sh", str(len(procs)), *procs, *bwrap],
                stdin=theirs.fileno(),
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                pass_fds=(read_end,),
                env={},  # nothing of the service's environment enters, not even bwrap's own
                cwd="/",  # nor the service's working directory (the shell exports it as PWD)
                close_fds=True,
            )
        except BaseException:
            ours.close()
            raise
        finally:
            os.close(read_end)
            theirs.close()
        self.control = ours
        try:
            ready, _ = wire.receive_message(ours, time.monotonic() + self.limits.start_seconds)
        except (wire.WireError, TimeoutError):
            ready = None
        if ready is None:
            reason = self._stderr()
            if self.group and self.group.oom_kills():
                reason = f"the {runtime} runtime does not fit in its {self.limits.memory_bytes >> 20} MiB of memory"
            self.kill()
            raise SandboxUnavailable(f"the sandbox did not start: {reason}") from None
        if not isinstance(ready, dict) or ready.get("ready") is not True:
            self.kill()
            failed = ready.get("failed") if isinstance(ready, dict) else None
            raise SandboxUnavailable(f"the sandbox did not start: {failed or 'no answer'}")

    def _stderr(self) -> str:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()
        assert self.process.stderr
        text = self.process.stderr.read(4000).decode(errors="replace").strip()
        return text or f"bwrap exited with status {self.process.returncode}"

    def stderr_tail(self) -> str:
        """What the worker wrote on its stderr (its own tracebacks; a submission's go to /dev/null)."""
        if self.process.stderr is None or self.process.stderr.closed or self.process.poll() is None:
            return ""
        return self.process.stderr.read()[-2000:].decode(errors="replace").strip()

    def alive(self) -> bool:
        return self.process.poll() is None

    def kill(self, *, keep_stderr: bool = False) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()
        self.control.close()
        if self.ahead is not None:
            os.close(self.ahead.requests)
            os.close(self.ahead.results)
            self.ahead = None
        if self.process.stderr and not keep_stderr:
            self.process.stderr.close()
        if self.group:
            self.group.remove()

    def _message(self, deadline: float) -> dict[str, Any]:
        """The worker's next message (a process forked comes with its two pipes, kept ahead);
        EOFError when the worker is gone, WireError when it says what it should not."""
        message, fds = wire.receive_message(self.control, deadline, fds=2)
        if message is None:
            raise EOFError("the worker closed its control socket")
        if isinstance(message, dict) and isinstance(message.get("child"), int) and len(fds) == 2 and self.ahead is None:
            self.ahead = _Child(message["child"], *fds)
            return message
        for fd in fds:
            os.close(fd)
        if not isinstance(message, dict) or not isinstance(message.get("ended"), int):
            raise wire.WireError("the worker said what it should not")
        self.retiring = self.retiring or message.get("retire") is True
        return message

    def settle(self) -> None:
        """Wait for the process forked for the next run: the worker cleans up after each process
        (kills what it started, empties the scratch directory) and forks the next while the service
        judges the answers; the next run waits for it here. WireError (or EOFError, TimeoutError)
        when the worker does not fork one, and ``retiring`` set when it could not clean up."""
        deadline = time.monotonic() + self.limits.wall_seconds * 2 + 5
        while self.ahead is None and not self.retiring:
            self._message(deadline)

    def _ended(self, pid: int, deadline: float) -> dict[str, Any]:
        """The worker's word that process ``pid`` ended and everything it started is gone."""
        while True:
            message = self._message(deadline)
            if message.get("ended") == pid:
                return message

    def request(self, source: str, code: bytes, calls: Sequence[Call]) -> list[CallResult]:
        budgets = [self.limits.call_limits(call.seconds) for call in calls]
        encoded = [_encode_call(call, cpu) for call, (cpu, _) in zip(calls, budgets, strict=True)]
        limits = {
            "wall_seconds": self.limits.wall_seconds,
            "cpu_seconds": self.limits.cpu_seconds,
            "output_bytes": self.limits.output_bytes,
            "max_outputs": self.limits.max_outputs,
            "file_bytes": self.limits.file_bytes,
            "open_files": self.limits.open_files,
            "pids": self.limits.pids,
            "data_bytes": None if self.group else self.limits.memory_bytes,
        }
        # OOM kills are counted from before the request: its first call may be killed before the
        # service reads anything back
        self.oom_counted = self.group.oom_kills() if self.group else 0
        results = self.answers = []
        unprepared = 0
        while len(results) < len(calls):
            # each process runs the calls from the first unanswered one: the first, or the one after
            # a call that broke the process before
            self.settle()
            if self.ahead is None:
                raise wire.WireError("the worker retired during a submission")
            child, self.ahead = self.ahead, None
            start = len(results)
            header = {
                "source": source,
                "limits": limits,
                "calls": len(calls) - start,
                "cpu": sum(cpu for cpu, _ in budgets[start:]),
            }
            try:
                self._run(child, wire.framed([wire.encode_json(header), code]), encoded, budgets)
            except _Unprepared as failure:
                unprepared += 1
                log.warning("a sandbox process ended before it was prepared (%s)", failure)
                if unprepared >= PREPARE_TRIES:
                    raise
            finally:
                os.close(child.requests)
                os.close(child.results)
        return results

    def _run(self, child: _Child, opening: bytes, calls: list[bytes], budgets: list[tuple[int, float]]) -> None:
        """Hand ``child`` the request (``opening``), then each call from the first unanswered one
        as the one before it answers, reading the answers into ``answers``: to the last call, or to
        the call that broke the process (answered with how), or, when the module did not load, each
        call with why. _Unprepared when the process ended before it was prepared."""
        results, count = self.answers, len(budgets)
        frames = wire.Frames(child.results)
        cpu, wall = self.limits.cpu_seconds, self.limits.wall_seconds  # loading the module
        deadline = time.monotonic() + wall
        prepared = loaded = False
        try:
            os.set_blocking(child.requests, False)
            wire.write_all_by(child.requests, opening, deadline)
            self._await_prepared(frames, deadline)
            prepared = True
            self._await_load(frames, deadline)
            loaded = True
            while len(results) < count:
                cpu, wall = budgets[len(results)]
                deadline = time.monotonic() + wall
                wire.write_all_by(child.requests, calls[len(results)], deadline)
                results.append(self._answer(frames, deadline, cpu))
        except (EOFError, BrokenPipeError):
            broke = self._end_of(child.pid, deadline, cpu, wall)  # the process is gone, or closed its end
        except (wire.WireError, wire.Deadline, _Broke) as error:
            wire.send_message(self.control, {"kill": child.pid})
            broke = self._explain(error, wall)
        else:
            # every call has its answer. The process exits by itself after its last call, unless a
            # thread of its own wrote the last answers while its calls go on: the worker ends it
            # either way. A worker gone already (retired, as it could not empty the scratch
            # directory) is the next run's to replace, not a call's failure.
            with contextlib.suppress(ConnectionError):
                wire.send_message(self.control, {"kill": child.pid})
            return
        if not prepared:
            if self.group:  # (an OOM kill of a process that was not prepared is no call's)
                self.oom_counted = self.group.oom_kills()
            raise _Unprepared(broke.message)
        header = {"status": broke.status, "message": broke.message}
        for _ in range(len(results), len(results) + 1 if loaded else count):
            results.append(self._result(header, [], self._killed_for_memory(header), cpu))

    @staticmethod
    def _await_prepared(frames: wire.Frames, deadline: float) -> None:
        """Wait for the process's word that it is prepared (before anything of the submission runs);
        _Broke with what it said when it could not prepare itself."""
        prepared = wire.decode_json(frames.frame(wire.MAX_JSON, deadline))
        if not isinstance(prepared, dict) or prepared.get("prepared") is not True:
            said = prepared.get("message") if isinstance(prepared, dict) else None
            raise _Broke("error", str(said or "the process did not say it was prepared")[:500])

    def _await_load(self, frames: wire.Frames, deadline: float) -> None:
        """Wait for the module to load; _Broke saying why when it did not."""
        loaded = wire.decode_json(frames.frame(wire.MAX_JSON, deadline))
        if not isinstance(loaded, dict):
            raise _Broke("refused", _OVERWRITTEN)
        if loaded.get("loaded") is not True:
            status = loaded.get("status")
            message = str(loaded.get("message") or "the module did not load")[:500]
            raise _Broke(status if status in ("error", "memory") else "error", message)

    def _answer(self, frames: wire.Frames, deadline: float, cpu: int) -> CallResult:
        """The next call's answer, its outputs within the budget, by ``deadline``."""
        header = wire.decode_json(frames.frame(wire.MAX_JSON, deadline))
        if not isinstance(header, dict):
            raise _Broke("refused", _OVERWRITTEN)
        count, status = header.get("outputs"), header.get("status")
        if status not in ("ok", "error", "memory", "refused") or not isinstance(count, int):
            raise _Broke("refused", _OVERWRITTEN)
        if not 0 <= count <= self.limits.max_outputs:
            raise _Broke("refused", _OVERWRITTEN)
        budget = self.limits.output_bytes
        payloads = []
        for _ in range(count):
            payloads.append(frames.frame(budget, deadline))
            budget -= len(payloads[-1])
        return self._result(header, payloads, False, cpu)

    def _explain(self, error: Exception, wall_seconds: float) -> _Broke:
        if isinstance(error, _Broke):
            return error
        if isinstance(error, wire.Deadline):
            return _Broke("timeout", f"over its {wall_seconds:g} s of wall time")
        if isinstance(error, wire.TooLarge):
            return _Broke("output-too-large", f"output over {self.limits.output_bytes} bytes")
        return _Broke("refused", str(error))

    def _end_of(self, pid: int, deadline: float, cpu_seconds: float, wall_seconds: float) -> _Broke:
        """How a process that closed its results pipe ended, from the worker's word; if it has not
        by its call's ``deadline``, it is killed, out of time. (What the worker says wrongly is the
        worker's failure, not the call's: it goes up.)"""
        try:
            return self._how_it_ended(self._ended(pid, deadline), cpu_seconds)
        except wire.Deadline:
            wire.send_message(self.control, {"kill": pid})
            return _Broke("timeout", f"over its {wall_seconds:g} s of wall time")

    @staticmethod
    def _how_it_ended(ended: dict[str, Any], cpu_seconds: float) -> _Broke:
        """How a process that stopped answering ended, from the worker's word. A SIGKILL is the OOM
        killer's or the CPU limit's: the memory cgroup tells which (:meth:`_killed_for_memory`)."""
        number, cpu = ended.get("signal"), ended.get("cpu")
        if not isinstance(number, int):
            return _Broke("error", "the process exited during the call")
        if number == signal.SIGXCPU:
            return _Broke("timeout", f"over its {cpu_seconds:g} s of CPU time")
        over = number == signal.SIGKILL and isinstance(cpu, int | float) and cpu >= cpu_seconds - 0.5
        return _Broke("killed-cpu" if over else "killed", f"killed by signal {number}")

    def _killed_for_memory(self, header: dict[str, Any]) -> bool:
        """Whether a killed call was the OOM killer's: the group counts more OOM kills than the
        killed calls before it took. Each takes one, in order; a process of the submission's own
        killed while its call went on is counted, and the next killed call is said to be over its
        memory."""
        if header.get("status") not in ("killed", "killed-cpu") or not self.group:
            return False
        if self.group.oom_kills() <= self.oom_counted:
            return False
        self.oom_counted += 1
        return True

    def _result(self, header: dict[str, Any], payloads: list[bytes], out_of_memory: bool, cpu: int) -> CallResult:
        status = header.get("status")
        message = str(header.get("message", ""))[:500]
        seconds = header.get("seconds", 0.0)
        seconds = float(seconds) if isinstance(seconds, int | float) else 0.0
        if status in ("killed", "killed-cpu"):
            if out_of_memory:
                return CallResult(Status.MEMORY, message=f"over its {self.limits.memory_bytes >> 20} MiB of memory")
            if status == "killed-cpu":
                return CallResult(Status.TIMEOUT, message=f"over its {cpu} s of CPU time")
            return CallResult(Status.ERROR, message=message)
        if status == "memory":
            return CallResult(Status.MEMORY, message=f"over its {self.limits.memory_bytes >> 20} MiB of memory")
        if status not in {s.value for s in Status}:
            return CallResult(Status.REFUSED, message="the sandbox answered a status it does not know")
        if status != Status.OK:
            return CallResult(Status(status), message=message, seconds=seconds)
        try:
            outputs = tuple(wire.read_array(payload) for payload in payloads)
        except wire.WireError as error:
            return CallResult(Status.REFUSED, message=str(error), seconds=seconds)
        if not outputs:
            return CallResult(Status.REFUSED, message="the call returned no array", seconds=seconds)
        return CallResult(Status.OK, outputs, bool(header.get("tuple")), seconds=seconds)


class Sandbox:
    """Runs a student's module and calls its functions behind the walls, one submission at a time
    (a lock; a service runs as many sandboxes as it grades in parallel). Thread-safe; ``close()``
    (or ``with``) stops the warm worker."""

    def __init__(self, limits: Limits | None = None, runtime: str = "numpy") -> None:
        self.limits = limits or Limits()
        self.runtime = runtime
        self._worker: _Worker | None = None
        self._lock = threading.Lock()

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    @property
    def worker_pid(self) -> int | None:
        """The warm worker's bwrap process (outside the walls), while one runs."""
        return self._worker.pid if self._worker and self._worker.alive() else None

    @property
    def memory_limited_by_cgroup(self) -> bool:
        return bool(self._worker and self._worker.group)

    def start(self) -> None:
        """Start the warm worker now (else the first run does); SandboxUnavailable if it cannot."""
        with self._lock:
            self._ensure_worker()

    def _ensure_worker(self) -> _Worker:
        if self._worker is not None and self._worker.alive():
            try:
                self._worker.settle()
            except (EOFError, ConnectionError, TimeoutError, wire.WireError) as failure:
                worker, self._worker = self._worker, None
                worker.kill(keep_stderr=True)
                log.error("the sandbox's worker failed after a submission (%s: %s)", failure, worker.stderr_tail())
        if self._worker is None or self._worker.retiring or not self._worker.alive():
            if self._worker is not None:
                self._worker.kill()
            self._worker = None
            self._worker = _Worker(self.limits, self.runtime)
        return self._worker

    def run(self, source: str, calls: Sequence[Call]) -> list[CallResult]:
        """Load ``source`` as a module and make each call, each within the limits; one result per
        call. The calls are handed to the process in order, each once the one before has answered:
        while a call runs, no later call's inputs are in the process, so a caller makes first the
        calls whose messages a student reads. Raises SandboxUnavailable (nothing run) where the
        sandbox cannot start, SandboxFailed where its processes fail before the module loads."""
        if len(calls) > self.limits.max_calls:
            raise ValueError(f"{len(calls)} calls, over the {self.limits.max_calls} a run may make")
        code = _code_or_refusal(source, self.limits.source_bytes)
        if isinstance(code, str):
            return [CallResult(Status.REFUSED, message=code) for _ in calls]
        quoted = _driver_lines(calls)
        with self._lock:
            for attempt in (1, 2):
                worker = self._ensure_worker()
                try:
                    return _without_drivers(worker.request(source, code, calls), quoted)
                except _Unprepared as failure:
                    # its processes fail before any of the submission runs: a worker of its own the
                    # second time, and then the sandbox has failed, not the submission
                    worker.kill(keep_stderr=True)
                    self._worker = None
                    log.error("the sandbox's processes could not prepare (%s: %s)", failure, worker.stderr_tail())
                    if attempt == 1:
                        continue
                    raise SandboxFailed(f"its process ended before the code was loaded: {failure}") from None
                except (EOFError, ConnectionError, TimeoutError, wire.WireError) as failure:
                    out_of_memory = bool(worker.group and worker.group.oom_kills())
                    worker.kill(keep_stderr=True)
                    self._worker = None
                    log.error("the sandbox's worker failed (%s: %s)", failure, worker.stderr_tail())
                    # a worker that died before this submission had any answer (while idle, or as it
                    # was handed the submission) gets one successor to try again
                    if attempt == 1 and not worker.answers and not out_of_memory:
                        continue
                    status = Status.MEMORY if out_of_memory else Status.ERROR
                    message = "over its memory" if out_of_memory else "the sandbox stopped during this submission"
                    lost = [CallResult(status, message=message)] * (len(calls) - len(worker.answers))
                    return _without_drivers(worker.answers + lost, quoted)  # the calls answered keep their results
            raise AssertionError("unreachable: the second attempt returns")

    def close(self) -> None:
        with self._lock:
            if self._worker is not None:
                self._worker.kill()
                self._worker = None
