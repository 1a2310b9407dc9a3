"""Which of a code part's tests a reader may see: staff see every test; a student sees the visible
ones, the ``after_close`` ones once the assignment has closed, and of the hidden ones only how many
there are and how many passed (their names and details would tell what they try)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

HIDDEN_NAME = "Hidden tests"


def visible_tests(part_json: Mapping[str, Any], *, staff: bool, after_close: bool) -> list[dict[str, Any]]:
    """The tests of a stored part (``GradedPart.to_json``) as the reader sees them: staff every one;
    students the visible ones, the after-close ones once closed, and the hidden ones (and the
    after-close ones before the close) summed into one line each, with no name nor detail."""
    tests = part_json.get("tests")
    if not isinstance(tests, list):
        return []
    if staff:
        return [dict(test) for test in tests]
    shown: list[dict[str, Any]] = []
    withheld: dict[str, list[Mapping[str, Any]]] = {"hidden": [], "after_close": []}
    for test in tests:
        visibility = test.get("visibility", "visible")
        if visibility == "visible" or (visibility == "after_close" and after_close):
            shown.append(dict(test))
        else:
            withheld.setdefault(visibility, []).append(test)
    for visibility, group in withheld.items():
        if group:
            shown.append(_summary(visibility, group))
    return shown


def _summary(visibility: str, group: list[Mapping[str, Any]]) -> dict[str, Any]:
    """A group of withheld tests as one line: how many, how many passed, their points."""
    passed = sum(test.get("status") == "correct" for test in group)
    when = "shown after the assignment closes" if visibility == "after_close" else "not shown"
    return {
        "name": HIDDEN_NAME if visibility == "hidden" else "Tests shown after the close",
        "status": "correct" if passed == len(group) else "incorrect",
        "score": round(sum(float(test.get("score") or 0.0) for test in group), 6),
        "max_score": round(sum(float(test.get("max_score") or 0.0) for test in group), 6),
        "feedback": f"{passed} of {len(group)} tests passed ({when}).",
        "misconception": None,
        "visibility": visibility,
        "count": len(group),
        "passed": passed,
    }
