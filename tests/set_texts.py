"""Set files' texts for the tests: those that must not load, read as the loader refuses them
(``tests/problems``), and a set whose solution is slow on purpose (the set checks' budgets)."""

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
