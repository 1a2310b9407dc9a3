"""Held-out labels judged outside the student's process, through the real sandbox: a `data: digits`
part whose driver returns predicted labels, judged `{accuracy: y_test, at_least: 0.9}` by the
service against labels that never enter the sandbox.

The attacks that passed such a part when its driver scored the predictions itself (`float(np.mean(pred
== y_test))` judged `{at_least: 0.9}`) are each graded incorrect: reading `y_test` from the driver's
frame or from any dict of the process, an array whose `==` always agrees, `numpy.mean` replaced at
import. Each attack returns all zeros when it finds nothing to exploit, so its verdict is held to
an oracle computed here: the share of zeros among the kept labels."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np
import pytest
from scipy.spatial.distance import cdist

from grader.code import Run, check_solution, grade_code
from grader.code.plan import calls_for, planned
from grader.results import GradedPart, Status, TestStatus
from problems.loader import parse_set
from problems.sets import ProblemSet
from sandbox import Call, CallResult, Sandbox
from tests.sandbox.probes import LIMITS, require_bwrap

#: One nearest neighbour: about 98% of the held-out digits right, in milliseconds.
NEAREST = """\
import numpy as np


def _nearest(x_train, y_train, x_test):
    train = x_train.reshape(len(x_train), -1)
    test = x_test.reshape(len(x_test), -1)
    distances = (test**2).sum(1)[:, None] - 2 * test @ train.T + (train**2).sum(1)[None, :]
    return y_train[np.argmin(distances, axis=1)]


def predict(x_train, y_train, x_test):
    return _nearest(x_train, y_train, x_test)


def predict_small(x_train, y_train, x_test):
    return _nearest(x_train[:60], y_train[:60], x_test)


BETTER = 1
"""

PARTS = """\
      - key: knn
        data: digits
        driver: |
          return {"pred": student.predict(x_train, y_train, x_test)}
        outputs: {pred: {accuracy: y_test, at_least: 0.9}}
        tests:
          - {name: the held-out digits}
      - key: compare
        data: digits
        driver: |
          first = student.predict(x_train, y_train, x_test)
          second = student.predict_small(x_train, y_train, x_test)
          return {"first": first, "second": second, "better": student.BETTER}
        outputs:
          first: {accuracy: y_test, at_least: 0.9}
          second: {accuracy: y_test, at_least: 0.5}
          better: {best_of: [first, second]}
        tests:
          - {name: all the training digits against 60 of them}
"""


def _set() -> ProblemSet:
    indented = "".join(f"      {line}\n" if line else "\n" for line in NEAREST.splitlines())
    head = "id: held-out\ntitle: Held out\nproblems:\n  - id: digits\n    type: code\n    solution: |\n"
    return parse_set(head + indented + "    parts:\n" + PARTS)


SET = _set()

FRAME_WALK = """\
import sys
import numpy as np


def predict(x_train, y_train, x_test):
    frame = sys._getframe(1)
    while frame is not None:
        for scope in (frame.f_locals, frame.f_globals):
            found = scope.get("y_test")
            if isinstance(found, np.ndarray) and len(found) == len(x_test):
                return found.copy()
        frame = frame.f_back
    return np.zeros(len(x_test), dtype=np.int64)
"""

DICT_WALK = """\
import gc
import numpy as np


def predict(x_train, y_train, x_test):
    for held in gc.get_objects():
        if isinstance(held, dict):
            for value in list(held.values()):
                if isinstance(value, np.ndarray) and value.shape == (len(x_test),) and value.dtype.kind in "iu":
                    return value.copy()
    return np.zeros(len(x_test), dtype=np.int64)
"""

LYING_EQ = """\
import numpy as np


class Agreeable(np.ndarray):
    def __eq__(self, other):
        return np.ones(np.shape(other), dtype=bool)

    def __ne__(self, other):
        return np.zeros(np.shape(other), dtype=bool)


def predict(x_train, y_train, x_test):
    return np.zeros(len(x_test), dtype=np.int64).view(Agreeable)
"""

PATCHED_MEAN = """\
import numpy

numpy.mean = lambda *a, **k: 1.0
numpy.count_nonzero = lambda *a, **k: 10**6


def predict(x_train, y_train, x_test):
    return numpy.zeros(len(x_test), dtype=numpy.int64)
