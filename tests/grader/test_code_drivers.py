"""Driver parts graded through the real sandbox: references from the instructor's solution run
through the driver (cached per set, test and student), mistakes named by mutants only when their
values match, thresholds and shapes judged, a built-in kind behind CS231n's own signature keeping
its named mistakes, and a set's checks (mistakes no visible test tells apart, code that does not
compile) refused at their fields. Verdicts are checked against numpy computed here (an oracle
independent of the solution's text)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np
import pytest

from grader.code import check_solution, grade_code
from grader.code import references as cached
from grader.code.plan import calls_for
from grader.results import GradedPart, Status, TestStatus
from problems.loader import parse_set
from problems.sets import ProblemSet
from sandbox import Call, CallResult, Sandbox
from tests.sandbox.probes import LIMITS, require_bwrap

SOLUTION = """\
import numpy as np


def affine_forward(x, w, b):
    out = x.reshape(x.shape[0], -1) @ w + b
    return out, (x, w, b)


def relu_forward(x):
    return np.maximum(0, x), x


def accuracy(scores, y):
    return float(np.mean(np.argmax(scores, axis=1) == y))


def conv_forward_naive(x, w, b, conv_param):
    stride, pad = conv_param["stride"], conv_param["pad"]
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    n, f, kh, kw = x.shape[0], w.shape[0], w.shape[2], w.shape[3]
    h_out = (xp.shape[2] - kh) // stride + 1
    w_out = (xp.shape[3] - kw) // stride + 1
    out = np.zeros((n, f, h_out, w_out))
    for i in range(h_out):
        for j in range(w_out):
            window = xp[:, :, i * stride : i * stride + kh, j * stride : j * stride + kw]
            out[:, :, i, j] = np.einsum("nchw,fchw->nf", window, w) + b
    return out, (x, w, b, conv_param)
"""

PARTS = """\
      - key: affine
        driver: |
          out, cache = student.affine_forward(x, w, b)
          return {"out": out}
        inputs:
          x: {shape: [N, D]}
          w: {shape: [D, M]}
          b: {shape: [M]}
        outputs: {out: equal}
        mistakes:
          - {code: bias-omitted, replace: "@ w + b", with: "@ w"}
          - code: weights-transposed
            feedback: "Multiply by w as it is (D×M), not by its transpose."
            replace: "x.reshape(x.shape[0], -1) @ w"
            with: "x.reshape(x.shape[0], -1) @ w.T.T.T"
        tests:
          - {name: a batch, N: 3, D: 4, M: 4}
          - {name: a wider layer, N: 2, D: 3, M: 5, visibility: hidden}
      - key: relu
        driver: |
          out, _ = student.relu_forward(x)
          return {"out": out, "kept": float((out > 0).mean())}
        inputs:
          x: {shape: [N, 6]}
        outputs: {out: shape, kept: {at_least: 0.05}}
        tests:
          - {name: shapes, N: 4}
      - key: conv
        code: conv.forward
        driver: |
          out, cache = student.conv_forward_naive(x, w, b, {"stride": stride, "pad": pad})
          return {"output": out}
        tests:
          - {name: padding 1, shapes: {x: [1, 3, 5, 5], w: [2, 3, 3, 3]}, pad: 1}
          - {name: stride 2, shapes: {x: [2, 3, 7, 7], w: [4, 3, 3, 3]}, stride: 2, pad: 1}
          - {name: a 5×5 kernel, shapes: {x: [2, 2, 6, 6], w: [3, 2, 5, 5]}, pad: 2}
"""


def _set(parts: str = PARTS, solution: str = SOLUTION) -> ProblemSet:
    indented = "".join(f"      {line}\n" if line else "\n" for line in solution.splitlines())
    head = "id: cs231n-drivers\ntitle: Drivers\nproblems:\n  - id: layers\n    type: code\n    solution: |\n"
    return parse_set(head + indented + "    parts:\n" + parts)


SET = _set()


@pytest.fixture(scope="module")
def box() -> Iterator[Sandbox]:
    require_bwrap()
    with Sandbox(LIMITS) as sandbox:
        sandbox.start()
        yield sandbox


class Counted:
    """The sandbox's ``run``, counting the runs of each module text."""

    def __init__(self, box: Sandbox) -> None:
        self.box, self.runs = box, 0

    def __call__(self, runtime: str, text: str, calls: Sequence[Call]) -> list[CallResult]:
        assert runtime == "numpy"
        self.runs += 1
        return self.box.run(text, calls)


