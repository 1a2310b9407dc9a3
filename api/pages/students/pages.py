"""A member's pages of a course: the course (a student's assignments with due dates, attempts left
and the score that counts) and an assignment (a student answers it; staff read its statements with
the reference answers, and go on to its gradebook and statistics).

Every rule is the services': terms with the student's extension (:func:`with_extension`), the
attempt that counts (:func:`api.terms.counted.counted_attempt`), lateness and the released
reference answers (:func:`api.submissions.views.to_out`), preview and submit
(:mod:`api.submissions.service`). The page only arranges what they say.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime
from typing import Annotated, NamedTuple

from fastapi import APIRouter, Query, Request
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.responses import RedirectResponse, Response

from api.access import Member
from api.assignments.service import (
    attempts_used,
    extensions,
    list_assignments,
    max_score,
    require_student,
    student_extensions,
)
from api.code_runs.shares import CodeLimits
from api.deps import SessionDep, SetsDep, get_course_student, problem_set_of
from api.exam_room.doors import client_address
from api.exam_room.rules import AccessRules
from api.handgrading.release import ask_regrade as ask_regrade_of
from api.handgrading.schemas import RegradeRequestIn
from api.kit.db import reads_only, writes_once
from api.kit.errors import Conflict, NotFound, Refused, Unprocessable
from api.library.course_sets import Sets
from api.models import Assignment, Course, CourseRole, Feedback, Role, Submission
from api.pages.kit.deps import CsrfChecked, PageMember, PageTerms, SignedIn, SignedInDep, zone_of
from api.pages.kit.render import render
from api.pages.kit.routing import PageRoute
from api.pages.staff.dashboard import dashboard
from api.pages.students.assignment_view import AnswerForm, staff_context, student_page
from api.pages.students.choice_parts import choice_answers
from api.pages.students.code_parts import code_answers
from api.pages.students.exam_room import assignment_path, keep_pass, refusal_of, typed_password
from api.pages.students.timed import timed_view
from api.submissions import service as submissions
from api.terms.counted import counted_attempt
from api.terms.feedback import shows_score
from api.terms.grades import as_student_sees, grade_released
from api.terms.rows import Terms, with_extension
from api.terms.rules import is_closed
from api.terms.standing import feedback_to
from api.timed import service as timed
from api.users.service import Caller
from grader.awaiting import Awaiting, awaiting

router = APIRouter(route_class=PageRoute, include_in_schema=False)
COURSE = "/courses/{course_id}"
ASSIGNMENT = COURSE + "/assignments/{assignment_id}"


@router.get(COURSE)
def course_page(
    request: Request,
    member: PageMember,
    db: SessionDep,
    sets: SetsDep,
    student: Annotated[str | None, Query(max_length=64)] = None,
) -> Response:
    """Students: their assignments, dates, attempts and scores; staff: the dashboard, or with
    ``?student=ID`` that student's course page as they see it (the course gradebook's rows link it)."""
    if member.is_staff and student is not None:
        require_student(db, course_id=member.course, student_id=student)
        as_student = Member(Caller(student, Role.STUDENT.value), member.course, CourseRole.STUDENT.value)
        return _student_course(request, as_student, db, sets, viewed_by=member)
    if member.is_staff:
        return dashboard(request, member, db, sets)
    return _student_course(request, member, db, sets)


def _student_course(
    request: Request, member: Member, db: Session, sets: Sets, *, viewed_by: Member | None = None
) -> Response:
    course = db.get(Course, member.course)
    assert course is not None  # (the member's course)
    assignments = list_assignments(db, course_id=member.course, students=True)
    used = attempts_used(db, course_id=member.course, student_id=member.id)
    extended = student_extensions(db, course_id=member.course, student_id=member.id)
    attempts = _attempts(db, member, with_written=_with_written(assignments, sets))
    now = datetime.now(UTC)
    rows = []
    for assignment in assignments:
        terms = with_extension(assignment, extended.get(assignment.id))
        problem_set = sets.of(terms)
        counted, late = counted_attempt(attempts[assignment.id], terms) or (None, None)
        # (an assignment holding back every grade shows only that it was submitted)
        hidden = counted is not None and not shows_score(feedback_to(db, terms=terms, student_id=member.id))
        left = None if terms.max_attempts is None else max(0, terms.max_attempts - used.get(assignment.id, 0))
        rows.append(
            {
                "assignment": assignment,
                "terms": terms,
                "closed": is_closed(terms, now),
                "extension": extended.get(assignment.id),
                "used": used.get(assignment.id, 0),
                "left": left,
                "counted": counted,
                "score": None if counted is None or late is None or hidden else late.applied(counted.score),
                "awaiting": None if counted is None else counted.awaiting,
                "max_score": max_score(problem_set) if problem_set is not None else None,
            }
        )
    context = {"course": course, "rows": rows, "viewed_by": viewed_by, "student_id": member.id}
    return render(request, "course_student.html", context)


class _Attempt(NamedTuple):
    attempt: int
    score: float
    max_score: float
    submitted_at: datetime
    #: The points graded and awaited, for an assignment with written parts (None: every part scored).
    awaiting: Awaiting | None = None


def _with_written(assignments: list[Assignment], sets: Sets) -> dict[str, Assignment]:
    """The assignments whose attempts may have parts without a score for the student: those with
    written parts (awaiting a grader, or graded and not released to students)."""
    return {a.id: a for a in assignments if (problem_set := sets.of(a)) is not None and problem_set.written()}


def _attempts(db: Session, student: Member, *, with_written: dict[str, Assignment]) -> dict[str, list[_Attempt]]:
    """Every attempt of the student in the course, by assignment, scored as the student may see it:
    in the assignments ``with_written`` parts without the points of grades by hand not released to
    them, and with the points awaited (as the REST API and the assignment page show them,
    :func:`api.submissions.views.to_out`). Their parts are read only for those."""
    mine = (Submission.course_id == student.course) & (Submission.student_id == student.id)
    columns = (Submission.attempt, Submission.score, Submission.max_score, Submission.submitted_at)
    attempts: dict[str, list[_Attempt]] = defaultdict(list)
    for assignment_id, attempt, score, maximum, at in db.execute(
        select(Submission.assignment_id, *columns).where(mine, Submission.assignment_id.not_in(with_written))
    ):
        attempts[assignment_id].append(_Attempt(attempt, score, maximum, at))
    if with_written:
        query = select(Submission.assignment_id, *columns, Submission.parts)
        for assignment_id, attempt, score, maximum, at, parts in db.execute(
            query.where(mine, Submission.assignment_id.in_(with_written))
        ):
            parts, score = as_student_sees(with_written[assignment_id], parts, score)
            attempts[assignment_id].append(_Attempt(attempt, score, maximum, at, awaiting(parts)))
    return attempts


@router.get(ASSIGNMENT)
def assignment_page(
    request: Request,
    page: SignedInDep,
    member: PageMember,
    terms: PageTerms,
    db: SessionDep,
    sets: SetsDep,
    submitted: int | None = None,
    student: Annotated[str | None, Query(max_length=64)] = None,
) -> Response:
    """Students: the form, their last result and earlier attempts; staff: statements and
    reference answers, with links to the gradebook and statistics, or with ``?student=ID`` that
    student's page as they see it (their numbers, attempts, and references only if released to
    them), where nothing can be submitted."""
    problem_set = problem_set_of(terms, sets)
    if member.is_staff and student is not None:
        require_student(db, course_id=member.course, student_id=student)
        theirs = with_extension(terms, extensions(db, assignment=terms).get(student))
        as_student = Member(Caller(student, Role.STUDENT.value), member.course, CourseRole.STUDENT.value)
        return student_page(request, db, theirs, problem_set, as_student, AnswerForm(), viewed_by=member)
    if member.is_staff:
        return render(request, "assignment_staff.html", staff_context(terms, problem_set, member))
    return student_page(
        request, db, terms, problem_set, member, AnswerForm(), submitted=submitted, room=_room(db, request, page, terms)
    )


def _room(db: Session, request: Request, page: SignedIn, terms: Terms) -> Refused | None:
    """Why the exam room's rules keep the page's student out now. Opening an untimed assignment, or
    one whose clock runs, is a start: it binds a one-session attempt (to this browser, or to the
    next one after staff unlock it). Before a timed assignment's start, only a network that is not
    the room's is said: the Start button asks for the password."""
    if not AccessRules.of(terms.access):
        return None
    student_id = page.caller.id
    started = True
    if terms.time_limit is not None:
        view = timed_view(db, terms, student_id)
        started = view is not None and view.started
    refusal = refusal_of(db, request, page, terms, student_id, bind=started)
    if refusal is not None and not started and refusal.reason != "network":
        return None
    return refusal


