"""Whether a module's text compiles, found outside the service's process and within bounds.

Compiling runs none of the text's code, but CPython's compiler takes time quadratic in the number of
scopes (functions, classes, lambdas, comprehensions): 37,000 lines of ``x = [i for i in a if i]``
(860 kB, within every size limit) take over 30 s of CPU, and a compile holds the interpreter lock
all along. So the text is never compiled in the service's process:

- first, bounds that cost one linear scan and no parse: the lines, and the words that can open a
  scope (``def``, ``class``, ``lambda``, ``for``; an over-count, since a word in a comment counts);
- then a child compiles it under ``RLIMIT_CPU`` and ``RLIMIT_AS``, past which it is killed and the
  module refused: forked for each text by a warm compiler, a small interpreter of its own
  (isolated: no site packages, no environment), so that a check costs a fork rather than an
  interpreter's start (about 30 ms a submission on a loaded 2-core machine).

The CPU time a thread's children spent is kept per thread (:func:`children_cpu`), so that a budget
that charges a request its thread's CPU time (``api.kit.quotas``) charges the compile too. Verdicts are
remembered by the text's digest: one upload read by several parts, its preview and its run are
compiled once per process.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import select
import signal
import struct
import subprocess
import sys
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass

#: Lines a module may have: a homework module has hundreds.
MAX_LINES = 20_000
#: Words that may open a scope: with a few thousand, compiling takes well under a second.
MAX_SCOPE_WORDS = 3_000
#: CPU seconds the compiling child may use (a bounded module compiles in well under one).
CPU_SECONDS = 3
#: Its address space: the interpreter and the syntax tree of the largest module taken.
MEMORY_BYTES = 1 << 30
#: Verdicts remembered per process.
REMEMBERED = 1024

_SCOPE_WORDS = re.compile(r"\b(?:def|class|lambda|for)\b")

# The compiler: a small isolated interpreter that, for each request (a JSON header and the text,
# each a length-prefixed frame), forks a child that limits itself and compiles the text, then
# answers the child's verdict and its CPU time. Only the child ever parses a text; the compiler
# holds one text at a time and is reused, so a check costs a fork, not an interpreter's start.
_COMPILER = r"""
import json, os, resource, struct, sys

def read(size):
    data = b""
    while len(data) < size:
        chunk = os.read(0, size - len(data))
        if not chunk:
            sys.exit(0)
        data += chunk
    return data

def frame():
    return read(struct.unpack(">I", read(4))[0])

def verdict(text):
    try:
        compile(text, "submission.py", "exec", dont_inherit=True)
        return {}
    except SyntaxError as error:
        return {"syntax": str(error.msg), "line": error.lineno}
    except (RecursionError, MemoryError):
        return {"nested": True}
    except ValueError as error:
        return {"value": str(error)}

while True:
    limits = json.loads(frame())
    text = frame()
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read_end)
        resource.setrlimit(resource.RLIMIT_CPU, (limits["cpu"], limits["cpu"] + 1))
        resource.setrlimit(resource.RLIMIT_AS, (limits["memory"], limits["memory"]))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        answer = verdict(text.decode("utf-8", "surrogatepass"))
        os.write(write_end, json.dumps(answer).encode())
        os._exit(0)
    os.close(write_end)
    del text
    out = b""
    while chunk := os.read(read_end, 1 << 16):
        out += chunk
    os.close(read_end)
    _, status, usage = os.wait4(pid, 0)
    reply = {"status": status, "out": out.decode(errors="replace"), "cpu": usage.ru_utime + usage.ru_stime}
    encoded = json.dumps(reply).encode()
    os.write(1, struct.pack(">I", len(encoded)) + encoded)
