"""Whether a module's text compiles, found outside the service's process and within bounds.

Compiling runs none of the text's code, but CPython's compiler takes time quadratic in the number of
scopes (functions, classes, lambdas, comprehensions): 37,000 lines of ``x = [i for i in a if i]``
(860 kB, within every size limit) take over 30 s of CPU, and a compile holds the interpreter lock
all along. So the text is never compiled in the service's process:

- first, bounds that cost one linear scan and no parse: the lines, and the words that can open a
  scope (``def``, ``class``, ``lambda``, ``for``; an over-count, since a word in a comment counts);
- then a warm compiler compiles it: a small interpreter of its own (isolated: no site packages, no
  environment) under ``RLIMIT_AS``, which gives each text ``RLIMIT_CPU`` seconds more than it has
  used: past them ``SIGXCPU`` ends it and the module is refused; the next check starts another.
  A check thus costs a compile and two pipe writes: an interpreter's start per text was about
  30 ms a submission on a loaded 2-core machine, and a fork per text 5 ms of a 2 kB module's 6.
  The compiler holds one text at a time and never runs any; it retires after
  :data:`TEXTS_PER_COMPILER` texts.

A module that compiles comes back as its code object, marshalled (:func:`compiled`): the sandbox's
process loads that rather than compile the text a second time (about a millisecond of a homework
module's run). Marshalled code is only ever loaded behind the walls, by the process that runs the
module anyway; the service holds it as bytes.

The CPU time the compilers spent on a thread's texts is kept per thread (:func:`children_cpu`), so that a budget
that charges a request its thread's CPU time (``api.kit.quotas``) charges the compile too. Verdicts are
remembered by the text's digest: one upload read by several parts, its preview and its run are
compiled once per process; its code is remembered within :data:`CODE_BYTES_REMEMBERED`.
"""

from __future__ import annotations
import __future__

import contextlib
import hashlib
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass

from sandbox import wire

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
#: Bytes of marshalled code remembered per process (a homework module's is 10 to 20 kB).
CODE_BYTES_REMEMBERED = 32 << 20
#: The most marshalled code a compiler may answer for one text (a module within the bounds has a few MB).
MAX_CODE_BYTES = 64 << 20
#: The flags a module is compiled with, those the sandbox's process compiled it with before it was
#: compiled here (it inherited its own module's ``from __future__ import annotations``).
FLAGS = __future__.annotations.compiler_flag
#: Texts one compiler process compiles before a fresh one takes over (what compiling leaves
#: behind, such as a fragmented heap, lasts no longer than that).
TEXTS_PER_COMPILER = 1000

_SCOPE_WORDS = re.compile(r"\b(?:def|class|lambda|for)\b")

