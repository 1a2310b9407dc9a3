"""Code parts graded through the real sandbox: every status a test can have and its sentence (an
exception's last line, a timeout, memory, NaN, a wrong shape by the size formulas, a missing
function, a wrong number of arrays), tests keeping their points, visible details only on visible
tests, a notebook answer, the part ``invalid`` with a sentence when the sandbox cannot start; the
engine's ``queued``/``invalid``/``unanswered`` before anything runs; who sees which tests."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import replace
from typing import Any

import nbformat
import pytest

from grader.code import QUEUED, calls_for, grade_code, visible_tests
from grader.code.source import MAX_SOURCE_BYTES
from grader.engine import grade_submission, preview_submission
from grader.results import GradedPart, Status, TestResult, TestStatus
from problems.code.parts import MAX_CALLS
from problems.loader import load_bank
from sandbox import Call, CallResult, Limits, Sandbox, SandboxUnavailable
from sandbox.calls import Status as RunStatus
from tests.sandbox.probes import require_bwrap

SET = load_bank()["numpy-convolution"]
CONV = SET.solution_of("conv.forward")
#: Small limits, so that a timeout and a memory hog cost a few seconds.
LIMITS = Limits(memory_bytes=192 << 20, wall_seconds=2.0, cpu_seconds=2)


@pytest.fixture(scope="module")
def box() -> Iterator[Sandbox]:
    require_bwrap()
    with Sandbox(LIMITS) as sandbox:
        sandbox.start()
        yield sandbox


def _graded(box: Sandbox, source: str, key: str = "conv.forward") -> GradedPart:
    def run(runtime: str, text: str, calls: Sequence[Call]) -> list[CallResult]:
        return box.run(text, calls)

    return grade_code(SET, {key: source}, student="s7", run=run, keys=[key])[key]


def _tests(part: GradedPart) -> list[tuple[TestStatus, str]]:
    assert part.tests is not None
    return [(test.status, test.feedback) for test in part.tests]


def test_the_solution_earns_every_point(box: Sandbox) -> None:
    part = _graded(box, CONV)
    assert (part.status, part.score, part.max_score, part.feedback) == (
        Status.CORRECT,
        6.0,
        6.0,
        "5 of 5 tests passed.",
    )
    assert part.tests is not None
    assert [test.visibility for test in part.tests] == ["visible", "visible", "hidden", "hidden", "after_close"]


def test_an_exception_is_an_error_with_its_last_line(box: Sandbox) -> None:
    part = _graded(box, "def conv_forward(x, w, b, stride=1, pad=0):\n    raise ValueError('shapes do not match')\n")
    assert part.status is Status.INCORRECT and part.score == 0
    assert set(_tests(part)) == {
        (TestStatus.ERROR, "conv_forward raised an exception: ValueError: shapes do not match")
    }


def test_a_missing_function_is_an_error_that_names_it(box: Sandbox) -> None:
    part = _graded(box, "def conv2d(x, w, b, stride=1, pad=0):\n    return x\n")
    statuses = _tests(part)
    assert {status for status, _ in statuses} == {TestStatus.ERROR}
    assert all("conv_forward" in feedback and "AttributeError" in feedback for _, feedback in statuses)


def test_an_endless_loop_times_out_and_earlier_tests_keep_their_points(box: Sandbox) -> None:
    source = CONV.replace(
        "    n, c, h, wd = x.shape\n", "    n, c, h, wd = x.shape\n    while n == 2:\n        pass\n", 1
    )
    part = _graded(box, source)
    assert part.tests is not None
    by_batch = {test.name: test.status for test in part.tests}
    assert by_batch["one image, a 3×3 kernel, padding 1"] is TestStatus.CORRECT
    assert by_batch["a batch at stride 2"] is TestStatus.TIMEOUT
    assert part.status is Status.PARTIAL
    assert part.score == pytest.approx(sum(t.max_score for t in part.tests if t.status is TestStatus.CORRECT))
    timed_out = next(t for t in part.tests if t.status is TestStatus.TIMEOUT)
    assert timed_out.feedback.startswith("conv_forward ran past its time limit")


@pytest.fixture(scope="module")
def memory_box() -> Iterator[Sandbox]:
    """LIMITS' memory with time enough for the OOM killer: near its limit a hog thrashes on its
    reclaimed mapped files, at a load of ten past LIMITS' 2 s (then said to be out of time)."""
    require_bwrap()
    with Sandbox(replace(LIMITS, wall_seconds=120.0, cpu_seconds=60)) as sandbox:
        sandbox.start()
        yield sandbox