"""


@dataclass(frozen=True)
class Problem:
    """Why a module cannot be run, in Python's words where Python found it (``SyntaxError: invalid
    syntax``), with the line of the module it is on when there is one."""

    message: str
    line: int | None = None


class _Spent(threading.local):
    seconds = 0.0


_spent = _Spent()
_lock = threading.Lock()
_verdicts: OrderedDict[str, Problem | None] = OrderedDict()


def children_cpu() -> float:
    """CPU seconds spent so far by the compiling children the calling thread waited for."""
    return _spent.seconds


def bounds_problem(text: str) -> Problem | None:
    """What makes ``text`` too large to compile, found without parsing it; None within bounds."""
    lines = text.count("\n") + 1
    if lines > MAX_LINES:
        return Problem(f"the module has {lines:,} lines, over the {MAX_LINES:,} a submission may have")
    words = sum(1 for _ in _SCOPE_WORDS.finditer(text))
    if words > MAX_SCOPE_WORDS:
        return Problem(
            f"the module has {words:,} functions, classes, lambdas and loops, over the {MAX_SCOPE_WORDS:,} "
            "a submission may have"
        )
    return None


def check(text: str) -> Problem | None:
    """Why ``text`` does not compile, or None when it does. Runs none of it."""
    problem = bounds_problem(text)
    if problem is not None:
        return problem
    digest = hashlib.sha256(text.encode(errors="surrogatepass")).hexdigest()
    with _lock:
        if digest in _verdicts:
            _verdicts.move_to_end(digest)
            return _verdicts[digest]
    verdict, final = _compiled_apart(text)
    if final:
        with _lock:
            _verdicts[digest] = verdict
            while len(_verdicts) > REMEMBERED:
                _verdicts.popitem(last=False)
    return verdict


class _Compiler:
    """One warm compiler process (:data:`_COMPILER`), lent to one check at a time."""

    def __init__(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-I", "-S", "-B", "-c", _COMPILER],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env={},
            cwd="/",
            close_fds=True,
            start_new_session=True,  # its process group: it and the child compiling, killed together
        )

    def check(self, text: str, timeout: float) -> dict[str, object] | None:
        """The compiler's reply for ``text``; None (and the compiler killed) past ``timeout`` or when
        it broke."""
        assert self.process.stdin is not None and self.process.stdout is not None
        header = json.dumps({"cpu": CPU_SECONDS, "memory": MEMORY_BYTES}).encode()
        body = text.encode(errors="surrogatepass")
        try:
            self.process.stdin.write(struct.pack(">I", len(header)) + header + struct.pack(">I", len(body)) + body)
            self.process.stdin.flush()
            size = struct.unpack(">I", self._read(4, timeout))[0]
            reply = json.loads(self._read(size, timeout))
        except (OSError, ValueError, TimeoutError, struct.error):
            self.kill()
            return None
        return reply if isinstance(reply, dict) else None

    def _read(self, size: int, timeout: float) -> bytes:
        assert self.process.stdout is not None
        fd = self.process.stdout.fileno()
        data = b""
        deadline = time.monotonic() + timeout
        while len(data) < size:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([fd], [], [], left)[0]:
                raise TimeoutError
            chunk = os.read(fd, size - len(data))
            if not chunk:
                raise OSError("the compiler ended")
            data += chunk
        return data

    def alive(self) -> bool:
        return self.process.poll() is None

    def kill(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()
        for stream in (self.process.stdin, self.process.stdout):
            if stream is not None:
                with contextlib.suppress(OSError):
                    stream.close()


_idle: list[_Compiler] = []


def _forget_after_fork() -> None:
    """A forked process (a batch's worker) starts its own compilers: the parent's pipes are the
    parent's, and two writers on one compiler would mix their texts."""
    global _lock, _idle
    _lock = threading.Lock()
    _idle = []


os.register_at_fork(after_in_child=_forget_after_fork)


def _compiled_apart(text: str) -> tuple[Problem | None, bool]:
    """The child's verdict, and whether it is the text's own (not a compiler that could not start
    or answer). A warm compiler is taken from the idle ones, or started (one per check at once)."""
    with _lock:
        compiler = _idle.pop() if _idle else None
    if compiler is None or not compiler.alive():
        try:
            compiler = _Compiler()
        except OSError as error:
            return Problem(f"the module could not be checked now ({error.strerror}): send it again"), False
    # CPU time is the bound; the wall time only guards against a compiler that stopped, generously,
    # since a loaded machine gives the child a fraction of a core
    reply = compiler.check(text, CPU_SECONDS * 20 + 10)
    if reply is None:
        return Problem("the module could not be checked now: send it again"), False
    with _lock:
        _idle.append(compiler)
    cpu = reply.get("cpu")
    _spent.seconds += float(cpu) if isinstance(cpu, int | float) else 0.0
    status = reply.get("status")
    try:
        answer = json.loads(str(reply.get("out"))) if status == 0 else None
    except ValueError:
        answer = None
    if not isinstance(answer, dict):
        # killed by its CPU limit: the text's own verdict
        return Problem(f"the module takes too long to compile (over {CPU_SECONDS} s of CPU)"), True
    if "syntax" in answer:
        line = answer.get("line")
        return Problem(f"SyntaxError: {answer['syntax']}", line if isinstance(line, int) else None), True
    if "nested" in answer:
        return Problem("the module is nested too deeply to compile"), True
    if "value" in answer:
        return Problem(f"SyntaxError: {answer['value']}"), True
    return None, True


def close() -> None:
    """Stop the idle compilers (a process that is done checking; tests)."""
    with _lock:
        stopping = list(_idle)
        _idle.clear()
    for compiler in stopping:
        compiler.kill()
