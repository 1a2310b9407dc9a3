"""Set files' texts for the tests: those that must not load, read as the loader refuses them
(``tests/problems``), a set whose solution is slow on purpose (the set checks' budgets), and an
affine layer's code part with the mistakes a test declares (the code runs')."""

from __future__ import annotations

import pytest

from problems.issues import Issue, SetFileError
from problems.loader import parse_set


def issues_of(text: str, source: str = "set.yaml") -> list[Issue]:
    """Every issue the loader finds in ``text``; fails the test where the text loads."""
    with pytest.raises(SetFileError) as refused:
        parse_set(text, source)
    return refused.value.issues


def sleeping_set(set_id: str, *, seconds: float, tests: int) -> str:
    """A set whose code part's solution sleeps ``seconds`` in each of its ``tests`` (then doubles its
    input): its check holds a sandbox for ``seconds × tests`` a draw, whatever the machine's load."""
    names = "\n".join(f"          - {{name: t{index}}}" for index in range(tests))
    return f"""\
id: {set_id}
title: A sleeping solution
problems:
  - id: q1
    type: code
    solution: |
      import time


      def double(x):
          time.sleep({seconds})
          return 2 * x
    parts:
      - key: twice
        driver: |
          return {{"out": student.double(x)}}
        outputs: {{out: equal}}
        inputs:
          x: {{shape: [3]}}
        tests:
{names}
"""


#: The solution of :func:`affine_set`'s code part.
AFFINE_SOLUTION = """\
import numpy as np


def affine_forward(x, w, b):
    out = x.reshape(x.shape[0], -1) @ w + b
    return out, (x, w, b)
"""


def affine_set(set_id: str, mistakes: str) -> str:
    """A set of one code part, ``layers.affine``: :data:`AFFINE_SOLUTION` on two tests, 6 s a test,
    with ``mistakes`` (the YAML list's items, indented for the part)."""
    solution = "".join(f"      {line}\n" if line else "\n" for line in AFFINE_SOLUTION.splitlines())
    return f"""\
id: {set_id}
title: An affine layer
problems:
  - id: layers
    type: code
    solution: |
{solution}    parts:
      - key: affine
        driver: |
          out, cache = student.affine_forward(x, w, b)
          return {{"out": out}}
        inputs:
          x: {{shape: [N, D]}}
          w: {{shape: [D, M]}}
          b: {{shape: [M]}}
        outputs: {{out: equal}}
        time: 6
        mistakes:
{mistakes}        tests:
          - {{name: a batch, N: 3, D: 4, M: 4}}
          - {{name: a wider layer, N: 2, D: 3, M: 5}}
"""
