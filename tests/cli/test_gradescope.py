"""``grader gradescope bundle``: the zip is unpacked into a folder laid out as Gradescope's
``/autograder`` and its ``run_autograder`` is run there, with this environment's Python first on
PATH (the dependencies ``setup.sh`` would install are here already); nothing reaches the network.
Expected scores come from the engine itself."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
import zipfile
from importlib.metadata import version
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from cli.app import app
from cli.gradescope_runner import grade_folder, parse_text_answers, read_answers
from grader.engine import grade_submission
from problems.loader import BUILT_IN, load_bank
from problems.render import to_json
from problems.variants import variant_key

runner = CliRunner()
BANK = load_bank()
SECRET = "bundle-secret"  # its draw for student 4242 has a 6×6 c1.output: one wrong element is partial


@pytest.fixture(scope="module")
def bundles(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("bundles")
    made = {}
    for set_id in ("fc-vs-conv", "conv-arithmetic"):
        made[set_id] = folder / f"{set_id}.zip"
        result = runner.invoke(app, ["gradescope", "bundle", set_id, "--out", str(made[set_id]), "--secret", SECRET])
        assert result.exit_code == 0, result.output
    return made


def autograde(bundle: Path, root: Path, files: dict[str, str], metadata: dict[str, Any] | None) -> dict[str, Any]:
    """Unpack as Gradescope does (modes kept), run ``run_autograder`` from /autograder, read results.json."""
    with zipfile.ZipFile(bundle) as archive:
        for info in archive.infolist():
            path = Path(archive.extract(info, root / "source"))
            path.chmod(info.external_attr >> 16 & 0o777)
    shutil.copy2(root / "source" / "run_autograder", root / "run_autograder")
    (root / "submission").mkdir()
    (root / "results").mkdir()
    for name, text in files.items():
        (root / "submission" / name).write_text(text, encoding="utf-8")
    if metadata is not None:
        (root / "submission_metadata.json").write_text(json.dumps(metadata))
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env |= {"AUTOGRADER_ROOT": str(root), "PATH": f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"}
    done = subprocess.run(
        [str(root / "run_autograder")], cwd=root, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"graded by {root / 'source' / 'grader'}" in done.stdout  # the bundled packages, not this checkout
    return json.loads((root / "results" / "results.json").read_text())


def right(set_id: str, student: str | None = None) -> dict[str, Any]:
    return {k: to_json(a.kind, a.value) for k, a in BANK[set_id].solve(student).items()}


def assert_matches_engine(results: dict[str, Any], set_id: str, answers: dict[str, Any], student: str | None) -> None:
    graded = grade_submission(BANK[set_id], answers, student=student)
    tests = {t["name"]: t for t in results["tests"]}
    assert list(tests) == BANK[set_id].answer_keys()
    assert results["score"] == pytest.approx(graded.score)
    for key, part in graded.parts.items():
        test = tests[key]
        assert (test["score"], test["max_score"]) == (pytest.approx(part.score), part.max_score)
        assert test["status"] == ("failed" if part.status.value in ("incorrect", "unanswered", "invalid") else "passed")
        if part.misconception:
            assert f"Mistake: {part.misconception}" in test["output"]
        if part.read_as:
            assert part.read_as in test["output"]


def test_the_zip_is_what_gradescope_expects(bundles: dict[str, Path]) -> None:
    with zipfile.ZipFile(bundles["fc-vs-conv"]) as archive:
        names = set(archive.namelist())
        modes = {i.filename: i.external_attr >> 16 for i in archive.infolist()}
        read = {name: archive.read(name) for name in names}
    assert {"setup.sh", "run_autograder", "requirements.txt", "set.yaml", "gradescope_runner.py"} <= names
    assert {"grader/engine.py", "grader/reading/numbers.py", "problems/loader.py", "problems/solvers/sizes.py"} <= names
    assert {"grader/code/judge.py", "sandbox/service.py", "sandbox/runner.py"} <= names  # code parts run there
    assert not any("__pycache__" in name or name.startswith(("cli/", "api/")) for name in names)
    for script in ("setup.sh", "run_autograder"):
        assert stat.S_IMODE(modes[script]) == 0o755 and stat.S_ISREG(modes[script])
        assert b"\r" not in read[script] and read[script].startswith(b"#!/usr/bin/env bash\n")
    assert read["set.yaml"] == (BUILT_IN / "fc-vs-conv.yaml").read_bytes()
    pins = read["requirements.txt"].decode().split()
    named = ("numpy", "sympy", "lark", "pydantic", "PyYAML", "nbformat")
    assert pins == [f"{name}=={version(name)}" for name in named]


@pytest.mark.parametrize("script", ["setup.sh", "run_autograder"])
def test_the_scripts_are_valid_bash(bundles: dict[str, Path], tmp_path: Path, script: str) -> None:
    with zipfile.ZipFile(bundles["fc-vs-conv"]) as archive:
        path = Path(archive.extract(script, tmp_path))
    assert subprocess.run(["bash", "-n", str(path)], capture_output=True).returncode == 0


def test_a_fixed_set_is_graded_per_answer_key(bundles: dict[str, Path], tmp_path: Path) -> None:
    answers: dict[str, Any] = right("fc-vs-conv")
    wrong_key, blank_key = list(answers)[:2]
    answers[wrong_key] = str(answers[wrong_key] + 1)
    del answers[blank_key]
    answers["p9.nothing"] = "42"
    results = autograde(bundles["fc-vs-conv"], tmp_path, {"answers.json": json.dumps(answers)}, None)
    assert_matches_engine(results, "fc-vs-conv", answers, None)
    assert "p9.nothing" in results["output"] and "Answers read from answers.json." in results["output"]
    tests = {t["name"]: t for t in results["tests"]}
    assert tests[wrong_key]["status"] == "failed" and tests[wrong_key]["output"].startswith("Incorrect")
    assert tests[blank_key]["output"].startswith("Unanswered")


def test_a_randomized_set_uses_the_submitters_numbers(bundles: dict[str, Path], tmp_path: Path) -> None:
    student = "4242"
    variant = variant_key(student=student, secret=SECRET)  # the numbers the bundle's secret draws for 4242
    answers = right("conv-arithmetic", variant)
    almost = [row[:] for row in answers["c1.output"]]
    almost[0][0] += 1
    flipped = BANK["conv-arithmetic"].solve(variant, mistake="kernel-not-flipped")["c2.output"]
    lines = [
        "# my answers",
        "c1.output:",
        *(" ".join(map(str, row)) for row in almost),
        f"c2.output: {json.dumps(to_json(flipped.kind, flipped.value))}",
        f"c5.shape = {' x '.join(map(str, answers['c5.shape']))}",
        f"c5.params: {answers['c5.params']:,}",
    ]
    metadata = {"users": [{"id": int(student), "email": "ada@example.org", "name": "Ada"}]}
    results = autograde(bundles["conv-arithmetic"], tmp_path, {"answers.txt": "\n".join(lines) + "\n"}, metadata)
    sent = parse_text_answers("\n".join(lines))[0]
    assert_matches_engine(results, "conv-arithmetic", sent, variant)
    tests = {t["name"]: t for t in results["tests"]}
    assert 0 < tests["c1.output"]["score"] < 1 and tests["c1.output"]["status"] != "failed"
    assert tests["c1.output"]["output"].startswith("Partial credit")
    assert "Mistake: kernel-not-flipped" in tests["c2.output"]["output"]
    assert tests["c5.shape"]["score"] == tests["c5.params"]["score"] == 1
    assert "id, 4242" in results["output"]


def test_no_answers_file_is_reported(bundles: dict[str, Path], tmp_path: Path) -> None:
    results = autograde(bundles["fc-vs-conv"], tmp_path, {"homework.pdf": "%PDF"}, {"users": []})
    assert results["score"] == 0 and results["tests"] == []
    assert "answers.json" in results["output"] and "homework.pdf" in results["output"]


@pytest.mark.parametrize(
    ("name", "text", "expected"),
    [
        ("answers.json", '{"q1.a": 3, "q1.b": [[1, 2]]}', {"q1.a": 3, "q1.b": [[1, 2]]}),
        (
            "answers.yaml",
            "q1.a: 1e10\nq1.b: [[1, 2]]\nq1.c: yes\n",
            {"q1.a": "1e10", "q1.b": [["1", "2"]], "q1.c": "yes"},
        ),
        ("Answers.TXT", "q1.a: 3\nq1.b:\n  1 2\n  3 4\nq1.a: 5\n", {"q1.a": "3", "q1.b": "1 2\n3 4"}),
    ],
)
def test_answers_files(tmp_path: Path, name: str, text: str, expected: dict[str, Any]) -> None:
    (tmp_path / name).write_text(text)
    answers, found, notes = read_answers(tmp_path)
    assert (answers, found) == (expected, name)
    twice = "Answers.TXT, line 5: q1.a was answered above already; the first answer counts."
    assert notes == ([twice] if "TXT" in name else [])


@pytest.mark.parametrize(
    ("name", "text", "says"),
    [
        ("answers.json", '{"q1.a": 3', "not valid JSON"),
        ("answers.json", "[1, 2]", "one JSON object"),
        ("answers.yaml", "- 1\n- 2\n", "must map answer keys"),
        ("answers.txt", "just some text\n", "no 'key: answer' lines"),
    ],
)
def test_an_unreadable_answers_file_is_refused_with_the_reason(tmp_path: Path, name: str, text: str, says: str) -> None:
    (tmp_path / "submission").mkdir()
    (tmp_path / "submission" / name).write_text(text)
    results = grade_folder(BANK["fc-vs-conv"], tmp_path)
    assert results["score"] == 0 and says in results["output"]


def test_a_randomized_set_without_a_submitter_is_refused(tmp_path: Path) -> None:
    (tmp_path / "submission").mkdir()
    (tmp_path / "submission" / "answers.json").write_text("{}")
    results = grade_folder(BANK["conv-arithmetic"], tmp_path)
    assert results["score"] == 0 and "names no submitter" in results["output"]


def test_an_unknown_student_field_is_refused(tmp_path: Path) -> None:
    result = runner.invoke(app, ["gradescope", "bundle", "fc-vs-conv", "--student-field", "name"])
    assert result.exit_code == 2
    assert "id or email" in result.output


def test_a_randomized_bundle_without_a_secret_makes_one_and_says_it(tmp_path: Path) -> None:
    target = tmp_path / "b.zip"
    result = runner.invoke(app, ["gradescope", "bundle", "conv-arithmetic", "--out", str(target)])
    assert result.exit_code == 0, result.output
    with zipfile.ZipFile(target) as archive:
        secret = json.loads(archive.read("bundle.json"))["secret"]
    assert secret and f"variant secret: {secret}" in result.output
