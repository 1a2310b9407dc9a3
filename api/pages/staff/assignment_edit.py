"""``/courses/{course}/assignments/{id}/edit``, for the owner and instructors: every field of an
assignment (read by :func:`api.pages.staff.assignment_form.read_assignment_changes`, applied by the
service ``PATCH .../assignments/{id}`` calls), moving to a newer version of its set with a regrade,
and archiving and restoring it (as ``DELETE`` and ``PATCH {"archived": false}`` do).

Every form is a plain HTTP post: a refusal shows the page again with the status the API would
answer (422, 409), the errors beside their fields and what was typed kept; a success redirects
(303) to the staff's assignment page, whose notice says what was done. "Move and regrade" comes
back to this page with ``?job=ID``, where the regrade's progress shows as on the statistics page.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Query, Request
from starlette.responses import RedirectResponse, Response

from api.access import Member
from api.assignments import service
from api.assignments import sets as sets_service
from api.assignments.schemas import ProblemSetOut
from api.categories.store import categories_of
from api.deps import SessionDep, SetsDep
from api.jobs.runners import JobRunners
from api.kit.errors import Conflict, Unprocessable
from api.library.course_sets import Sets
from api.models import Feedback, GradePolicy, Practice, Release
from api.pages.kit.deps import PageAssignment, PageZone, SignedInDep
from api.pages.kit.forms import PostedForm
from api.pages.kit.render import render
from api.pages.kit.roles import PageRunner
from api.pages.kit.routing import PageRoute
from api.pages.staff.assignment_form import AssignmentEdit, edit_values, read_assignment_changes
from api.pages.staff.gradebook import ASSIGNMENT
from api.pages.staff.statistics import Progress, poll_path, regrade_job
from api.terms.rows import Terms

router = APIRouter(route_class=PageRoute, include_in_schema=False)


def assignment_path(assignment: Terms, done: str | None = None) -> str:
    """The staff's page of the assignment, with the notice of what was just done."""
    path = f"/courses/{assignment.course_id}/assignments/{assignment.id}"
    return path if done is None else f"{path}?done={done}"


def newer_version(sets: Sets, assignment: Terms) -> str | None:
    """The newest version of the assignment's set the course may use, if it is not the pinned one
    (an assignment from before versions were pinned grades with the built-in set as it is)."""
    if assignment.set_version is None:
        return None
    newest = sets.usable(assignment.course_id, assignment.problem_set)
    return None if newest is None or newest.version == assignment.set_version else newest.version


@dataclass(frozen=True, slots=True)
class SetChoices:
    """What the form's set and version lists offer: ``sets`` as (id, label), ``versions`` of the
    assignment's own set, newest first. The set and version it grades with are always among them
    (a built-in set since changed, or gone, included), so a form saved untouched moves nothing."""

    sets: list[tuple[str, str]]
    versions: list[str]


def set_choices(library: list[ProblemSetOut], assignment: Terms) -> SetChoices:
    sets = [(s.id, f"{s.title} ({s.id}" + (")" if s.built_in else ", the course's own)")) for s in library]
    if assignment.problem_set not in {set_id for set_id, _ in sets}:
        sets.insert(0, (assignment.problem_set, f"{assignment.problem_set} (no longer offered)"))
    own = next((s.versions for s in library if s.id == assignment.problem_set), [])
    versions = list(reversed(own))
    if assignment.set_version is not None and assignment.set_version not in versions:
        versions.append(assignment.set_version)
    return SetChoices(sets, versions)


def _edit_page(
    request: Request,
    runner: Member,
    sets: Sets,
    assignment: Terms,
    form: AssignmentEdit,
    *,
    status: int = 200,
    progress: Progress | None = None,
    poll: str | None = None,
) -> Response:
    context = {
        "assignment": assignment,
        "member": runner,
        "form": form,
        "choices": set_choices(sets_service.course_library(sets, runner.course), assignment),
        "newer": newer_version(sets, assignment),
        "policies": [p.value for p in GradePolicy],
        "releases": [r.value for r in Release],
        "practices": [p.value for p in Practice],
        "feedbacks": [f.value for f in Feedback],
        "categories": [c.name for c in categories_of(sets.session, course_id=runner.course)],
        "progress": progress,
        "poll": poll,
        "path": assignment_path(assignment) + "/edit",
    }
    return render(request, "assignment_edit.html", context, status=status)


