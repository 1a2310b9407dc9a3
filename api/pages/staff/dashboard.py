"""The staff's dashboard of a course (``/courses/{course}``, a route shared with students:
:func:`api.pages.students.pages.course_page`): its assignments with how each is going, the
create-assignment form, the archived assignments with "restore", and the roster with its CSV
import and "drop". TAs see it read only; the
forms are for the owner and instructors, who alone may post them (the API's rules:
:data:`api.pages.kit.roles.PageRunner`).

Each form posts to a path of its own and works as a plain HTTP post: a refusal renders the
dashboard again with the status the API would answer (422, 409), the errors beside their fields and
what was typed kept; a success redirects back (303), except the roster import, whose reply shows
the new accounts' tokens this once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, BackgroundTasks, Path, Request
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.responses import RedirectResponse, Response

from api.access import Member
from api.accommodations.service import import_holdings
from api.assignments.service import list_assignments
from api.assignments.sets import course_library, create_assignment
from api.categories.store import categories_of
from api.courses.service import Imported, drop_member, import_members, roster
from api.deps import MemberIdPath, SessionDep, SetsDep
from api.handgrading.release import open_requests
from api.kit.errors import Conflict, Unprocessable
from api.kit.ids import may_exist
from api.library.course_sets import Sets
from api.models import (
    Assignment,
    Course,
    CourseRole,
    Feedback,
    GradePolicy,
    Mail,
    MailStatus,
    Membership,
    Practice,
    Release,
)
from api.pages.kit.deps import PageZone
from api.pages.kit.forms import PostedForm, uploaded_text
from api.pages.kit.render import render
from api.pages.kit.roles import PageRunner
from api.pages.kit.routing import PageRoute
from api.pages.staff.assignment_form import AssignmentForm, read_assignment_form
from api.pages.staff.course_summary import summarize
from api.pages.staff.gradebook_table import page_of
from api.pages.staff.roster_csv import LineError, ignored_columns, parse_roster
from api.signin.invitations import invite_joined
from api.terms.accommodations import read_labels

router = APIRouter(route_class=PageRoute, include_in_schema=False)

#: The create-assignment form as it first appears (the request's own defaults).
BLANK_FORM = AssignmentForm(
    values={
        "release_answers": Release.AFTER_CLOSE.value,
        "grade_policy": GradePolicy.BEST.value,
        "late_penalty": "none",
        "practice": Practice.AFTER_DUE.value,
        "feedback": Feedback.FULL.value,
    }
)


@dataclass(frozen=True)
class RosterUpload:
    """The roster form's state: what was typed (kept on a refusal), the refusals, the members
    imported (with the new accounts' tokens)."""

    text: str = ""
    errors: list[LineError] = field(default_factory=list)
    imported: list[Imported] = field(default_factory=list)


def dashboard(
    request: Request,
    member: Member,
    db: Session,
    sets: Sets,
    *,
    assignment_form: AssignmentForm = BLANK_FORM,
    roster_upload: RosterUpload | None = None,
    notice: str | None = None,
    status: int = 200,
) -> Response:
    """The page (``/courses/{course}`` for staff: :func:`api.pages.students.pages.course_page` hands them
    here), with the notice a form's redirect asks for (``?created=``, ``?dropped=``)."""
    notice = notice or _notice(request, db, member.course)
    context: dict[str, Any] = {
        "course": db.get(Course, member.course),
        "member": member,
        "summaries": summarize(db, sets, course_id=member.course),
        # archived assignments, to restore (only those who may restore one see them)
        "archived": [a for a in list_assignments(db, course_id=member.course, archived=True) if a.archived_at]
        if member.runs
        else [],
        **_roster_page(request, db, member.course),
        # the sets the form offers (only those who may create an assignment see it)
        "library": course_library(sets, member.course) if member.runs else [],
        "form": assignment_form,
        "upload": roster_upload or RosterUpload(),
        "notice": notice,
        "policies": [p.value for p in GradePolicy],
        "releases": [r.value for r in Release],
        "practices": [p.value for p in Practice],
        "feedbacks": [f.value for f in Feedback],
        "categories": [c.name for c in categories_of(db, course_id=member.course)],
        "can_mail": request.app.state.mail is not None,
        "link_days": request.app.state.settings.sign_in_link_days,
        "mails": [],
        "regrade_requests": [],
        "regrade_total": 0,
        "mails_failed": 0,
        "now": datetime.now(UTC),
    }
    if member.is_staff:
        mails = list(
            db.scalars(select(Mail).where(Mail.course_id == member.course).order_by(Mail.id.desc()).limit(500))
        )
        context["mails"], context["mails_failed"] = mails, sum(m.status == MailStatus.FAILED for m in mails)
        context["regrade_requests"], context["regrade_total"] = open_requests(db, course_id=member.course)
    return render(request, "staff_course.html", context, status=status)


@router.post("/courses/{course_id}/assignments")
def create_assignment_page(
    request: Request, form: PostedForm, runner: PageRunner, db: SessionDep, sets: SetsDep, zone: PageZone
) -> Response:
    """``POST .../assignments`` of the API, from the form (its due date typed in the course's zone)."""
    typed = read_assignment_form(form, zone=zone)
    if typed.request is None:
        return dashboard(request, runner, db, sets, assignment_form=typed, status=422)
    try:
        create_assignment(sets, course_id=runner.course, created_by=runner.id, body=typed.request)
    except (Unprocessable, Conflict) as error:
        db.rollback()  # (a conflict may be found by the INSERT itself)
        where, status = ("problem_set", 422) if isinstance(error, Unprocessable) else ("id", 409)
        refused = AssignmentForm(typed.values, errors={where: str(error.detail)})
        return dashboard(request, runner, db, sets, assignment_form=refused, status=status)
    target = f"/courses/{runner.course}?created={typed.request.id}#assignments"
    return RedirectResponse(target, status_code=303)


@router.get("/courses/{course_id}/members")
def roster_again(course_id: Annotated[str, Path(max_length=64)]) -> Response:
    """A reload after the roster's import (the form posts here): back to the course page's roster,
    never a bare 405."""
    return RedirectResponse(f"/courses/{quote(course_id)}#roster", status_code=303)


@router.post("/courses/{course_id}/members")
def import_roster_page(
    request: Request,
    form: PostedForm,
    runner: PageRunner,
    db: SessionDep,
    sets: SetsDep,
    background: BackgroundTasks,
) -> Response:
    """The roster import of the API, from a CSV file or text: every line checked before anyone is
    imported; the new accounts' tokens shown this once (the page is never cached)."""
    text, unreadable = uploaded_text(form, file_field="roster_file", text_field="roster_text")
    if unreadable:
        return _refused(request, runner, db, sets, RosterUpload(text, [LineError(1, None, unreadable)]), 422)
    labels = [label.name for label in read_labels(db, course_id=runner.course)]
    parsed = parse_roster(text, accommodations=labels)
    if parsed.members is None:
        return _refused(request, runner, db, sets, RosterUpload(text, parsed.errors), 422)
    members = [(m.id, m.name, m.email, m.role.value) for m in parsed.members.members]
    try:
        imported = import_members(db, course_id=runner.course, members=members)
        holdings = [(m.id, m.role.value, m.accommodations) for m in parsed.members.members]
        import_holdings(db, course_id=runner.course, members=holdings)
    except (Conflict, Unprocessable) as error:
        db.rollback()
        status = 409 if isinstance(error, Conflict) else 422
        refusal = RosterUpload(text, [LineError(1, None, str(error.detail))])
        return _refused(request, runner, db, sets, refusal, status)
    invited = invite_joined(request, background, db, by=runner, joined=[i.user.id for i in imported if i.joined])
    notice = f"{len(imported)} member{'' if len(imported) == 1 else 's'} imported."
    if invited:
        notice += f" {len(invited)} invitation{'' if len(invited) == 1 else 's'} with a sign-in link queued."
    if parsed.ignored:
        notice += f" {ignored_columns(parsed.ignored)}."
    return dashboard(request, runner, db, sets, roster_upload=RosterUpload(imported=imported), notice=notice)


#: Students on one page of the dashboard's roster (the gradebook has them all, in pages of its own).
ROSTER_PAGE = 50


def _roster_page(request: Request, db: Session, course_id: str) -> dict[str, Any]:
    """The staff, then one page of the students (``?roster_page=``) whose id or name contains
    ``?roster_q=``: a course of 1,000 students is not a 1,000-row table on its dashboard."""
    members = roster(db, course_id=course_id)
    search = request.query_params.get("roster_q", "")[:200].strip()
    wanted = search.casefold()
    students = [
        person
        for person in members
        if person.role == CourseRole.STUDENT and (wanted in person.id.casefold() or wanted in person.name.casefold())
    ]
    number = request.query_params.get("roster_page", "1")
    shown = page_of(students, int(number) if number.isdigit() and len(number) < 8 else 1, size=ROSTER_PAGE)
    staff = [person for person in members if person.role != CourseRole.STUDENT]
    return {"roster": staff + shown.rows, "roster_shown": shown, "roster_search": search}


def _notice(request: Request, db: Session, course_id: str) -> str | None:
    """Only for what is so: a link cannot make the page claim anything."""
    created, dropped = request.query_params.get("created"), request.query_params.get("dropped")
    if created and may_exist(created) and db.get(Assignment, (course_id, created)) is not None:
        return f"Assignment {created} created."
    if dropped and may_exist(dropped) and db.get(Membership, (course_id, dropped)) is None:
        return f"{dropped} is no longer a member of the course (their submissions are kept)."
    return None


def _refused(request: Request, runner: Member, db: Session, sets: Sets, upload: RosterUpload, status: int) -> Response:
    return dashboard(request, runner, db, sets, roster_upload=upload, status=status)


@router.post("/courses/{course_id}/members/{member_id}/drop")
def drop_member_page(_form: PostedForm, runner: PageRunner, db: SessionDep, member_id: MemberIdPath) -> Response:
    """``DELETE .../members/{id}`` of the API: the member leaves the course, their work stays."""
    drop_member(db, course_id=runner.course, user_id=member_id)
    return RedirectResponse(f"/courses/{runner.course}?dropped={member_id}#roster", status_code=303)
