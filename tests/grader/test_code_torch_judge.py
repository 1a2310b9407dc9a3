"""The judging of ``torch.model`` tests on arrays alone (no sandbox): each check's sentences, a
malformed answer from the sandbox (a submission may patch torch) judged wrong rather than crashing,
a loss that turns NaN; and the set file's refusals of a torch test that cannot be run."""

from __future__ import annotations

import numpy as np
import pytest

from grader.code import torch_model
from problems.code.kinds.base import Drawn
from problems.code.parts import CodeTest
from problems.issues import SetFileError
from problems.loader import BUILT_IN as SETS
from problems.loader import load_bank, parse_set


def model_test(**settings: object) -> CodeTest:
    shape = [32, 3, 32, 32] if settings.get("check") == "trains" else [4, 3, 32, 32]
    return CodeTest.model_validate({"name": "t", "shapes": {"x": shape}, **settings})


def judged(
    settings: dict[str, object], *outputs: np.ndarray, answers: dict[str, object] | None = None
) -> tuple[bool, str]:
    found = torch_model.verdict(
        model_test(**settings), Drawn((), {"x": np.zeros((4, 3, 32, 32))}), outputs, answers or {}
    )
    return found.correct, found.feedback


COUNTS = (np.array([450, 6, 2400, 16], dtype=np.int64), np.array([456, 2416], dtype=np.int64))


@pytest.mark.parametrize(
    ("shape", "feedback"),
    [
        ((4, 10), "The output is (N, 10), one score per class for each of the N = 4 images."),
        ((4, 16), "(N, 10) expected, got (N, 16): the last layer gives 16 values per image, not 10."),
        (
            (4, 16, 5, 5),
            "(N, 10) expected, got (N, 16, 5, 5) (16·5·5 = 400 values per image): the output was not flattened to a "
            "row per image and given to a layer of 10 outputs.",
        ),
        (
            (40,),
            "(N, 10) expected, got (40,): the batch of N = 4 images is not the first axis (was it flattened into one "
            "row?).",
        ),
        (
            (),
            "(N, 10) expected, got (): the batch of N = 4 images is not the first axis (was it flattened into one "
            "row?).",
        ),
    ],
)
def test_a_shape_is_said_with_n_for_the_batch(shape: tuple[int, ...], feedback: str) -> None:
    assert judged({"check": "shape"}, np.zeros(shape)) == (shape == (4, 10), feedback)


def test_the_count_against_the_students_answer() -> None:
    settings = {"check": "params", "answer": "net.params"}
    assert judged(settings, *COUNTS, answers={"net.params": "2,872"}) == (
        True,
        "Your Net has 2,872 parameters, as you answered in net.params.",
    )
    assert judged(settings, *COUNTS, answers={"net.params": 2872}) == (
        True,
        "Your Net has 2,872 parameters, as you answered in net.params.",
    )
    assert judged(settings, *COUNTS, answers={"net.params": "2872.5"}) == (
        False,
        "Your answer to net.params (2872.5) is not a whole number of parameters.",
    )
    assert judged(settings, *COUNTS, answers={"net.params": " "}) == (
        False,
        "There is no answer to net.params to compare the count with.",
    )
    assert judged(settings, *COUNTS, answers={"net.params": "2,000"}) == (
        False,
        f"You answered 2,000 in net.params, which is not your Net's count. {torch_model.HOW_TO_COUNT}",
    )


def test_the_budget() -> None:
    assert judged({"check": "budget", "budget": 2872}, *COUNTS) == (True, "Within the budget of 2,872 parameters.")
    assert judged({"check": "budget", "budget": 1000}, *COUNTS) == (
        False,
        "2,872 parameters, 1,872 over the budget of 1,000 (by top-level layer: 456, 2,416).",
    )


def test_layers_are_named_when_the_sandbox_names_them_plainly() -> None:
    named = (*COUNTS, np.frombuffer(b"conv\nhead", dtype=np.uint8))
    assert judged({"check": "budget", "budget": 1000}, *named)[1].endswith(
        "(by top-level layer: conv 456, head 2,416)."
    )
    for names in (b"conv\n<b>head</b>", b"conv", b"conv\nhead\nmore", b"conv\n" + b"x" * 41, b"\xff\xfe\nhead"):
        unusable = (*COUNTS, np.frombuffer(names, dtype=np.uint8))
        assert judged({"check": "budget", "budget": 1000}, *unusable)[1].endswith("(by top-level layer: 456, 2,416).")


