"""The built-in ``torch-model`` set graded through the real sandbox's torch runtime: a right Net, a
wrong head, an unflattened output, a wrong stated count, a Net over the budget, one whose forward
raises, ones that never learn, one that never finishes, no network for a Net that tries to download;
``net.params`` graded by running ``net.model``'s code; the part ``invalid`` with a sentence where the
torch runtime cannot start. Every parameter count is checked against torch's own ``sum(p.numel())``
on the same module, outside the sandbox (the oracle)."""

from __future__ import annotations

import importlib.util
import re
import types
from collections.abc import Iterator, Sequence

import numpy as np
import pytest
import torch
from sklearn.datasets import load_digits

from grader.code import check_solution, grade_code, torch_model
from grader.code.plan import planned
from grader.results import GradedPart, Status, TestStatus
from harness.student_code import LENET
from problems.loader import load_bank
from sandbox import Call, CallResult, Limits, Sandbox
from tests.sandbox.probes import require_bwrap

SET = load_bank()["torch-model"]
SOLUTION = SET.solution_of("net.model")
#: The default memory (the torch runtime fits in it); short calls, so that a model that never finishes
#: costs seconds: held by CPU time (3 s), with wall time only as a generous bound, since a sandbox's low
#: CPU weight lets a busy host (the suite's other workers) stretch a right model's training past 3 s of
#: wall time.
LIMITS = Limits(wall_seconds=30.0, cpu_seconds=3)


@pytest.fixture(scope="module")
def box() -> Iterator[Sandbox]:
    require_bwrap()
    with Sandbox(LIMITS, runtime="torch") as sandbox:
        sandbox.start()
        yield sandbox


def graded(box: Sandbox, model: str | None, params: str | None = None) -> dict[str, GradedPart]:
    def run(runtime: str, source: str, calls: Sequence[Call]) -> list[CallResult]:
        assert runtime == "torch"
        return box.run(source, calls)

    answers = {key: value for key, value in (("net.model", model), ("net.params", params)) if value is not None}
    return grade_code(SET, answers, student="s7", run=run)


def by_check(part: GradedPart) -> dict[str, tuple[TestStatus, str]]:
    """Each test's status and feedback, by the check it makes (its ``check`` in the set)."""
    assert part.tests is not None
    checks = {test.name: (test.model_extra or {})["check"] for code in SET.code().values() for test in code.tests}
    return {checks[test.name]: (test.status, test.feedback) for test in part.tests}


def oracle_count(source: str) -> int:
    """torch's own count of the module's Net, built here, outside the sandbox (the tests' sources only)."""
    module = types.ModuleType("oracle")
    exec(compile(source, "oracle.py", "exec"), module.__dict__)
    return sum(p.numel() for p in module.Net().parameters())


def with_forward(body: str) -> str:
    """The solution with its forward's last line replaced by ``body``."""
    last = "        return self.fc(torch.flatten(x, 1))\n"
    assert last in SOLUTION
    return SOLUTION.replace(last, body)


def test_the_solution_earns_every_point_and_its_count_is_torchs(box: Sandbox) -> None:
    count = oracle_count(SOLUTION)
    found = graded(box, SOLUTION, f"{count:,}")
    model, params = found["net.model"], found["net.params"]
    assert (model.status, model.score, model.max_score) == (Status.CORRECT, 5.0, 5.0)
    assert (params.status, params.score, params.max_score) == (Status.CORRECT, 2.0, 2.0)
    assert by_check(params)["params"] == (
        TestStatus.CORRECT,
        f"Your Net has {count:,} parameters, as you answered in net.params.",
    )
    assert by_check(model)["shape"][0] is TestStatus.CORRECT
    assert re.fullmatch(
        r"The loss fell from 2\.\d+ to 0\.\d+ over 40 steps of Adam on handwritten digits \(means of the first and "
        r"the last 5\)\.",
        by_check(model)["trains"][1],
    )