def _graded(box: Sandbox, key: str, source: str, student: str = "s1") -> GradedPart:
    return grade_code(SET, {key: source}, student=student, run=Counted(box), keys=[key])[key]


def test_a_right_affine_layer_passes_checked_against_numpy(box: Sandbox) -> None:
    einsum = SOLUTION.replace(
        "x.reshape(x.shape[0], -1) @ w + b", "np.einsum('nd,dm->nm', x.reshape(len(x), -1), w) + b"
    )
    part = _graded(box, "layers.affine", einsum)
    assert part.status is Status.CORRECT and part.score == part.max_score == 2.0
    # the oracle: the drawn inputs, multiplied here, are what the solution's reference is
    call = calls_for(SET, "layers.affine", "s1")[0]
    x, w, b = (np.asarray(call.kwargs[name]) for name in "xwb")
    (result,) = box.run(einsum, [call])
    assert np.allclose(result.outputs[0], x @ w + b)


def test_a_mutant_names_a_test_only_by_its_values(box: Sandbox) -> None:
    no_bias = SOLUTION.replace("@ w + b", "@ w")
    part = _graded(box, "layers.affine", no_bias)
    assert part.tests is not None
    assert [(t.status, t.misconception) for t in part.tests] == [(TestStatus.INCORRECT, "bias-omitted")] * 2
    assert part.misconception == "bias-omitted"
    # a wrong answer no mutant gives is not named
    doubled = SOLUTION.replace("@ w + b", "@ w * 2 + b")
    other = _graded(box, "layers.affine", doubled)
    assert other.status is Status.INCORRECT and other.misconception is None
    assert other.tests is not None and all(t.misconception is None for t in other.tests)


def test_the_solutions_references_are_run_once_per_student(box: Sandbox) -> None:
    cached.forget()
    counted = Counted(box)
    for _ in range(3):
        grade_code(SET, {"layers.affine": SOLUTION}, student="s7", run=counted, keys=["layers.affine"])
    # each grading runs the student's module; the solution and its 2 mutants run once for s7
    assert counted.runs == 3 + 1 + 2
    grade_code(SET, {"layers.affine": SOLUTION}, student="s8", run=counted, keys=["layers.affine"])
    assert counted.runs == 3 + 3 + 1 + 3


def test_shape_and_threshold_outputs(box: Sandbox) -> None:
    assert _graded(box, "layers.relu", SOLUTION).status is Status.CORRECT
    # the values differ from the solution's but the shape and the threshold hold: correct
    scaled = SOLUTION.replace("return np.maximum(0, x), x", "return 2 * np.maximum(0, x), x")
    assert _graded(box, "layers.relu", scaled).status is Status.CORRECT
    dead = SOLUTION.replace("return np.maximum(0, x), x", "return np.zeros_like(x), x")
    part = _graded(box, "layers.relu", dead)
    assert part.tests is not None and part.tests[0].feedback == "Your kept is 0; it should be at least 0.05."
    flat = SOLUTION.replace("return np.maximum(0, x), x", "return np.maximum(0, x).ravel(), x")
    part = _graded(box, "layers.relu", flat)
    assert part.tests is not None and part.tests[0].feedback.startswith("Your out is 24, not 4×6")


def test_a_kind_behind_cs231ns_signature_keeps_its_named_mistakes(box: Sandbox) -> None:
    assert _graded(box, "layers.conv", SOLUTION).status is Status.CORRECT
    flipped = SOLUTION.replace(
        '    stride, pad = conv_param["stride"], conv_param["pad"]\n    xp',
        '    stride, pad = conv_param["stride"], conv_param["pad"]\n    w = w[:, :, ::-1, ::-1]\n    xp',
    )
    part = _graded(box, "layers.conv", flipped)
    assert part.misconception == "kernel-flipped" and part.status is Status.INCORRECT
    # a student returning CS231n's (out, cache) is not told "not an array": the driver unpacks it
    assert part.tests is not None and all("not an array" not in t.feedback for t in part.tests)


def test_a_student_whose_code_does_not_fit_the_driver_reads_their_own_line(box: Sandbox) -> None:
    wrong = SOLUTION.replace("    return out, (x, w, b)\n", "    return out\n")
    part = _graded(box, "layers.affine", wrong)
    assert part.tests is not None and part.tests[0].status is TestStatus.ERROR
    assert "affine_forward" in part.tests[0].feedback and "student." not in part.tests[0].feedback


