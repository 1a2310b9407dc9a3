"""A real homework graded per submission, beside the peers' way of grading it, in one interleaved run.

The homework is the built-in ``numpy-convolution`` set: ``conv_forward``, ``conv_backward``,
``max_pool_forward`` and ``max_pool_backward``, 17 tests. Every method grades the same submissions
on the same inputs and references (the set's own draw, ``planned(set, key, None)``): each submission
is the set's solutions in one file, numbered so that no two texts are alike, and every 4th has three
named mistakes (the kernel flipped, ``dw`` assigned, average pooling). Every verdict is checked: a
right file passes 17 of 17 tests, a mistaken one 4 (``max_pool_backward`` only).

- **grader**: :func:`grader.code.grade_code` on the four parts through one warm sandbox, as the
  service and ``grader grade`` do (syntax check, one sandbox run, the judge naming mistakes).
- **cold sandbox + pytest** (what Gradescope's and PrairieLearn's external graders do, without a
  container's own start, which would only add to it): a fresh bubblewrap sandbox per submission
  (new namespaces, ``/usr``, the Python installation and its packages read-only, a fresh working
  directory) starting Python and ``python -m pytest`` on one parametrized test file of the 17 tests.
- **floor, grader's judge in-process**: ``grade_code`` with the code run in this process (no walls,
  which the service never does).
- **floor, plain calls**: the module exec'd here, 17 calls and ``np.allclose``.

Run: ``make bench`` (or ``python -m bench.homework --rounds N``).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import types
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from bench.code import in_process
from grader.code import grade_code
from grader.code.plan import planned
from problems.loader import load_bank
from sandbox import Call, CallResult, Limits, Sandbox

SET_ID = "numpy-convolution"
SET = load_bank()[SET_ID]
KEYS = list(SET.code())
#: The demo's three named mistakes, made in every 4th submission.
SLIPS = (
    ("np.tensordot(window, w, axes=", "np.tensordot(window, w[:, :, ::-1, ::-1], axes="),
    ("dw += np.tensordot(", "dw = np.tensordot("),
    ("window.max(axis=(2, 3))", "window.mean(axis=(2, 3))"),
)
TESTS = sum(len(SET.code()[key].tests) for key in KEYS)
#: Tests a mistaken file passes: max_pool_backward's.
MISTAKEN_PASSES = len(SET.code()["pool.backward"].tests)

PYTEST_FILE = """
import numpy as np
import pytest

import submission

CASES = np.load("cases.npz", allow_pickle=False)
COUNT = int(CASES["count"])


@pytest.mark.parametrize("index", range(COUNT))
def test_case(index):
    function = getattr(submission, str(CASES[f"function{index}"]))
    args = [CASES[f"arg{index}_{n}"] for n in range(int(CASES[f"args{index}"]))]
    kwargs = {str(name): int(CASES[f"kw{index}_{name}"]) for name in CASES[f"kwnames{index}"]}
    returned = function(*args, **kwargs)
    returned = returned if isinstance(returned, tuple) else (returned,)
    expected = [CASES[f"ref{index}_{n}"] for n in range(int(CASES[f"refs{index}"]))]
    assert len(returned) == len(expected)
    for got, want in zip(returned, expected):
        assert np.shape(got) == want.shape and np.allclose(got, want, rtol=1e-5, atol=1e-6)
"""


def submission(number: int) -> str:
    """The set's solutions in one file, numbered; every 4th with the three slips made."""
    text = "\n\n".join(dict.fromkeys(SET.solution_of(key) for key in KEYS))
    if number % 4 == 3:
        for old, new in SLIPS:
            assert text.count(old) == 1, old
            text = text.replace(old, new)
    return f"# submission {number}\n{text}"


def cases() -> list[tuple[Call, tuple[np.ndarray, ...]]]:
    """The 17 calls of the set's own draw and their references (the solvers')."""
    found = []
    for key in KEYS:
        for plan in planned(SET, key, None):
            assert plan.reference is not None
            found.append((plan.call, tuple(plan.reference)))
    return found


def write_cases(path: Path, found: Sequence[tuple[Call, tuple[np.ndarray, ...]]]) -> None:
    arrays: dict[str, np.ndarray] = {"count": np.array(len(found))}
    for index, (call, reference) in enumerate(found):
        arrays[f"function{index}"] = np.array(call.function)
        arrays[f"args{index}"] = np.array(len(call.args))
        for n, value in enumerate(call.args):
            arrays[f"arg{index}_{n}"] = np.asarray(value)
        arrays[f"kwnames{index}"] = np.array(list(call.kwargs), dtype=str)
        for name, value in call.kwargs.items():
            arrays[f"kw{index}_{name}"] = np.asarray(value)
        arrays[f"refs{index}"] = np.array(len(reference))
        for n, value in enumerate(reference):
            arrays[f"ref{index}_{n}"] = np.asarray(value)
    np.savez(path, **arrays)  # type: ignore[arg-type]  # numpy's stub takes its keywords as a bool first