def test_the_set_checks_its_own_solution(box: Sandbox) -> None:
    assert check_solution(SET, lambda runtime, source, calls: box.run(source, calls)) == []


def test_a_wrong_head_is_named_by_its_shape(box: Sandbox) -> None:
    source = SOLUTION.replace("nn.Linear(16 * 8 * 8, 10)", "nn.Linear(16 * 8 * 8, 16)")
    status, feedback = by_check(graded(box, source)["net.model"])["shape"]
    assert status is TestStatus.INCORRECT
    assert feedback == "(N, 10) expected, got (N, 16): the last layer gives 16 values per image, not 10."


def test_an_output_not_flattened_is_named_by_its_shape(box: Sandbox) -> None:
    source = with_forward("        return x\n")
    part = graded(box, source)["net.model"]
    status, feedback = by_check(part)["shape"]
    assert status is TestStatus.INCORRECT
    assert feedback.startswith("(N, 10) expected, got (N, 16, 8, 8) (16·8·8 = 1,024 values per image)")
    assert by_check(part)["trains"][0] is TestStatus.ERROR  # cross-entropy refuses a 4-D output


def test_a_batch_flattened_away_is_named(box: Sandbox) -> None:
    source = with_forward("        return self.fc(x.reshape(-1, 16 * 8 * 8))[:1]\n")
    status, feedback = by_check(graded(box, source)["net.model"])["shape"]
    assert (status, feedback) == (
        TestStatus.INCORRECT,
        "(N, 10) expected, got (1, 10): the batch of N = 4 images is not the first axis "
        "(was it flattened into one row?).",
    )


def test_a_wrong_count_is_incorrect_and_the_right_one_is_torchs(box: Sandbox) -> None:
    count = oracle_count(LENET)
    assert count == 62_006  # PyTorch's CIFAR-10 tutorial network
    params = graded(box, LENET, "61,706")["net.params"]
    assert (params.status, params.score) == (Status.INCORRECT, 0.0)
    status, feedback = by_check(params)["params"]
    assert status is TestStatus.INCORRECT
    assert feedback == f"You answered 61,706 in net.params, which is not your Net's count. {torch_model.HOW_TO_COUNT}"
    assert "62,006" not in feedback  # the part's answer is not given away
    assert (
        graded(box, LENET, "(5*5*3 + 1)*6 + (5*5*6 + 1)*16 + (400 + 1)*120 + (120 + 1)*84 + (84 + 1)*10")[
            "net.params"
        ].status
        is Status.CORRECT
    )  # the project's reading: arithmetic is read too


def test_a_count_that_cannot_be_read_says_why(box: Sandbox) -> None:
    status, feedback = by_check(graded(box, SOLUTION, "lots")["net.params"])["params"]
    assert status is TestStatus.INCORRECT
    assert feedback.startswith("Your answer to net.params could not be read: ")


def test_a_model_over_the_budget_is_incorrect_there_only(box: Sandbox) -> None:
    part = graded(box, LENET)["net.model"]
    assert (part.status, part.score) == (Status.PARTIAL, 4.0)
    assert by_check(part)["budget"] == (
        TestStatus.INCORRECT,
        "62,006 parameters, 12,006 over the budget of 50,000 (by top-level layer: conv1 456, pool 0, conv2 2,416, "
        "fc1 48,120, fc2 10,164, fc3 850).",
    )


def test_a_forward_that_raises_is_an_error_with_its_last_line(box: Sandbox) -> None:
    source = with_forward("        return self.fc(x)\n")  # not flattened: the linear layer refuses it
    part = graded(box, source)["net.model"]
    status, feedback = by_check(part)["shape"]
    assert status is TestStatus.ERROR
    assert feedback.startswith("Net raised an exception: RuntimeError: mat1 and mat2 shapes cannot be multiplied")
    assert by_check(part)["budget"][0] is TestStatus.CORRECT  # counting needs no forward


