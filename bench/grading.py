"""Batch-grading throughput: 100,000 generated submissions of a set (cifar-convnet, 11 parts
each, unless ``--set`` names another: mobilenet-yolo has formulas), mixing right, wrong, oddly
typed and unreadable answers, graded through ``grader grade`` with 1 and 2 workers, next to the
time to merely read and JSON-parse the same file (medians of three rounds, each timing all three
in turn); and ``grader grade`` on one submission, from the command's start to its output (the
median of five runs: an instructor's check of one file).

Run: ``make bench`` (or ``python -m bench.grading --submissions N --set ID``).
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from problems.loader import load_bank
from problems.render import to_json

SET_ID = "cifar-convnet"


def styles(value: Any) -> list[Any]:
    """The same right answer typed the ways students type it."""
    if isinstance(value, int):
        return [value, str(value), f"{value:,}", f"{value:_}", f"$ {value} $", f"Total = {value}"]
    if isinstance(value, list) and value and isinstance(value[0], list):
        rows = [" & ".join(map(str, row)) for row in value]
        return [
            value,
            json.dumps(value),
            "\\begin{bmatrix} " + " \\\\ ".join(rows) + " \\end{bmatrix}",
            "[" + "\n ".join("[" + " ".join(f"{v}." for v in row) + "]" for row in value) + "]",
        ]
    if isinstance(value, list):
        return [value, " × ".join(map(str, value)), "x".join(map(str, value)), "(" + ", ".join(map(str, value)) + ")"]
    if isinstance(value, str):  # a formula, as sympy writes it: H*K**2*M
        powers = value.replace("**", "^")
        latex = "$$" + powers.replace("*", r" \times ") + "$$"
        return [value, powers.replace("*", " "), powers.replace("*", "·"), latex]
    return [value]


def wrong(value: Any, rng: random.Random) -> Any:
    if isinstance(value, int):
        return value + rng.choice([-1, 1, value, -value // 2 or 1])
    if isinstance(value, list) and value and isinstance(value[0], list):
        return [[v + rng.choice([0, 0, 1]) for v in row] for row in value]
    if isinstance(value, list):
        return [f"{v} + 1" if isinstance(v, str) else v + 1 for v in value]
    if isinstance(value, str):
        return rng.choice([f"2({value})", f"{value} + 1", value.replace("**2", "", 1)])
    return value


JUNK = ["", "idk", "12x", "[[1, 2], [3]]", "9^9^9^9", "((((((((1", "1,2,3,4,5,6,7", "NaN", "∞", "\\frac{1}{0}"]


def generate(path: Path, submissions: int, seed: int = 7, set_id: str = SET_ID) -> int:
    """Write the JSON Lines file; returns the number of part-answers in it."""
    rng = random.Random(seed)
    answers = {k: to_json(a.kind, a.value) for k, a in load_bank()[set_id].solve().items()}
    right = {k: styles(v) for k, v in answers.items()}
    parts = 0
    with path.open("w", encoding="utf-8") as out:
        for index in range(submissions):
            typed = {}
            for key, value in answers.items():
                roll = rng.random()
                if roll < 0.6:
                    typed[key] = rng.choice(right[key])
                elif roll < 0.85:
                    typed[key] = wrong(value, rng)
                elif roll < 0.95:
                    typed[key] = rng.choice(JUNK)
                else:
                    continue  # unanswered
                parts += 1
            out.write(json.dumps({"student": f"s{index:06d}", "answers": typed}) + "\n")
    return parts


def parse_only(path: Path) -> float:
    started = time.perf_counter()
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            json.loads(line)
    return time.perf_counter() - started


def grade_with(path: Path, workers: int, set_id: str = SET_ID) -> float:
    out = path.with_suffix(f".out{workers}.jsonl")
    out.unlink(missing_ok=True)  # a file written afresh each round: ext4 flushes a truncated one as it closes
    started = time.perf_counter()
    subprocess.run(
        [
            sys.executable,
            "-m",
            "cli.app",
            "grade",
            str(path),
            "--set",
            set_id,
            "--workers",
            str(workers),
            "--out",
            str(out),
        ],
        check=True,
        stderr=subprocess.DEVNULL,
    )
    return time.perf_counter() - started


def one_submission(folder: Path, set_id: str = SET_ID, runs: int = 5) -> list[float]:
    """Seconds from starting ``grader grade`` on a file of one submission to its exit, ``runs`` times."""
    path = folder / "one.jsonl"
    generate(path, 1, set_id=set_id)
    grader = Path(sys.executable).with_name("grader")
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run([str(grader), "grade", str(path), "--set", set_id], check=True, capture_output=True)
        times.append(time.perf_counter() - started)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--submissions", type=int, default=100_000)
    parser.add_argument("--set", default=SET_ID, help="the set graded (mobilenet-yolo has formulas)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of parse, 1 worker, 2 workers; medians")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        once = sorted(one_submission(Path(folder), args.set))
        runs = ", ".join(f"{t:.2f}" for t in once)
        print(f"grader grade, one submission, start to output: median {once[len(once) // 2]:.2f} s ({runs})")
        path = Path(folder) / "submissions.jsonl"
        parts = generate(path, args.submissions, set_id=args.set)
        size = path.stat().st_size / 1e6
        print(f"{args.submissions:,} submissions, {parts:,} part-answers of {args.set} ({size:.1f} MB)")
        seconds: dict[int, list[float]] = {0: [], 1: [], 2: []}  # 0: the parse floor
        for _ in range(args.rounds):  # interleaved: a host that slows down slows all three alike
            seconds[0].append(parse_only(path))
            for workers in (1, 2):
                seconds[workers].append(grade_with(path, workers, args.set))
        parse = statistics.median(seconds[0])
        print(f"read + JSON-parse only: {parse:.2f} s ({parts / parse:,.0f} part-answers/s; {_runs(seconds[0])})")
        for workers in (1, 2):
            taken = statistics.median(seconds[workers])
            rate = parts / taken
            print(
                f"grade, {workers} worker{'s' if workers > 1 else ''}: {taken:.2f} s ({rate:,.0f} part-answers/s; "
                f"1,000,000 part-answers in {1e6 / rate:.1f} s; {taken / parse:.1f}× the parse time; "
                f"{_runs(seconds[workers])})"
            )


def _runs(seconds: list[float]) -> str:
    return "median of " + ", ".join(f"{t:.2f}" for t in seconds) if len(seconds) > 1 else "one run"


if __name__ == "__main__":
    main()
