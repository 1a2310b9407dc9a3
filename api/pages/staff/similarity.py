"""``/courses/{course}/assignments/{id}/similarity``, for the course's staff only (anyone else 404,
students included): the similarity report as the REST API gives it (:mod:`api.similarity`), a
ranked list of pairs filtered by part, clusters of three or more, a CSV export, a form that asks
for the report again (the starter code, the parts), and two submissions side by side with the
matching blocks highlighted and numbered. Every read is logged. The wording reports similarity:
evidence for a person to judge."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Depends, Form, Query, Request
from starlette.responses import RedirectResponse, Response

from api.access import Member
from api.deps import SessionDep, SetsDep, problem_set_of
from api.kit.errors import NotFound, Unprocessable
from api.kit.schemas import printable
from api.pages.kit.deps import CsrfChecked, PageAssignment, PageMember, SignedInDep
from api.pages.kit.render import render
from api.pages.kit.routing import PageRoute
from api.pages.staff.gradebook import ASSIGNMENT, page_path
from api.similarity.service import MAX_STARTER, compare, read_report, report_csv, staff_or_not_found

router = APIRouter(route_class=PageRoute, include_in_schema=False)

#: What the page says after its form, by the ``?done=`` of the redirect (never text from the URL).
DONE = {"started": "The report is being computed: this page shows it once it is done (reload it)."}


async def similarity_staff(member: PageMember) -> Member:
    return staff_or_not_found(member)  # (as in the REST API)


SimilarityStaff = Annotated[Member, Depends(similarity_staff)]


@router.get(ASSIGNMENT + "/similarity")
def similarity_page(
    request: Request,
    page: SignedInDep,
    staff: SimilarityStaff,
    assignment: PageAssignment,
    db: SessionDep,
    sets: SetsDep,
    part: Annotated[str | None, Query(max_length=100)] = None,
) -> Response:
    """The ranked pairs (``?part=``: those sharing code or passages in that part) and the clusters."""
    problem_set = sets.of(assignment)
    report = read_report(db, assignment=assignment, caller=staff.caller, part=part or None)
    context = {
        "assignment": assignment,
        "path": page_path(assignment, "similarity"),
        "report": report,
        "part": part or "",
        "code_parts": [*problem_set.code(), *problem_set.written()] if problem_set else [],
        "notice": DONE.get(request.query_params.get("done") or ""),
        "max_starter": MAX_STARTER,
    }
    return render(request, "similarity.html", context)


@router.get(ASSIGNMENT + "/similarity.csv")
def similarity_csv(
    staff: SimilarityStaff,
    assignment: PageAssignment,
    db: SessionDep,
    part: Annotated[str | None, Query(max_length=100)] = None,
) -> Response:
    """The ranked pairs as a spreadsheet file."""
    report = read_report(db, assignment=assignment, caller=staff.caller, part=part or None)
    return Response(
        report_csv(report),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{assignment.id}-similarity.csv"'},
    )


@router.get(ASSIGNMENT + "/similarity/compare")
def similarity_compare(
    request: Request,
    page: SignedInDep,
    staff: SimilarityStaff,
    assignment: PageAssignment,
    db: SessionDep,
    sets: SetsDep,
    first: Annotated[str, Query(max_length=64)],
    second: Annotated[str, Query(max_length=64)],
) -> Response:
    """Two students' code and written answers side by side, the matching blocks and shared passages
    highlighted and numbered on both."""
    problem_set = sets.of(assignment)
    compared = (
        compare(db, assignment=assignment, problem_set=problem_set, caller=staff.caller, first=first, second=second)
        if problem_set
        else None
    )
    if compared is None:
        raise NotFound("This pair is not in the similarity report.")
    context = {"assignment": assignment, "path": page_path(assignment, "similarity"), "compared": compared}
    return render(request, "similarity_compare.html", context)


def _reference(typed: str) -> dict[str, str | None]:
    """``COURSE/ASSIGNMENT`` or ``ASSIGNMENT`` (of this course) as the REST API's reference."""
    course, _, assignment = typed.rpartition("/")
    return {"course": course or None, "assignment": assignment}


@router.post(ASSIGNMENT + "/similarity")
def similarity_form(
    request: Request,
    background: BackgroundTasks,
    _page: CsrfChecked,
    staff: SimilarityStaff,
    assignment: PageAssignment,
    db: SessionDep,
    sets: SetsDep,
    starter: Annotated[str, Form(max_length=MAX_STARTER)] = "",
    part: Annotated[list[str] | None, Form(max_length=100)] = None,
    reference: Annotated[str, Form(max_length=129)] = "",
) -> Response:
    """Asks for the report again, as ``POST /api/v1/.../similarity`` does (the same job service):
    the starter code (blank: none), the parts ticked (none: all), an earlier assignment compared
    against (``ASSIGNMENT`` or ``COURSE/ASSIGNMENT``; blank: none)."""
    try:
        printable(starter)
    except ValueError as error:
        raise Unprocessable(f"The starter code {error}.") from None
    request.app.state.jobs.similarity(
        db,
        assignment=assignment,
        problem_set=problem_set_of(assignment, sets),
        caller=staff.caller,
        parts=part or None,
        starter=starter if starter.strip() else None,
        background=background,
        references=[_reference(reference.strip())] if reference.strip() else None,
    )
    return RedirectResponse(f"{page_path(assignment, 'similarity')}?done=started", status_code=303)
