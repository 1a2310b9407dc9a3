"""NumPy code submissions graded per second END TO END through the service: ``grader serve`` on
SQLite (which runs code parts itself, in warm sandboxes), N students at once, each submitting a
naive ``conv_forward`` to the built-in ``numpy-convolution`` set's ``conv.forward`` (5 tests drawn
for them), then polling ``GET /submissions/{id}`` until the result is there, then submitting again.
The clock runs from the first POST to the last result; each submission's latency from its 201 to
its result is kept too.

The floor grades the same submissions with the same engine (:func:`grader.code.grade_code`: the
tests drawn per student, judged against the solvers' references) in this process, running the code
in-process with no walls at all, which the service never does: what the sandbox, the database,
HTTP and the queue add is the ratio.

Run: ``make bench`` (or ``python -m bench.code --students N --submissions M``).
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import threading
import time
import types
from collections.abc import Sequence
from pathlib import Path

import httpx

from grader.code import grade_code
from harness.server import VENV_BIN, ServerProcess, free_port, server_env
from harness.student_code import CONV_FORWARD
from problems.loader import load_bank
from sandbox import Call, CallResult, Status

SET_ID, KEY, COURSE, ASSIGNMENT = "numpy-convolution", "conv.forward", "bench", "code"

SUBMISSION = CONV_FORWARD
#: How often a student asks whether the result is there.
POLL_SECONDS = 0.02


def source(number: int) -> str:
    """A text of its own per submission (the service sees no two alike)."""
    return f"# submission {number}\n{SUBMISSION}"


def in_process(runtime: str, text: str, calls: Sequence[Call]) -> list[CallResult]:
    """The floor's runner: the module loaded and called in this process (never in the product)."""
    module = types.ModuleType("submission")
    exec(compile(text, "submission.py", "exec"), module.__dict__)  # the floor only
    results = []
    for call in calls:
        try:
            output = getattr(module, call.function)(*call.args, **call.kwargs)
        except Exception as error:
            results.append(CallResult(Status.ERROR, message=f"{type(error).__name__}: {error}"))
            continue
        outputs = tuple(output) if isinstance(output, tuple) else (output,)
        results.append(CallResult(Status.OK, outputs, isinstance(output, tuple)))
    return results


def floor(count: int, students: int) -> tuple[float, int]:
    """Seconds to grade ``count`` submissions in-process, and how many parts came out correct."""
    problem_set = load_bank()[SET_ID]
    began = time.perf_counter()
    correct = 0
    for number in range(count):
        graded = grade_code(problem_set, {KEY: source(number)}, student=f"s{number % students:03d}", run=in_process)
        correct += graded[KEY].status == "correct"
    return time.perf_counter() - began, correct