@router.post(ASSIGNMENT)
@writes_once
async def submit_answers(
    request: Request, page: CsrfChecked, member: PageMember, terms: PageTerms, db: SessionDep, sets: SetsDep
) -> Response:
    """The form, posted (with or without JavaScript): ``Submit`` grades and stores an attempt,
    then shows it (303 to the page); "Check" shows how each answer is read. A refusal shows the
    page again with the reason and every answer as typed; the exam room's, with its reason (403)."""
    student = await get_course_student(member)
    form = await request.form()
    return await run_in_threadpool(_submit, request, page, form, student, terms, db, sets)


def _submit(
    request: Request, page: SignedIn, form: FormData, student: Member, terms: Terms, db: Session, sets: Sets
) -> Response:
    problem_set = problem_set_of(terms, sets)
    kept_out = refusal_of(db, request, page, terms, student.id, bind=True)
    if kept_out is not None:
        return student_page(request, db, terms, problem_set, student, AnswerForm(), status=403, room=kept_out)
    answers: dict[str, str | list[str]] = {
        key: value
        for key in [*problem_set.answer_keys(), *problem_set.modules()]  # (a problem's module under its id)
        if isinstance(value := form.get(key), str)
    }
    answers |= choice_answers(form, problem_set)  # (a checkbox group's every tick)
    typed = AnswerForm(answers=answers, key=_form_text(form, "idempotency_key"))
    if _form_text(form, "action") == "check":
        return student_page(request, db, terms, problem_set, student, typed, checked=True)
    try:
        answers |= code_answers(form, problem_set)  # (a code part's file, if one was chosen)
        stored = submissions.submit(
            db,
            problem_set=problem_set,
            assignment=terms,
            student_id=student.id,
            answers=answers,
            idempotency_key=typed.key or None,
            from_lms=student.from_lms,
            budget=request.app.state.grading_budget,
            defer_code=request.app.state.jobs.defer_code,
            code_limits=CodeLimits.of(request.app.state.settings),
        )
    except (Unprocessable, Conflict) as refusal:
        status = 422 if isinstance(refusal, Unprocessable) else 409
        return student_page(request, db, terms, problem_set, student, typed.refused(refusal.detail), status=status)
    target = request.url.path + f"?submitted={stored.submission.attempt}#result"
    return RedirectResponse(target, status_code=303)


