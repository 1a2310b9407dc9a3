"""Whether a module's text compiles, found outside the service's process and within bounds.

Compiling runs none of the text's code, but CPython's compiler takes time quadratic in the number of
scopes (functions, classes, lambdas, comprehensions): 37,000 lines of ``x = [i for i in a if i]``
(860 kB, within every size limit) take over 30 s of CPU, and a compile holds the interpreter lock
all along. So the text is never compiled in the service's process:

- first, bounds that cost one linear scan and no parse: the lines, and the words that can open a
  scope (``def``, ``class``, ``lambda``, ``for``; an over-count, since a word in a comment counts);
- then a short-lived child interpreter (isolated: no site packages, no environment) compiles it
  under ``RLIMIT_CPU`` and ``RLIMIT_AS``; past them it is killed and the module refused.

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
import subprocess
import sys
import threading
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

# The child: limits itself before reading the text, compiles it, answers one JSON object.
_CHILD = r"""
import json, resource, sys
resource.setrlimit(resource.RLIMIT_CPU, ({cpu}, {cpu} + 1))
resource.setrlimit(resource.RLIMIT_AS, ({memory}, {memory}))
resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
text = sys.stdin.buffer.read().decode("utf-8", "surrogatepass")
try:
    compile(text, "submission.py", "exec", dont_inherit=True)
    answer = {{}}
except SyntaxError as error:
    answer = {{"syntax": str(error.msg), "line": error.lineno}}
except (RecursionError, MemoryError):
    answer = {{"nested": True}}
except ValueError as error:
    answer = {{"value": str(error)}}
sys.stdout.write(json.dumps(answer))
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


def _compiled_apart(text: str) -> tuple[Problem | None, bool]:
    """The child's verdict, and whether it is the text's own (not a child that could not start)."""
    script = _CHILD.format(cpu=CPU_SECONDS, memory=MEMORY_BYTES)
    try:
        child = subprocess.Popen(
            [sys.executable, "-I", "-S", "-B", "-c", script],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env={},
            cwd="/",
            close_fds=True,
        )
    except OSError as error:
        return Problem(f"the module could not be checked now ({error.strerror}): send it again"), False
    # CPU time is the bound; the wall time only guards against a child that stopped, generously,
    # since a loaded machine gives the child a fraction of a core
    stopped = False

    def stop() -> None:
        nonlocal stopped
        stopped = True
        child.kill()

    timer = threading.Timer(CPU_SECONDS * 20 + 10, stop)
    timer.start()
    assert child.stdin is not None and child.stdout is not None
    try:
        with contextlib.suppress(BrokenPipeError):  # (the child ended before reading it all: killed)
            child.stdin.write(text.encode(errors="surrogatepass"))
        with contextlib.suppress(BrokenPipeError):
            child.stdin.close()
        out = child.stdout.read(1 << 16)
    finally:
        timer.cancel()
        child.stdout.close()
        _, status, usage = os.wait4(child.pid, 0)  # reaped here, for its CPU time
        child.returncode = os.waitstatus_to_exitcode(status)
        _spent.seconds += usage.ru_utime + usage.ru_stime
    try:
        answer = json.loads(out) if child.returncode == 0 else None
    except ValueError:
        answer = None
    if not isinstance(answer, dict):
        # killed by its CPU limit (the text's own verdict), or by the wall-time guard (not kept)
        return Problem(f"the module takes too long to compile (over {CPU_SECONDS} s of CPU)"), not stopped
    if "syntax" in answer:
        line = answer.get("line")
        return Problem(f"SyntaxError: {answer['syntax']}", line if isinstance(line, int) else None), True
    if "nested" in answer:
        return Problem("the module is nested too deeply to compile"), True
    if "value" in answer:
        return Problem(f"SyntaxError: {answer['value']}"), True
    return None, True
