"""The gradebook as a file to download: the REST endpoint (``?format=csv``, ``?format=canvas``)
and the gradebook page's download links both answer with :func:`gradebook_export`, so the two
give the same bytes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from fastapi import Response
from sqlalchemy.orm import Session

from api.assignments.service import max_score
from api.reports import service
from api.terms.rows import Terms
from problems.sets import ProblemSet

ExportFormat = Literal["csv", "canvas"]
#: What each download is called on a page, in the order the page offers them.
EXPORT_NAMES: dict[ExportFormat, str] = {"csv": "CSV", "canvas": "Canvas gradebook import"}


@dataclass(frozen=True, slots=True)
class Export:
    text: str
    filename: str

    def response(self) -> Response:
        """An attachment, so a browser saves it under :attr:`filename`."""
        return Response(
            self.text,
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{self.filename}"'},
        )


def answer_keys(problem_set: ProblemSet | None) -> list[str]:
    """The gradebook's key columns (none when the assignment's set is gone)."""
    return problem_set.answer_keys() if problem_set else []


def gradebook_file(
    session: Session, *, assignment: Terms, problem_set: ProblemSet | None, format: ExportFormat
) -> Export:
    """The assignment's gradebook as ``format``: the CSV from the whole gradebook, the Canvas
    import from the counted scores alone (:func:`api.reports.service.scores_book`)."""
    if format == "canvas":
        book = service.scores_book(session, assignment=assignment)
    else:
        book = service.gradebook(session, assignment=assignment, keys=answer_keys(problem_set), problem_set=problem_set)
    return gradebook_export(book, assignment=assignment, problem_set=problem_set, format=format)


def gradebook_export(
    book: dict[str, Any], *, assignment: Terms, problem_set: ProblemSet | None, format: ExportFormat
) -> Export:
    """``book`` (:func:`api.reports.service.gradebook`) as ``csv`` (every column) or ``canvas`` (the
    counted score, out of the set's points)."""
    stem = f"{assignment.course_id}-{assignment.id}"
    if format == "csv":
        return Export(service.gradebook_csv(book), f"{stem}-gradebook.csv")
    points = max_score(problem_set) if problem_set else 0.0
    return Export(service.gradebook_canvas(book, title=assignment.title, points=points), f"{stem}-canvas.csv")
