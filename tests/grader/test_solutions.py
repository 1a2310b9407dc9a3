"""The graded part's worked solution (asked for once answers are released) and, for a named
mistake, the step of the worked solution where the student's number parts from it."""

from __future__ import annotations

from grader.engine import grade_submission
from problems.loader import BUILT_IN, load_bank
from problems.render import to_json

BANK = load_bank(BUILT_IN)


def test_parts_carry_their_solution_only_when_asked() -> None:
    problem_set = BANK["conv-arithmetic"]
    student = "someone"
    answers = problem_set.solve(student)
    hidden = grade_submission(problem_set, {}, student=student)
    assert all(part.solution is None and "solution" not in part.to_json() for part in hidden.parts.values())
    shown = grade_submission(problem_set, {}, student=student, solutions=True)
    for key, part in shown.parts.items():
        assert part.solution, key
        steps = part.to_json()["solution"]
        assert steps[-1]["value"] == to_json(answers[key].kind, answers[key].value)
        assert all(isinstance(step["text"], str) for step in steps)


def test_a_named_mistake_points_at_the_step_where_it_parts() -> None:
    # q8: a 128×128 input, a 3×3 kernel, stride 2, no padding: 63×63×16
    part = grade_submission(BANK["rgb-convolution"], {"q8.shape": "62 × 62 × 16"}).parts["q8.shape"]
    assert part.misconception == "missing-plus-one"
    pointer = part.feedback.split("Your working parts from the worked solution at step ")[1]
    assert pointer.startswith("2: conv: H_out = ⌊(H − (K − 1) − 1)/S⌋ = ")
    assert pointer.endswith("= 62.") and "63" not in pointer  # the student's own step, not the reference
    rounded = grade_submission(BANK["rgb-convolution"], {"q8.shape": "64 × 64 × 16"}).parts["q8.shape"]
    assert rounded.misconception == "output-size-rounding" and "step 2: conv: H_out = ⌈" in rounded.feedback


def test_swapped_pooling_points_at_the_first_window_pooled_the_other_way() -> None:
    problem_set = BANK["conv-arithmetic"]
    answers = problem_set.solve()
    key = next(k for k in answers if k.endswith(".max"))
    avg = answers[key.replace(".max", ".avg")]
    part = grade_submission(problem_set, {key: to_json(avg.kind, avg.value)}).parts[key]
    assert part.misconception == "pooling-type-swapped"
    assert "at step 3: out[1][1] = (" in part.feedback  # an average where a max was asked


def test_a_mistake_seen_in_the_value_alone_adds_no_pointer() -> None:
    """MACs given as FLOPs is named from the value (twice the reference): no solver models its steps."""
    answers = BANK["network-costs"].solve()
    part = grade_submission(BANK["network-costs"], {"n1.conv1_macs": 2 * answers["n1.conv1_macs"].value}).parts
    assert part["n1.conv1_macs"].misconception == "macs-vs-flops"
    assert "worked solution" not in part["n1.conv1_macs"].feedback


def test_validation_refuses_a_part_whose_quantity_has_no_steps(monkeypatch) -> None:
    """As an upload is checked: a problem type that computes a quantity without its steps (here a
    YOLO head that forgets them) is an issue at that part, in every set that asks for it."""
    from grader.selftest import check_set
    from problems.loader import parse_set
    from problems.types.detection import YoloProblem

    text = (BUILT_IN / "detection-heads.yaml").read_text(encoding="utf-8")
    assert not [i for i in check_set(parse_set(text)) if "steps" in i.message]
    solve = YoloProblem.solve
    forgetful = (lambda self, steps=None: solve(self), lambda self: solve(self))  # writes none; takes none
    for number, forgets in enumerate(forgetful):
        monkeypatch.setattr(YoloProblem, "solve", forgets)
        monkeypatch.setattr(YoloProblem, "mistakes", lambda self: {})
        problem_set = parse_set(text.replace("id: detection-heads", f"id: forgetful-{number}", 1))
        issues = [i for i in check_set(problem_set) if "worked steps" in i.message]
        assert len(issues) == len(problem_set.answer_keys())
        assert all(i.line is not None and i.field and i.field.startswith("parts.") for i in issues)
        # graded, and released, all the same: the parts without steps carry none
        graded = grade_submission(problem_set, {}, solutions=True).parts
        assert all(part.solution is None for part in graded.values())
