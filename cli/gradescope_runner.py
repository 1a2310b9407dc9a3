"""Gradescope's side of grading: a ``results.json`` from graded parts, and the runner that a
Gradescope bundle calls once per submission.

``grader gradescope bundle`` copies this file, as it is, next to ``problems/``, ``grader/`` and
``sandbox/``; so it imports nothing but the standard library, PyYAML and those packages (never
``cli``). Results follow Gradescope's autograder specification: one test per answer key, and one
per test of a code part. Code runs only in the sandbox: where its walls cannot be built, a code
part is ``invalid`` and says why.
"""

from __future__ import annotations

import json
import os
import re
import sys
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

from grader import engine
from grader.code import with_code
from problems.loader import load_set
from problems.sets import ProblemSet, TwoModules
from problems.variants import variant_key
from sandbox import Call, CallResult, Sandbox, SandboxUnavailable

#: Answer files looked for in the submission, in this order (names compared without case).
ANSWER_FILES = ("answers.json", "answers.yaml", "answers.yml", "answers.txt")
#: An answers file larger than this is refused unread.
MAX_BYTES = 1_000_000
#: How each graded status opens a test's output.
VERDICTS = {
    "correct": "Correct",
    "partial": "Partial credit",
    "incorrect": "Incorrect",
    "unanswered": "Unanswered",
    "invalid": "Could not be read",
    "queued": "Not run yet",
    "running": "Running",
}
#: A code test's visibility as Gradescope says it.
VISIBILITY = {"visible": "visible", "hidden": "hidden", "after_close": "after_due_date"}
#: A written part's status until someone grades it (``grader.results.Status.PENDING``).
PENDING = "pending"
#: ``problem.part: answer`` (or ``=``) opening a line of answers.txt.
KEY_LINE = re.compile(r"^\s*([A-Za-z0-9_]+\.[A-Za-z0-9_]+)\s*[:=]\s*(.*?)\s*$")


class NoAnswers(ValueError):
    """The submission holds no answers file that can be read; the message tells the student why."""


class Sandboxes:
    """A warm sandbox per runtime, started on first use and closed with the ``with`` block: the
    ``run`` that grading code offline hands to ``grader.code``. The first time a sandbox cannot
    start, ``unavailable`` keeps why (every later run of that runtime raises the same)."""

    def __init__(self) -> None:
        self.boxes: dict[str, Sandbox] = {}
        self.unavailable: str | None = None

    def __enter__(self) -> Sandboxes:
        return self

    def __exit__(self, *_: object) -> None:
        for box in self.boxes.values():
            box.close()
        self.boxes.clear()

    def run(self, runtime: str, source: str, calls: Sequence[Call]) -> list[CallResult]:
        box = self.boxes.get(runtime)
        if box is None:
            box = self.boxes[runtime] = Sandbox(runtime=runtime)
        try:
            return box.run(source, calls)
        except SandboxUnavailable as error:
            self.unavailable = self.unavailable or str(error)
            raise


def results_json(
    score: float, parts: Mapping[str, Mapping[str, Any]], unknown_keys: Sequence[str] = (), notes: Sequence[str] = ()
) -> dict[str, Any]:
    """A Gradescope ``results.json``: one test per answer key, notes and unknown keys on top.

    A test is ``passed`` when its part earned any credit: Gradescope marks a test scored below
    its ``max_score`` as failed unless ``status`` says otherwise, and a partly right answer has
    not failed. Its output opens with the verdict, so partial credit is still named."""
    lines = list(notes)
    if unknown_keys:
        lines.append(f"Not graded, because this problem set has no such answer keys: {', '.join(unknown_keys)}.")
    written = [key for key, part in parts.items() if part["status"] == PENDING]
    if written:  # Gradescope grades them as its own manually graded questions
        lines.append(f"Your written answers ({', '.join(written)}) are graded by hand, not here.")
    result: dict[str, Any] = {"score": score}
    if lines:
        result["output"] = _lf("\n".join(lines))
    tests = []
    for key, part in parts.items():
        if part["status"] == PENDING:
            continue
        tests += [_code_test(key, test) for test in part["tests"]] if part.get("tests") else [_test(key, part)]
    return {**result, "output_format": "text", "tests": tests}


def refused(message: str) -> dict[str, Any]:
    """A ``results.json`` for a submission that could not be graded at all."""
    return {"score": 0.0, "output": _lf(message), "output_format": "text", "tests": []}


