"""The built-in ``seed-code-tasks`` set poses the seeds' code tasks, graded through the real sandbox:
004's Sobel filter on its own 3×5 image, 003's transposed convolution read from what the student's
code prints, 003's three strided convolutions written in PyTorch and measured, and 004's two CNNs
trained on digits and compared. Every verdict is held to an oracle that is not the set's solution:
torch's conv2d and conv_transpose2d on the same drawn inputs, the seeds' own printed figures, our
solvers' parameter and multiply-accumulate counts."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np
import pytest
import torch

from grader.code import Run, check_solution, grade_code
from grader.code.plan import Planned, planned
from grader.results import GradedPart, Status, TestStatus
from problems.loader import load_bank
from problems.solvers.counts import conv_macs, conv_params
from problems.solvers.sizes import conv_out
from sandbox import Call, CallResult, Limits, Sandbox
from tests.sandbox.probes import LIMITS, require_bwrap

SET = load_bank()["seed-code-tasks"]
TORCH_LIMITS = Limits(memory_bytes=2 << 30, wall_seconds=20.0, cpu_seconds=20, pids=24)


@pytest.fixture(scope="module")
def boxes() -> Iterator[dict[str, Sandbox]]:
    require_bwrap()
    with Sandbox(LIMITS) as numpy_box, Sandbox(TORCH_LIMITS, runtime="torch") as torch_box:
        yield {"numpy": numpy_box, "torch": torch_box}


def _run(boxes: dict[str, Sandbox]) -> Run:
    def run(runtime: str, text: str, calls: Sequence[Call]) -> list[CallResult]:
        return boxes[runtime].run(text, calls)

    return run


def _graded(boxes: dict[str, Sandbox], key: str, source: str, student: str = "s1") -> GradedPart:
    return grade_code(SET, {key: source}, student=student, run=_run(boxes), keys=[key])[key]


def _held_to(boxes: dict[str, Sandbox], key: str, source: str, oracle: object, student: str = "s1") -> GradedPart:
    """The part graded, and each of its tests' verdicts checked: correct exactly where what the
    student's code returned through the driver equals the oracle on that test's drawn inputs."""
    part = _graded(boxes, key, source, student)
    plans = planned(SET, key, student)
    runtime = SET.code()[key].runtime
    results = boxes[runtime].run(source, [plan.call for plan in plans])
    assert part.tests is not None
    for plan, result, test in zip(plans, results, part.tests, strict=True):
        expected = oracle(plan)  # type: ignore[operator]
        right = result.outputs != () and result.outputs[0].shape == expected.shape
        right = right and bool(np.allclose(result.outputs[0], expected, rtol=1e-5, atol=1e-6))
        assert (test.status is TestStatus.CORRECT) == right, (test.name, test.feedback)
    return part


# --- 004, task 1a: the Sobel filter ----------------------------------------------------------

SOBEL_LOOPS = """
import numpy as np

def filter2d(image, kernel):
    padded = np.zeros((image.shape[0] + 2, image.shape[1] + 2))
    padded[1:-1, 1:-1] = image
    out = np.zeros(image.shape)
    for i in range(image.shape[0]):
        for j in range(image.shape[1]):
            total = 0.0
            for a in range(3):
                for b in range(3):
                    total += padded[i + a, j + b] * kernel[a, b]
            out[i, j] = total
    return out
"""

SOBEL_STRIDED = """
import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

def filter2d(image, kernel):
    windows = sliding_window_view(np.pad(image, 1), kernel.shape)
    return np.einsum('ijkl,kl->ij', windows, kernel)
"""

SOBEL_FLIPPED = SOBEL_STRIDED.replace("kernel)\n", "kernel[::-1, ::-1])\n")
SOBEL_VALID = SOBEL_STRIDED.replace("np.pad(image, 1)", "image")
#: 004's figure for the Sobel kernel on its 3×5 image, as the student wrote it.
SEED_SOBEL = [[2, -1, 11, -2, -13], [10, -4, 8, 2, -18], [14, -1, -5, 6, -9]]


def _conv2d(plan: Planned) -> np.ndarray:
    image, kernel = (torch.tensor(plan.drawn.named[name]) for name in ("image", "kernel"))
    return torch.nn.functional.conv2d(image[None, None], kernel[None, None], padding=1)[0, 0].numpy()


@pytest.mark.parametrize("source", [SOBEL_LOOPS, SOBEL_STRIDED], ids=["loops", "sliding-windows"])
def test_a_right_filter_passes_on_the_seeds_own_image(boxes: dict[str, Sandbox], source: str) -> None:
    part = _held_to(boxes, "sobel.filter", source, _conv2d)
    assert part.status is Status.CORRECT
    first = planned(SET, "sobel.filter", "s1")[0]
    assert first.test.name == "assignment 3's own 3×5 image" and first.test.visibility == "visible"
    assert _conv2d(first).tolist() == SEED_SOBEL


@pytest.mark.parametrize(
    ("source", "code"), [(SOBEL_FLIPPED, "kernel-flipped"), (SOBEL_VALID, "padding-ignored")], ids=["flip", "valid"]
)
def test_a_filters_slip_is_named(boxes: dict[str, Sandbox], source: str, code: str) -> None:
    part = _held_to(boxes, "sobel.filter", source, _conv2d)
    assert (part.status, part.misconception) == (Status.INCORRECT, code)


# --- 003, Q1 c: the transposed convolution, from what is printed -----------------------------

TRANSPOSED_PRINTS = """
import numpy as np

