"""``grader capacity``: how many code workers a course needs for a deadline burst to be graded in
time, from a set's cost per submission (given, or measured here in the sandbox), with the arithmetic
shown (:mod:`cli.sizing`)."""

from __future__ import annotations

import json
import re
import statistics
import time
from dataclasses import dataclass
from typing import Annotated, NoReturn

import typer
from rich.console import Console

from cli.gradescope_runner import Sandboxes
from cli.problems import find_set
from cli.sizing import Burst, Cost, Plan, Unplannable, check_burst, explained, plan
from cli.worker import default_concurrency
from grader.code import grade_code
from problems.sets import ProblemSet
from sandbox import SandboxUnavailable

console = Console(stderr=True)

#: A duration: seconds, or a number with its unit (``90``, ``90s``, ``10m``, ``1.5h``).
DURATION = re.compile(r"(\d+(?:\.\d*)?|\.\d+)\s*([smh]?)")
UNITS = {"": 1, "s": 1, "m": 60, "h": 3600}
#: The longest window or target taken: a week.
LONGEST = 7 * 24 * 3600


@dataclass(frozen=True)
class Measured:
    """A set's cost per submission as measured here: each run's wall and in-process CPU seconds."""

    walls: list[float]
    in_process: list[float]

    @property
    def cost(self) -> Cost:
        """The medians: the wall seconds of one core (the sandbox and the judging take turns, one
        core busy throughout), of which the judging and the sandbox's client in this process."""
        wall = statistics.median(self.walls)
        return Cost(seconds=wall, judging=min(wall, statistics.median(self.in_process)))