def _test(key: str, part: Mapping[str, Any]) -> dict[str, Any]:
    verdict, points = VERDICTS[part["status"]], part["max_score"]
    lines = [f"{verdict}: {part['score']:g} of {points:g} point{'' if points == 1 else 's'}."]
    if part.get("read_as"):
        lines.append(f"Your answer was read as: {part['read_as']}")
    if part["feedback"].rstrip(".") != verdict:
        lines.append(part["feedback"])
    if part.get("misconception"):
        lines.append(f"Mistake: {part['misconception']}")
    if part.get("tolerance"):
        lines.append(f"Tolerance: {part['tolerance']}")
    return {
        "name": key,
        "score": part["score"],
        "max_score": part["max_score"],
        "status": "passed" if part["status"] in ("correct", "partial") else "failed",
        "output": _lf("\n".join(lines)),
    }


def _code_test(key: str, test: Mapping[str, Any]) -> dict[str, Any]:
    """One test of a code part as a Gradescope test: its visibility kept (hidden ones count, unseen)."""
    lines = [f"{test['status'].capitalize()}: {test['score']:g} of {test['max_score']:g} points.", test["feedback"]]
    if test.get("misconception"):
        lines.append(f"Mistake: {test['misconception']}")
    return {
        "name": f"{key}: {test['name']}",
        "score": test["score"],
        "max_score": test["max_score"],
        "status": "passed" if test["status"] == "correct" else "failed",
        "output": _lf("\n".join(lines)),
        "visibility": VISIBILITY.get(test.get("visibility", "visible"), "visible"),
    }


def _lf(text: str) -> str:
    """Gradescope asks for Unix line endings in outputs."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


def read_answers(folder: Path) -> tuple[dict[str, Any], str, list[str]]:
    """The answers in the submission folder, the file they came from, and notes on lines not read."""
    found = sorted(
        (ANSWER_FILES.index(path.name.lower()), len(path.parts), str(path))
        for path in folder.rglob("*")
        if path.name.lower() in ANSWER_FILES and path.is_file() and "__MACOSX" not in path.parts
    )
    if not found:
        received = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())[:10]
        raise NoAnswers(
            "No answers file was found, so nothing could be graded. Submit one file named answers.json "
            "(a JSON object: answer key to answer), answers.yaml (key: answer) or answers.txt (one "
            "'key: answer' per line; the rows of a matrix on the lines below its key). "
            f"Files received: {', '.join(received) if received else 'none'}."
        )
    path = Path(found[0][2])
    name = path.relative_to(folder).as_posix()
    if path.stat().st_size > MAX_BYTES:
        raise NoAnswers(f"{name} is larger than {MAX_BYTES:,} bytes; submit only your answers.")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise NoAnswers(f"{name} is not UTF-8 text; save it as plain UTF-8 and submit it again.") from None
    suffix = path.suffix.lower()
    if suffix == ".json":
        return _json_answers(text, name), name, []
    if suffix in (".yaml", ".yml"):
        return _yaml_answers(text, name), name, []
    answers, notes = parse_text_answers(text, name)
    return answers, name, notes


def _json_answers(text: str, name: str) -> dict[str, Any]:
    try:
        answers = json.loads(text)
    except json.JSONDecodeError as error:
        raise NoAnswers(
            f"{name} is not valid JSON ({error.msg} at line {error.lineno}, column {error.colno})."
        ) from None
    except (RecursionError, ValueError):
        raise NoAnswers(f"{name} is not valid JSON (nested too deep).") from None
    if not isinstance(answers, dict):
        raise NoAnswers(f'{name} must hold one JSON object of answer keys to answers, like {{"q1.shape": "8x8x16"}}.')
    return answers


def _yaml_answers(text: str, name: str) -> dict[str, Any]:
    """Every value read as the text the student typed (``1e10``, ``yes``, ``2024-01-01`` stay text)."""
    try:
        answers = yaml.load(text, Loader=yaml.BaseLoader)  # builds only str, list and dict
    except yaml.YAMLError as error:
        raise NoAnswers(f"{name} is not valid YAML ({error}).") from None
    if not isinstance(answers, dict):
        raise NoAnswers(f"{name} must map answer keys to answers, one 'key: answer' per line.")
    return answers


def parse_text_answers(text: str, name: str = "answers.txt") -> tuple[dict[str, str], list[str]]:
    """``key: answer`` lines; the lines below a key without one of their own continue its answer
    (the rows of a matrix); ``#`` starts a comment line. The first answer to a key counts."""
    answers: dict[str, list[str]] = {}
    notes: list[str] = []
    current: list[str] | None = None
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        match = KEY_LINE.match(line)
        if match is None:
            if current is None:
                notes.append(f"{name}, line {number}: no answer key before it, so it was not read.")
            else:
                current.append(line.strip())
            continue
        key, answer = match.groups()
        if key in answers:
            notes.append(f"{name}, line {number}: {key} was answered above already; the first answer counts.")
            current = []
            continue
        current = answers[key] = [answer] if answer else []
    if not answers:
        raise NoAnswers(f"{name} has no 'key: answer' lines, like 'q1.shape: 8x8x16'.")
    return {key: "\n".join(lines) for key, lines in answers.items()}, notes


