"""``/courses/{course}/assignments/{id}/gradebook``, for the course's staff: the gradebook table,
sorted on the server by any column (``?sort=``, ``?order=``), its CSV and Canvas downloads (the
REST API's bytes, :mod:`api.reports.exports`), and the form that grants, changes or withdraws a
student's extension (the REST API's rules: :class:`api.assignments.schemas.ExtensionIn` and
:mod:`api.assignments.service`)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any
from urllib.parse import quote, urlencode
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Form, Query, Request
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.responses import RedirectResponse, Response

from api.access import Member
from api.assignments import service as assignments
from api.assignments.options import order_key, picks_text, right_text
from api.assignments.schemas import ExtensionIn
from api.assignments.service import max_score
from api.deps import SessionDep, SetsDep, StudentIdPath
from api.handgrading import release
from api.handgrading.schemas import RegradeReplyIn
from api.kit.errors import Conflict, NotFound
from api.kit.local_time import LocalTimeRefused, form_value, read_local
from api.library.course_sets import Sets
from api.models import RegradeRequest, Submission
from api.pages.kit import validation
from api.pages.kit.deps import CsrfChecked, PageAssignment, PageZone
from api.pages.kit.render import render
from api.pages.kit.roles import PageStaff
from api.pages.kit.routing import PageRoute
from api.pages.staff.gradebook_table import PAGE_SIZE, Order, column_named, columns, matching, page_of, sort_rows
from api.reports import service as reports
from api.reports.exports import EXPORT_NAMES, ExportFormat, answer_keys, gradebook_file
from api.submissions import service as submissions
from api.submissions.views import Released, to_out
from api.terms.clock import capped_at, read_clock
from api.terms.rows import Terms, with_extension
from problems.choices import shown_order
from problems.render import to_text

router = APIRouter(route_class=PageRoute, include_in_schema=False)

ASSIGNMENT = "/courses/{course_id}/assignments/{assignment_id}"
#: What the page says after a form, by the ``?done=`` of the redirect (never text from the URL).
DONE = {"granted": "Extension granted to {student}.", "removed": "Extension of {student} withdrawn."}


def page_path(assignment: Terms, page: str = "gradebook") -> str:
    return f"/courses/{assignment.course_id}/assignments/{assignment.id}/{page}"


def _refusal(error: ValidationError) -> str:
    """The validation errors of the form as one sentence per field (worded as every form words them)."""
    messages = []
    for problem in error.errors():
        field = ".".join(str(part) for part in problem["loc"])
        message = validation.message(ExtensionIn, problem)
        messages.append(f"{field.replace('_', ' ')}: {message}" if field else message)
    return " ".join(f"{m}." if not m.endswith(".") else m for m in messages)


def _gradebook(
    request: Request,
    *,
    staff: Member,
    assignment: Terms,
    db: Session,
    sets: Sets,
    sort: str = "student",
    order: Order = "asc",
    number: int = 1,
    search: str = "",
    chosen: str = "",
    zone: ZoneInfo,
    form: dict[str, str] | None = None,
    error: str | None = None,
    notice: str | None = None,
    blank_form: bool = False,
) -> Response:
    problem_set = sets.of(assignment)
    book = reports.gradebook(db, assignment=assignment, keys=answer_keys(problem_set), problem_set=problem_set)
    table = columns(book["keys"])
    sorted_by = column_named(table, sort)
    chosen = form["student"] if form else chosen
    rows = sort_rows(matching(book["students"], search), sorted_by, order)
    if chosen and number == 1:  # the page that shows the student whose extension is asked for
        number = next((i // PAGE_SIZE + 1 for i, row in enumerate(rows) if row["student"] == chosen), 1)
    shown = page_of(rows, number)
    extended = [row for row in book["students"] if row["extension"] is not None]
    extension = next((row["extension"] for row in book["students"] if row["student"] == chosen), None)
    if form is None and blank_form:  # (after a grant: a second press must not grant again)
        form = {"student": "", "due_at": "", "max_attempts": "", "extra_minutes": ""}
    if form is None:
        form = {
            "student": chosen,
            "due_at": form_value(extension["due_at"] if extension else None, zone),
            "max_attempts": str(extension["max_attempts"] or "") if extension else "",
            "extra_minutes": str(extension.get("extra_minutes") or "") if extension else "",
        }

    def sort_link(column_id: str) -> str:
        following: Order = "desc" if column_id == sorted_by.id and order == "asc" else "asc"
        return "?" + urlencode({"sort": column_id, "order": following, **({"q": search} if search else {})})

    def page_link(to: int) -> str:
        return "?" + urlencode({"sort": sorted_by.id, "order": order, "page": to, **({"q": search} if search else {})})

    context: dict[str, Any] = {
        "assignment": assignment,
        "course": assignment.course_id,
        "staff": staff,
        "book": book,
        "columns": table,
        "rows": shown.rows,
        "shown": shown,
        "search": search,
        "page_link": page_link,
        # the extension form offers the students of this page, and the one chosen
        "choices": [*shown.rows, *(r for r in book["students"] if r["student"] == chosen and r not in shown.rows)],
        "sorted_by": sorted_by.id,
        "order": order,
        "sort_link": sort_link,
        "max_score": max_score(problem_set) if problem_set else None,
        "downloads": [(name, f"{page_path(assignment)}/download?format={fmt}") for fmt, name in EXPORT_NAMES.items()],
        "extended": extended,
        "capped": _capped(db, assignment, [row["student"] for row in extended]),
        "form": form,
        "error": error,
        "notice": notice,
        "path": page_path(assignment),
        "stats_path": page_path(assignment, "stats"),
    }
    return render(request, "gradebook.html", context, status=422 if error else 200)


@router.get(ASSIGNMENT + "/gradebook")
def gradebook_page(
    request: Request,
    staff: PageStaff,
    assignment: PageAssignment,
    db: SessionDep,
    sets: SetsDep,
    zone: PageZone,
    sort: Annotated[str, Query(max_length=200)] = "student",
    order: Order = "asc",
    page: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
    q: Annotated[str, Query(max_length=200)] = "",
    student: Annotated[str, Query(max_length=200)] = "",
    done: Annotated[str, Query(max_length=20)] = "",
) -> Response:
    """The table sorted by ``sort`` (a column id: ``student``, ``score``, ``key:q1.a``, ...), in
    pages of :data:`PAGE_SIZE` (``page``), of the students whose id or name contains ``q``;
    ``student`` preselects the extension form (with that student's extension, if any) and opens
    the page that shows them."""
    notice = DONE[done].format(student=student) if done in DONE and student else None
    return _gradebook(
        request,
        staff=staff,
        assignment=assignment,
        db=db,
        sets=sets,
        sort=sort,
        order=order,
        number=page,
        search=q,
        chosen=student,
        zone=zone,
        notice=notice,
        blank_form=done in DONE,
    )


def _capped(db: Session, assignment: Terms, students: list[str]) -> dict[str, datetime]:
    """The extended students of a timed assignment whose close ends their clock before their minutes
    do (their clock as started, or one started now), with that close: their extra minutes are not
    all given, and the page says so."""
    if assignment.time_limit is None or not students:
        return {}
    own = assignments.extensions(db, assignment=assignment)
    now = datetime.now(UTC)
    capped = {}
    for student in students:
        clock = read_clock(db, course_id=assignment.course_id, assignment_id=assignment.id, student_id=student)
        terms = with_extension(assignment, own.get(student))
        close = capped_at(terms, started_at=None if clock is None else clock.started_at, now=now)
        if close is not None:
            capped[student] = close
    return capped


@router.get(ASSIGNMENT + "/gradebook/students/{student_id}")
def student_submissions(
    request: Request,
    _staff: PageStaff,
    assignment: PageAssignment,
    db: SessionDep,
    sets: SetsDep,
    student_id: StudentIdPath,
    replied: Annotated[str | None, Query(max_length=200)] = None,
    *,
    error: str | None = None,
    status: int = 200,
) -> Response:
    """One student's attempts, as ``GET .../submissions?student=`` gives them to staff: each part's
    answer as sent and as read, status, score, feedback, mistake and reference; late and penalty
    under the student's terms, and each part's worked solution, folded (404 for someone who is not
    a student of the course)."""
    assignments.require_student(db, course_id=assignment.course_id, student_id=student_id)
    problem_set = sets.of(assignment)
    terms = with_extension(assignment, assignments.extensions(db, assignment=assignment).get(student_id))
    references: dict[str | None, Released] = {}
    attempts = [
        to_out(submission, staff=True, terms=terms, problem_set=problem_set, references=references)
        for submission in submissions.list_submissions(db, assignment=assignment, student=student_id)
    ]
    # the references as a student would write them (a shape 32 × 32 × 3, not [32, 32, 3])
    solved = problem_set.solve(None) if problem_set is not None else {}
    kinds = {key: answer.kind for key, answer in solved.items()}
    choice = problem_set.choice() if problem_set is not None else {}
    context = {
        "assignment": assignment,
        "student": student_id,
        "error": error,
        "terms": terms,
        "attempts": attempts,
        "reference_texts": {
            a.id: {
                key: to_text(kinds[key], value) if key in kinds else value for key, value in (a.reference or {}).items()
            }
            | {key: right_text(part) for key, part in choice.items() if key in (a.reference or {})}
            for a in attempts
        },
        # a choice part's picks by letter and text, and the order this student is shown its options
        "answer_texts": {
            a.id: {key: picks_text(part, a.answers[key]) for key, part in choice.items() if key in a.answers}
            for a in attempts
        },
        "choice_orders": {
            key: ", ".join(shown_order(problem_set.id, key, part, order_key(terms, student_id)))
            for key, part in choice.items()
            if problem_set is not None
        },
        "path": page_path(assignment),
        # the worked solutions' steps are typeset (KaTeX) when an attempt has any
        "needs_math": any(part.get("solution") for attempt in attempts for part in attempt.parts.values()),
        # each part's regrade requests beside its reading, verdict and tests, answered here
        "requests": _requests_of(db, [a.id for a in attempts]),
        "replied": replied,
    }
    return render(request, "gradebook_student.html", context, status=status)


def _requests_of(db: Session, submission_ids: list[int]) -> dict[int, dict[str, list[RegradeRequest]]]:
    """The attempts' regrade requests, by attempt and key, oldest first."""
    found: dict[int, dict[str, list[RegradeRequest]]] = {}
    query = select(RegradeRequest).where(RegradeRequest.submission_id.in_(submission_ids)).order_by(RegradeRequest.id)
    for request in db.scalars(query):
        found.setdefault(request.submission_id, {}).setdefault(request.key, []).append(request)
    return found


@router.post(ASSIGNMENT + "/gradebook/students/{student_id}/reply")
def reply_regrade(
    request: Request,
    _page: CsrfChecked,
    staff: PageStaff,
    assignment: PageAssignment,
    db: SessionDep,
    sets: SetsDep,
    student_id: StudentIdPath,
    key: Annotated[str, Form(max_length=200)] = "",
    submission: Annotated[str, Form(max_length=12)] = "",
    reply: Annotated[str, Form(max_length=2100)] = "",
) -> Response:
    """Staff's answer to a regrade request about any part (the REST API's ``.../regrade-request/reply``
    rules: :func:`api.handgrading.release.reply`), then the student's attempts again."""
    found = db.get(Submission, int(submission)) if submission.isdigit() else None
    theirs = found is not None and (found.course_id, found.assignment_id) == (assignment.course_id, assignment.id)
    if found is None or not theirs or found.student_id != student_id:
        raise NotFound("No such submission of this student.")
    try:
        body = RegradeReplyIn.model_validate({"reply": reply})
        release.reply(db, submission=found, key=key, text=body.reply, by=staff.id)
    except ValidationError:
        error = "Write a reply (at most 2,000 characters)."
        return student_submissions(request, staff, assignment, db, sets, student_id, error=error, status=422)
    except Conflict as refusal:
        return student_submissions(request, staff, assignment, db, sets, student_id, error=refusal.detail, status=409)
    path = f"{page_path(assignment)}/students/{quote(student_id)}?replied={quote(key)}"
    return RedirectResponse(path, status_code=303)


@router.get(ASSIGNMENT + "/gradebook/download")
def gradebook_download(
    _staff: PageStaff, assignment: PageAssignment, db: SessionDep, sets: SetsDep, format: ExportFormat
) -> Response:
    """The same file as ``GET /api/v1/.../gradebook?format=csv`` (or ``canvas``), for the session."""
    return gradebook_file(db, assignment=assignment, problem_set=sets.of(assignment), format=format).response()


@router.post(ASSIGNMENT + "/gradebook/extensions")
def grant_extension(
    request: Request,
    _page: CsrfChecked,
    staff: PageStaff,
    assignment: PageAssignment,
    db: SessionDep,
    sets: SetsDep,
    zone: PageZone,
    student: Annotated[str, Form(max_length=200)],
    due_at: Annotated[str, Form(max_length=100)] = "",
    max_attempts: Annotated[str, Form(max_length=100)] = "",
    extra_minutes: Annotated[str, Form(max_length=100)] = "",
    sort: Annotated[str, Form(max_length=200)] = "student",
    order: Annotated[Order, Form()] = "asc",
) -> Response:
    """Grants or replaces the student's extension, as ``PUT .../extensions/{student}`` does (its
    due date typed in the course's zone); a form that does not validate comes back with what was
    typed and why."""
    typed = {"student": student, "due_at": due_at, "max_attempts": max_attempts, "extra_minutes": extra_minutes}
    sent: dict[str, Any] = {k: v.strip() for k, v in typed.items() if k != "student" and v.strip()}
    try:
        if "due_at" in sent:
            sent["due_at"] = read_local(sent["due_at"], zone)
        body = ExtensionIn.model_validate(sent)
    except (LocalTimeRefused, ValidationError) as error:
        refusal = _refusal(error) if isinstance(error, ValidationError) else f"due at: {error}."
        return _gradebook(
            request,
            staff=staff,
            assignment=assignment,
            db=db,
            sets=sets,
            sort=sort,
            order=order,
            zone=zone,
            form=typed,
            error=refusal,
        )
    student_id = student.strip()
    assignments.set_extension(
        db,
        assignment=assignment,
        student_id=student_id,
        due_at=body.due_at,
        max_attempts=body.max_attempts,
        granted_by=staff.id,
        extra_minutes=body.extra_minutes,
    )
    query = urlencode({"student": student_id, "done": "granted", "sort": sort, "order": order})
    return RedirectResponse(f"{page_path(assignment)}?{query}#extensions", status_code=303)


@router.post(ASSIGNMENT + "/gradebook/extensions/{student_id}/remove")
def remove_extension(
    _page: CsrfChecked,
    _staff: PageStaff,
    assignment: PageAssignment,
    db: SessionDep,
    student_id: StudentIdPath,
    sort: Annotated[str, Form(max_length=200)] = "student",
    order: Annotated[Order, Form()] = "asc",
) -> Response:
    """Withdraws the student's extension, as ``DELETE .../extensions/{student}`` does."""
    assignments.drop_extension(db, assignment=assignment, student_id=student_id)
    query = urlencode({"student": student_id, "done": "removed", "sort": sort, "order": order})
    return RedirectResponse(f"{page_path(assignment)}?{query}#extensions", status_code=303)
