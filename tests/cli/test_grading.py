"""``grader check`` and ``grader grade`` through typer's CliRunner: every output format, malformed
lines and a student's later lines reported with their number and skipped, unknown answer keys
named in every format, worker processes keeping input order."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli.app import app
from cli.batch import BadLine, Graded, grade_items
from grader.engine import grade_submission
from problems.loader import BUILT_IN, load_bank
from problems.render import to_json
from problems.variants import variant_key

runner = CliRunner()
RIGHT = {k: to_json(a.kind, a.value) for k, a in load_bank()["cifar-convnet"].solve().items()}


def test_check_prints_the_graded_part() -> None:
    result = runner.invoke(app, ["check", "rgb-convolution", "q8.shape", "64 × 64 × 16"])
    assert result.exit_code == 0
    assert "q8.shape: incorrect (0/1)" in result.output
    assert "read as: 64 × 64 × 16" in result.output
    assert "mistake: output-size-rounding" in result.output


def test_check_json_has_the_contract_fields() -> None:
    result = runner.invoke(app, ["check", "rgb-convolution", "q9.params", "32*16 + 16", "--json"])
    part = json.loads(result.output)
    assert {"score", "max_score", "status", "feedback", "misconception"} <= set(part)
    assert (part["status"], part["score"], part["read_as"]) == ("correct", 1.0, "528")


def test_check_a_students_variant_under_the_assignments_secret() -> None:
    answer = to_json(*_answer("conv-arithmetic", "c5.shape", variant_key(student="zoe", secret="k")))
    text = " x ".join(map(str, answer))
    mine = runner.invoke(
        app, ["check", "conv-arithmetic", "c5.shape", text, "--secret", "k", "--student", "zoe", "--json"]
    )
    assert json.loads(mine.output)["status"] == "correct"
    numbered = to_json(*_answer("conv-arithmetic", "c5.shape", variant_key(seed=3)))
    by_seed = runner.invoke(app, ["check", "conv-arithmetic", "c5.shape", str(numbered), "--seed", "3", "--json"])
    assert json.loads(by_seed.output)["status"] == "correct"


@pytest.mark.parametrize(
    "options",
    [["--student", "zoe"], ["--secret", "k"], ["--seed", "3", "--student", "zoe"], ["--seed", "3", "--secret", "k"]],
)
def test_a_student_id_alone_or_a_mix_of_seed_and_secret_is_refused(options: list[str]) -> None:
    """The service draws a student's numbers with a secret: the id alone reproduces nothing."""
    result = runner.invoke(app, ["check", "conv-arithmetic", "c5.shape", "1x1x1", *options])
    assert result.exit_code == 2 and ("--secret" in result.output or "--seed" in result.output)


def test_check_an_unknown_key_lists_the_keys() -> None:
    result = runner.invoke(app, ["check", "rgb-convolution", "q42.shape", "1"])
    assert result.exit_code == 2
    assert "q7.shape" in result.output


def test_check_keeps_the_sets_spelling_of_a_key() -> None:
    """A key typed in another case is the set's key, printed as the set spells it; a near miss is named."""
    typed = runner.invoke(app, ["check", "rgb-convolution", "Q11.r", "[[1, 1], [1, 1]]", "--json"])
    assert typed.exit_code == 0, typed.output
    assert json.loads(typed.stdout) | {"key": "q11.R", "status": "correct"} == json.loads(typed.stdout)
    plain = runner.invoke(app, ["check", "rgb-convolution", "q11.R", "[[1, 1], [1, 1]]"])
    assert plain.stdout.startswith("q11.R: correct")
    missed = runner.invoke(app, ["check", "rgb-convolution", "q9.param", "528"])
    assert missed.exit_code == 2 and "Did you mean q9.params" in missed.output


def _submissions_file(tmp_path: Path) -> Path:
    lines = [
        json.dumps({"student": "s1", "answers": RIGHT}),
        "this is not json",
        json.dumps({"student": "s2", "answers": {"t1c.padding": "2", "t1d.kernel": "8", "x.y": 1}}),
        json.dumps({"answers": {}}),
        "",
        json.dumps({"student": "s3", "answers": {"t1g.total": "idk"}}),
    ]
    path = tmp_path / "in.jsonl"
    path.write_text("\n".join(lines) + "\n")
    return path