def grader_cli(*args: str, env: dict[str, str], cwd: Path) -> str:
    import subprocess

    done = subprocess.run(
        [str(VENV_BIN / "grader"), *args], env=env, cwd=cwd, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise SystemExit(f"grader {' '.join(args)} failed:\n{done.stdout}{done.stderr}")
    return done.stdout


def set_up(
    base_url: str, env: dict[str, str], cwd: Path, students: int, *, course: str = COURSE, assignment: str = ASSIGNMENT
) -> tuple[str, list[str]]:
    """An instructor, their course, an assignment of the set with no attempt limit: the
    instructor's token and the students' tokens."""
    instructor = json.loads(
        grader_cli("users", "create", "--role", "instructor", "--name", "Bench", "--json", env=env, cwd=cwd)
    )
    headers = {"Authorization": f"Bearer {instructor['token']}"}
    with httpx.Client(base_url=base_url, headers=headers, timeout=60) as client:
        client.post("/api/v1/courses", json={"id": course, "title": "Bench"}).raise_for_status()
        made = client.post(f"/api/v1/courses/{course}/assignments", json={"id": assignment, "problem_set": SET_ID})
        made.raise_for_status()
        roster = [{"id": f"s{i:03d}", "name": f"Student {i}"} for i in range(students)]
        imported = client.post(f"/api/v1/courses/{course}/members", json={"members": roster})
        imported.raise_for_status()
        return instructor["token"], [member["token"] for member in imported.json()["members"]]


class Student(threading.Thread):
    """Submits its share one at a time, each followed until its result is written."""

    def __init__(self, base_url: str, token: str, numbers: list[int]) -> None:
        super().__init__()
        self.client = httpx.Client(base_url=base_url, headers={"Authorization": f"Bearer {token}"}, timeout=120)
        self.numbers = numbers
        self.latencies: list[float] = []
        self.correct = 0

    def run(self) -> None:
        path = f"/api/v1/courses/{COURSE}/assignments/{ASSIGNMENT}/submissions"
        for number in self.numbers:
            while (sent := self.client.post(path, json={"answers": {KEY: source(number)}})).status_code == 429:
                time.sleep(float(sent.headers.get("Retry-After", "1")))  # the student's grading budget
            sent.raise_for_status()
            accepted = time.perf_counter()
            made = sent.json()
            assert made["parts"][KEY]["status"] in ("queued", "running"), made["parts"][KEY]
            while (part := self.client.get(f"/api/v1/submissions/{made['id']}").json()["parts"][KEY])["status"] in (
                "queued",
                "running",
            ):
                time.sleep(POLL_SECONDS)
            self.latencies.append(time.perf_counter() - accepted)
            self.correct += part["status"] == "correct"
        self.client.close()


def end_to_end(count: int, students: int) -> tuple[float, int, list[float]]:
    """Seconds from the first POST to the last result, parts correct, and each submission's latency."""
    with tempfile.TemporaryDirectory(prefix="bench-code-") as directory:
        workdir = Path(directory)
        database_url = f"sqlite:///{workdir / 'grader.db'}"
        port = free_port()
        env = server_env(DATABASE_URL=database_url)
        with ServerProcess.grader_serve(database_url, port=port, workdir=workdir) as server:
            server.wait_healthy()
            _, tokens = set_up(server.base_url, env, workdir, students)
            warm = Student(server.base_url, tokens[0], [count])  # the sandbox's warm worker starts here
            warm.run()
            crowd = [Student(server.base_url, token, list(range(n, count, students))) for n, token in enumerate(tokens)]
            began = time.perf_counter()
            for student in crowd:
                student.start()
            for student in crowd:
                student.join()
            elapsed = time.perf_counter() - began
    return elapsed, sum(s.correct for s in crowd), [latency for s in crowd for latency in s.latencies]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--students", type=int, default=8, help="Students submitting at once.")
    parser.add_argument("--submissions", type=int, default=300, help="Submissions in all.")
    options = parser.parse_args()
    count, students = options.submissions, options.students
    seconds, correct, latencies = end_to_end(count, students)
    floor_seconds, floor_correct = floor(count, students)
    assert correct == floor_correct == count, f"a correct submission was graded wrong ({correct}, {floor_correct})"
    rate, floor_rate = count / seconds, count / floor_seconds
    latencies.sort()
    print(
        f"\ncode submissions end to end ({count} naive NumPy conv_forward, 5 tests each; {students} students at once)"
    )
    print("| how | submissions/s | × the floor's time |")
    print("| --- | ---: | ---: |")
    print(f"| in-process, no walls (floor) | {floor_rate:,.0f} | 1 |")
    print(f"| service (SQLite), 201 → result | {rate:,.1f} | {floor_rate / rate:.1f} |")
    p50, p99 = statistics.median(latencies), latencies[min(len(latencies) - 1, int(0.99 * len(latencies)))]
    print(f"\nlatency from the 201 to the result: median {1000 * p50:.0f} ms, 99th percentile {1000 * p99:.0f} ms")


if __name__ == "__main__":
    main()