"""


@pytest.fixture(scope="module")
def box() -> Iterator[Sandbox]:
    require_bwrap()
    with Sandbox(LIMITS) as sandbox:
        sandbox.start()
        yield sandbox


def _run(box: Sandbox) -> Run:
    def run(runtime: str, text: str, calls: Sequence[Call]) -> list[CallResult]:
        assert runtime == "numpy"
        return box.run(text, calls)

    return run


def _graded(box: Sandbox, key: str, source: str, student: str = "s1") -> GradedPart:
    return grade_code(SET, {key: source}, student=student, run=_run(box), keys=[key])[key]


def _kept(key: str, student: str = "s1") -> np.ndarray:
    (plan,) = planned(SET, key, student)
    labels: np.ndarray = plan.drawn.kept["y_test"]
    return labels


def _nearest_here(key: str, student: str = "s1") -> np.ndarray:
    """One nearest neighbour computed here (scipy's distances), on the arrays the call hands the sandbox."""
    (call,) = calls_for(SET, key, student)
    x_train, y_train, x_test = (np.asarray(call.kwargs[name]) for name in ("x_train", "y_train", "x_test"))
    distances = cdist(x_test.reshape(len(x_test), -1), x_train.reshape(len(x_train), -1), "sqeuclidean")
    nearest: np.ndarray = y_train[np.argmin(distances, axis=1)]
    return nearest


def _shares(box: Sandbox, source: str, key: str) -> list[float]:
    """The share of each output's labels right, counted here on what ``source`` returned in the sandbox."""
    (result,) = box.run(source, calls_for(SET, key, "s1"))
    labels = _kept(key)
    return [float(np.mean(output == labels)) for output in result.outputs if output.shape == labels.shape]


def test_the_held_out_labels_are_kept_by_the_service_and_never_in_a_call() -> None:
    for key in ("digits.knn", "digits.compare"):
        (call,) = calls_for(SET, key, "s1")
        labels = _kept(key)
        assert sorted(call.kwargs) == ["x_test", "x_train", "y_train"]
        assert labels.shape == (360,) and labels.dtype == np.int64
        assert not any(np.shape(value) == labels.shape for value in call.kwargs.values())
        assert "y_test" not in str(call.args)  # the driver's text names only what it is handed


def test_a_right_solution_is_graded_correct_on_a_share_counted_here(box: Sandbox) -> None:
    for student in ("s1", "s2"):
        share = float(np.mean(_nearest_here("digits.knn", student) == _kept("digits.knn", student)))
        assert share >= 0.9
        part = _graded(box, "digits.knn", NEAREST, student)
        assert (part.status, part.score) == (Status.CORRECT, 1.0), part.feedback
    assert check_solution(SET, _run(box)) == []


@pytest.mark.parametrize(
    "attack",
    [FRAME_WALK, DICT_WALK, LYING_EQ, PATCHED_MEAN],
    ids=["frame-walk", "dict-walk", "lying-eq", "patched-numpy"],
)
def test_a_module_that_computes_nothing_is_graded_incorrect(box: Sandbox, attack: str) -> None:
    part = _graded(box, "digits.knn", attack)
    assert (part.status, part.score) == (Status.INCORRECT, 0.0), part.feedback
    assert part.tests is not None and part.tests[0].status is TestStatus.INCORRECT
    zeros = int(np.count_nonzero(_kept("digits.knn") == 0))
    assert part.tests[0].feedback == (
        f"Your pred is right on {zeros} of the 360 held-out labels ({zeros / 360:.3g}); it should be right on a share "
        "of at least 0.9."
    )


def test_what_leaves_the_sandbox_is_a_plain_array(box: Sandbox) -> None:
    (call,) = calls_for(SET, "digits.knn", "s1")
    (result,) = box.run(LYING_EQ, [call])
    (pred,) = result.outputs
    assert type(pred) is np.ndarray and not np.any(pred)


LABELS_AS = "    return _nearest(x_train, y_train, x_test)\n"


@pytest.mark.parametrize(
    ("returned", "said"),
    [
        ("np.eye(10)[_nearest(x_train, y_train, x_test)]",
         "Your pred should be 360 labels, one per held-out image; it is an array 360×10 (scores per class? return "
         "each image's highest: `scores.argmax(1)`)."),
        ("_nearest(x_train, y_train, x_test)[:-1]",
         "Your pred should be 360 labels, one per held-out image; it is an array 359."),
        ("7", "Your pred should be 360 labels, one per held-out image; it is one number."),
        ("_nearest(x_train, y_train, x_test) + 0.5",
         "Your pred should hold labels (whole numbers, one per held-out image); it holds numbers that are not whole."),
        ("_nearest(x_train, y_train, x_test) > 4",
         "Your pred should hold labels (whole numbers, one per held-out image); it holds true/false values."),
    ],
)  # fmt: skip
def test_labels_of_a_wrong_shape_length_or_type_are_an_incorrect_test_with_a_sentence(
    box: Sandbox, returned: str, said: str
) -> None:
    part = _graded(box, "digits.knn", NEAREST.replace(LABELS_AS, f"    return {returned}\n"))
    assert part.tests is not None and (part.tests[0].status, part.tests[0].feedback) == (TestStatus.INCORRECT, said)


def test_whole_numbers_as_floats_are_read_as_labels(box: Sandbox) -> None:
    floats = NEAREST.replace(LABELS_AS, "    return _nearest(x_train, y_train, x_test).astype(np.float32)\n")
    assert _graded(box, "digits.knn", floats).status is Status.CORRECT


def test_best_of_names_the_better_scoring_output_as_counted_here(box: Sandbox) -> None:
    first, second = _shares(box, NEAREST, "digits.compare")
    assert first > second >= 0.5  # the whole training set does better than 60 of it
    assert _graded(box, "digits.compare", NEAREST).status is Status.CORRECT
    wrong = _graded(box, "digits.compare", NEAREST.replace("BETTER = 1", "BETTER = 2"))
    assert wrong.tests is not None and wrong.status is Status.INCORRECT
    assert wrong.tests[0].feedback == (
        f"Your better is 2 (second, right on {second:.3g} of the held-out labels), but first does better ({first:.3g})."
    )
    third = _graded(box, "digits.compare", NEAREST.replace("BETTER = 1", "BETTER = 3"))
    assert third.tests is not None
    assert (
        third.tests[0].feedback == "Your better is 3; it should be a number from 1 to 2 (first, second in that order)."
    )
