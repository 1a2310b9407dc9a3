"""A roster file (CSV: ``id,name,email,role``) read into the roster import's payload
(:class:`api.courses.schemas.MembersImport`), each row checked by the import's own schema
(:class:`api.courses.schemas.MemberIn`), so a spreadsheet is held to the same rules as the JSON.

Whatever cannot be imported is reported at its line (the line a row starts on, the header
counted), so an instructor fixes the spreadsheet rather than guessing; a file with any such line
imports nobody, as a JSON import with one bad member would.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field

from pydantic import ValidationError

from api.courses.schemas import MemberIn, MembersImport
from api.pages import validation

#: The columns, in the order a file without a header row gives them.
COLUMNS = ("id", "name", "email", "role")
REQUIRED = ("id", "name")


@dataclass(frozen=True)
class LineError:
    """What is wrong at ``line`` (1 is the file's first line), in ``column`` if one is to blame."""

    line: int
    column: str | None
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: " + (f"{self.column}: " if self.column else "") + self.message


@dataclass(frozen=True)
class Roster:
    """The payload (None when anything is wrong) and what is wrong, by line."""

    members: MembersImport | None
    errors: list[LineError] = field(default_factory=list)


def parse_roster(text: str) -> Roster:
    """The members of a CSV roster. A first row naming the columns (any order and case; ``id``
    and ``name`` required, ``email`` and ``role`` optional) is a header; otherwise the columns are
    :data:`COLUMNS` in that order. Blank lines are skipped; an empty email or role is left out
    (the import's default role is ``student``)."""
    rows, unreadable = _rows(text.removeprefix("\ufeff"))  # (spreadsheets save UTF-8 with a byte-order mark)
    if unreadable:
        return Roster(None, [unreadable])
    if not rows:
        return Roster(None, [LineError(1, None, "the file has no members: one per line, as id,name,email,role")])
    columns, header_errors = _header(rows[0])
    if header_errors:
        return Roster(None, header_errors)
    if columns is None:
        columns = list(COLUMNS)
    else:
        rows = rows[1:]
    members: list[MemberIn] = []
    errors: list[LineError] = []
    for line, cells in rows:
        member = _member(line, cells, columns, errors)
        if member is not None:
            members.append(member)
    if not errors and not members:
        errors.append(LineError(rows[0][0] if rows else 1, None, "the file has a header but no members"))
    if errors:
        return Roster(None, errors)
    try:
        return Roster(MembersImport(members=members))
    except ValidationError as error:  # too many rows: the import's own limit
        return Roster(None, [LineError(1, None, e["msg"]) for e in error.errors()])


def _rows(text: str) -> tuple[list[tuple[int, list[str]]], LineError | None]:
    """Non-blank rows with the line each starts on (a quoted cell may span lines), or where the
    file stops being CSV."""
    reader = csv.reader(io.StringIO(text, newline=""), skipinitialspace=True)
    rows: list[tuple[int, list[str]]] = []
    line = 1
    try:
        for cells in reader:
            if any(cell.strip() for cell in cells):
                rows.append((line, cells))
            line = reader.line_num + 1
    except csv.Error as error:
        return rows, LineError(line, None, f"this is not CSV that can be read: {error}")
    return rows, None


def _header(first: tuple[int, list[str]]) -> tuple[list[str] | None, list[LineError]]:
    """The columns a header row names, or None if the first row is a member."""
    line, cells = first
    names = [cell.strip().lower() for cell in cells]
    if not set(names) & set(COLUMNS):
        return None, []
    errors = [LineError(line, None, f"the header has no {name!r} column") for name in REQUIRED if name not in names]
    for name in sorted({n for n in names if names.count(n) > 1}):
        errors.append(LineError(line, name, "this column is named twice"))
    unknown = [n for n in names if n not in COLUMNS]
    if unknown:
        named = ", ".join(map(repr, unknown))
        errors.append(LineError(line, None, f"unknown columns {named}; the columns are {','.join(COLUMNS)}"))
    return names, errors


def _member(line: int, cells: list[str], columns: list[str], errors: list[LineError]) -> MemberIn | None:
    """The row as a member, checked by the import's schema; its problems go to ``errors``."""
    if len(cells) > len(columns):
        errors.append(LineError(line, None, f"{len(cells)} values, but only {len(columns)} columns"))
        return None
    values = {name: cell.strip() for name, cell in zip(columns, cells, strict=False) if cell.strip()}
    try:
        return MemberIn.model_validate(values)
    except ValidationError as error:
        for problem in error.errors():
            column = str(problem["loc"][0]) if problem["loc"] else None
            message = validation.message(MemberIn, problem)
            errors.append(LineError(line, column, message))
        return None