def test_a_memory_hog_is_memory(memory_box: Sandbox) -> None:
    box = memory_box
    source = "import numpy as np\ndef conv_forward(x, w, b, stride=1, pad=0):\n    return np.ones(1 << 30)\n"
    part = _graded(box, source)
    assert {status for status, _ in _tests(part)} == {TestStatus.MEMORY}
    assert all("ran out of memory" in feedback for _, feedback in _tests(part))


def test_nan_is_incorrect_with_a_sentence_and_its_place_on_a_visible_test(box: Sandbox) -> None:
    source = CONV.replace("    return out\n", "    out[0, 0, 0, 1] = np.nan\n    return out\n", 1)
    part = _graded(box, source)
    assert part.tests is not None
    visible = part.tests[0]
    assert (visible.status, visible.feedback) == (
        TestStatus.INCORRECT,
        "Your output has nan at [0, 0, 0, 1], where the answer is a number.",
    )
    hidden = part.tests[2]
    assert hidden.feedback == "Your output has nan, where the answer is a number."


def test_a_wrong_shape_is_explained_by_the_size_formula(box: Sandbox) -> None:
    source = "import numpy as np\ndef conv_forward(x, w, b, stride=1, pad=0):\n    return np.zeros((2, 7))\n"
    part = _graded(box, source)
    assert part.tests is not None
    assert part.tests[0].feedback == (
        "Your output is 2×7, not 1×2×5×5 (H' = ⌊(H + 2P − K)/S⌋ + 1 = ⌊(5 + 2·1 − 3)/1⌋ + 1 = 5; "
        "W' = ⌊(W + 2P − K)/S⌋ + 1 = ⌊(5 + 2·1 − 3)/1⌋ + 1 = 5)."
    )
    assert part.tests[0].misconception is None


def test_a_wrong_value_names_the_first_wrong_element_on_visible_tests_only(box: Sandbox) -> None:
    source = CONV.replace("    return out\n", "    out[0, 1, 2, 3] += 1\n    return out\n", 1)
    part = _graded(box, source)
    assert part.tests is not None
    first = part.tests[0]
    assert first.status is TestStatus.INCORRECT and first.misconception is None
    assert first.feedback.startswith("Your output is wrong at [0, 1, 2, 3]: expected ")
    assert first.feedback.endswith("(1 of 50 elements differ).")
    assert part.tests[2].feedback == "Your output is wrong at 1 of 216 elements."


def test_a_backward_pass_returning_one_array_is_told_how_many(box: Sandbox) -> None:
    source = "import numpy as np\ndef conv_backward(dout, x, w, b, stride=1, pad=0):\n    return np.zeros_like(x)\n"
    part = _graded(box, source, "conv.backward")
    assert set(_tests(part)) == {
        (TestStatus.INCORRECT, "conv_backward should return 3 arrays (dx, dw, db); it returned 1.")
    }


def test_an_output_that_is_not_an_array_is_incorrect_with_the_reason(box: Sandbox) -> None:
    part = _graded(box, "def conv_forward(x, w, b, stride=1, pad=0):\n    return 'done'\n")
    assert {status for status, _ in _tests(part)} == {TestStatus.INCORRECT}
    assert all(feedback.startswith("What conv_forward returned could not be taken") for _, feedback in _tests(part))


def test_a_notebook_answer_runs_its_code_cells(box: Sandbox) -> None:
    notebook = nbformat.v4.new_notebook()
    head, _, body = CONV.partition("\n\n\n")
    notebook.cells = [
        nbformat.v4.new_markdown_cell("My convolution"),
        nbformat.v4.new_code_cell(head),
        nbformat.v4.new_code_cell(body),
    ]
    part = _graded(box, nbformat.writes(notebook))
    assert (part.status, part.score) == (Status.CORRECT, 6.0)


