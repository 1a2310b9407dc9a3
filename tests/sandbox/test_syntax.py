"""A module's syntax is checked apart from the caller's process and within bounds: the compiler's
time is quadratic in a module's scopes, so a text crafted for it is refused before any parse, and
what is parsed is compiled by a warm compiler of its own under a CPU limit, charged to the calling thread."""

from __future__ import annotations

import marshal
import os
import signal
import time
import uuid

import pytest

from sandbox import syntax

COMPREHENSION = "x = [i for i in a if i]\n"


def test_a_module_that_compiles_is_compiled_apart_and_remembered() -> None:
    module = COMPREHENSION * 2_000 + "# remembered\n"
    own, children = time.thread_time(), syntax.children_cpu()
    assert syntax.check(module) is None
    # the compiler did the work (about 0.2 s of CPU here), the calling thread next to none
    assert syntax.children_cpu() - children > time.thread_time() - own
    children = syntax.children_cpu()
    assert syntax.check(module) is None
    assert syntax.children_cpu() == children  # the verdict was remembered: not compiled again


def test_a_module_that_compiles_comes_back_as_its_code_and_is_compiled_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """The check's compile is the run's: the code comes back marshalled (what the sandbox's process
    loads) and is remembered, compiled with the flags the sandbox's process compiled modules with
    (PEP 563's annotations: an annotation naming nothing defined does not stop a module loading)."""
    compiles = []
    real = syntax._Compiler.check
    monkeypatch.setattr(syntax._Compiler, "check", lambda self, *args: compiles.append(1) or real(self, *args))
    module = f"def f(x: Undefined) -> int:\n    return x + 1\n# {uuid.uuid4()}\n"
    assert syntax.check(module) is None
    code = syntax.compiled(module)
    assert isinstance(code, bytes) and len(compiles) == 1  # the check's compile, remembered
    loaded = marshal.loads(code)
    assert loaded.co_filename == "submission.py"
    namespace: dict[str, object] = {}
    exec(loaded, namespace)  # the test's own module, compiled by the compiler from this text
    assert namespace["f"](1) == 2  # type: ignore[operator]
    assert namespace["f"].__annotations__ == {"x": "Undefined", "return": "int"}  # type: ignore[attr-defined]
    assert syntax.compiled("def f(:" + module) == syntax.Problem("SyntaxError: invalid syntax", 1)
    monkeypatch.setattr(syntax, "_codes", type(syntax._codes)())  # code forgotten, verdict kept: compiled again
    again = syntax.compiled(module)
    assert isinstance(again, bytes) and marshal.loads(again).co_code == loaded.co_code and len(compiles) == 3


@pytest.mark.parametrize(
    ("module", "problem"),
    [
        ("def f(:\n    pass\n", syntax.Problem("SyntaxError: invalid syntax", 1)),
        ("x = 1\n\ny = (\n", syntax.Problem("SyntaxError: '(' was never closed", 3)),
        ("x = " + "1+" * 200_000 + "1\n", syntax.Problem("the module is nested too deeply to compile")),
        ("x = 1\x00\n", syntax.Problem("SyntaxError: source code string cannot contain null bytes")),
        (
            "x = '\udcff'\n",
            syntax.Problem(
                "SyntaxError: 'utf-8' codec can't encode character '\\udcff' in position 5: surrogates not allowed"
            ),
        ),
        ("return 1\n", syntax.Problem("SyntaxError: 'return' outside function", 1)),
    ],
)
def test_what_does_not_compile_is_said_in_pythons_words_with_its_line(module: str, problem: syntax.Problem) -> None:
    assert syntax.check(module) == problem


def test_the_attack_is_refused_before_any_parse() -> None:
    """37,000 comprehensions (814 kB) took over 30 s of CPU to compile; they are counted, not parsed."""
    started, children = time.monotonic(), syntax.children_cpu()
    problem = syntax.check(COMPREHENSION * 37_000)
    assert problem == syntax.Problem("the module has 37,001 lines, over the 20,000 a submission may have")
    assert syntax.children_cpu() == children  # nothing was compiled
    assert time.monotonic() - started < 5.0  # (a hang guard: it is one scan of the text)
    wide = "; ".join(["y = [i for i in a]"] * 3_001)
    assert syntax.check(wide) == syntax.Problem(
        "the module has 3,001 functions, classes, lambdas and loops, over the 3,000 a submission may have"
    )


def test_a_compile_past_its_cpu_limit_is_killed_and_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    """With the scope bound lifted, a module that compiles for longer than the CPU limit is stopped
    there: the limit holds whatever the bounds let through."""
    monkeypatch.setattr(syntax, "MAX_SCOPE_WORDS", 100_000)
    monkeypatch.setattr(syntax, "CPU_SECONDS", 1)
    children = syntax.children_cpu()
    problem = syntax.check(COMPREHENSION * 12_000)  # about 5 s of CPU to compile here
    assert problem == syntax.Problem("the module takes too long to compile (over 1 s of CPU)")
    spent = syntax.children_cpu() - children
    assert 0.9 < spent < 3.0, spent  # ended at its limit (SIGXCPU, at the next second of CPU at most)


def test_one_warm_compiler_serves_check_after_check_and_a_killed_compile_takes_only_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A check costs a compile in a warm compiler, neither an interpreter's start nor a fork: the
    same compiler answers text after text; a compile past its CPU limit ends that compiler, and the
    next check starts another; a compiler retires after its count of texts; and a forked process
    never writes to its parent's compilers."""
    syntax.close()
    own = f"  # {uuid.uuid4()}\n"  # (verdicts are remembered per process: texts no other test checked)
    assert syntax.check("a = 1" + own) is None
    (compiler,) = syntax._idle
    assert syntax.check("def f(:" + own) == syntax.Problem("SyntaxError: invalid syntax", 1)
    assert syntax._idle == [compiler] and compiler.texts == 2
    monkeypatch.setattr(syntax, "MAX_SCOPE_WORDS", 100_000)
    monkeypatch.setattr(syntax, "CPU_SECONDS", 1)
    assert syntax.check(COMPREHENSION * 12_000 + own) == syntax.Problem(
        "the module takes too long to compile (over 1 s of CPU)"
    )
    assert syntax._idle == [] and not compiler.alive()
    assert compiler.process.returncode == -signal.SIGXCPU
    assert syntax.check("a = 2" + own) is None
    (compiler,) = syntax._idle
    assert compiler.alive() and compiler.texts == 1
    monkeypatch.setattr(syntax, "TEXTS_PER_COMPILER", 2)
    assert syntax.check("a = 3" + own) is None
    assert syntax._idle == [] and not compiler.alive()
    assert syntax.check("a = 4" + own) is None
    (compiler,) = syntax._idle
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: no compiler of its parent's is lent to it
        os.write(write_end, b"%d" % len(syntax._idle))
        os._exit(0)
    os.close(write_end)
    assert os.read(read_end, 16) == b"0"
    os.waitpid(pid, 0)
    assert syntax._idle == [compiler]