# The compiler: a small isolated interpreter that, for each request (a JSON header and the text,
# each a length-prefixed frame), compiles the text under its CPU limit, then answers its verdict and
# CPU time (a JSON frame) and the marshalled code (a frame, empty when the text does not compile).
_COMPILER = r"""
import json, marshal, math, os, resource, struct, sys

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

def verdict(text, flags):
    try:
        return {}, marshal.dumps(compile(text, "submission.py", "exec", flags=flags, dont_inherit=True))
    except SyntaxError as error:
        return {"syntax": str(error.msg), "line": error.lineno}, b""
    except (RecursionError, MemoryError):
        return {"nested": True}, b""
    except ValueError as error:
        return {"value": str(error)}, b""

def send(data):
    view = memoryview(data)
    while view:
        view = view[os.write(1, view):]

def spent():
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime

resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
memory = int(sys.argv[1])
resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
while True:
    limits = json.loads(frame())
    text = frame().decode("utf-8", "surrogatepass")
    before = spent()
    # this text's CPU seconds from now: past them SIGXCPU ends this process (its default action)
    resource.setrlimit(resource.RLIMIT_CPU, (math.ceil(before + limits["cpu"]), resource.RLIM_INFINITY))
    answer, code = verdict(text, limits["flags"])
    del text
    reply = {"status": 0, "out": json.dumps(answer), "cpu": spent() - before}
    encoded = json.dumps(reply).encode()
    send(struct.pack(">I", len(encoded)) + encoded + struct.pack(">I", len(code)) + code)
    del code
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
_codes: OrderedDict[str, bytes] = OrderedDict()
_code_bytes = 0


def children_cpu() -> float:
    """CPU seconds spent so far by the compilers on the texts the calling thread checked."""
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
    found = _found(text, need_code=False)
    return found if isinstance(found, Problem) else None


def compiled(text: str) -> Problem | bytes:
    """``text``'s code object, marshalled (what the sandbox's process runs, loaded with
    ``marshal.loads`` behind the walls), or why it does not compile. Runs none of it."""
    found = _found(text, need_code=True)
    assert found is not None  # (with the code asked for, a text that compiles comes back as its code)
    return found


def _found(text: str, *, need_code: bool) -> Problem | bytes | None:
    """The text's problem, else its code (remembered, or compiled now) when ``need_code``, else None.
    A text remembered is within bounds (the scan costs more than the digest: one file answers
    several parts, each read)."""
    digest = hashlib.sha256(text.encode(errors="surrogatepass")).hexdigest()
    with _lock:
        if digest in _verdicts:
            _verdicts.move_to_end(digest)
            verdict = _verdicts[digest]
            if verdict is not None or not need_code:
                return verdict
            if digest in _codes:
                _codes.move_to_end(digest)
                return _codes[digest]
    problem = bounds_problem(text)
    if problem is not None:
        return problem
    verdict, final, code = _compiled_apart(text)
    if final:
        _remember(digest, verdict, code)
    return verdict if verdict is not None or not need_code else code


def _remember(digest: str, verdict: Problem | None, code: bytes) -> None:
    global _code_bytes
    with _lock:
        _verdicts[digest] = verdict
        while len(_verdicts) > REMEMBERED:
            _verdicts.popitem(last=False)
        if verdict is None and digest not in _codes and len(code) <= CODE_BYTES_REMEMBERED:
            _codes[digest] = code
            _code_bytes += len(code)
            while _code_bytes > CODE_BYTES_REMEMBERED:
                _code_bytes -= len(_codes.popitem(last=False)[1])


class _Compiler:
    """One warm compiler process (:data:`_COMPILER`), lent to one check at a time, for at most
    :data:`TEXTS_PER_COMPILER` texts."""

    def __init__(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-I", "-S", "-B", "-c", _COMPILER, str(MEMORY_BYTES)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env={},
            cwd="/",
            close_fds=True,
            start_new_session=True,
        )
        assert self.process.stdin is not None and self.process.stdout is not None
        self.requests, self.replies = self.process.stdin.fileno(), wire.Frames(self.process.stdout.fileno())
        self.texts = 0
        self.reported_cpu = 0.0  # the CPU seconds its replies accounted for

    def check(self, text: str, timeout: float) -> tuple[dict[str, object], bytes] | None:
        """The compiler's reply for ``text`` (``status`` 0 with the verdict, or how the compiler
        ended while it compiled the text) and the marshalled code (empty unless it compiled); None
        (and the compiler killed) past ``timeout`` or when its pipes broke."""
        self.texts += 1
        header = json.dumps({"cpu": CPU_SECONDS, "flags": FLAGS}).encode()
        deadline = time.monotonic() + timeout
        try:
            wire.write_frames(self.requests, [header, text.encode(errors="surrogatepass")])
            reply = json.loads(self.replies.frame(wire.MAX_JSON, deadline))
            code = self.replies.frame(MAX_CODE_BYTES, deadline)
        except EOFError:
            return self._ended(), b""
        except (OSError, ValueError, TimeoutError):  # (wire's TooLarge is a ValueError, its Deadline a TimeoutError)
            self.kill()
            return None
        if not isinstance(reply, dict):
            self.kill()
            return None
        cpu = reply.get("cpu")
        self.reported_cpu += float(cpu) if isinstance(cpu, int | float) else 0.0
        return reply, code

    def _ended(self) -> dict[str, object]:
        """The compiler ended on the text (its CPU limit's ``SIGXCPU``, as a forked child's end was):
        the text's verdict, with the CPU the compiler spent on it."""
        _, status, usage = os.wait4(self.process.pid, 0)
        self.process.returncode = -os.WTERMSIG(status) if os.WIFSIGNALED(status) else os.WEXITSTATUS(status)
        self.kill()
        spent = usage.ru_utime + usage.ru_stime - self.reported_cpu
        return {"status": self.process.returncode or 1, "out": "", "cpu": max(spent, 0.0)}

    def alive(self) -> bool:
        return self.process.returncode is None and self.process.poll() is None

    def kill(self) -> None:
        if self.process.returncode is None:
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


def _compiled_apart(text: str) -> tuple[Problem | None, bool, bytes]:
    """The compiler's verdict, whether it is the text's own (not a compiler that could not start
    or answer), and the marshalled code (empty unless it compiled). A warm compiler is taken from
    the idle ones, or started (one per check at once)."""
    with _lock:
        compiler = _idle.pop() if _idle else None
    if compiler is None or not compiler.alive():
        try:
            compiler = _Compiler()
        except OSError as error:
            return Problem(f"the module could not be checked now ({error.strerror}): send it again"), False, b""
    # CPU time is the bound; the wall time only guards against a compiler that stopped, generously,
    # since a loaded machine gives the child a fraction of a core
    answered = compiler.check(text, CPU_SECONDS * 20 + 10)
    if answered is None:
        return Problem("the module could not be checked now: send it again"), False, b""
    reply, code = answered
    if compiler.alive() and compiler.texts < TEXTS_PER_COMPILER:
        with _lock:
            _idle.append(compiler)
    else:
        compiler.kill()
    cpu = reply.get("cpu")
    _spent.seconds += float(cpu) if isinstance(cpu, int | float) else 0.0
    status = reply.get("status")
    try:
        answer = json.loads(str(reply.get("out"))) if status == 0 else None
    except ValueError:
        answer = None
    if not isinstance(answer, dict):
        # the compiler was killed by its CPU limit on this text: the text's own verdict
        return Problem(f"the module takes too long to compile (over {CPU_SECONDS} s of CPU)"), True, b""
    if "syntax" in answer:
        line = answer.get("line")
        return Problem(f"SyntaxError: {answer['syntax']}", line if isinstance(line, int) else None), True, b""
    if "nested" in answer:
        return Problem("the module is nested too deeply to compile"), True, b""
    if "value" in answer:
        return Problem(f"SyntaxError: {answer['value']}"), True, b""
    if not code:
        return Problem("the module could not be checked now: send it again"), False, b""
    return None, True, code


def close() -> None:
    """Stop the idle compilers (a process that is done checking; tests)."""
    with _lock:
        stopping = list(_idle)
        _idle.clear()
    for compiler in stopping:
        compiler.kill()
