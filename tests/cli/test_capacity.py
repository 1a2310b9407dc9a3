"""``grader capacity``: the workers a deadline burst needs, against cases worked by hand; a cost
measured on a real set in the sandbox; bad input refused with a sentence (exit 2)."""

from __future__ import annotations

import json
import math
import re
import shlex
from collections.abc import Sequence
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli import gradescope_runner
from cli.app import app
from cli.sizing import Burst, Cost, Unplannable, plan
from problems.loader import BUILT_IN
from sandbox import Call, CallResult, SandboxUnavailable
from tests.sandbox.probes import require_bwrap

runner = CliRunner()
ENV = {"COLUMNS": "200", "TERM": "dumb"}


@pytest.mark.parametrize(
    ("submissions", "window", "target", "cost", "judging", "cores", "rate", "workers", "last"),
    [
        # the queue outruns one worker: r = 2 ÷ 2 = 1 a second, ⌈1200 ÷ (1 × 898)⌉ = 2, max(600, 600) + 2
        (1200, 600, 900, 2.0, None, 2, 1.0, 2, 602.0),
        # 300 in 10 s on one-core workers: r = 5, ⌈300 ÷ (5 × 19.8)⌉ = ⌈3.03⌉ = 4, max(10, 15) + 0.2
        (300, 10, 20, 0.2, None, 1, 5.0, 4, 15.2),
        # four cores, but one process's judging: r = min(4 ÷ 0.2, 1 ÷ 0.1) = 10, ⌈300 ÷ 198⌉ = 2
        (300, 10, 20, 0.2, 0.1, 4, 10.0, 2, 15.2),
        # judging that is no bound: r = min(4 ÷ 0.2, 1 ÷ 0.01) = 20, ⌈300 ÷ 396⌉ = 1, max(10, 15) + 0.2
        (300, 10, 20, 0.2, 0.01, 4, 20.0, 1, 15.2),
        # graded as they come: one worker keeps up, the last result one run after the last is sent
        (100, 600, 601, 1.0, None, 1, 1.0, 1, 601.0),
        # all at once: ⌈10 ÷ (1 × 2)⌉ = 5, max(0, 2) + 1
        (10, 0, 3, 1.0, None, 1, 1.0, 5, 3.0),
        # a course of 1,500 at a 23:59 deadline, 0.25 s each on 8-core hosts, within 2 minutes of a
        # 1-minute rush: r = 32, ⌈1500 ÷ (32 × 119.75)⌉ = ⌈0.39⌉ = 1
        (1500, 60, 120, 0.25, None, 8, 32.0, 1, 60.25),
    ],
)
def test_the_workers_a_burst_needs_as_worked_by_hand(
    submissions: int,
    window: float,
    target: float,
    cost: float,
    judging: float | None,
    cores: int,
    rate: float,
    workers: int,
    last: float,
) -> None:
    found = plan(Burst(submissions, window, target), Cost(cost, judging), cores=cores)
    assert found.rate == pytest.approx(rate)
    assert found.workers == workers
    assert found.last(workers) == pytest.approx(last)
    assert found.last(workers) <= target + 1e-9  # enough...
    assert workers == 1 or found.last(workers - 1) > target  # ...and the fewest


@pytest.mark.parametrize(
    ("burst", "cost", "cores", "said"),
    [
        # a target the last submission's own run must overrun, or that comes before it is sent
        (Burst(100, 600, 600.5), Cost(1.0), 1, "sent at 600 s and takes 1 s to grade, so 601 s is the earliest"),
        (Burst(100, 0, 1), Cost(1.0), 1, "so 1 s is the earliest"),
        (Burst(100, 600, 600), Cost(1.0), 1, "the last submission is sent at 600 s, and takes some time to grade"),
        (Burst(100, 600, math.inf), Cost(1.0), 1, "the target is a number of seconds, not inf"),
        # numbers that make no burst, no cost or no worker
        (Burst(0, 60, 120), Cost(1.0), 1, "at least one submission"),
        (Burst(10, 60, 120), Cost(0.0), 1, "cost is a number of seconds above 0"),
        (Burst(10, 60, 120), Cost(math.nan), 1, "cost is a number of seconds above 0"),
        (Burst(10, 60, 120), Cost(1.0, 2.0), 1, "the judging's share of the cost is from 0 to"),
        (Burst(10, 60, 120), Cost(1.0), 0, "at least one core"),
        (Burst(10, -1, 120), Cost(1.0), 1, "the window is a number of seconds from 0 up"),
    ],
)
def test_a_burst_no_workers_can_grade_in_time_is_refused_with_why(
    burst: Burst, cost: Cost, cores: int, said: str
) -> None:
    with pytest.raises(Unplannable, match=said):
        plan(burst, cost, cores=cores)