def test_grade_jsonl_reports_bad_lines_and_grades_the_rest(tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    result = runner.invoke(
        app, ["grade", str(_submissions_file(tmp_path)), "--set", "cifar-convnet", "--out", str(out)]
    )
    assert result.exit_code == 0
    assert "in.jsonl:2: skipped: not valid JSON" in result.output
    assert "in.jsonl:4: skipped: 'student' must be a non-empty string" in result.output
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["student"] for r in records] == ["s1", "s2", "s3"]
    assert records[0]["score"] == records[0]["max_score"] == len(RIGHT)
    assert records[1]["parts"]["t1d.kernel"]["status"] == "incorrect"
    assert records[1]["unknown_keys"] == ["x.y"]
    assert records[2]["parts"]["t1g.total"]["status"] == "invalid"
    assert {"student", "set", "score", "max_score", "parts"} <= set(records[0])
    assert "answer keys cifar-convnet does not have, not graded: x.y (1 submission)" in result.output


def test_grade_csv_in_and_out(tmp_path: Path) -> None:
    source = tmp_path / "in.csv"
    keys = list(RIGHT)
    with source.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["student", *keys])
        writer.writerow(["s1", *(json.dumps(RIGHT[k]) if isinstance(RIGHT[k], list) else RIGHT[k] for k in keys)])
        writer.writerow(["s2", "too", "few"])
        writer.writerow(["s3", *([""] * len(keys))])
    out = tmp_path / "out.csv"
    result = runner.invoke(app, ["grade", str(source), "--set", "cifar-convnet", "--format", "csv", "--out", str(out)])
    assert result.exit_code == 0
    assert "in.csv:3: skipped: 3 cells" in result.output
    rows = list(csv.DictReader(io.StringIO(out.read_text())))
    assert [r["student"] for r in rows] == ["s1", "s3"]
    assert float(rows[0]["score"]) == len(keys)
    assert float(rows[1]["score"]) == 0
    assert rows[0]["unknown_keys"] == rows[1]["unknown_keys"] == ""


def test_grade_csv_names_unknown_keys_in_a_column(tmp_path: Path) -> None:
    source = tmp_path / "in.csv"
    source.write_text("student,t1c.padding,x.y,zz\ns1,2,5,\ns2,2,5,7\n")
    out = tmp_path / "out.csv"
    result = runner.invoke(app, ["grade", str(source), "--set", "cifar-convnet", "--format", "csv", "--out", str(out)])
    assert result.exit_code == 0
    rows = list(csv.DictReader(io.StringIO(out.read_text())))
    assert list(rows[0])[-1] == "unknown_keys"
    assert [r["unknown_keys"] for r in rows] == ["x.y", "x.y;zz"]
    assert "x.y (2 submissions), zz (1 submission)" in result.output


def test_grade_csv_refuses_a_header_that_repeats_a_column(tmp_path: Path) -> None:
    source = tmp_path / "in.csv"
    source.write_text("student,t1c.padding, t1c.padding\ns1,2,3\n")
    result = runner.invoke(app, ["grade", str(source), "--set", "cifar-convnet", "--format", "csv"])
    assert result.exit_code == 0
    assert "in.csv:1: skipped: the header repeats 't1c.padding'" in result.output


def test_grade_gradescope_writes_one_results_file_per_student(tmp_path: Path) -> None:
    folder = tmp_path / "results"
    result = runner.invoke(
        app, ["grade", str(_submissions_file(tmp_path)), "--set", "cifar-convnet", "--format", "gradescope",
              "--out", str(folder)],
    )  # fmt: skip
    assert result.exit_code == 0
    s1 = json.loads((folder / "s1" / "results.json").read_text())
    assert s1["score"] == len(RIGHT)
    assert {t["name"] for t in s1["tests"]} == set(RIGHT)
    assert all(t["status"] == "passed" for t in s1["tests"])
    s2 = json.loads((folder / "s2" / "results.json").read_text())
    assert "x.y" in s2["output"]
    assert {t["name"]: t["status"] for t in s2["tests"]}["t1d.kernel"] == "failed"


