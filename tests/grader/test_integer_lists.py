"""An answer that is a list of integers (``integer_list``): YOLOv3's three grid sizes, the sides
of the maps a Darknet-53 backbone makes at strides 32, 16 and 8 (torch runs the five stride-2
convolutions), read as students write them and graded in order."""

from __future__ import annotations

import json

import pytest
import torch
from torch import nn

from grader.engine import grade_submission
from grader.results import Status
from problems.loader import load_set
from problems.sets import ProblemSet


@pytest.fixture(scope="module")
def yolo(tmp_path_factory: pytest.TempPathFactory) -> ProblemSet:
    problem = {"id": "y", "title": "YOLOv3", "type": "yolo", "version": "v3", "classes": 80, "input_size": 416}
    problem["parts"] = [{"key": "grids", "quantity": "grids"}]
    path = tmp_path_factory.mktemp("lists") / "yolo.yaml"
    path.write_text(json.dumps({"id": "yolo", "title": "YOLOv3", "problems": [problem]}))
    return load_set(path)


def darknet_grids(side: int) -> list[int]:
    """The map sides after 3, 4 and 5 stride-2 3×3 convolutions (strides 8, 16, 32), largest stride first."""
    x, sides = torch.zeros(1, 1, side, side), []
    with torch.no_grad():
        for _ in range(5):
            x = nn.Conv2d(1, 1, 3, 2, 1)(x)
            sides.append(x.shape[-1])
    return [sides[4], sides[3], sides[2]]


def grade(problem_set: ProblemSet, answer: object) -> tuple[Status, float, str]:
    part = grade_submission(problem_set, {"y.grids": answer}).parts["y.grids"]
    return part.status, part.score, part.feedback


@pytest.mark.parametrize(
    "written",
    [
        "{0}, {1}, {2}",
        "[{0}, {1}, {2}]",
        "({0}; {1}; {2})",
        "{0} {1} {2}",
        "{0}\n{1}\n{2}",
        "{0}x{0}, {1}x{1}, {2}x{2}",
        "{0} → {1} → {2}",  # a sequence by arrows: every item, not a working ending in the last
        "{0} -> {1} -> {2}",
        "[{0} ⟶ {1} ⟶ {2}]",
        "array([{0}, {1}, {2}])",
        "Out[2]: [{0}, {1}, {2}]",
    ],
)
def test_the_grid_sizes_are_read_as_students_write_them(yolo: ProblemSet, written: str) -> None:
    grids = darknet_grids(416)
    assert grade(yolo, written.format(*grids))[0] is Status.CORRECT
    assert grade(yolo, grids)[0] is Status.CORRECT  # a JSON list


def test_order_count_and_one_wrong_size_are_told_apart(yolo: ProblemSet) -> None:
    a, b, c = darknet_grids(416)
    assert grade(yolo, f"{c}, {b}, {a}") == (Status.INCORRECT, 0.0, "The numbers are right but in the wrong order.")
    assert grade(yolo, f"{a}, {b}")[0] is Status.INCORRECT
    status, score, feedback = grade(yolo, f"{a}, {b}, {c + 1}")
    assert (status, round(score, 3), feedback) == (Status.PARTIAL, 0.667, "2 of 3 are right; check number 3.")


@pytest.mark.parametrize("answer", ["13, 26.5, 52", "13, 26, 52%", "13 or 26", "[]"])
def test_what_is_not_a_list_of_whole_numbers_is_unreadable(yolo: ProblemSet, answer: str) -> None:
    assert grade(yolo, answer)[0] is Status.INVALID