def test_the_command_shows_its_arithmetic() -> None:
    shown = runner.invoke(
        app,
        ["capacity", "--students", "150", "--per-student", "2", "--window", "10s", "--target", "20", "--cost", "0.2",
         "--cores-per-worker", "1"],
        env=ENV,
    )  # fmt: skip
    assert shown.exit_code == 0, shown.output
    lines = shown.stdout.splitlines()
    assert lines[0] == "150 students × 2 = 300 submissions over 10 s, the last result by 20 s after the first"
    assert "cost: 0.2 s of one core a submission (given)" in lines
    assert "a worker of 1 core grades at most 1 ÷ 0.2 = 5.0 submissions a second (a sandbox per core)" in lines
    assert "workers: ⌈300 ÷ (5.0 × (20 − 0.2))⌉ = ⌈3.03⌉ = 4 (so that 300 ÷ (workers × 5.0) ≤ 19.8 s)" in lines
    assert "with 4: the last result at max(10, 300 ÷ (4 × 5.0)) + 0.2 = 15.2 s ≤ 20 s" in lines
    assert "with 3: at 20.2 s, past the target" in lines
    assert lines[-1] == "Code workers needed: 4 of 1 core each (grader worker --queue code --concurrency 1)."


def test_the_plan_as_json() -> None:
    shown = runner.invoke(
        app,
        ["capacity", "--students", "300", "--window", "10", "--target", "20", "--cost", "0.2", "--judging", "0.1",
         "--cores-per-worker", "4", "--json"],
        env=ENV,
    )  # fmt: skip
    assert shown.exit_code == 0, shown.output
    found = json.loads(shown.stdout)
    assert (found["workers"], found["rate_per_worker"], found["judging_seconds"]) == (2, 10.0, 0.1)
    assert found["last_result_seconds"] == pytest.approx(15.2)


BASE = ["capacity", "--students", "100", "--window", "10m", "--target", "15m"]


@pytest.mark.parametrize(
    ("words", "said"),
    [
        # a duration it cannot read, or past a week
        (["capacity", "--students", "100", "--window", "ten minutes", "--target", "15m", "--cost", "1"],
         "--window 'ten minutes' is not a duration up to a week: write seconds (600)"),
        (["capacity", "--students", "100", "--window", "10m", "--target", "9d", "--cost", "1"],
         "--target '9d' is not a duration"),
        (["capacity", "--students", "100", "--window", "10m", "--target", "200h", "--cost", "1"],
         "--target '200h' is not a duration up to a week"),
        # the cost: one way, not both, not neither
        ([*BASE], "Give the cost per submission: --cost SECONDS, or --set SET to measure it here."),
        ([*BASE, "--cost", "1", "--set", "numpy-convolution"], "Give the cost per submission"),
        ([*BASE, "--set", "numpy-convolution", "--judging", "0.1"], "--judging goes with --cost"),
        ([*BASE, "--cost", "0"], "A submission's cost is a number of seconds above 0, not 0."),
        ([*BASE, "--cost", "1", "--judging", "2"], "The judging's share of the cost is from 0 to the cost's 1 s"),
        # a target before the last submission can be graded
        (["capacity", "--students", "100", "--window", "10m", "--target", "600.5", "--cost", "1"],
         "No number of workers gives the last result by 600.5 s: the last submission is sent at 600 s and takes "
         "1 s to grade, so 601 s is the earliest."),
        (["capacity", "--students", "100", "--window", "10m", "--target", "10m", "--set", "numpy-convolution"],
         "No number of workers gives the last result by 600 s: the last submission is sent at 600 s, and takes "
         "some time to grade."),  # (before anything is measured)
        # a set a code worker has nothing of to run, and one there is not
        ([*BASE, "--set", "fc-vs-conv"], "fc-vs-conv has no code parts: a code worker runs nothing of it"),
        ([*BASE, "--set", "no-such-set"], "No problem set 'no-such-set'."),
        # numbers out of range (typer's own sentence)
        (["capacity", "--students", "0", "--window", "10m", "--target", "15m", "--cost", "1"],
         "Invalid value for '--students'"),
    ],
)  # fmt: skip
def test_bad_input_is_refused_with_a_sentence_and_exit_2(words: list[str], said: str) -> None:
    shown = runner.invoke(app, words, env=ENV)
    assert shown.exit_code == 2, shown.output
    assert said in " ".join(shown.output.split()), shown.output


