"""Gradescope's side of grading: a ``results.json`` from graded parts, as Gradescope's
autograder specification has it: one test per answer key.

Kept free of the rest of ``cli`` (standard library only) so that an autograder bundle can carry it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

#: How each graded status opens a test's output.
VERDICTS = {
    "correct": "Correct",
    "partial": "Partial credit",
    "incorrect": "Incorrect",
    "unanswered": "Unanswered",
    "invalid": "Could not be read",
}


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
    result: dict[str, Any] = {"score": score}
    if lines:
        result["output"] = _lf("\n".join(lines))
    return {**result, "output_format": "text", "tests": [_test(key, part) for key, part in parts.items()]}


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


def _lf(text: str) -> str:
    """Gradescope asks for Unix line endings in outputs."""
    return text.replace("\r\n", "\n").replace("\r", "\n")