@router.post(ASSIGNMENT + "/start")
async def start(
    request: Request, page: CsrfChecked, member: PageMember, terms: PageTerms, db: SessionDep, sets: SetsDep
) -> Response:
    """The Start button: the clock starts (or is the one started already, from another tab), then
    the page (303), now with the questions and the time left. The exam room's rules are checked
    first, with the password typed beside the button: a refusal is the page again saying why (403)."""
    student = await get_course_student(member)
    password = typed_password(await request.form())
    return await run_in_threadpool(_start, request, page, student, terms, db, sets, password)


def _start(
    request: Request, page: SignedIn, student: Member, terms: Terms, db: Session, sets: Sets, password: str | None
) -> Response:
    refused = _refused_page(request, page, student, terms, db, sets, password)
    if refused is not None:
        return refused
    timed.start(db, terms=terms, student_id=student.id, address=client_address(request))
    request.app.state.time_keeper.wake()
    return keep_pass(RedirectResponse(assignment_path(request), status_code=303), request, page, terms)


@router.post(ASSIGNMENT + "/exam-password")
async def type_password(
    request: Request, page: CsrfChecked, member: PageMember, terms: PageTerms, db: SessionDep, sets: SetsDep
) -> Response:
    """The password typed to open (an untimed assignment) or resume (a started one) in this
    browser: the page again with the questions (303), or with the refusal (403)."""
    student = await get_course_student(member)
    password = typed_password(await request.form())
    return await run_in_threadpool(_type_password, request, page, student, terms, db, sets, password)