def test_a_cost_measured_on_a_real_set_gives_a_sane_count_of_workers() -> None:
    """numpy-convolution's solutions graded in the real sandbox: a positive cost, of which the
    judging is a part, and the count the arithmetic gives for it."""
    require_bwrap()
    words = ["capacity", "--students", "3000", "--window", "60", "--target", "120", "--set", "numpy-convolution",
             "--runs", "3", "--cores-per-worker", "2"]  # fmt: skip
    shown = runner.invoke(app, [*words, "--json"], env=ENV)
    assert shown.exit_code == 0, shown.output
    found = json.loads(shown.stdout)
    assert 0 < found["judging_seconds"] <= found["cost_seconds"] < 10, found
    again = plan(Burst(3000, 60, 120), Cost(found["cost_seconds"], found["judging_seconds"]), cores=2)
    assert found["workers"] == again.workers
    assert 1 <= found["workers"] <= 3000 * found["cost_seconds"] / 2 / 60 + 1, found  # no more than keeps up
    told = runner.invoke(app, words, env=ENV)
    assert told.exit_code == 0, told.output
    assert "measured: numpy-convolution's solutions graded 3 times in a warm sandbox, median" in told.stdout


class _NoSandbox:
    """A sandbox that cannot start, as on a machine without bubblewrap."""

    def __init__(self, *_: object, **__: object) -> None:
        pass

    def run(self, source: str, calls: Sequence[Call]) -> list[CallResult]:
        raise SandboxUnavailable("bubblewrap is not installed")

    def close(self) -> None:
        pass


def test_without_a_sandbox_nothing_is_measured_and_it_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(gradescope_runner, "Sandbox", _NoSandbox)
    shown = runner.invoke(app, [*BASE, "--set", "numpy-convolution"], env=ENV)
    assert shown.exit_code == 1
    assert "The sandbox cannot start here, so nothing was measured: bubblewrap is not installed" in shown.output


def test_a_set_whose_solution_fails_is_not_measured(tmp_path: Path) -> None:
    require_bwrap()
    text = (BUILT_IN / "numpy-convolution.yaml").read_text(encoding="utf-8")
    broken = tmp_path / "broken.yaml"
    broken.write_text(text.replace("id: numpy-convolution", "id: broken").replace(" + b\n", "\n", 1), encoding="utf-8")
    shown = runner.invoke(app, [*BASE, "--set", str(broken), "--runs", "1"], env=ENV)
    assert shown.exit_code == 1
    assert "broken's solutions fail their own tests (conv.forward (incorrect))" in " ".join(shown.output.split())


def test_the_operators_guide_shows_what_the_command_prints() -> None:
    """docs/operator.md's example, run: its output is the one printed below it."""
    guide = (Path(__file__).parents[2] / "docs" / "operator.md").read_text(encoding="utf-8")
    section = guide.split("### Capacity for a deadline", 1)[1]
    command, printed = re.findall(r"```(?:sh)?\n(.*?)```", section, flags=re.DOTALL)[:2]
    words = shlex.split(command)
    assert words[0] == "grader"
    shown = runner.invoke(app, words[1:], env=ENV)
    assert shown.exit_code == 0, shown.output
    assert shown.stdout == printed