def test_training_judged_on_the_means_of_its_first_and_last_steps() -> None:
    run = "over 40 steps of Adam on handwritten digits (means of the first and the last 5)"
    falling = np.linspace(2.4, 0.45, 40)  # means 2.3 and 0.55
    assert judged({"check": "trains"}, falling, np.asarray(True)) == (True, f"The loss fell from 2.3 to 0.55 {run}.")
    flat = np.full(40, 2.3)
    assert judged({"check": "trains", "share": 0.5}, flat, np.asarray(True)) == (
        False,
        f"The loss went from 2.3 to 2.3 {run}; below 1.15 (50% of the first) was expected.",
    )
    # one lucky first mini-batch is not taken as the start: 1.5, then 2.3, falling to 1.8, has learned
    lucky = np.concatenate([[1.5], np.full(34, 2.3), np.full(5, 1.8)])
    assert judged({"check": "trains"}, lucky, np.asarray(True))[0] is True  # 1.8 < 0.9 · 2.14, though not 0.9 · 1.5
    diverging = np.concatenate([np.full(10, 2.3), [5.0, np.inf, np.nan]])
    assert judged({"check": "trains"}, diverging, np.asarray(True)) == (
        False,
        "The loss was inf at training step 12 of 13.",
    )


@pytest.mark.parametrize(
    ("settings", "outputs"),
    [
        ({"check": "shape"}, (np.zeros((4, 10)), np.zeros(1))),
        ({"check": "budget", "budget": 10}, (np.zeros(3),)),
        ({"check": "budget", "budget": 10}, (np.array([1.5, 2.0]), np.array([3], dtype=np.int64))),
        ({"check": "budget", "budget": 10}, (np.array([-5], dtype=np.int64), np.array([3], dtype=np.int64))),
        ({"check": "params", "answer": "net.params"}, (np.zeros((2, 2), dtype=np.int64), np.zeros(2, dtype=np.int64))),
        ({"check": "trains"}, (np.zeros(40),)),
        ({"check": "trains"}, (np.zeros((40, 2)), np.asarray(True))),
        ({"check": "trains"}, (np.zeros(40), np.zeros(3))),
    ],
)
def test_a_malformed_answer_from_the_sandbox_is_wrong_not_a_crash(
    settings: dict[str, object], outputs: tuple[np.ndarray, ...]
) -> None:
    assert judged(settings, *outputs, answers={"net.params": "3"}) == (False, torch_model.MALFORMED)


BUILT_IN = load_bank()["torch-model"]


def torch_set(tests: str, *, runtime: str = "torch", params: str = "") -> str:
    """The built-in set's text with the model part's tests replaced by ``tests`` (YAML flow items)."""
    text = (SETS / "torch-model.yaml").read_text()
    start = text.index("        tests:\n", text.index("- key: model"))
    end = text.index("      - key: params")
    text = text[:start] + "        tests:\n" + tests + text[end:]
    text = text.replace("runtime: torch", f"runtime: {runtime}")
    return text.replace("module: model", params) if params else text


@pytest.mark.parametrize(
    ("tests", "message"),
    [
        ("          - {name: t, check: params, shapes: {x: [1, 3, 32, 32]}}\n", "a params test names the part"),
        ("          - {name: t, check: budget, shapes: {x: [1, 3, 32, 32]}}\n", "a budget test gives the most"),
        ("          - {name: t, check: trains, shapes: {x: [8, 1, 28, 28]}}\n", "the digits a model trains on are"),
        ("          - {name: t, check: trains, samples: 4, shapes: {x: [8, 3, 32, 32]}}\n", "between the batch of 8"),
        ("          - {name: t, check: size, shapes: {x: [1, 3, 32, 32]}}\n", "check"),
        ("          - {name: t, shapes: {x: [1, 3, 32, 32]}}\n", "check"),
    ],
)
def test_a_torch_test_that_cannot_run_is_refused(tests: str, message: str) -> None:
    with pytest.raises(SetFileError) as refused:
        parse_set(torch_set(tests))
    assert any(message in f"{issue.field}: {issue.message}" for issue in refused.value.issues), refused.value.issues


def test_a_torch_model_needs_the_torch_runtime() -> None:
    with pytest.raises(SetFileError) as refused:
        parse_set(torch_set("          - {name: t, check: shape, shapes: {x: [1, 3, 32, 32]}}\n", runtime="numpy"))
    assert any("give the problem `runtime: torch`" in issue.message for issue in refused.value.issues)


def test_a_count_must_name_a_code_part_of_its_problem() -> None:
    text = torch_set("          - {name: t, check: shape, shapes: {x: [1, 3, 32, 32]}}\n", params="module: nothing")
    with pytest.raises(SetFileError) as refused:
        parse_set(text)
    (issue,) = refused.value.issues
    assert (
        issue.field.endswith("module") and "'nothing' is not a part of this problem answered with code" in issue.message
    )


def test_the_built_in_set_loads_with_both_parts() -> None:
    assert list(BUILT_IN.code()) == ["net.model", "net.params"]
    assert BUILT_IN.code()["net.params"].module == "model"
    assert all(part.runtime == "torch" for part in BUILT_IN.code().values())
