"""``grader similarity``: a file of submissions → the ranked pairs (a table, or JSON), the set's
solutions and the starter set aside, bad lines named."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli.app import app
from harness.cnn_class import make_class

KEYS = ("conv.forward", "conv.backward", "pool.forward", "pool.backward")


@pytest.fixture(scope="module")
def class_file(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, tuple[str, str]]:
    planted = make_class(24, copies=1, chains=0, seed=5)
    path = tmp_path_factory.mktemp("similarity") / "class.jsonl"
    lines = [json.dumps({"student": s, "answers": dict.fromkeys(KEYS, text)}) for s, text in planted.texts.items()]
    lines.insert(3, "not json")
    lines.append(json.dumps({"student": "s0000", "answers": {}}))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path, planted.copies[0]


def test_the_planted_pair_heads_the_json_report(class_file: tuple[Path, tuple[str, str]]) -> None:
    path, (copy, source) = class_file
    result = CliRunner().invoke(app, ["similarity", str(path), "--set", "numpy-convolution", "--json", "--top", "5"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["students"] == 24 and report["pairs_compared"] == 24 * 23 // 2
    best = report["pairs"][0]
    assert best["students"] == sorted([copy, source]) and best["score"] > 0.9
    assert set(best["parts"]) == set(KEYS) and best["shared_tokens"] > 100 and best["same_mistakes"] == []
    assert len(report["pairs"]) == 5
    assert f"{path}:4: skipped: not valid JSON" in result.stderr
    assert "already read" in result.stderr


def test_the_table_and_a_past_term_as_reference(class_file: tuple[Path, tuple[str, str]], tmp_path: Path) -> None:
    path, (_, source) = class_file
    text = json.loads(next(line for line in path.read_text().splitlines() if f'"{source}"' in line))["answers"][
        "conv.forward"
    ]
    (tmp_path / "old.py").write_text(text, encoding="utf-8")
    result = CliRunner().invoke(
        app, ["similarity", str(path), "--set", "numpy-convolution", "--reference", str(tmp_path), "--top", "3"]
    )
    assert result.exit_code == 0, result.output
    assert "Similar pairs of 24 submissions" in result.stdout
    assert "reference:old.py" in result.stdout and "1.00" in result.stdout


def test_an_unknown_part_is_refused_with_the_parts_there_are(class_file: tuple[Path, tuple[str, str]]) -> None:
    path, _ = class_file
    result = CliRunner().invoke(app, ["similarity", str(path), "--set", "numpy-convolution", "--part", "nope"])
    assert result.exit_code == 2
    assert "No code part nope in numpy-convolution" in result.stderr and "conv.forward" in result.stderr
