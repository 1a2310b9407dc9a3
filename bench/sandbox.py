"""Code submissions graded per second through the sandbox, against the same calls run in-process.

Each submission is a student's naive NumPy ``conv_forward`` (loops over the output positions), a
text of its own (numbered), called on 3 small tests (one plain, one with stride 2 and padding 1,
one with 1×1 kernels); grading it is sending it through :class:`sandbox.Sandbox` (syntax check,
a fresh process forked from the warm worker, the module loaded, the 3 calls, the arrays back) and
comparing each output with a reference computed outside. The floor runs the same submissions
in this process (compile, load, call, compare: no walls at all, which the service never does) in
the same run. Rows: one sandbox (one warm worker), and two sandboxes on two threads (this machine
has two cores); then the time to start a warm worker, with numpy and with torch.

Run: ``make bench`` (or ``python -m bench.sandbox --submissions N``).
"""

from __future__ import annotations

import argparse
import threading
import time
import types

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from harness.student_code import CONV_FORWARD
from sandbox import Call, Limits, Sandbox, Status

SUBMISSION = CONV_FORWARD


def tests(seed: int = 7) -> list[tuple[Call, np.ndarray]]:
    """Three calls and their references (computed here, outside any sandbox)."""
    rng = np.random.default_rng(seed)
    cases = [((2, 3, 8, 8), (4, 3, 3, 3), 1, 0), ((1, 2, 7, 9), (3, 2, 3, 3), 2, 1), ((2, 3, 6, 6), (2, 3, 1, 1), 1, 0)]
    out = []
    for x_shape, w_shape, stride, pad in cases:
        x, w, b = rng.normal(size=x_shape), rng.normal(size=w_shape), rng.normal(size=w_shape[0])
        out.append((Call("conv_forward", (x, w, b), {"stride": stride, "pad": pad}), reference(x, w, b, stride, pad)))
    return out


def reference(x: np.ndarray, w: np.ndarray, b: np.ndarray, stride: int, pad: int) -> np.ndarray:
    padded = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    windows = sliding_window_view(padded, w.shape[2:], axis=(2, 3))[:, :, ::stride, ::stride]
    return np.einsum("nchwij,fcij->nfhw", windows, w) + b[None, :, None, None]


def submissions(count: int) -> list[str]:
    return [f"# submission {number}\n{SUBMISSION}" for number in range(count)]


def score(outputs: list[np.ndarray | None], expected: list[np.ndarray]) -> int:
    return sum(
        out is not None and out.shape == ref.shape and np.allclose(out, ref)
        for out, ref in zip(outputs, expected, strict=True)
    )


def sandboxed(box: Sandbox, sources: list[str], cases: list[tuple[Call, np.ndarray]]) -> int:
    calls = [call for call, _ in cases]
    correct = 0
    for source in sources:
        results = box.run(source, calls)
        outputs = [result.outputs[0] if result.status is Status.OK else None for result in results]
        correct += score(outputs, [ref for _, ref in cases])
    return correct


def in_process(sources: list[str], cases: list[tuple[Call, np.ndarray]]) -> int:
    correct = 0
    for source in sources:
        module = types.ModuleType("submission")
        exec(compile(source, "submission.py", "exec"), module.__dict__)  # the floor only: never in the product
        outputs = [module.conv_forward(*call.args, **call.kwargs) for call, _ in cases]
        correct += score(outputs, [ref for _, ref in cases])
    return correct


def timed(function, *args) -> tuple[float, int]:
    began = time.perf_counter()
    correct = function(*args)
    return time.perf_counter() - began, correct


def two_sandboxes(sources: list[str], cases: list[tuple[Call, np.ndarray]]) -> tuple[float, int]:
    boxes = [Sandbox(Limits()), Sandbox(Limits())]
    for box in boxes:
        box.start()
    halves = [sources[0::2], sources[1::2]]
    correct = [0, 0]

    def grade(index: int) -> None:
        correct[index] = sandboxed(boxes[index], halves[index], cases)

    threads = [threading.Thread(target=grade, args=(index,)) for index in (0, 1)]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - began
    for box in boxes:
        box.close()
    return elapsed, sum(correct)


def start_time(runtime: str) -> float:
    box = Sandbox(Limits(memory_bytes=2 << 30), runtime=runtime)
    began = time.perf_counter()
    box.start()
    elapsed = time.perf_counter() - began
    box.close()
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--submissions", type=int, default=300)
    options = parser.parse_args()
    cases = tests()
    sources = submissions(options.submissions)
    count = len(sources)
    with Sandbox(Limits()) as box:
        box.start()  # the warm worker starts once, outside the timing
        sandboxed(box, sources[:5], cases)
        one, correct_one = timed(sandboxed, box, sources, cases)
    two, correct_two = two_sandboxes(sources, cases)
    floor, correct_floor = timed(in_process, sources, cases)
    assert correct_one == correct_two == correct_floor == 3 * count, "a correct submission was graded wrong"
    print(f"\ncode submissions graded (naive NumPy conv_forward, 3 tests each; {count} submissions)")
    print("| how | submissions/s | ms per submission | × the in-process floor |")
    print("| --- | ---: | ---: | ---: |")
    print(f"| in-process floor (no walls) | {count / floor:,.0f} | {1000 * floor / count:.2f} | 1 |")
    print(f"| sandbox, 1 warm worker | {count / one:,.1f} | {1000 * one / count:.2f} | {one / floor:.1f} |")
    print(
        f"| sandbox, 2 warm workers (2 threads) | {count / two:,.1f} | {1000 * two / count:.2f} | {two / floor:.1f} |"
    )
    print("\nwarm worker start (bwrap, interpreter, runtime imported)")
    print("| runtime | s |")
    print("| --- | ---: |")
    for runtime in ("numpy", "torch"):
        print(f"| {runtime} | {start_time(runtime):.2f} |")


if __name__ == "__main__":
    main()