def bwrap_command(workdir: Path) -> list[str]:
    """A fresh sandbox of every namespace, /usr and the Python installation and its packages
    read-only, a fresh working directory: what an external grader starts per submission."""
    prefix, base = Path(sys.prefix).resolve(), Path(sys.base_prefix).resolve()
    binds = [arg for path in dict.fromkeys((base, prefix)) for arg in ("--ro-bind", str(path), str(path))]
    return [
        shutil.which("bwrap") or "bwrap", "--unshare-all", "--die-with-parent", "--new-session",
        "--ro-bind", "/usr", "/usr", "--symlink", "usr/lib", "/lib", "--symlink", "usr/lib64", "/lib64",
        "--symlink", "usr/bin", "/bin", *binds, "--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp",
        "--bind", str(workdir), "/grading", "--chdir", "/grading",
        "--setenv", "PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1", "--setenv", "OMP_NUM_THREADS", "1",
        sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_homework.py",
    ]  # fmt: skip


def cold_pytest(text: str, cases_file: Path) -> int:
    """One submission through a cold sandbox and pytest: the tests passed."""
    with tempfile.TemporaryDirectory(prefix="bench-cold-") as directory:
        workdir = Path(directory)
        (workdir / "submission.py").write_text(text)
        (workdir / "test_homework.py").write_text(PYTEST_FILE)
        shutil.copy(cases_file, workdir / "cases.npz")
        done = subprocess.run(bwrap_command(workdir), capture_output=True, text=True, check=False)
    found = re.search(r"(\d+) passed", done.stdout)
    return int(found.group(1)) if found else 0


def plain(text: str, found: Sequence[tuple[Call, tuple[np.ndarray, ...]]]) -> int:
    """The floor: exec, 17 calls, ``np.allclose``: the tests passed."""
    module = types.ModuleType("submission")
    exec(compile(text, "submission.py", "exec"), module.__dict__)  # the floor only: never the product
    passed = 0
    for call, reference in found:
        returned = getattr(module, call.function)(*call.args, **call.kwargs)
        returned = returned if isinstance(returned, tuple) else (returned,)
        passed += len(returned) == len(reference) and all(
            np.shape(got) == want.shape and np.allclose(got, want, rtol=1e-5, atol=1e-6)
            for got, want in zip(returned, reference, strict=True)
        )
    return passed


def graded_tests(text: str, run: Callable[[str, str, Sequence[Call]], list[CallResult]]) -> int:
    """``grade_code`` on the four parts: the tests passed."""
    parts = grade_code(SET, dict.fromkeys(KEYS, text), student=None, run=run)
    return sum(test.status == "correct" for part in parts.values() for test in part.tests or ())


def expected(number: int) -> int:
    return MISTAKEN_PASSES if number % 4 == 3 else TESTS


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=12, help="Rounds, each of 10 per warm method and 1 cold.")
    options = parser.parse_args()
    found = cases()
    times: dict[str, list[float]] = {"grader": [], "cold": [], "judge": [], "plain": []}
    with tempfile.TemporaryDirectory(prefix="bench-homework-") as directory, Sandbox(Limits()) as box:
        cases_file = Path(directory) / "cases.npz"
        write_cases(cases_file, found)
        box.start()

        def sandboxed(runtime: str, text: str, calls: Sequence[Call]) -> list[CallResult]:
            return box.run(text, calls)

        methods: dict[str, Callable[[str], int]] = {
            "grader": lambda text: graded_tests(text, sandboxed),
            "judge": lambda text: graded_tests(text, in_process),
            "plain": lambda text: plain(text, found),
            "cold": lambda text: cold_pytest(text, cases_file),
        }
        number = 0
        for _ in range(options.rounds):
            for name, method in methods.items():
                for _ in range(1 if name == "cold" else 10):
                    text = submission(number)
                    began = time.perf_counter()
                    passed = method(text)
                    times[name].append(time.perf_counter() - began)
                    if passed != expected(number):
                        raise SystemExit(f"{name} passed {passed} tests of submission {number}, not {expected(number)}")
                    number += 1
    mean = {name: statistics.fmean(values) for name, values in times.items()}
    print(
        f"\n## A four-part homework ({SET_ID}: {TESTS} tests), per submission, one interleaved run "
        f"({options.rounds} rounds; load average {os.getloadavg()[0]:.1f}; every verdict checked)\n"
    )
    print("| method | ms a submission (mean) | median | grader's speed × |")
    print("| --- | ---: | ---: | ---: |")
    rows = (
        ("grader, one warm sandbox", "grader"),
        ("cold sandbox + pytest (the peers' stand-in)", "cold"),
        ("floor: grader's judge, code in-process", "judge"),
        ("floor: plain calls in-process", "plain"),
    )
    for label, name in rows:
        ratio = mean[name] / mean["grader"]
        print(f"| {label} | {1000 * mean[name]:,.1f} | {1000 * statistics.median(times[name]):,.1f} | {ratio:.2f} |")
    print(
        f"\ngrader is {mean['cold'] / mean['grader']:.1f}× the cold sandbox's speed (target ≥ 10) and "
        f"{mean['plain'] / mean['grader']:.2f} of the plain in-process floor's (target ≥ 0.25)."
    )


if __name__ == "__main__":
    main()
