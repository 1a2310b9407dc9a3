"""A student's PyTorch model graded through the sandbox's warm torch worker: the wall time per
submission of the built-in ``torch-model`` set's checks (target: under 2 s).

Each submission is the set's own ``Net`` or PyTorch's CIFAR-10 LeNet (alternately, each a text of its
own, numbered), with its parameter count stated; grading it is :func:`grader.code.grade_code` on both
parts: ``net.model`` (one run: the output's shape, the budget, 40 steps of Adam on 128 digits) and
``net.params`` (a second run of the same module: the count). The warm worker (torch imported) starts
once, outside the timing. Rows: the time per submission, and the sandbox's own seconds per check
(the probe's call, inside the submission's process).

Run: ``make bench`` (or ``python -m bench.code_torch --submissions N``).
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections import defaultdict
from collections.abc import Sequence

from grader.code import grade_code
from grader.results import Status
from harness.student_code import LENET
from problems.loader import load_bank
from sandbox import Call, CallResult, Limits, Sandbox


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--submissions", type=int, default=20)
    options = parser.parse_args()
    problem_set = load_bank()["torch-model"]
    models = [(problem_set.solution_of("net.model"), "11642", 7.0), (LENET, "62006", 6.0)]  # LeNet: over the budget
    seconds_by_check: dict[str, list[float]] = defaultdict(list)
    with Sandbox(Limits(), runtime="torch") as box:
        began = time.perf_counter()
        box.start()
        start = time.perf_counter() - began

        def run(runtime: str, source: str, calls: Sequence[Call]) -> list[CallResult]:
            results = box.run(source, calls)
            for call, result in zip(calls, results, strict=True):
                seconds_by_check[call.function].append(result.seconds)
            return results

        grade_code(problem_set, {"net.model": LENET, "net.params": "1"}, student="warm-up", run=run)
        seconds_by_check.clear()
        times = []
        for number in range(options.submissions):
            source, count, points = models[number % 2]
            answers = {"net.model": f"# submission {number}\n{source}", "net.params": count}
            began = time.perf_counter()
            graded = grade_code(problem_set, answers, student=f"student-{number}", run=run)
            times.append(time.perf_counter() - began)
            score = sum(part.score for part in graded.values())
            assert score == points and graded["net.params"].status is Status.CORRECT, "a submission was graded wrong"
    ordered = sorted(times)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    print(f"\ntorch model checks per submission (torch-model set, both parts; {len(times)} submissions)")
    print("| wall time per submission | s |")
    print("| --- | ---: |")
    print(f"| median | {statistics.median(times):.3f} |")
    print(f"| 95th percentile | {p95:.3f} |")
    print(f"| slowest | {ordered[-1]:.3f} |")
    print("\nthe sandbox's own seconds per call (inside the submission's process)")
    print("| probe | calls | median s |")
    print("| --- | ---: | ---: |")
    for probe, seconds in sorted(seconds_by_check.items()):
        print(f"| {probe} | {len(seconds)} | {statistics.median(seconds):.3f} |")
    print(f"\nwarm torch worker start: {start:.2f} s (once per sandbox, not per submission)")


if __name__ == "__main__":
    main()