@router.get(ASSIGNMENT + "/edit")
def edit_page(
    request: Request,
    page: SignedInDep,
    runner: PageRunner,
    assignment: PageAssignment,
    db: SessionDep,
    sets: SetsDep,
    zone: PageZone,
    job: Annotated[int | None, Query(ge=1)] = None,
) -> Response:
    """The form filled with the assignment's terms (dates in the course's zone); ``job``: the
    regrade "move and regrade" started, and how far it got."""
    progress = None if job is None else Progress.of(regrade_job(db, page, assignment, job))
    poll = None if job is None else poll_path(assignment, job)
    form = AssignmentEdit(edit_values(assignment, zone))
    return _edit_page(request, runner, sets, assignment, form, progress=progress, poll=poll)


@router.post(ASSIGNMENT + "/edit")
def save_edit(
    request: Request,
    form: PostedForm,
    runner: PageRunner,
    assignment: PageAssignment,
    db: SessionDep,
    sets: SetsDep,
    zone: PageZone,
) -> Response:
    """``PATCH .../assignments/{id}`` of the API with the fields that changed; nothing changed:
    nothing is written (and no LMS is told of scores)."""
    typed = read_assignment_changes(form, zone=zone, current=assignment)
    if typed.errors:
        return _edit_page(request, runner, sets, assignment, typed, status=422)
    if typed.update is None:
        return RedirectResponse(assignment_path(assignment, "unchanged"), status_code=303)
    body = typed.update
    problem_set = None
    moves_set = body.problem_set is not None or body.version is not None
    try:
        if moves_set:
            set_id = body.problem_set or assignment.problem_set
            problem_set = sets_service.usable(sets, runner.course, set_id, body.version)
            sets.pin(problem_set)
        service.update_assignment(
            db, course_id=runner.course, assignment_id=assignment.id, changes=body.changes(), problem_set=problem_set
        )
    except (Unprocessable, Conflict) as error:
        db.rollback()  # (the set's version may have been stored)
        # the set, unusable or not allowed once submitted; else terms changed meanwhile by someone else
        where = "problem_set" if moves_set and (problem_set is None or isinstance(error, Conflict)) else "form"
        status = 409 if isinstance(error, Conflict) else 422
        refused = AssignmentEdit(typed.values, errors={where: str(error.detail)})
        return _edit_page(request, runner, sets, assignment, refused, status=status)
    return RedirectResponse(assignment_path(assignment, "saved"), status_code=303)


@router.post(ASSIGNMENT + "/move")
def move_and_regrade(
    request: Request,
    background: BackgroundTasks,
    form: PostedForm,
    runner: PageRunner,
    assignment: PageAssignment,
    db: SessionDep,
    sets: SetsDep,
) -> Response:
    """Pins the version the page offered (as ``PATCH {"version": ...}`` does) and starts the regrade
    against it (as ``POST .../regrade`` does); then this page shows the regrade's progress. The
    version is the one the page showed, so a set uploaded meanwhile is not taken unseen."""
    version = str(form.get("version") or "")
    problem_set = sets_service.usable(sets, runner.course, assignment.problem_set, version or None)
    sets.pin(problem_set)
    moved = service.update_assignment(
        db, course_id=runner.course, assignment_id=assignment.id, changes={}, problem_set=problem_set
    )
    jobs: JobRunners = request.app.state.jobs
    job_id = jobs.regrade(
        db, assignment=moved, set_version=problem_set.version, caller=runner.caller, background=background
    )
    return RedirectResponse(f"{assignment_path(assignment)}/edit?job={job_id}#regrade-progress", status_code=303)


@router.post(ASSIGNMENT + "/archive")
def archive(_form: PostedForm, runner: PageRunner, assignment: PageAssignment, db: SessionDep) -> Response:
    """``DELETE .../assignments/{id}`` of the API: hidden from students, nothing deleted."""
    service.archive_assignment(db, course_id=runner.course, assignment_id=assignment.id)
    return RedirectResponse(assignment_path(assignment, "archived"), status_code=303)


@router.post(ASSIGNMENT + "/restore")
def restore(_form: PostedForm, runner: PageRunner, assignment: PageAssignment, db: SessionDep) -> Response:
    """``PATCH {"archived": false}`` of the API: students see it again (if published and open)."""
    service.update_assignment(db, course_id=runner.course, assignment_id=assignment.id, changes={"archived": False})
    return RedirectResponse(assignment_path(assignment, "restored"), status_code=303)