def code_files(folder: Path, keys: Iterable[str]) -> dict[str, str]:
    """The files answering code parts, by key: ``KEY.py`` or ``KEY.ipynb`` (``conv.forward.py``, or
    ``conv.py`` for every code part of problem ``conv``),
    names compared without case, each at most :data:`MAX_BYTES` (a larger one is not read)."""
    wanted = {f"{key}{suffix}".lower(): key for key in keys for suffix in (".py", ".ipynb")}
    found: dict[str, str] = {}
    for path in sorted(folder.rglob("*"), key=lambda p: (len(p.parts), str(p))):
        key = wanted.get(path.name.lower())
        if key and key not in found and path.is_file() and path.stat().st_size <= MAX_BYTES:
            found[key] = path.relative_to(folder).as_posix()
    return found


def submitter(metadata: Path, field: str) -> str | None:
    """The first submitter's ``field`` (``id`` or ``email``) in Gradescope's submission metadata."""
    try:
        users = json.loads(metadata.read_text(encoding="utf-8")).get("users")
        value = users[0].get(field)
    except (OSError, ValueError, AttributeError, TypeError, IndexError, KeyError):
        return None
    text = "" if value is None else str(value).strip()
    return text or None


def grade_folder(problem_set: ProblemSet, root: Path, field: str = "id", secret: str | None = None) -> dict[str, Any]:
    """The results of the submission under ``root`` laid out as Gradescope's ``/autograder``."""
    files = code_files(root / "submission", [*problem_set.modules(), *problem_set.code()])
    try:
        answers, name, notes = read_answers(root / "submission")
    except NoAnswers as error:
        if not files:
            return refused(str(error))
        answers, name, notes = {}, ", ".join(sorted(files.values())), []
    for key, file_name in files.items():
        if key not in answers:
            answers[key] = (root / "submission" / file_name).read_text(encoding="utf-8-sig", errors="replace")
    student = None
    if problem_set.randomized:
        student = submitter(root / "submission_metadata.json", field)
        if student is None:
            return refused(
                f"Every student has their own numbers in this problem set, but the submission names no "
                f"submitter's {field}, so it cannot be graded; please tell your instructor."
            )
        notes = [f"Your numbers are those drawn for the submitter's {field}, {student}.", *notes]
    variant = None if student is None else variant_key(student=student, secret=secret)
    try:
        answers = problem_set.per_part(answers)
    except TwoModules as error:
        return refused(str(error))
    graded = engine.grade_submission(problem_set, answers, student=variant)
    with Sandboxes() as sandboxes:
        graded = with_code(graded, problem_set, answers, student=variant, run=sandboxes.run)
    return results_json(graded.score, graded.parts_json(), graded.unknown_keys, [f"Answers read from {name}.", *notes])


def main(argv: Sequence[str] = ()) -> int:
    """Grade the submission under ``$AUTOGRADER_ROOT`` (default ``/autograder``); with ``--check``,
    only load and solve the bundled set (the bundle's ``setup.sh`` runs it at build time)."""
    here = Path(__file__).resolve().parent
    config = json.loads((here / "bundle.json").read_text(encoding="utf-8"))
    problem_set = load_set(here / config["set_file"])
    print(f"set {problem_set.id} version {problem_set.version}, graded by {Path(engine.__file__).parent}")
    if "--check" in argv:
        problem_set.solve()
        return 0
    root = Path(os.environ.get("AUTOGRADER_ROOT", "/autograder"))
    results = grade_folder(problem_set, root, config.get("student_field", "id"), config.get("secret"))
    (root / "results").mkdir(parents=True, exist_ok=True)
    (root / "results" / "results.json").write_text(json.dumps(results, indent=1, ensure_ascii=False), encoding="utf-8")
    print(f"score {results['score']:g}")
    return 0


if __name__ == "__main__":  # run as a script, its folder comes first on sys.path: the bundled packages
    sys.exit(main(sys.argv[1:]))