def test_without_a_sandbox_the_part_is_invalid_and_says_why() -> None:
    def run(runtime: str, source: str, calls: Sequence[Call]) -> list[CallResult]:
        raise SandboxUnavailable("bubblewrap is not installed")

    part = grade_code(SET, {"conv.forward": CONV}, student="s1", run=run)["conv.forward"]
    assert (part.status, part.score, part.feedback) == (
        Status.INVALID,
        0.0,
        "Code is not graded on this server: the sandbox could not start (bubblewrap is not installed).",
    )


def test_the_same_student_draws_the_same_inputs_and_another_student_others() -> None:
    first, again, other = (calls_for(SET, "conv.forward", who) for who in ("ann", "ann", "bob"))
    assert all((a.args[0] == b.args[0]).all() for a, b in zip(first, again, strict=True))
    assert not (first[0].args[0] == other[0].args[0]).all()
    assert [call.function for call in first] == ["conv_forward"] * 5


def test_the_engine_queues_code_and_refuses_unreadable_code_at_once() -> None:
    graded = grade_submission(
        SET, {"conv.forward": CONV, "conv.backward": "def f(:\n", "pool.forward": "  "}, student="s1"
    )
    parts = graded.parts
    assert (parts["conv.forward"].status, parts["conv.forward"].feedback) == (Status.QUEUED, QUEUED)
    assert parts["conv.forward"].to_json()["score"] is None
    assert parts["conv.backward"].status is Status.INVALID
    assert "SyntaxError" in parts["conv.backward"].feedback
    assert parts["pool.forward"].status is Status.UNANSWERED
    assert graded.unreadable == ["conv.backward"]  # no attempt used, as for an unreadable number
    assert list(parts) == SET.answer_keys()
    previews, _ = preview_submission(SET, {"conv.forward": CONV, "conv.backward": "def f(:\n"})
    assert previews["conv.forward"].readable and not previews["conv.backward"].readable
    assert not previews["pool.forward"].answered


def test_who_sees_which_tests() -> None:
    tests = [
        {
            "name": "a",
            "status": "correct",
            "score": 1.0,
            "max_score": 1.0,
            "feedback": "Correct.",
            "misconception": None,
            "visibility": "visible",
        },
        {
            "name": "b",
            "status": "incorrect",
            "score": 0.0,
            "max_score": 2.0,
            "feedback": "Wrong at [1]",
            "misconception": None,
            "visibility": "hidden",
        },
        {
            "name": "c",
            "status": "correct",
            "score": 1.0,
            "max_score": 1.0,
            "feedback": "Correct.",
            "misconception": None,
            "visibility": "hidden",
        },
        {
            "name": "d",
            "status": "correct",
            "score": 3.0,
            "max_score": 3.0,
            "feedback": "Correct.",
            "misconception": None,
            "visibility": "after_close",
        },
    ]
    part = {"status": "partial", "tests": tests}
    assert visible_tests(part, staff=True, after_close=False) == tests
    before = visible_tests(part, staff=False, after_close=False)
    assert [t["name"] for t in before] == ["a", "Hidden tests", "Tests shown after the close"]
    hidden = before[1]
    assert (hidden["count"], hidden["passed"], hidden["score"], hidden["max_score"]) == (2, 1, 1.0, 3.0)
    assert "Wrong at" not in json.dumps(before) and "b" not in [t["name"] for t in before]
    after = visible_tests(part, staff=False, after_close=True)
    assert [t["name"] for t in after] == ["a", "d", "Hidden tests"]
    assert visible_tests({"status": "queued"}, staff=False, after_close=False) == []


def test_a_part_waiting_for_the_sandbox_has_no_score_and_a_run_part_carries_its_tests() -> None:
    for status in (Status.QUEUED, Status.RUNNING):
        assert GradedPart("conv.forward", 0.0, 6.0, status, QUEUED).to_json()["score"] is None
    test = TestResult("a", TestStatus.CORRECT, 1.0, 1.0, "Correct.", None, "hidden")
    shown = GradedPart("conv.forward", 1.0, 1.0, Status.CORRECT, "1 of 1 tests passed.", tests=(test,)).to_json()
    assert shown["tests"] == [
        {
            "name": "a",
            "status": "correct",
            "score": 1.0,
            "max_score": 1.0,
            "feedback": "Correct.",
            "misconception": None,
            "visibility": "hidden",
        }
    ]
    assert "tests" not in GradedPart("q1.a", 1.0, 1.0, Status.CORRECT, "Correct.").to_json()


