"""``/courses/{course}/gradebook``, for the course's staff: every assignment that counts in one
table with each student's percent per category and total (:mod:`api.coursebook.service`, the REST
API's numbers), sorted on the server by any column, in pages, with the CSV and Canvas downloads
(the REST API's bytes). A page of 100 students stays small: a score is a number, each assignment's
own gradebook (where each student's attempts are) is linked once, above the table."""

from __future__ import annotations

from collections import Counter
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from api.coursebook.exports import EXPORT_NAMES, CourseExport, course_export
from api.coursebook.service import CourseBook, course_gradebook
from api.deps import SessionDep, SetsDep
from api.pages.kit.render import render
from api.pages.kit.roles import PageStaff
from api.pages.kit.routing import PageRoute
from api.pages.staff.gradebook_table import Column, Order, column_named, matching, page_of, sort_rows
from api.terms.accommodations import read_allowances

router = APIRouter(route_class=PageRoute, include_in_schema=False)

PATH = "/courses/{course_id}/gradebook"
#: The sort parameter of an assignment's column (``a:hw1``) and of a category's (``c:exams``).
ASSIGNMENT, CATEGORY = "a:", "c:"


def _rows(book: CourseBook) -> list[dict[str, Any]]:
    """The students as the shared table helpers read rows (``student``, ``name``)."""
    return [
        {"student": s.id, "name": s.name, "scores": s.scores, "categories": s.categories, "total": s.total}
        for s in book.students
    ]


def _within(field: str, key: str) -> Any:
    return lambda row: row[field].get(key)


def headings(book: CourseBook) -> dict[str, str]:
    """Each assignment's heading: its title, with its id where another assignment has the same title
    (two assignments of one set are titled alike by default)."""
    titles = Counter(a.title for a in book.assignments)
    return {a.id: a.title if titles[a.title] == 1 else f"{a.title} ({a.id})" for a in book.assignments}


def columns(book: CourseBook) -> list[Column]:
    """Who, each assignment's counted score, each category's percent, the total."""
    heading = headings(book)
    return [
        Column("student", "Student", lambda row: row["student"].casefold()),
        Column("name", "Name", lambda row: row["name"].casefold() if row["name"] else None),
        *(Column(ASSIGNMENT + a.id, heading[a.id], _within("scores", a.id), numeric=True) for a in book.assignments),
        *(Column(CATEGORY + c.name, c.name, _within("categories", c.name), numeric=True) for c in book.categories),
        Column("total", "Total", lambda row: row["total"], numeric=True),
    ]


@router.get(PATH)
def course_gradebook_page(
    request: Request,
    staff: PageStaff,
    db: SessionDep,
    sets: SetsDep,
    sort: Annotated[str, Query(max_length=200)] = "student",
    order: Order = "asc",
    page: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
    q: Annotated[str, Query(max_length=200)] = "",
) -> Response:
    """The table sorted by ``sort`` (``student``, ``name``, ``total``, ``a:ID``, ``c:NAME``), in
    pages, of the students whose id or name contains ``q``."""
    book = course_gradebook(db, sets, course_id=staff.course)
    table = columns(book)
    sorted_by = column_named(table, sort)
    shown = page_of(sort_rows(matching(_rows(book), q), sorted_by, order), page)

    def link(**changes: Any) -> str:
        query = {"sort": sorted_by.id, "order": order, **({"q": q} if q else {}), **changes}
        return "?" + urlencode(query)

    def sort_link(column_id: str) -> str:
        following: Order = "desc" if column_id == sorted_by.id and order == "asc" else "asc"
        return link(sort=column_id, order=following, page=1)

    context: dict[str, Any] = {
        "course": staff.course,
        "staff": staff,
        "book": book,
        "headings": headings(book),
        "columns": table,
        "shown": shown,
        "search": q,
        "sorted_by": sorted_by.id,
        "order": order,
        "sort_link": sort_link,
        "page_link": lambda to: link(page=to),
        # each student's accommodations beside their name (:mod:`api.pages.staff.accommodations`)
        "labels": {
            student: allowance.names for student, allowance in read_allowances(db, course_id=staff.course).items()
        },
        "downloads": [
            (name, f"/courses/{staff.course}/gradebook/download?format={f}") for f, name in EXPORT_NAMES.items()
        ],
    }
    return render(request, "course_gradebook.html", context)


@router.get(PATH + "/download")
def course_gradebook_download(
    staff: PageStaff, db: SessionDep, sets: SetsDep, format: CourseExport = "csv"
) -> Response:
    """The REST API's file (``GET .../gradebook?format=``), for a signed-in browser."""
    text, filename = course_export(course_gradebook(db, sets, course_id=staff.course), format)
    return Response(
        text,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