def test_grade_gradescope_partial_credit_is_not_failed(tmp_path: Path) -> None:
    """(Graded against zoe's variant under the secret: ``--secret`` draws each line's student's.)"""
    variant = variant_key(student="zoe", secret="k")
    answer = [row[:] for row in to_json(*_answer("conv-arithmetic", "c1.output", variant))]
    answer[0][0] += 1
    source = tmp_path / "in.jsonl"
    source.write_text(json.dumps({"student": "zoe", "answers": {"c1.output": answer}}) + "\n")
    folder = tmp_path / "results"
    result = runner.invoke(
        app,
        [
            "grade",
            str(source),
            "--set",
            "conv-arithmetic",
            "--secret",
            "k",
            "--format",
            "gradescope",
            "--out",
            str(folder),
        ],
    )
    assert result.exit_code == 0
    test = json.loads((folder / "zoe" / "results.json").read_text())["tests"][0]
    part = grade_submission(load_bank()["conv-arithmetic"], {"c1.output": answer}, student=variant).parts["c1.output"]
    assert (test["name"], test["score"], part.status.value) == ("c1.output", part.score, "partial")
    assert test["status"] == "passed" and test["output"].startswith("Partial credit")


def test_grade_without_a_secret_uses_the_declared_numbers(tmp_path: Path) -> None:
    declared = to_json(*_answer("conv-arithmetic", "c1.output", None))
    source = tmp_path / "in.jsonl"
    source.write_text(json.dumps({"student": "zoe", "answers": {"c1.output": declared}}) + "\n")
    result = runner.invoke(app, ["grade", str(source), "--set", "conv-arithmetic"])
    assert result.exit_code == 0
    assert json.loads(result.stdout.splitlines()[0])["parts"]["c1.output"]["status"] == "correct"


def test_grade_warns_when_a_randomized_set_is_graded_on_its_declared_numbers(tmp_path: Path) -> None:
    source = tmp_path / "in.jsonl"
    source.write_text(json.dumps({"student": "zoe", "answers": {"c1.output": "1"}}) + "\n")
    declared = runner.invoke(app, ["grade", str(source), "--set", "conv-arithmetic"])
    assert declared.exit_code == 0 and "warning: conv-arithmetic is randomized and no --secret" in declared.stderr
    assert "declared numbers" in declared.stderr and "warning" not in declared.stdout
    drawn = runner.invoke(app, ["grade", str(source), "--set", "conv-arithmetic", "--secret", "k"])
    assert drawn.exit_code == 0 and "warning" not in drawn.stderr
    fixed = tmp_path / "fixed.jsonl"
    fixed.write_text(json.dumps({"student": "zoe", "answers": RIGHT}) + "\n")
    assert "warning" not in runner.invoke(app, ["grade", str(fixed), "--set", "cifar-convnet"]).stderr


@pytest.mark.parametrize("workers", [1, 2])
def test_grade_with_workers_keeps_input_order(tmp_path: Path, workers: int) -> None:
    source = tmp_path / "many.jsonl"
    source.write_text(
        "".join(json.dumps({"student": f"s{i:04d}", "answers": {"t1c.padding": i % 4}}) + "\n" for i in range(700))
    )
    out = tmp_path / f"out{workers}.jsonl"
    result = runner.invoke(
        app, ["grade", str(source), "--set", "cifar-convnet", "--workers", str(workers), "--out", str(out)]
    )
    assert result.exit_code == 0
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["student"] for r in records] == [f"s{i:04d}" for i in range(700)]
    assert [r["parts"]["t1c.padding"]["status"] for r in records[:4]] == [
        "incorrect",
        "incorrect",
        "correct",
        "incorrect",
    ]