def test_a_constructor_that_raises_fails_every_test_and_the_count(box: Sandbox) -> None:
    source = SOLUTION.replace(
        "        super().__init__()\n", "        super().__init__()\n        raise KeyError('conv')\n"
    )
    found = graded(box, source, "11642")
    assert {status for status, _ in by_check(found["net.model"]).values()} == {TestStatus.ERROR}
    assert by_check(found["net.params"])["params"] == (TestStatus.ERROR, "Net raised an exception: KeyError: 'conv'")


def test_a_module_without_net_says_so(box: Sandbox) -> None:
    part = graded(box, SOLUTION.replace("class Net(", "class Network("))["net.model"]
    assert set(by_check(part).values()) == {
        (TestStatus.ERROR, "Net raised an exception: NameError: the module defines no class Net")
    }


def test_a_constant_output_never_learns(box: Sandbox) -> None:
    source = "import torch\n\nclass Net(torch.nn.Module):\n    def forward(self, x):\n"
    source += "        return torch.zeros(x.shape[0], 10)\n"
    part = graded(box, source)["net.model"]
    assert by_check(part)["shape"][0] is TestStatus.CORRECT
    assert by_check(part)["trains"] == (
        TestStatus.INCORRECT,
        "The loss does not depend on any trainable parameter of your Net (is the output detached, or made "
        "without the layers' weights?), so training cannot change it.",
    )


def test_a_detached_output_never_learns(box: Sandbox) -> None:
    part = graded(box, with_forward("        return self.fc(torch.flatten(x, 1)).detach()\n"))["net.model"]
    assert by_check(part)["trains"][0] is TestStatus.INCORRECT
    assert "does not depend on any trainable parameter" in by_check(part)["trains"][1]


def test_a_model_that_learns_only_the_class_balance_has_its_loss_stall(box: Sandbox) -> None:
    # the images are multiplied by zero: only the head's bias learns, and cross-entropy cannot fall far
    part = graded(box, with_forward("        return self.fc(torch.flatten(x, 1) * 0)\n"))["net.model"]
    status, feedback = by_check(part)["trains"]
    assert status is TestStatus.INCORRECT
    assert re.fullmatch(
        r"The loss went from 2\.\d+ to 2\.\d+ over 40 steps of Adam on handwritten digits \(means of the first and "
        r"the last 5\); below 2\.\d+ \(90% of the first\) was expected\.",
        feedback,
    )


def test_a_model_that_never_finishes_times_out_on_every_test(box: Sandbox) -> None:
    source = with_forward("        while True:\n            pass\n")
    part = graded(box, source)["net.model"]
    assert by_check(part)["shape"][0] is TestStatus.TIMEOUT
    assert by_check(part)["trains"][0] is TestStatus.TIMEOUT
    assert by_check(part)["budget"][0] is TestStatus.CORRECT  # its own fresh process, after the first timeout


def test_a_model_that_runs_out_of_memory_is_memory_on_that_test(box: Sandbox) -> None:
    source = with_forward("        return self.fc(torch.flatten(x, 1)) + torch.ones(400_000_000).sum()\n")
    part = graded(box, source)["net.model"]
    assert by_check(part)["shape"][0] is TestStatus.MEMORY
    assert by_check(part)["budget"][0] is TestStatus.CORRECT  # its own fresh process, after the first is killed


def test_a_model_in_double_precision_is_given_doubles(box: Sandbox) -> None:
    source = SOLUTION.replace(
        "        self.fc = nn.Linear(16 * 8 * 8, 10)\n",
        "        self.fc = nn.Linear(16 * 8 * 8, 10)\n        self.double()\n",
    )
    part = graded(box, source)["net.model"]
    assert (part.status, part.score) == (Status.CORRECT, 5.0)


def test_a_model_cannot_download_anything(box: Sandbox) -> None:
    source = SOLUTION.replace(
        "        super().__init__()\n",
        "        super().__init__()\n        import urllib.request\n"
        "        urllib.request.urlopen('http://example.com/weights.pt', timeout=2)\n",
    )
    status, feedback = by_check(graded(box, source)["net.model"])["shape"]
    assert status is TestStatus.ERROR
    assert feedback.startswith("Net raised an exception: urllib.error.URLError: <urlopen error")


