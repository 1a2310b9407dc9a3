"""The gradebook page's table: its columns, and sorting its rows by any of them on the server, so
that a header link sorts without JavaScript.

A row is one student of :func:`api.reports.service.gradebook`. Sorting never drops or changes a
row: an empty cell (no submission, no extension) sorts after every value in either direction, and
rows that tie keep the gradebook's order (by student id).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from api.kit.errors import Unprocessable

Order = Literal["asc", "desc"]
#: The sort parameter of a key's column: ``key:`` and the answer key (``key:q1.a``).
KEY_PREFIX = "key:"


@dataclass(frozen=True, slots=True)
class Column:
    """``id`` is the value of ``?sort=``; ``value`` what the column sorts by (None: an empty cell)."""

    id: str
    label: str
    value: Callable[[dict[str, Any]], Any]
    numeric: bool = False


def _text(field: str) -> Callable[[dict[str, Any]], Any]:
    return lambda row: row[field].casefold() if row[field] else None


def _field(field: str) -> Callable[[dict[str, Any]], Any]:
    return lambda row: row[field]


def _part(key: str) -> Callable[[dict[str, Any]], Any]:
    return lambda row: row["parts"].get(key)


def _extension(row: dict[str, Any]) -> Any:
    """Extended rows first, the latest due date first when descending; a limit-only extension
    sorts by its attempt limit after the dated ones."""
    extension = row["extension"]
    if extension is None:
        return None
    due_at: datetime | None = extension["due_at"]
    return (due_at is None, due_at.timestamp() if due_at else 0.0, extension["max_attempts"] or 0)


def columns(keys: Sequence[str]) -> list[Column]:
    """The table's columns in page order: who, the attempts, the counted attempt's lateness and
    score, one per answer key, then the extension."""
    return [
        Column("student", "Student", _text("student")),
        Column("name", "Name", _text("name")),
        Column("attempts", "Attempts", _field("attempts"), numeric=True),
        Column("attempt", "Counted", _field("attempt"), numeric=True),
        Column("late", "Late", _field("minutes_late"), numeric=True),
        Column("score", "Score", _field("score"), numeric=True),
        *(Column(KEY_PREFIX + key, key, _part(key), numeric=True) for key in keys),
        Column("extension", "Extension", _extension),
    ]


def column_named(table: Sequence[Column], sort: str) -> Column:
    """The column ``?sort=`` names; :class:`Unprocessable` for one the table does not have."""
    for column in table:
        if column.id == sort:
            return column
    known = ", ".join(column.id for column in table)
    raise Unprocessable(f"The gradebook cannot be sorted by {sort!r}: sort by one of {known}.")


def sort_rows(rows: Sequence[dict[str, Any]], column: Column, order: Order) -> list[dict[str, Any]]:
    """``rows`` by ``column`` (stable: ties keep their order), empty cells last either way."""
    filled = [row for row in rows if column.value(row) is not None]
    empty = [row for row in rows if column.value(row) is None]
    return sorted(filled, key=column.value, reverse=order == "desc") + empty


#: Rows on one page of the table (a course of 1,000 students is ten pages, not a megabyte).
PAGE_SIZE = 100


@dataclass(frozen=True, slots=True)
class Page:
    """One page of the sorted (and filtered) rows: ``number`` from 1, of ``pages``."""

    rows: list[Any]
    number: int
    pages: int
    total: int
    first: int

    @property
    def last(self) -> int:
        return self.first + len(self.rows) - 1


def matching(rows: Sequence[dict[str, Any]], text: str) -> list[dict[str, Any]]:
    """The rows whose student id or name contains ``text`` (any case); every row for no text."""
    wanted = text.strip().casefold()
    if not wanted:
        return list(rows)
    return [row for row in rows if wanted in row["student"].casefold() or wanted in (row["name"] or "").casefold()]


def page_of(rows: Sequence[Any], number: int, size: int = PAGE_SIZE) -> Page:
    """Page ``number`` of ``rows`` (a number past the last gives the last page)."""
    pages = max(1, -(-len(rows) // size))
    number = min(max(1, number), pages)
    start = (number - 1) * size
    return Page(list(rows[start : start + size]), number, pages, len(rows), start + 1)