def test_grade_gradescope_keeps_students_apart_whose_ids_look_alike(tmp_path: Path) -> None:
    source = tmp_path / "in.jsonl"
    students = ["s/1", "s_1", "S_1", "..", "s1"]
    source.write_text("".join(json.dumps({"student": s, "answers": {}}) + "\n" for s in students))
    folder = tmp_path / "results"
    result = runner.invoke(
        app, ["grade", str(source), "--set", "cifar-convnet", "--format", "gradescope", "--out", str(folder)]
    )
    assert result.exit_code == 0
    folders = [p for p in folder.iterdir() if (p / "results.json").is_file()]
    assert len({p.name.casefold() for p in folders}) == len(students)
    assert (folder / "s1").is_dir() and (folder / "s_1").is_dir()


@pytest.mark.parametrize("output_format", ["jsonl", "csv", "gradescope"])
def test_grade_a_later_line_for_a_student_is_reported_and_skipped(tmp_path: Path, output_format: str) -> None:
    lines = [
        {"student": "s1", "answers": RIGHT},
        {"student": "s2", "answers": {}},
        {"student": " s1", "answers": {"t1c.padding": "0"}},
        {"student": "s3", "answers": {}},
        {"student": "s2", "answers": RIGHT},
    ]
    source = tmp_path / "in.jsonl"
    source.write_text("".join(json.dumps(line) + "\n" for line in lines))
    out = tmp_path / "out"
    result = runner.invoke(
        app, ["grade", str(source), "--set", "cifar-convnet", "--format", output_format, "--out", str(out)]
    )
    assert result.exit_code == 0
    assert "in.jsonl:3: skipped: student 's1' already graded from line 1" in result.output
    assert "in.jsonl:5: skipped: student 's2' already graded from line 2" in result.output
    assert "graded 3 submissions" in result.output
    if output_format == "gradescope":
        scores = {p.name: json.loads((p / "results.json").read_text())["score"] for p in out.iterdir()}
    elif output_format == "csv":
        scores = {r["student"]: float(r["score"]) for r in csv.DictReader(io.StringIO(out.read_text()))}
    else:
        scores = {r["student"]: r["score"] for r in map(json.loads, out.read_text().splitlines())}
    assert scores == {"s1": len(RIGHT), "s2": 0, "s3": 0}
    if output_format != "gradescope":
        assert list(scores) == ["s1", "s2", "s3"]


def test_grade_with_workers_refuses_a_student_seen_in_another_chunk(tmp_path: Path) -> None:
    lines = [json.dumps({"student": f"s{i:04d}", "answers": {"t1c.padding": 2}}) for i in range(600)]
    lines.insert(550, json.dumps({"student": "s0003", "answers": {}}))
    source = tmp_path / "many.jsonl"
    source.write_text("\n".join(lines) + "\n")
    out = tmp_path / "out.jsonl"
    result = runner.invoke(app, ["grade", str(source), "--set", "cifar-convnet", "--workers", "2", "--out", str(out)])
    assert result.exit_code == 0
    assert "many.jsonl:551: skipped: student 's0003' already graded from line 4" in result.output
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["student"] for r in records] == [f"s{i:04d}" for i in range(600)]
    assert records[3]["parts"]["t1c.padding"]["status"] == "correct"


def test_grade_takes_a_set_file(tmp_path: Path) -> None:
    source = tmp_path / "in.jsonl"
    source.write_text(json.dumps({"student": "s1", "answers": RIGHT}) + "\n")
    result = runner.invoke(app, ["grade", str(source), "--set", str(BUILT_IN / "cifar-convnet.yaml")])
    assert result.exit_code == 0
    assert json.loads(result.stdout.splitlines()[0])["score"] == len(RIGHT)


def test_grade_help_explains_the_formats_and_the_rules() -> None:
    result = runner.invoke(app, ["grade", "--help"])
    text = " ".join(result.output.split())
    said = ['{"student": "s1", "answers":', "a student column and one column per answer key", "unknown_keys column"]
    said += ["FILE:LINE: skipped", "(the first line counts)"]
    assert [s for s in said if s not in text] == []


def test_grade_an_unknown_format_is_a_clear_error(tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["grade", str(_submissions_file(tmp_path)), "--set", "cifar-convnet", "--format", "xml"]
    )
    assert result.exit_code == 2
    assert "use csv, jsonl or gradescope" in result.output


