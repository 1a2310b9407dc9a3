"""``/courses/{course}/gradebook``: the whole course's grades, for its staff; as JSON, or as a file
(``?format=csv``, ``?format=canvas``; ``/gradebook.csv`` is the same file, CSV by default)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response

from api.coursebook.exports import CourseExport, course_export
from api.coursebook.schemas import CategoryOut, CourseColumn, CourseGradebook, CourseStudent
from api.coursebook.service import CourseBook, course_gradebook
from api.deps import SessionDep, SetsDep, StaffMember
from api.kit.responses import errors
from api.library.course_sets import Sets

router = APIRouter(prefix="/courses/{course_id}", tags=["reports"])

EXAMPLE_CSV = "student,name,email,hw1,hw2,homework (%),total (%)\r\n"
FORMAT = (
    "`csv`: one row per student, a column per assignment, per category and the total; `canvas`: a file Canvas's "
    "gradebook import takes as it is (the assignments only: Canvas weighs its own groups)."
)


@router.get(
    "/gradebook",
    response_model=CourseGradebook,
    summary="The course gradebook: every assignment, by category, with the weighted total",
    responses={
        **errors(401, 403, 404, 422, 503),
        200: {"content": {"text/csv": {"example": EXAMPLE_CSV}}},
    },
)
def gradebook(
    staff: StaffMember,
    session: SessionDep,
    sets: SetsDep,
    format: Annotated[Literal["json", "csv", "canvas"], Query(description=FORMAT)] = "json",
) -> CourseGradebook | Response:
    """Every current student with the score each assignment's own gradebook counts (best or last
    attempt, after the late penalty, under their extension), their percent per category (points
    earned over points possible after the category's `drop_lowest` lowest, a missing score
    counting 0) and the weighted total. The same file is at `.../gradebook.csv` (`?format=canvas`
    for Canvas's import)."""
    if format != "json":
        return _download(session, sets, staff.course, format)
    # (dumped here, once: returned as a model, it would be dumped, validated again and dumped again)
    return Response(_dumped(course_gradebook(session, sets, course_id=staff.course)), media_type="application/json")


def _dumped(book: CourseBook) -> str:
    """The book as the response's JSON. Its students' rows are built as they are, not validated
    (their types are the service's own): validating a thousand of them cost three times the dump."""
    return CourseGradebook.model_construct(
        course=book.course,
        categories=[CategoryOut.model_validate(category) for category in book.categories],
        assignments=[CourseColumn.model_validate(column) for column in book.assignments],
        students=[
            CourseStudent.model_construct(
                id=row.id,
                name=row.name,
                scores=row.scores,
                categories=row.categories,
                total=row.total,
                problems=row.problems,
            )
            for row in book.students
        ],
    ).model_dump_json()


@router.get("/gradebook.csv", include_in_schema=False)
def gradebook_csv(
    staff: StaffMember,
    session: SessionDep,
    sets: SetsDep,
    format: Annotated[Literal["csv", "canvas"], Query(description=FORMAT)] = "csv",
) -> Response:
    """``GET .../gradebook?format=csv`` under a file's name (the contract's address)."""
    return _download(session, sets, staff.course, format)


def _download(session: SessionDep, sets: Sets, course_id: str, format: CourseExport) -> Response:
    text, filename = course_export(course_gradebook(session, sets, course_id=course_id), format)
    return Response(
        text,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
