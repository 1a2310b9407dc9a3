"""The course gradebook as files: every column (``csv``), or what Canvas's gradebook import takes
(``canvas``). The REST endpoint and the page's download links give the same bytes."""

from __future__ import annotations

import csv
import io
from typing import Literal

from api.coursebook.service import CourseBook
from api.reports.service import CANVAS_COLUMNS, spreadsheet_cell

CourseExport = Literal["csv", "canvas"]
#: What each download is called on the page, in the order the page offers them.
EXPORT_NAMES: dict[CourseExport, str] = {"csv": "CSV", "canvas": "Canvas gradebook import"}
#: The suffix of a percent's column, so a category's column never shares an assignment's name.
PERCENT = " (%)"


def course_csv(book: CourseBook) -> str:
    """One row per student: id, name, email, the counted score of each assignment (by id; blank:
    nothing submitted), each category's percent, the total percent, then for each assignment whose
    set draws problems (pools, shuffle) the student's problems in their order (``A problems``: ids
    separated by spaces). UTF-8 with a byte-order mark (spreadsheets detect the encoding), CRLF
    rows, text a spreadsheet would run quoted."""
    out = io.StringIO()
    writer = csv.writer(out)
    names = [c.name for c in book.categories]
    drawing = [a.id for a in book.assignments if any(a.id in (row.problems or {}) for row in book.students)]
    writer.writerow(
        [
            *("student", "name", "email"),
            *(spreadsheet_cell(a.id) for a in book.assignments),
            *(spreadsheet_cell(name + PERCENT) for name in names),
            "total" + PERCENT,
            *(spreadsheet_cell(f"{a} problems") for a in drawing),
        ]
    )
    for row in book.students:
        writer.writerow(
            [
                *(spreadsheet_cell(v) for v in (row.id, row.name, row.email)),
                *(spreadsheet_cell(row.scores[a.id]) for a in book.assignments),
                *(spreadsheet_cell(_percent(row.categories[name])) for name in names),
                spreadsheet_cell(_percent(row.total)),
                *(spreadsheet_cell(" ".join((row.problems or {}).get(a, []))) for a in drawing),
            ]
        )
    return "\ufeff" + out.getvalue()


def canvas_headers(book: CourseBook) -> list[str]:
    """An assignment's column is its title (a new assignment to Canvas, which matches columns by
    name unless they end in ``(canvas id)``); a title two assignments share takes its id in square
    brackets, so no two columns merge."""
    titles = [a.title for a in book.assignments]
    return [a.title if titles.count(a.title) == 1 else f"{a.title} [{a.id}]" for a in book.assignments]


def course_canvas(book: CourseBook) -> str:
    """Canvas's gradebook import: its student columns (our id as the SIS User ID, the email or the id
    as the SIS Login ID), one column per assignment with its points on the ``Points Possible`` row,
    the counted scores (blank: nothing submitted). The categories and the total are left out:
    Canvas computes its own from its assignment groups, and would take a column of ours as one
    more assignment."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([*CANVAS_COLUMNS, *(spreadsheet_cell(h) for h in canvas_headers(book))])
    writer.writerow(["Points Possible", "", "", "", "", *(spreadsheet_cell(a.max_score) for a in book.assignments)])
    for row in book.students:
        writer.writerow(
            [
                spreadsheet_cell(row.name),
                "",
                spreadsheet_cell(row.id),
                spreadsheet_cell(row.email or row.id),
                "",
                *(spreadsheet_cell(row.scores[a.id]) for a in book.assignments),
            ]
        )
    return out.getvalue()


def _percent(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def course_export(book: CourseBook, format: CourseExport) -> tuple[str, str]:
    """The file's text and name."""
    if format == "csv":
        return course_csv(book), f"{book.course}-gradebook.csv"
    return course_canvas(book), f"{book.course}-canvas.csv"