def test_the_training_data_is_scikit_learns_digits_sent_in() -> None:
    (trains,) = [plan for plan in planned(SET, "net.model", "s7") if plan.test.model_extra == {"check": "trains"}]
    assert trains.call.function == "@torch.train"
    name, x, y, steps, batch, learning_rate, _ = trains.call.args
    assert (name, steps, batch, learning_rate) == ("Net", 40, 32, 0.005)
    assert isinstance(x, np.ndarray) and isinstance(y, np.ndarray)
    assert x.shape == (128, 3, 32, 32) and x.dtype == np.float32 and y.dtype == np.int64
    digits = load_digits()
    for image, label in zip(x, y, strict=True):
        assert np.array_equal(image[0], image[2])  # one grey image on three channels
        small = (image[0, ::4, ::4] + 1) * 8  # each 4×4 block is one pixel of 0..16
        matches = np.flatnonzero(np.all(np.isclose(digits.images, small), axis=(1, 2)))
        assert matches.size and label in digits.target[matches]


def test_the_count_the_set_is_checked_against_is_the_datas() -> None:
    """A set loads without scikit-learn (its digits counted by a constant): the constant is the data's."""
    from problems.code import digits

    assert digits.count() == len(load_digits().target) == len(digits._digits()[1])


def test_the_count_is_graded_only_with_code_to_run(box: Sandbox) -> None:
    found = graded(box, None, "11642")
    assert found["net.model"].status is Status.UNANSWERED
    assert (found["net.params"].status, found["net.params"].feedback) == (
        Status.INVALID,
        "This answer is checked by running your code in net.model, which has no answer.",
    )
    found = graded(box, "class Net(:\n", "11642")
    assert found["net.params"].status is Status.INVALID
    assert found["net.params"].feedback.startswith(
        "This answer is checked by running your code in net.model, which cannot run. "
    )
    assert graded(box, SOLUTION)["net.params"].status is Status.UNANSWERED


def test_without_a_torch_runtime_the_parts_are_invalid_with_a_sentence() -> None:
    require_bwrap()
    # a sandbox whose torch runtime cannot start (it does not fit in its memory): nothing runs, nothing crashes
    with Sandbox(Limits(memory_bytes=96 << 20), runtime="torch") as small:
        found = grade_code(
            SET, {"net.model": SOLUTION, "net.params": "11642"}, student="s7", run=lambda r, s, c: small.run(s, c)
        )
    for part in found.values():
        assert part.status is Status.INVALID and part.score == 0
        assert part.feedback.startswith("Code is not graded on this server: the sandbox could not start (")
        assert "torch runtime does not fit in its 96 MiB" in part.feedback


def test_where_torch_is_not_installed_the_parts_say_so(monkeypatch: pytest.MonkeyPatch) -> None:
    require_bwrap()
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *rest: None if name == "torch" else real(name, *rest))
    with Sandbox(LIMITS, runtime="torch") as box:
        found = grade_code(
            SET, {"net.model": SOLUTION, "net.params": "11642"}, student="s7", run=lambda r, s, c: box.run(s, c)
        )
    for part in found.values():
        assert (part.status, part.score, part.feedback) == (
            Status.INVALID,
            0.0,
            "Code is not graded on this server: the sandbox could not start (this server has no torch for code "
            "(torch is not installed): ask your instructor).",
        )


def test_torch_is_the_oracle_of_the_solutions_count() -> None:
    module = types.ModuleType("oracle")
    exec(compile(SOLUTION, "oracle.py", "exec"), module.__dict__)
    net = module.Net()
    assert isinstance(net, torch.nn.Module)
    assert sum(p.numel() for p in net.parameters()) == (3 * 9 + 1) * 8 + (8 * 9 + 1) * 16 + (1024 + 1) * 10 == 11_642