def transposed_conv(x, w):
    k = w.shape[0]
    out = np.zeros((x.shape[0] + k - 1, x.shape[1] + k - 1))
    print("Output Matrix:")
    print(out)
    for i in range(x.shape[0]):
        for j in range(x.shape[1]):
            print(f"Multiply {x[i, j]} by the filter and add it at ({i}, {j}):")
            print(x[i, j] * w)
            out[i:i + k, j:j + k] += x[i, j] * w
            print(out)
"""

TRANSPOSED_ASSIGNED = TRANSPOSED_PRINTS.replace("+= x[i, j] * w", "= x[i, j] * w")
TRANSPOSED_SILENT = TRANSPOSED_PRINTS.replace("print(", "str(")
#: 003's figure: its 2×2 input and filter, and torch's printed output.
SEED_TRANSPOSED = [[1, 4, 4], [6, 20, 16], [9, 24, 16]]


def _conv_transpose2d(plan: Planned) -> np.ndarray:
    x, w = (torch.tensor(plan.drawn.named[name]) for name in ("x", "w"))
    return torch.nn.functional.conv_transpose2d(x[None, None], w[None, None])[0, 0].numpy()


def test_a_transposed_convolution_is_read_from_its_printed_steps(boxes: dict[str, Sandbox]) -> None:
    part = _held_to(boxes, "transposed.steps", TRANSPOSED_PRINTS, _conv_transpose2d)
    assert part.status is Status.CORRECT
    first = planned(SET, "transposed.steps", "s1")[0]
    assert _conv_transpose2d(first).tolist() == SEED_TRANSPOSED


def test_stamps_written_over_each_other_are_named(boxes: dict[str, Sandbox]) -> None:
    part = _held_to(boxes, "transposed.steps", TRANSPOSED_ASSIGNED, _conv_transpose2d)
    assert (part.status, part.misconception) == (Status.INCORRECT, "overlap-assigned")


def test_code_that_prints_nothing_is_told_what_is_read(boxes: dict[str, Sandbox]) -> None:
    part = _graded(boxes, "transposed.steps", TRANSPOSED_SILENT)
    assert part.tests is not None and part.tests[0].status is TestStatus.ERROR
    assert "printed no array" in part.tests[0].feedback
    assert "read_arrays" not in part.tests[0].feedback  # never the driver's text


# --- 003, Q1 b: three strided convolutions in PyTorch, measured --------------------------------

NET_SEQUENTIAL = """
import torch.nn as nn

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        layers = []
        for c_in, c_out in [(3, 64), (64, 128), (128, 256)]:
            layers += [nn.Conv2d(c_in, c_out, kernel_size=5, stride=2, padding=2), nn.ReLU()]
        self.body = nn.Sequential(*layers)

    def forward(self, x):
        return self.body(x)
"""

NET_UNPADDED = NET_SEQUENTIAL.replace(", padding=2", "")
NET_NO_BIASES = NET_SEQUENTIAL.replace("padding=2)", "padding=2, bias=False)")


def _stated_network(side: int) -> dict[str, list[int]]:
    """Our solvers' figures for 003's network on a side×side image: each layer's parameters and MACs."""
    params, macs, c_in = [], [], 3
    for c_out in (64, 128, 256):
        side = int(conv_out(side, 5, 2, 2))
        params.append(int(conv_params(c_in, c_out, 5, 5)))
        macs.append(int(conv_macs(c_in, c_out, 5, 5, side, side)))
        c_in = c_out
    return {"shape": [256, side, side], "params": params, "macs": macs}


def test_the_measured_network_is_held_to_our_solvers_counts(boxes: dict[str, Sandbox]) -> None:
    part = _graded(boxes, "three_convs.net", NET_SEQUENTIAL)
    assert part.status is Status.CORRECT
    for plan in planned(SET, "three_convs.net", "s1"):
        (result,) = boxes["torch"].run(NET_SEQUENTIAL, [plan.call])
        measured = dict(zip(("shape", "params", "macs"), (o.tolist() for o in result.outputs), strict=True))
        assert measured == _stated_network(int(plan.test.settings["side"]))
    # the seed's own costs for the 128×128 image: 64·64·64·5²·3, 32·32·128·5²·64, 16·16·256·5²·128
    assert _stated_network(128)["macs"] == [64 * 64 * 64 * 25 * 3, 32 * 32 * 128 * 25 * 64, 16 * 16 * 256 * 25 * 128]


