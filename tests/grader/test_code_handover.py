"""What a student reads of their code's tests never carries a hidden test's inputs or a driver's
text, through the real sandbox: a student's function that walks its frames and the collector's
objects, keeps every input it is handed, and raises all it found, reads back in a visible test's
message only what that test (and the visible ones before it) handed it. The tests a student reads
run first (visible, then after the close, hidden last), each handed over only when it starts. And
a sandbox that fails before the student's module loads leaves the part not graded, saying so,
never the student's error."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import replace

import numpy as np
import pytest

from grader.code import RUN_ORDER, SANDBOX_FAILED, grade_code, visible_tests
from grader.results import GradedPart, Status, TestStatus
from problems.loader import parse_set
from sandbox import Call, CallResult, Sandbox
from sandbox.calls import Status as RunStatus
from tests.sandbox.probes import LIMITS, REACHABLE, require_bwrap

#: Each test's input is filled with its mark: the hidden test's, the after-close test's, the visible ones'.
HIDDEN, AFTER_CLOSE, VISIBLE, SECOND_VISIBLE = 4242, 5353, 6464, 7575

SET_TEXT = f"""\
id: handover
title: Handover
problems:
  - id: walk
    type: code
    solution: |
      def double(x):
          return x * 2
    parts:
      - key: hidden_first
        driver: |
          # the instructor's note: a secret worth keeping
          return {{"out": student.double(x)}}
        inputs:
          x: {{shape: [5, 7]}}
        outputs: {{out: equal}}
        tests:
          - {{name: the hidden one, inputs: {{x: {{value: {[[HIDDEN] * 7] * 5}}}}}, visibility: hidden}}
          - {{name: after the close, inputs: {{x: {{value: {[[AFTER_CLOSE] * 7] * 5}}}}}, visibility: after_close}}
          - {{name: the visible one, inputs: {{x: {{value: {[[VISIBLE] * 7] * 5}}}}}}}
      - key: visible_later
        driver: |
          return {{"out": student.double(x)}}
        inputs:
          x: {{shape: [2, 2]}}
        outputs: {{out: equal}}
        tests:
          - {{name: another part's visible one, inputs: {{x: {{value: {[[SECOND_VISIBLE] * 2] * 2}}}}}}}
"""
SET = parse_set(SET_TEXT)
KEYS = ["walk.hidden_first", "walk.visible_later"]

# The student's module answers both parts: every input it is handed is kept, and each call walks
# its frames and every object the collector tracks for the marks (in any array) and for the
# driver's text (in any string or buffer), then raises all it found. The driver's text is looked
# for by two of its pieces, written backwards here (this text is in the process), and shown
# backwards (so that the service's own check on messages is not what hides it).
ATTACK = f"""
import gc, sys
import numpy as np

MARKS = {{{HIDDEN}, {AFTER_CLOSE}, {VISIBLE}, {SECOND_VISIBLE}}}
PIECES = tuple(piece[::-1] for piece in ("gnipeek htrow terces a", "(elbuod.tneduts"))
KEPT = []

{REACHABLE}

def double(x):
    KEPT.append(x)
    marks, texts = set(), set()
    for root in (*_reachable(), *KEPT):
        for value in (root, *gc.get_referents(root)):
            if type(value) is np.ndarray and value.dtype.kind in "iuf":
                marks.update(mark for mark in MARKS if (value == mark).any())
            elif isinstance(value, (str, bytes, bytearray)) and not any(value is piece for piece in PIECES):
                text = value if isinstance(value, str) else bytes(value).decode("latin-1")
                texts.update(text[max(0, text.find(p) - 20) : text.find(p) + 40] for p in PIECES if p in text)
    raise ValueError(f"marks {{sorted(marks)}} texts {{[text[::-1] for text in sorted(texts)]}}")
"""


@pytest.fixture(scope="module")
def box() -> Iterator[Sandbox]:
    require_bwrap()
    with Sandbox(replace(LIMITS, cpu_seconds=10, wall_seconds=30)) as sandbox:
        sandbox.start()
        yield sandbox


def _run(box: Sandbox) -> object:
    def run(runtime: str, source: str, calls: Sequence[Call]) -> list[CallResult]:
        return box.run(source, calls)

    return run


def _shown(part: GradedPart, *, after_close: bool) -> str:
    """Every message of the part a student reads (before or after the close)."""
    return " ".join(test["feedback"] for test in visible_tests(part.to_json(), staff=False, after_close=after_close))


def test_a_visible_tests_message_carries_no_hidden_input_nor_the_drivers_text(box: Sandbox) -> None:
    graded = grade_code(SET, {key: ATTACK for key in KEYS}, student="s1", run=_run(box))  # type: ignore[arg-type]
    first, later = graded["walk.hidden_first"], graded["walk.visible_later"]
    assert first.tests is not None and later.tests is not None
    by_name = {test.name: test for test in (*first.tests, *later.tests)}
    assert {test.status for test in by_name.values()} == {TestStatus.ERROR}
    # each test found its own input (the walk finds what it looks for) ...
    for name, mark in (("the visible one", VISIBLE), ("another part's visible one", SECOND_VISIBLE)):
        assert str(mark) in by_name[name].feedback, by_name[name].feedback
    # ... and what a student reads holds no input of a test they are not shown, nor the driver's text
    before, after = _shown(first, after_close=False) + _shown(later, after_close=False), _shown(first, after_close=True)
    for text in (before, after):
        assert str(HIDDEN) not in text, text
        for piece in ("secret worth keeping", "student.double"):
            assert piece not in text and piece[::-1] not in text, text
    assert str(AFTER_CLOSE) not in before, before
    # (staff read every test: the hidden one found its own input, run last)
    assert str(HIDDEN) in by_name["the hidden one"].feedback


def test_the_tests_a_student_reads_are_run_first() -> None:
    """In the set's order the hidden test comes first; the run makes the visible ones (of both
    parts, which share the module and so one run) first, then the one shown after the close, then
    the hidden one; each result goes back to its own test."""
    runs: list[list[int]] = []

    def run(runtime: str, source: str, calls: Sequence[Call]) -> list[CallResult]:
        marks = [int(np.asarray(call.kwargs["x"]).flat[0]) for call in calls]
        runs.append(marks)
        return [CallResult(RunStatus.ERROR, message=f"ran on {mark}") for mark in marks]

    graded = grade_code(SET, {key: ATTACK for key in KEYS}, student="s1", run=run)
    assert runs[0] == [VISIBLE, SECOND_VISIBLE, AFTER_CLOSE, HIDDEN]  # the student's run (the solution's follow)
    tests = [test for key in KEYS for test in graded[key].tests or ()]
    assert [(test.name, test.feedback.rpartition(" ")[2]) for test in tests] == [
        ("the hidden one", str(HIDDEN)),
        ("after the close", str(AFTER_CLOSE)),
        ("the visible one", str(VISIBLE)),
        ("another part's visible one", str(SECOND_VISIBLE)),
    ]
    assert list(RUN_ORDER) == ["visible", "after_close", "hidden"]


def test_a_sandbox_that_fails_before_the_module_loads_leaves_the_part_not_graded() -> None:
    """Its processes cannot take their limits: the part is not graded and says the sandbox failed;
    before, each test was the student's ``error``."""
    require_bwrap()
    with Sandbox(replace(LIMITS, open_files=1 << 40)) as failing:
        graded = grade_code(SET, {"walk.visible_later": ATTACK}, student="s1", run=_run(failing))  # type: ignore[arg-type]
    part = graded["walk.visible_later"]
    assert (part.status, part.score, part.tests) == (Status.INVALID, 0.0, None)
    assert part.feedback.startswith(f"{SANDBOX_FAILED} before your code was loaded"), part.feedback
    assert part.feedback.endswith("your code is not at fault."), part.feedback