def _type_password(
    request: Request, page: SignedIn, student: Member, terms: Terms, db: Session, sets: Sets, password: str | None
) -> Response:
    refused = _refused_page(request, page, student, terms, db, sets, password)
    if refused is not None:
        return refused
    return keep_pass(RedirectResponse(assignment_path(request), status_code=303), request, page, terms)


def _refused_page(
    request: Request, page: SignedIn, student: Member, terms: Terms, db: Session, sets: Sets, password: str | None
) -> Response | None:
    """The page again saying why the exam room's rules refuse the student (403), or None: they may work."""
    refusal = refusal_of(db, request, page, terms, student.id, bind=True, password=password)
    if refusal is None:
        return None
    problem_set = problem_set_of(terms, sets)
    return student_page(request, db, terms, problem_set, student, AnswerForm(), status=403, room=refusal)


@router.post(ASSIGNMENT + "/regrade-request")
async def ask_regrade(
    request: Request, _page: CsrfChecked, member: PageMember, terms: PageTerms, db: SessionDep, sets: SetsDep
) -> Response:
    """A student's regrade request about a part of their own submission (the REST API's
    rules: :func:`api.handgrading.release.ask_regrade`); the page again, saying what became of it."""
    student = await get_course_student(member)
    form = await request.form()
    return await run_in_threadpool(_ask_regrade, request, form, student, terms, db, sets)


def _ask_regrade(request: Request, form: FormData, student: Member, terms: Terms, db: Session, sets: Sets) -> Response:
    problem_set = problem_set_of(terms, sets)
    key, message = _form_text(form, "key"), form.get("message")
    number = _form_text(form, "submission")
    submission = db.get(Submission, int(number)) if number.isdigit() and len(number) < 10 else None
    mine = submission is not None and submission.student_id == student.id and submission.assignment_id == terms.id
    notice, status = "Your request was sent to the course's staff.", 200
    try:
        if submission is None or not mine or key not in problem_set.answer_keys():
            raise NotFound("No such part of your submissions.")
        body = RegradeRequestIn.model_validate({"message": message if isinstance(message, str) else ""})
        released = grade_released(terms, key)
        shown = feedback_to(db, terms=terms, student_id=student.id) in (Feedback.FULL, Feedback.CORRECTNESS)
        ask_regrade_of(db, submission=submission, key=key, message=body.message, released=released, verdict_shown=shown)
    except ValidationError:
        notice, status = "Say why the part should be looked at again (at most 2,000 characters).", 422
    except (NotFound, Conflict) as refusal:
        notice, status = str(refusal.detail), 404 if isinstance(refusal, NotFound) else 409
    return student_page(request, db, terms, problem_set, student, AnswerForm(), status=status, notice=notice)


def _form_text(form: FormData, name: str) -> str:
    value = form.get(name)
    return value[:200] if isinstance(value, str) else ""


@router.post(ASSIGNMENT + "/preview")
@reads_only
async def reading(
    request: Request,
    page: CsrfChecked,
    member: PageMember,
    terms: PageTerms,
    db: SessionDep,
    sets: SetsDep,
    key: Annotated[str, Query(max_length=200)],
) -> Response:
    """How one answer is read (htmx asks as the student types): the fragment under its input, by
    the preview service of ``POST .../preview``, under the exam room's rules as a save is."""
    student = await get_course_student(member)
    value = (await request.form()).get(key)
    return await run_in_threadpool(
        _reading, request, page, key, value if isinstance(value, str) else "", student, terms, db, sets
    )


def _reading(
    request: Request, page: SignedIn, key: str, value: str, student: Member, terms: Terms, db: Session, sets: Sets
) -> Response:
    refusal = refusal_of(db, request, page, terms, student.id, bind=False)
    if refusal is not None:
        raise refusal  # (403 with the reason: the fragment is not swapped in)
    problem_set = problem_set_of(terms, sets)
    if key not in problem_set.answer_keys():
        raise NotFound(f"The assignment has no key {key!r}.")
    # read and shown off the database, within the student's budget of grading work (429 past it)
    with submissions.grading(db, budget=request.app.state.grading_budget, account=student.id):
        found = submissions.previewed(
            problem_set=problem_set,
            assignment=terms,
            student_id=student.id,
            answers={key: value},
            left=None,
            zone=zone_of(page),
        )
        return render(request, "_reading.html", {"reading": found.parts.get(key)})