def _answer(set_id: str, key: str, student: str | None) -> tuple[object, object]:
    answer = load_bank()[set_id].solve(student)[key]
    return answer.kind, answer.value


def test_grade_gradescope_leaves_written_parts_to_be_graded_by_hand(tmp_path: Path) -> None:
    source = tmp_path / "in.jsonl"
    answers = {"w3.depth": "90", "w4.nms": "Non-maximum suppression.", "w2.why": ""}
    source.write_text(json.dumps({"student": "s1", "answers": answers}) + "\n")
    folder = tmp_path / "results"
    result = runner.invoke(
        app,
        ["grade", str(source), "--set", "architectures-in-words", "--format", "gradescope", "--out", str(folder)],
    )
    assert result.exit_code == 0, result.output
    s1 = json.loads((folder / "s1" / "results.json").read_text())
    names = {t["name"] for t in s1["tests"]}
    assert "w3.depth" in names and "w4.nms" not in names and "w2.why" in names  # pending out; unanswered in
    assert s1["score"] == 1.0 and "(w1.differences" not in s1["output"] and "w4.nms" in s1["output"]
    csv = runner.invoke(app, ["grade", str(source), "--set", "architectures-in-words", "--format", "csv"])
    assert csv.exit_code == 0 and "s1,1.0,9.0,0.0,0.0,1.0,0.0,," in csv.output  # pending: an empty cell


@pytest.mark.parametrize(
    ("lines", "workers", "size"),
    [(2, 2, 1), (300, 2, 38), (511, 2, 64), (100_000, 2, 256), (300, 1, 256), (3, 8, 1)],
)
def test_every_worker_gets_work_from_two_submissions_up(lines: int, workers: int, size: int) -> None:
    """A class of 300 on 2 workers is cut in chunks of 38 (4 per worker), not one of 256 and one of
    44 that left the second worker nearly idle; big batches keep chunks of 256."""
    from cli.batch import chunk_size

    assert chunk_size(lines, workers) == size
    chunks = -(-lines // size)
    assert chunks >= min(lines, workers)


def test_a_graded_line_is_the_text_json_writes_for_its_record() -> None:
    """A JSON Lines record is put together from each part's remembered text: for every built-in set,
    right, wrong and unreadable answers (the parts graded by hand or run as code included), a
    student whose id is not ASCII and keys the set does not have, it is the text ``json.dumps``
    writes for the record, the second time (parts' texts remembered) as the first."""
    from cli.batch import graded_record, jsonl_line

    for problem_set in load_bank().values():
        right = {key: to_json(answer.kind, answer.value) for key, answer in problem_set.solve().items()}
        keys = problem_set.answer_keys()
        for answers in (
            right,
            {key: "idk" for key in keys} | {"not.a.key": 1},
            {key: [[1, 2], [3]] for key in keys[::2]},
            {},
        ):
            for student in ("s1", "Zoë \u201cO'Brien\u201d 学生"):
                graded = grade_submission(problem_set, answers)
                expected = json.dumps(graded_record(student, graded), separators=(",", ":")) + "\n"
                assert jsonl_line(student, graded) == expected == jsonl_line(student, graded)


def test_grade_takes_a_problems_module_once_for_its_code_parts() -> None:
    """A line answering problem ``conv`` once is each of its code parts' answer (queued: no sandbox
    here); a line answering a part both ways, with different modules, is reported and skipped."""
    module = "def conv_forward(x, w, b, stride=1, pad=0):\n    return x\n"
    lines = [
        {"student": "s1", "answers": {"conv": module}},
        {"student": "s2", "answers": {"conv": module, "conv.backward": "def conv_backward():\n    pass\n"}},
    ]
    items = [(number, json.dumps(line)) for number, line in enumerate(lines, start=1)]
    first, second = grade_items(load_bank()["numpy-convolution"], items, "json", [])
    assert isinstance(first, Graded) and first.unknown_keys == ()
    parts = first.output["parts"]
    assert (parts["conv.forward"]["status"], parts["conv.backward"]["status"]) == ("queued", "queued")
    assert parts["pool.forward"]["status"] == "unanswered"
    assert isinstance(second, BadLine) and second.line == 2 and "also has a module of its own" in second.reason