def test_a_network_without_padding_is_named_and_one_unlike_every_mutant_is_not(boxes: dict[str, Sandbox]) -> None:
    unpadded = _graded(boxes, "three_convs.net", NET_UNPADDED)
    assert (unpadded.status, unpadded.misconception) == (Status.INCORRECT, "padding-ignored")
    # every bias dropped: the set's mutant drops the last layer's only, so its counts match none
    no_biases = _graded(boxes, "three_convs.net", NET_NO_BIASES)
    assert (no_biases.status, no_biases.misconception) == (Status.INCORRECT, None)


# --- 004, task 2: two CNNs trained on digits and compared -----------------------------------

TWO_NETS = SET.problems[[problem.id for problem in SET.problems].index("two_nets")].spec.solution  # type: ignore[attr-defined]
WRONG_CLAIM = TWO_NETS.replace("BETTER = 2", "BETTER = 1")
UNTRAINED = TWO_NETS.replace("return _fit(net, x, y, 6)", "return net")


def _shares_here(boxes: dict[str, Sandbox], source: str) -> list[float]:
    """The share of the held-out labels each network's predictions get right, counted here on what
    the driver returned in the sandbox, against the labels the plan keeps."""
    (plan,) = planned(SET, "two_nets.compare", "s1")
    (result,) = boxes["torch"].run(source, [plan.call])
    labels = plan.drawn.kept["y_test"]
    return [float(np.mean(predicted == labels)) for predicted in result.outputs[:2]]


def test_two_trained_networks_pass_and_a_wrong_claim_or_an_untrained_net_does_not(
    boxes: dict[str, Sandbox],
) -> None:
    assert _graded(boxes, "two_nets.compare", TWO_NETS).status is Status.CORRECT
    first, second = _shares_here(boxes, TWO_NETS)
    assert second > first >= 0.9
    wrong = _graded(boxes, "two_nets.compare", WRONG_CLAIM)
    assert wrong.tests is not None and wrong.status is Status.INCORRECT
    assert wrong.tests[0].feedback == (
        f"Your better is 1 (first, right on {first:.3g} of the held-out labels), but second does better ({second:.3g})."
    )
    untrained = _graded(boxes, "two_nets.compare", UNTRAINED)
    assert untrained.tests is not None and untrained.status is Status.INCORRECT
    (untrained_first, _) = _shares_here(boxes, UNTRAINED)
    assert untrained.tests[0].feedback.startswith(
        f"Your first is right on {round(untrained_first * 360)} of the 360 held-out labels"
    )


# Modules that compute nothing and, before the labels were kept outside, passed this part: each
# network's predictions are all zeros wherever there is nothing to exploit.
_ZEROS = """
import torch
from torch import nn


class Zeros(nn.Module):
    def forward(self, x):
        return torch.zeros(len(x), 10)


def train_first(x, y):
    return Zeros()


train_second = train_first
BETTER = 1
"""

#: Reads `y_test` from the driver's frames and answers with it.
FRAME_WALK = _ZEROS.replace(
    "        return torch.zeros(len(x), 10)\n",
    """        import sys
        import numpy as np
        frame = sys._getframe(1)
        while frame is not None:
            for scope in (frame.f_locals, frame.f_globals):
                found = scope.get("y_test")
                if isinstance(found, np.ndarray) and len(found) == len(x):
                    return nn.functional.one_hot(torch.from_numpy(found), 10).float()
            frame = frame.f_back
        return torch.zeros(len(x), 10)
""",
)

#: Scores whose best class is an array that says it equals whatever it is compared with.
LYING_EQ = _ZEROS.replace(
    "class Zeros(nn.Module):",
    """import numpy as np


class Agreeable(np.ndarray):
    def __eq__(self, other):
        return np.ones(np.shape(other), dtype=bool)

    def numpy(self):
        return self


class Scores:
    def __init__(self, count):
        self.count = count

    def argmax(self, dim=None):
        return np.zeros(self.count, dtype=np.int64).view(Agreeable)


class Zeros(nn.Module):""",
).replace("        return torch.zeros(len(x), 10)\n", "        return Scores(len(x))\n")

#: Replaces what a driver scores with when the module is imported.
PATCHED = (
    """
import builtins
import numpy

numpy.mean = lambda *a, **k: 1.0
builtins.float = lambda *a, **k: 1.0
"""
    + _ZEROS
)


@pytest.mark.parametrize("attack", [FRAME_WALK, LYING_EQ, PATCHED], ids=["frame-walk", "lying-eq", "patched"])
def test_networks_that_compute_nothing_are_graded_incorrect(boxes: dict[str, Sandbox], attack: str) -> None:
    part = _graded(boxes, "two_nets.compare", attack)
    assert (part.status, part.score) == (Status.INCORRECT, 0.0), part.tests
    assert part.tests is not None and part.tests[0].status is TestStatus.INCORRECT
    (plan,) = planned(SET, "two_nets.compare", "s1")
    zeros = int(np.count_nonzero(plan.drawn.kept["y_test"] == 0))
    assert part.tests[0].feedback == (
        f"Your first is right on {zeros} of the 360 held-out labels ({zeros / 360:.3g}); it should be right on a "
        "share of at least 0.9."
    )


def test_the_sets_solutions_pass_on_every_probe_variant(boxes: dict[str, Sandbox]) -> None:
    assert check_solution(SET, _run(boxes)) == []
