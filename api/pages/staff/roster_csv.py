"""A roster file (CSV: ``id,name,email,role``, a header may add ``accommodations``; or Canvas's
gradebook export) read into the roster import's payload (:class:`api.courses.schemas.MembersImport`),
each row checked by the import's own schema (:class:`api.courses.schemas.MemberIn`), so a
spreadsheet is held to the same rules as the JSON.

Whatever cannot be imported is reported at its line (the line a row starts on, the header
counted), so an instructor fixes the spreadsheet rather than guessing; a file with any such line
imports nobody, as a JSON import with one bad member would.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from api.courses.schemas import MemberIn, MembersImport
from api.pages.kit import validation

#: The columns, in the order a file without a header row gives them.
COLUMNS = ("id", "name", "email", "role")
#: The columns a header may name: those, and a student's accommodations (named by a header only,
#: so that a file without one keeps its four columns).
NAMED = (*COLUMNS, "accommodations")
#: What separates the names in an ``accommodations`` cell (``time-1.5; plus-2-days``).
SEPARATOR = ";"
REQUIRED = ("id", "name")
#: Canvas's gradebook export: its student columns (the rest are assignments and totals, ignored).
#: The second row, ``Points Possible``, and rows naming nobody (``Manual Posting``) are no members.
CANVAS_NAME, CANVAS_ID, CANVAS_SIS_USER, CANVAS_SIS_LOGIN = "Student", "ID", "SIS User ID", "SIS Login ID"
CANVAS_COLUMNS = (CANVAS_NAME, CANVAS_ID, CANVAS_SIS_USER, CANVAS_SIS_LOGIN)
CANVAS_NOT_MEMBERS = ("points possible",)


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
    #: The columns of the file that were not read (a Canvas export's sections, assignments, totals).
    ignored: list[str] = field(default_factory=list)


def parse_roster(text: str, *, accommodations: Collection[str] | None = None) -> Roster:
    """The members of a CSV roster. A first row naming the columns (any order and case; ``id``
    and ``name`` required, ``email``, ``role`` and ``accommodations`` optional) is a header;
    otherwise the columns are :data:`COLUMNS` in that order. Blank lines are skipped; an empty
    email or role is left out (the import's default role is ``student``); an ``accommodations``
    cell names the student's, separated by ``;`` (empty: none), each one of ``accommodations``
    (the course's) where given."""
    rows, unreadable = _rows(text.removeprefix("\ufeff"))  # (spreadsheets save UTF-8 with a byte-order mark)
    if unreadable:
        return Roster(None, [unreadable])
    if not rows:
        return Roster(None, [LineError(1, None, "the file has no members: one per line, as id,name,email,role")])
    ignored: list[str] = []
    if (canvas := _canvas(rows)) is not None:
        columns, rows, ignored = canvas
    else:
        named, header_errors = _header(rows[0])
        if header_errors:
            return Roster(None, header_errors)
        columns, rows = (list(COLUMNS), rows) if named is None else (named, rows[1:])
    members: list[MemberIn] = []
    errors: list[LineError] = []
    for line, cells in rows:
        member = _member(line, cells, columns, errors, accommodations)
        if member is not None:
            members.append(member)
    if not errors and not members:
        errors.append(LineError(rows[0][0] if rows else 1, None, "the file has a header but no members"))
    if errors:
        return Roster(None, errors, ignored)
    try:
        return Roster(MembersImport(members=members), ignored=ignored)
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


#: The ignored columns a message names (a gradebook export has one per assignment).
IGNORED_NAMED = 12


def ignored_columns(ignored: list[str]) -> str:
    """The columns not read, as the import's message names them: ``Ignored columns: Section, ...``."""
    named = ", ".join(ignored[:IGNORED_NAMED])
    more = len(ignored) - IGNORED_NAMED
    return f"Ignored columns: {named}" + (f" and {more:,} more" if more > 0 else "")


def _canvas(rows: list[tuple[int, list[str]]]) -> tuple[list[str], list[tuple[int, list[str]]], list[str]] | None:
    """A Canvas gradebook export as rows of ``id,name,email`` (None: the file is not one): the id is
    the SIS User ID (else the SIS Login ID, else Canvas's own ID); the name, written "Last, First"
    there, as "First Last"; the email the SIS Login ID when it is an address. The export's other
    columns are returned, ignored."""
    header = [cell.strip() for cell in rows[0][1]]
    folded = [name.casefold() for name in header]
    if CANVAS_NAME.casefold() not in folded or not {CANVAS_SIS_USER.casefold(), CANVAS_SIS_LOGIN.casefold()} & set(
        folded
    ):
        return None
    at = {name: folded.index(name.casefold()) for name in CANVAS_COLUMNS if name.casefold() in folded}
    ignored = [name for index, name in enumerate(header) if index not in at.values() and name]

    def value(cells: list[str], name: str) -> str:
        index = at.get(name)
        return cells[index].strip() if index is not None and index < len(cells) else ""

    members = []
    for number, cells in rows[1:]:
        name, login = value(cells, CANVAS_NAME), value(cells, CANVAS_SIS_LOGIN)
        identifier = value(cells, CANVAS_SIS_USER) or login or value(cells, CANVAS_ID)
        if name.casefold() in CANVAS_NOT_MEMBERS or not (name or identifier):
            continue
        last, comma, first = name.partition(",")
        shown = f"{first.strip()} {last.strip()}".strip() if comma else name
        members.append((number, [identifier, shown, login if "@" in login else ""]))
    return ["id", "name", "email"], members, ignored


def _header(first: tuple[int, list[str]]) -> tuple[list[str] | None, list[LineError]]:
    """The columns a header row names, or None if the first row is a member."""
    line, cells = first
    names = [cell.strip().lower() for cell in cells]
    if not set(names) & set(NAMED):
        return None, []
    errors = [LineError(line, None, f"the header has no {name!r} column") for name in REQUIRED if name not in names]
    for name in sorted({n for n in names if names.count(n) > 1}):
        errors.append(LineError(line, name, "this column is named twice"))
    unknown = [n for n in names if n not in NAMED]
    if unknown:
        named = ", ".join(map(repr, unknown))
        errors.append(LineError(line, None, f"unknown columns {named}; the columns are {','.join(NAMED)}"))
    return names, errors


def _member(
    line: int, cells: list[str], columns: list[str], errors: list[LineError], known: Collection[str] | None
) -> MemberIn | None:
    """The row as a member, checked by the import's schema (and its accommodations against the
    ``known`` ones); its problems go to ``errors``."""
    if len(cells) > len(columns):
        errors.append(LineError(line, None, f"{len(cells)} values, but only {len(columns)} columns"))
        return None
    values: dict[str, Any] = {name: cell.strip() for name, cell in zip(columns, cells, strict=False) if cell.strip()}
    if "accommodations" in columns:  # (a column given: an empty cell is none, not unchanged)
        cell = values.get("accommodations", "")
        values["accommodations"] = [name.strip() for name in cell.split(SEPARATOR) if name.strip()]
        unknown = sorted(set(values["accommodations"]) - set(known)) if known is not None else []
        if unknown:
            listed = ", ".join(sorted(known or ())) or "none yet"
            named = ", ".join(map(repr, unknown))
            message = f"no accommodation {named} in this course (its accommodations: {listed})"
            errors.append(LineError(line, "accommodations", message))
            return None
    try:
        return MemberIn.model_validate(values)
    except ValidationError as error:
        for problem in error.errors():
            column = str(problem["loc"][0]) if problem["loc"] else None
            message = validation.message(MemberIn, problem)
            errors.append(LineError(line, column, message))
        return None