def capacity(
    students: Annotated[int, typer.Option("--students", min=1, max=10_000_000, help="Students in the course.")],
    window: Annotated[
        str,
        typer.Option("--window", help="How long the burst's submissions take to come, evenly: seconds, or 10m, 1.5h."),
    ],
    target: Annotated[
        str,
        typer.Option("--target", help="The last result wanted by then, after the first submission: 15m, 900."),
    ],
    cost: Annotated[
        float | None,
        typer.Option("--cost", help="Seconds of one core a submission costs a code worker (instead of --set)."),
    ] = None,
    judging: Annotated[
        float | None,
        typer.Option("--judging", help="With --cost: of those seconds, the ones in the worker's own process."),
    ] = None,
    set_id: Annotated[
        str | None,
        typer.Option(
            "--set",
            metavar="SET",
            help="Measure the cost here: the set's solutions graded in a warm sandbox, --runs times.",
        ),
    ] = None,
    runs: Annotated[int, typer.Option("--runs", min=1, max=100, help="Measured runs (with --set).")] = 5,
    per_student: Annotated[
        int, typer.Option("--per-student", min=1, max=100, help="Submissions each student sends in the burst.")
    ] = 1,
    cores: Annotated[
        int | None,
        typer.Option(
            "--cores-per-worker", min=1, max=256, help="Cores of each code worker. Default: those of this machine."
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the plan as JSON.")] = False,
) -> None:
    """How many code workers (`grader worker --queue code`, one sandbox per core) a deadline burst
    needs for its last result to come by --target: --students × --per-student submissions sent
    evenly over --window, each costing --cost seconds of one core, or as measured here with --set
    (its solutions graded in the sandbox, the judging outside, as a worker does). Prints the
    arithmetic."""
    burst = Burst(students * per_student, _duration("--window", window), _duration("--target", target))
    cores = cores or default_concurrency()
    if (cost is None) == (set_id is None):
        _refuse("Give the cost per submission: --cost SECONDS, or --set SET to measure it here.")
    if judging is not None and cost is None:
        _refuse("--judging goes with --cost (with --set it is measured).")
    try:
        check_burst(burst)  # (before a cost is measured for it)
    except Unplannable as error:
        _refuse(_sentence(error))
    if cost is not None:
        spent, source = Cost(cost, judging), "given"
    else:
        measured = measure(find_set(str(set_id)), runs=runs)
        spent = measured.cost
        source = (
            f"measured: {set_id}'s solutions graded {runs} times in a warm sandbox, median "
            f"{spent.seconds:.4g} s (from {min(measured.walls):.4g} to {max(measured.walls):.4g}), "
            f"{spent.judging:.4g} s of it in this process; not in it: the worker's database round trips"
        )
    try:
        found = plan(burst, spent, cores=cores)
    except Unplannable as error:
        _refuse(_sentence(error))
    if as_json:
        print(json.dumps(_as_json(found)))
        return
    print(
        f"{students:,} students × {per_student} = {burst.submissions:,} submissions over {burst.window:g} s, "
        f"the last result by {burst.target:g} s after the first"
    )
    print(f"cost: {spent.seconds:.4g} s of one core a submission ({source})")
    for line in explained(found):
        print(line)
    print(
        f"Code workers needed: {found.workers} of {cores} core{'s' if cores != 1 else ''} each "
        f"(grader worker --queue code --concurrency {cores})."
    )


def measure(problem_set: ProblemSet, *, runs: int) -> Measured:
    """The set's solutions (each code part answered by its problem's) graded ``runs`` times in one
    warm sandbox per runtime, each as a new student's (their draw and its references computed, as
    a deadline's first submissions need), after one run that starts the sandboxes. Refuses a set
    without code parts (exit 2), and exits 1 where the sandbox cannot start or a solution fails."""
    keys = list(problem_set.code())
    if not keys:
        _refuse(f"{problem_set.id} has no code parts: a code worker runs nothing of it (give --cost).")
    answers = {key: problem_set.solution_of(key) for key in keys}
    walls, in_process = [], []
    with Sandboxes() as sandboxes:
        for number in range(runs + 1):
            began, cpu = time.perf_counter(), time.process_time()
            try:
                graded = grade_code(problem_set, answers, student=f"capacity-{number}", run=sandboxes.run)
            except SandboxUnavailable as error:
                _fail(f"The sandbox cannot start here, so nothing was measured: {error}")
            wall, spent = time.perf_counter() - began, time.process_time() - cpu
            failed = [f"{key} ({part.status.value})" for key, part in graded.items() if part.status.value != "correct"]
            if sandboxes.unavailable is not None:
                _fail(f"The sandbox cannot start here, so nothing was measured: {sandboxes.unavailable}")
            if failed:
                _fail(
                    f"{problem_set.id}'s solutions fail their own tests ({', '.join(failed)}), so their cost says "
                    f"nothing of a right submission's: grader check {problem_set.id} says why."
                )
            if number > 0:  # (the first started the sandboxes and drew the set's own tests)
                walls.append(wall)
                in_process.append(spent)
    return Measured(walls, in_process)


def _duration(option: str, text: str) -> float:
    found = DURATION.fullmatch(text.strip())
    seconds = float(found.group(1)) * UNITS[found.group(2)] if found else None
    if seconds is None or seconds > LONGEST:
        _refuse(
            f"{option} {text!r} is not a duration up to a week: write seconds (600) or a number with s, m or h "
            "(90s, 10m, 1.5h)."
        )
    return seconds


def _as_json(found: Plan) -> dict[str, object]:
    return {
        "submissions": found.burst.submissions,
        "window_seconds": found.burst.window,
        "target_seconds": found.burst.target,
        "cost_seconds": found.cost.seconds,
        "judging_seconds": found.cost.judging,
        "cores_per_worker": found.cores,
        "rate_per_worker": found.rate,
        "workers": found.workers,
        "last_result_seconds": found.last(found.workers),
    }


def _sentence(error: Exception) -> str:
    said = str(error)
    return f"{said[:1].upper()}{said[1:]}."


def _refuse(sentence: str) -> NoReturn:
    console.print(sentence, highlight=False, markup=False, soft_wrap=True)
    raise typer.Exit(code=2)


def _fail(sentence: str) -> NoReturn:
    console.print(sentence, highlight=False, markup=False, soft_wrap=True)
    raise typer.Exit(code=1)