def test_the_budgets_of_code_answers_are_the_sandboxs() -> None:
    limits = Limits()
    assert (limits.max_calls, limits.source_bytes) == (MAX_CALLS, MAX_SOURCE_BYTES)


def test_one_file_answering_every_part_runs_once_and_a_part_that_hangs_costs_only_its_calls(box: Sandbox) -> None:
    """The four parts of numpy-convolution answered with one module: one sandbox run for all 17
    tests (the module loaded once), and a forward pass that never returns times out on its own
    tests while the other three parts are graded right in that same run."""
    modules = {SET.solution_of(key) for key in SET.code()}
    whole = "\n\n".join(sorted(modules))
    runs: list[int] = []

    def run(runtime: str, text: str, calls: Sequence[Call]) -> list[CallResult]:
        runs.append(len(calls))
        return box.run(text, calls)

    answers = dict.fromkeys(SET.code(), whole)
    found = grade_code(SET, answers, student="s7", run=run)
    assert runs == [sum(len(part.tests) for part in SET.code().values())]
    assert {key: part.status for key, part in found.items()} == dict.fromkeys(SET.code(), Status.CORRECT)
    assert list(found) == list(SET.code())
    hanging = whole.replace(
        "def conv_forward(", "def conv_forward(*args, **kwargs):\n    while True:\n        pass\n\n\ndef _unused(", 1
    )
    runs.clear()
    found = grade_code(SET, dict.fromkeys(SET.code(), hanging), student="s7", run=run)
    assert len(runs) == 1
    assert found["conv.forward"].tests is not None
    assert {test.status for test in found["conv.forward"].tests} == {TestStatus.TIMEOUT}
    assert {key: part.status for key, part in found.items() if key != "conv.forward"} == {
        key: Status.CORRECT for key in SET.code() if key != "conv.forward"
    }


def test_one_file_answering_every_part_is_read_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """Its size, its notebook and its syntax are checked once for the four parts it answers, not
    once per part."""
    import grader.code

    whole = "\n\n".join(sorted({SET.solution_of(key) for key in SET.code()}))
    read: list[object] = []
    original = grader.code.read_module
    monkeypatch.setattr(grader.code, "read_module", lambda raw: read.append(raw) or original(raw))

    def run(runtime: str, text: str, calls: Sequence[Call]) -> list[CallResult]:
        return [CallResult(RunStatus.ERROR, message="not run here") for _ in calls]

    found = grade_code(SET, dict.fromkeys(SET.code(), whole), student="s7", run=run)
    assert len(found) == 4 and read == [whole]


def test_a_variants_draw_and_references_are_computed_once_for_many_submissions(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Thirty submissions of one student's variant draw its tests once and solve each test's
    reference once (the kind's solvers, with the set's own draw, which tells whether a student's
    draw lets a mistake pass), and a second student's variant draws its own: the class's
    submissions share the work of their variants, not of each other's."""
    from grader.code import plan as plans

    plans.forget()
    kind = SET.code()["conv.forward"].kind
    assert kind is not None
    solved: list[str] = []
    original = type(kind).reference

    def counted(self: Any, test: Any, drawn: Any) -> Any:
        solved.append(test.name)
        return original(self, test, drawn)

    monkeypatch.setattr(type(kind), "reference", counted)
    namespace: dict[str, object] = {}
    exec(compile(CONV, "solution.py", "exec"), namespace)  # the set's own solution, in the test's process

    def run(runtime: str, text: str, calls: Sequence[Call]) -> list[CallResult]:
        return [CallResult(RunStatus.OK, (namespace[c.function](*c.args, **c.kwargs),)) for c in calls]  # type: ignore[operator]

    tests = len(SET.code()["conv.forward"].tests)
    first = 0
    for _ in range(30):
        part = grade_code(SET, {"conv.forward": CONV}, student="s7", run=run, keys=["conv.forward"])["conv.forward"]
        assert part.status is Status.CORRECT
        first = first or len(solved)
    assert first >= tests and len(solved) == first  # solved at the first submission, never again
    grade_code(SET, {"conv.forward": CONV}, student="s8", run=run, keys=["conv.forward"])
    assert tests <= len(solved) - first < first  # s8's own draw; the set's own was solved once
    drawn = plans.planned(SET, "conv.forward", "s7")[0].drawn.named
    assert drawn and all(not array.flags.writeable for array in drawn.values())