def test_the_sets_checks_pass_a_good_set(box: Sandbox) -> None:
    assert check_solution(SET, Counted(box)) == []


def _second_mistake(code: str, new: str) -> str:
    """The parts with the affine part's second mistake made another edit."""
    old = "          - code: weights-transposed\n"
    edit = '            with: "x.reshape(x.shape[0], -1) @ w.T.T.T"\n'
    assert old in PARTS and edit in PARTS
    return PARTS.replace(old, f"          - code: {code}\n").replace(edit, f'            with: "{new}"\n')


def test_a_mistake_no_visible_test_tells_from_a_right_answer_is_refused(box: Sandbox) -> None:
    # the first 4 columns of w are all of w on the visible test (M = 4): only the hidden one differs
    cut = _second_mistake("weights-cut", "x.reshape(x.shape[0], -1) @ w[:, :4]")
    found = check_solution(_set(cut), Counted(box))
    assert [(issue.field, issue.message.split(":")[0]) for issue in found] == [
        ("parts.0.mistakes.1", "your tests cannot tell `weights-cut` from a right answer")
    ]


def test_mistakes_of_two_codes_no_visible_test_tells_apart_are_refused(box: Sandbox) -> None:
    # x @ w - b + b is x @ w: the bias left out, under another code
    twin = _second_mistake("bias-cancelled", "x.reshape(x.shape[0], -1) @ w - b")
    found = check_solution(_set(twin), Counted(box))
    assert sorted((issue.field, issue.message.split(":")[0]) for issue in found) == [
        ("parts.0.mistakes.0", "your tests cannot tell `bias-omitted` from `bias-cancelled`"),
        ("parts.0.mistakes.1", "your tests cannot tell `bias-cancelled` from `bias-omitted`"),
    ]


def test_a_driver_that_does_not_compile_is_refused_at_its_line(box: Sandbox) -> None:
    broken = PARTS.replace('          return {"out": out}\n', '          return {"out": out\n', 1)
    (issue,) = check_solution(_set(broken), Counted(box))
    assert issue.field == "parts.0.driver" and issue.message.startswith("the driver does not compile")
    assert issue.line is not None


def test_a_mistake_caught_on_the_declared_draw_only_is_refused_for_the_other_variants(box: Sandbox) -> None:
    """Each student meets their own draw: a mutant that differs from the solution only where x[0, 0]
    is the declared draw's own value is caught there and nowhere else, so the set is refused, naming
    the first probe variant where no visible test tells it from a right answer."""
    declared = float(np.asarray(calls_for(SET, "layers.affine", None)[0].kwargs["x"])[0, 0])
    probe = float(np.asarray(calls_for(SET, "layers.affine", "probe-0")[0].kwargs["x"])[0, 0])
    assert declared != probe
    only_there = _second_mistake(
        "bias-doubled-once", f"x.reshape(x.shape[0], -1) @ w + b * (abs(x[0, 0] - {declared!r}) < 1e-12)"
    )
    (issue,) = check_solution(_set(only_there), Counted(box))
    assert issue.field == "parts.0.mistakes.1"
    assert issue.message.startswith(
        "your tests cannot tell `bias-doubled-once` from a right answer on the variant for 'probe-0'"
    )


TIMED = """\
      - key: nap
        driver: |
          return {"done": student.nap(seconds)}
        outputs: {done: equal}
        time: 1
        tests:
          - {name: "two seconds on the part's one", seconds: 2}
          - {name: "two seconds on the test's own six", seconds: 2, time: 6}
"""


def test_a_drivers_test_is_held_to_its_own_wall_time(box: Sandbox) -> None:
    """`time` on the part (1 s) and on a test (6 s, replacing it), seconds of wall time as the set
    file's reference says: the same two seconds of waiting are stopped under the first and pass
    under the second, although the sandbox's limit is 4 s."""
    nap = "import time\ndef nap(seconds):\n    time.sleep(seconds)\n    return seconds\n"
    timed = _set(TIMED, "def nap(seconds):\n    return seconds\n")
    part = grade_code(timed, {"layers.nap": nap}, student="s1", run=Counted(box))["layers.nap"]
    assert part.tests is not None
    assert [t.status for t in part.tests] == [TestStatus.TIMEOUT, TestStatus.CORRECT]
    assert "over its 1 s of wall time" in part.tests[0].feedback
    assert LIMITS.wall_seconds == 4
