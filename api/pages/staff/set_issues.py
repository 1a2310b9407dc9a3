"""A refused set file's issues (the upload's 422 detail: ``line``, ``column``, ``field``,
``message``, as :func:`api.assignments.sets.upload` reports them) placed beside the lines of the
file they are about, so the author sees the line marked, as an editor would show it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

#: Lines shown before and after the line an issue is at.
AROUND = 2


@dataclass(frozen=True)
class SourceLine:
    number: int
    text: str
    marked: bool


@dataclass(frozen=True)
class PlacedIssue:
    """One issue, and the lines around it (none when the issue has no line, e.g. a whole-file one)."""

    line: int | None
    column: int | None
    field: str | None
    message: str
    excerpt: tuple[SourceLine, ...]

    @property
    def where(self) -> str:
        """``LINE:COLUMN`` as ``grader sets validate`` prints it (``-`` without a line)."""
        if self.line is None:
            return "-"
        return f"{self.line}:{self.column}" if self.column is not None else str(self.line)

    @property
    def caret(self) -> int | None:
        """Spaces before the ``^`` under the marked line (the column, 1-based, as reported)."""
        return None if self.column is None or self.line is None else max(self.column - 1, 0)


def place_issues(text: str, detail: Any) -> list[PlacedIssue]:
    """Each issue of ``detail`` (a list of issues, or one sentence) with its excerpt of ``text``,
    in the order of their lines (issues without one first)."""
    if not isinstance(detail, list):
        return [PlacedIssue(None, None, None, str(detail), ())]
    lines = text.splitlines()
    placed = []
    for issue in detail:
        line = _int(issue.get("line")) if isinstance(issue, dict) else None
        column = _int(issue.get("column")) if isinstance(issue, dict) else None
        field = issue.get("field") if isinstance(issue, dict) else None
        message = str(issue.get("message", issue)) if isinstance(issue, dict) else str(issue)
        excerpt: tuple[SourceLine, ...] = ()
        if line is not None and 1 <= line <= len(lines):
            first, last = max(1, line - AROUND), min(len(lines), line + AROUND)
            excerpt = tuple(SourceLine(n, lines[n - 1], n == line) for n in range(first, last + 1))
        placed.append(PlacedIssue(line, column, str(field) if field else None, message, excerpt))
    return sorted(placed, key=lambda issue: (issue.line or 0, issue.column or 0))


def _int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None
