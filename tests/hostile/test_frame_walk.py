"""A student's code that looks for what it should not see, through the running service: on the
seed coursework's Sobel filter (a visible test on assignment 3's own 3×5 image, one on a 6×7 image,
a hidden one on a 5×5 image and a kernel drawn for the student), the student's function keeps every
input it is handed, walks up its frames and through every object the collector tracks, and raises
what it found: the driver's text, and every image. Before, the first visible test's message showed
the driver's whole text and the hidden image (the process read every test's inputs and the driver
before its first call); now what the student reads holds the visible tests' own inputs only."""

from __future__ import annotations

import time
from typing import Any

import pytest

from tests.sandbox.probes import REACHABLE

from hostile_service import Hostile

KEY = "sobel.filter"
#: A piece of the part's driver, as the student's module looks for it (written backwards there:
#: its own text is in the process too) and shows it (backwards, so that the service's own check on
#: messages is not what hides it).
PIECE = "student.filter2d(image, kernel)"
ATTACK = f"""
import gc, sys
import numpy as np

PIECE = {PIECE[::-1]!r}[::-1]
KEPT = []

{REACHABLE}

def filter2d(image, kernel):
    KEPT.append(image)
    shapes, images, texts = set(), [], set()
    for root in (*_reachable(), *KEPT):
        for value in (root, *gc.get_referents(root)):
            if type(value) is np.ndarray and value.ndim == 2:
                shapes.add(value.shape)
                if value.shape == (5, 5):
                    images.append(value.tolist())
            elif isinstance(value, (str, bytes, bytearray)) and value is not PIECE:
                text = value if isinstance(value, str) else bytes(value).decode("latin-1")
                if PIECE in text:
                    texts.add(text[text.find(PIECE) - 10 : text.find(PIECE) + 40][::-1])
    raise ValueError(f"shapes {{sorted(shapes)}} driver {{sorted(texts)}} hidden {{images[:1]}}")
"""


@pytest.fixture(scope="module")
def student(hostile: Hostile) -> str:
    made = hostile.api(
        "POST",
        f"/courses/{hostile.attacker_course}/assignments",
        json={"id": "walk", "problem_set": "seed-code-tasks"},
    )
    assert made.status_code == 201, made.text
    return str(hostile.enrol(hostile.attacker_course, "walker")["token"])


def _graded(hostile: Hostile, token: str, submission: int) -> dict[str, Any]:
    deadline = time.monotonic() + 120  # a bound against a hang: the run takes well under a second
    while True:  # (a ?wait= read is answered as soon as the result is written)
        response = hostile.api("GET", f"/submissions/{submission}?wait=10", token)
        assert response.status_code == 200, response.text
        part = dict(response.json()["parts"][KEY])
        if part["status"] not in ("queued", "running"):
            return part
        assert time.monotonic() < deadline, part


def test_a_visible_tests_message_holds_neither_the_driver_nor_the_hidden_image(hostile: Hostile, student: str) -> None:
    path = f"/courses/{hostile.attacker_course}/assignments/walk/submissions"
    made = hostile.api("POST", path, student, json={"answers": {KEY: ATTACK}})
    assert made.status_code == 201, made.text
    part = _graded(hostile, student, made.json()["id"])
    shown = {test["name"]: test["feedback"] for test in part["tests"]}
    assert "Hidden tests" in shown and len(shown) == 3, shown  # two visible tests and the hidden ones' count
    own = shown["assignment 3's own 3×5 image"]
    assert "(3, 5)" in own, own  # (the walk finds what it looks for: the test's own image)
    everything = " ".join(shown.values())
    assert "(5, 5)" not in everything and "hidden [[" not in everything, everything
    assert PIECE[::-1][:12] not in everything and PIECE not in everything, everything
