"""``grader sets validate --mutants``: the standard slips applied to a solution on its syntax tree,
each graded through the real sandbox, and those every test passes listed. The case that motivates
it: CS231n's commonest backward-pass bug, ``dx_pad[:, :, pad:-pad, pad:-pad]`` (empty at pad 0),
passes a part whose tests all pad; one test at pad 0 catches it. (The built-in ``conv.backward``
kind now names that slip itself, and refuses a set without a test at pad 0.)"""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from cli.app import app
from cli.mutations import mutants
from problems.loader import load_bank

SOLUTION = load_bank()["numpy-convolution"].solution_of("conv.backward")
runner = CliRunner()

#: A part of the instructor's own (a driver, references from the solution) whose tests all pad.
SET = """\
id: crops
title: Crops
problems:
  - id: conv
    type: code
    solution: |
{solution}
    parts:
      - key: backward
        driver: |
          dx, dw, db = student.conv_backward(dout, x, w, b, stride, pad)
          return {{"dx": dx, "dw": dw, "db": db}}
        inputs:
          x: {{shape: [N, C, H, H]}}
          w: {{shape: [F, C, K, K]}}
          b: {{shape: [F]}}
          dout: {{shape: [N, F, (H + 2 * pad - K) // stride + 1, (H + 2 * pad - K) // stride + 1]}}
        outputs: {{dx: equal, dw: equal, db: equal}}
        tests:
          - {{name: a batch, N: 2, C: 3, H: 5, F: 2, K: 3, stride: 1, pad: 1}}
          - {{name: another, N: 2, C: 2, H: 6, F: 3, K: 3, stride: 2, pad: 2}}
{more}"""


def _file(folder: Path, more: str = "") -> Path:
    body = "".join(f"      {line}\n" if line else "\n" for line in SOLUTION.splitlines())
    path = folder / "crops.yaml"
    path.write_text(SET.format(solution=body.rstrip("\n"), more=more), encoding="utf-8")
    return path


def test_each_standard_mutation_is_made_once_on_the_tree() -> None:
    found = mutants(SOLUTION)
    kinds = {mutant.what for mutant in found}
    assert kinds == {
        "`+=` made `=`",
        "a `+ b` term dropped",
        "`//` made `/`",
        "a loop bound off by one",
        "a crop written `[p:-p]`",
        "a kernel flipped",
    }
    crops = [mutant.source for mutant in found if mutant.what == "a crop written `[p:-p]`"]
    assert any("pad:-pad" in source for source in crops)
    assert len({mutant.source for mutant in found}) == len(found)  # distinct modules
    assert all(mutant.source != SOLUTION for mutant in found)


def test_a_crop_no_test_at_pad_0_catches_is_listed(tmp_path: Path) -> None:
    result = runner.invoke(app, ["sets", "validate", "--mutants", str(_file(tmp_path))])
    assert result.exit_code == 0, result.output
    crop = [line for line in result.output.splitlines() if "a crop written `[p:-p]`" in line]
    assert crop and all("no test catches" in line for line in crop), result.output
    # the accumulation made an assignment is caught by these tests: not listed
    assert "`+=` made `=`" not in result.output
    at_zero = "          - {name: no padding, N: 1, C: 2, H: 4, F: 2, K: 3, stride: 1, pad: 0}\n"
    caught = runner.invoke(app, ["sets", "validate", "--mutants", str(_file(tmp_path, at_zero))])
    assert caught.exit_code == 0, caught.output
    assert "a crop written `[p:-p]`" not in caught.output
