"""The judging's CPU per submission of the four-part homework (``numpy-convolution``: conv forward and
backward, max-pool forward and backward, 17 tests), each from a new student, as a deadline burst
brings them: :func:`grader.code.grade_code` in this process with the code run in-process (never the
product's way), that run's own CPU excluded. What is left is what a code worker's grading process
spends besides the sandbox: each test drawn for the student and told (every declared mistake the
set's check holds it to must fail the draw), its reference and its mistakes' outputs computed by
the solvers, the outputs judged and a mistaken file's mistakes named. Every 4th file has the
homework bench's three named mistakes; every verdict is checked.

Run: ``python -m bench.judging [--submissions N]`` (a few seconds; not part of ``make bench``).
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Sequence

from bench.code import in_process
from bench.homework import KEYS, SET, SET_ID, TESTS, expected, submission
from grader.code import grade_code
from sandbox import Call, CallResult


class _Run:
    """The in-process run, its CPU counted apart."""

    def __init__(self) -> None:
        self.seconds = 0.0

    def __call__(self, runtime: str, text: str, calls: Sequence[Call]) -> list[CallResult]:
        began = time.process_time()
        try:
            return in_process(runtime, text, calls)
        finally:
            self.seconds += time.process_time() - began


def judged(number: int, student: str, run: _Run) -> float:
    """CPU seconds of judging one submission, its run's excluded; its verdict checked."""
    run.seconds = 0.0
    began = time.process_time()
    parts = grade_code(SET, dict.fromkeys(KEYS, submission(number)), student=student, run=run)
    spent = time.process_time() - began - run.seconds
    passed = sum(test.status == "correct" for part in parts.values() for test in part.tests or ())
    if passed != expected(number):
        raise SystemExit(f"submission {number} passed {passed} tests, not {expected(number)}")
    return spent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--submissions", type=int, default=100, help="Submissions, each from a new student.")
    options = parser.parse_args()
    run = _Run()
    judged(0, "warm", run)  # the set's own draw (once per set) and the imports
    right: list[float] = []
    mistaken: list[float] = []
    for number in range(options.submissions):
        (mistaken if number % 4 == 3 else right).append(judged(number, f"student-{number}", run))
    every = right + mistaken
    print(
        f"\n## Judging a new student's submission of {SET_ID} ({TESTS} tests), CPU of the grading process "
        f"besides the code's run ({options.submissions} submissions; load average {os.getloadavg()[0]:.1f}; "
        "every verdict checked)\n"
    )
    print("| submissions | ms each (mean) | median |")
    print("| --- | ---: | ---: |")
    for label, values in (("all", every), ("right files", right), ("with three mistakes (every 4th)", mistaken)):
        if values:
            print(f"| {label} | {1000 * statistics.fmean(values):.1f} | {1000 * statistics.median(values):.1f} |")


if __name__ == "__main__":
    main()
