"""What an assignment page shows, gathered from the services: for a student their variant's
statements, the form with one answer per key (as typed, or as last submitted), how each answer is
read, the last attempt's grade per part, earlier attempts and, once released, the reference
answers; for staff the statements with the reference answers."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from contextlib import suppress
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import Response

from api.access import Member
from api.assignments.draws import own_set
from api.assignments.options import StudentLetters, order_key, picks_of, right_text
from api.assignments.service import statements, variant_of, worked_solutions
from api.code_runs.sandboxes import missing_runtime
from api.exam_room import events
from api.exam_room.rules import AccessRules
from api.kit.errors import Refused
from api.models import Feedback, RegradeRequest, Submission
from api.pages.kit.deps import zone_of
from api.pages.kit.notation import answer_text, needs_math
from api.pages.kit.render import render
from api.pages.students.choice_parts import picked_text
from api.pages.students.code_parts import poll_path
from api.pages.students.timed import timed_view
from api.submissions import service as submissions
from api.submissions.views import Released, to_out
from api.terms.grades import grade_released
from api.terms.rows import Terms
from api.terms.rules import is_closed
from api.terms.standing import practice_open_to, released_to
from api.users.tokens import new_token
from grader.comparison.mistakes import EXPLANATIONS
from grader.written import is_manual
from problems.render import to_text
from problems.sets import ProblemSet, TwoModules


@dataclass(frozen=True)
class AnswerForm:
    """The form as posted: ``answers`` as typed (None when nothing was posted: the last attempt's
    answers fill it), the submission's idempotency key, and a refusal's message with a reason
    per unreadable key."""

    answers: dict[str, str | list[str]] | None = None
    key: str = ""
    error: str | None = None
    reasons: dict[str, str] = field(default_factory=dict)

    def refused(self, detail: Any) -> AnswerForm:
        """With the refusal of :func:`api.submissions.service.submit` (a message, or a dict with
        ``message`` and ``unreadable``: key → reason)."""
        if isinstance(detail, dict):
            reasons = {str(k): str(v) for k, v in (detail.get("unreadable") or {}).items()}
            return replace(self, error=str(detail.get("message")), reasons=reasons)
        return replace(self, error=str(detail))


@dataclass(frozen=True)
class Shown:
    """What the student's terms open to them now, read before the page is computed: the reference
    answers and worked solutions, and practice."""

    answers: bool
    practice: bool


def student_page(
    request: Request,
    db: Session,
    terms: Terms,
    problem_set: ProblemSet,
    student: Member,
    form: AnswerForm,
    *,
    submitted: int | None = None,
    checked: bool = False,
    status: int = 200,
    notice: str | None = None,
    viewed_by: Member | None = None,
    room: Refused | None = None,
) -> Response:
    """A student's assignment page (``notice``: what became of a regrade request; ``viewed_by``: a
    member of staff looking at it as the student sees it, read only). What it shows is
    read from the database first; then the answers it shows are read and the page written holding
    no connection nor slot, within the student's budget of grading work (429 past it): they may be
    a megabyte of answers, posted to be checked or stored as an attempt."""
    problem_set = own_set(problem_set, terms, student.id)  # (of a set with pools, the student's problems)
    stored = submissions.list_submissions(db, assignment=terms, student=student.id)
    requests = regrade_requests(db, stored[-1].id, problem_set) if stored else {}
    left = submissions.attempts_left(db, assignment=terms, student_id=student.id)
    # a timed assignment: the student's clock, and the draft saved since their last attempt (a reload
    # or a second tab shows what they typed)
    timed = timed_view(db, terms, student.id)
    draft = timed.draft(stored[-1].submitted_at if stored else None) if timed is not None else None
    zone = zone_of(request.state.page)  # (in which the preview states a close; read with the session)
    shown = Shown(
        released_to(db, terms=terms, student_id=student.id),
        practice_open_to(db, terms=terms, student_id=student.id, randomized=problem_set.randomized),
    )
    # (charged to whoever reads the page: a member of staff viewing a student's page pays for it)
    account = (viewed_by or student).id
    with submissions.grading(db, budget=request.app.state.grading_budget, account=account):
        context = assignment_context(
            terms,
            problem_set,
            student,
            form,
            stored,
            requests,
            left,
            shown,
            submitted=submitted,
            checked=checked,
            draft=draft,
            zone=zone,
            # (on PostgreSQL code workers on other machines run it, with runtimes of their own)
            grades_code_here=request.app.state.jobs.code_runner is not None,
            code_packages=request.app.state.settings.code_packages,
        )
        extra: dict[str, Any] = {
            "regrade_notice": notice,
            "viewed_by": viewed_by,
            "student_id": student.id,
            "timed": timed,
        }
        if timed is not None and timed.running:
            extra["closed"] = False  # (a proctor's added time may run past the close: api.timed.added)
        if viewed_by is not None and events.watched(terms):  # the attempt's log, for staff
            extra["attempt_events"] = events.events_of(db, terms=terms, students=[student.id]).get(student.id, [])
        # the exam room: why the page's session may not work now (the questions are not shown), and
        # whether the Start button asks for the password
        extra |= {"room": room, "asks_password": AccessRules.of(terms.access).password_hash is not None}
        return render(request, "assignment_student.html", {**context, **extra}, status=status)


def assignment_context(
    terms: Terms,
    problem_set: ProblemSet,
    student: Member,
    form: AnswerForm,
    stored: list[Submission],
    requests: dict[str, list[RegradeRequest]],
    left: int | None,
    shown: Shown,
    *,
    submitted: int | None = None,
    checked: bool = False,
    grades_code_here: bool = False,
    code_packages: Collection[str] | None = None,
    draft: dict[str, Any] | None = None,
    zone: ZoneInfo,
) -> dict[str, Any]:
    """The page's context from what :func:`student_page` read (the student's ``stored`` attempts,
    the last one's regrade ``requests``, the attempts ``left``, what is ``shown``; a timed
    assignment's ``draft`` saved since the last attempt fills the form): computation only."""
    variant = variant_of(problem_set, terms, student.id)
    references: dict[str | None, Released] = {}
    attempts = [
        to_out(
            s,
            staff=False,
            terms=terms,
            problem_set=problem_set,
            references=references,
            released_to_student=shown.answers,
        )
        for s in stored
    ]
    latest = attempts[-1] if attempts else None
    choice_keys = problem_set.choice()
    # a choice part's options by the student's own letters: the page's, their answers', their drafts'
    options_for = order_key(terms, student.id)
    letters = StudentLetters.of(problem_set, options_for)
    typed: dict[str, str | list[str]]
    if form.answers is not None:
        typed = form.answers
    else:  # (a choice part's picks stay as sent, in the student's letters: they tick its boxes)
        last = draft if draft is not None else latest.answers if latest else {}
        typed = {key: value if key in choice_keys else answer_text(value) for key, value in last.items()}
    # a problem's module, sent once under its id, is each of its code parts' answer (where a part is
    # answered both ways the refusal shown on the page says why, and the answers stay as typed)
    with suppress(TwoModules):
        typed = problem_set.per_part(typed)
    preview = submissions.previewed(
        problem_set=problem_set, assignment=terms, student_id=student.id, answers=typed, left=left, zone=zone
    )
    show_result = latest is not None and form.answers is None
    released = shown.answers
    reference = reference_texts(problem_set, variant) if released else None
    if reference is not None:  # a choice part's right options by their text alone, as the student reads them
        reference |= {key: picked_text(part, part.right_answer) for key, part in choice_keys.items()}
    solution = worked_solutions(problem_set, variant) if released else {}
    problems, index = [], 0
    code_keys = problem_set.code()
    written_keys = problem_set.written()
    # a problem's code parts share one module: one file input and text area, at its first code part
    module_of = {key: problem_id for problem_id, keys in problem_set.modules().items() for key in keys}
    first_of = {keys[0] for keys in problem_set.modules().values()}
    for problem in statements(problem_set, variant, options_for, own_letters=True):
        parts = []
        for part in problem["parts"]:
            key, index = part["key"], index + 1
            sent = typed.get(key, "")
            value = sent if isinstance(sent, str) and key not in choice_keys else ""
            result = latest.parts.get(key) if show_result and latest is not None else None
            code = result.get("misconception") if result else None
            parts.append(
                {
                    **part,
                    "index": index,
                    "value": value,
                    "reading": preview.parts.get(key) if value.strip() else None,
                    "reason": form.reasons.get(key),
                    "result": result,
                    "mistake": code,
                    "explanation": EXPLANATIONS.get(code) if code else None,
                    "reference": None if reference is None else reference.get(key),
                    "solution": solution.get(key),
                    "can_regrade": result is not None
                    and _regrade_open(terms, key, result, latest.feedback if latest else None, written_keys),
                    # what a student reads first: the question, not the internal key
                    "title": part["prompt"] or f"Part {index}",
                    "code": key in code_keys,
                    # a number about the student's own code (its model's parameter count), not a module
                    "about_code": key in code_keys and code_keys[key].module is not None,
                    "module": module_of.get(key),
                    "module_first": key in first_of,
                    # said before anyone writes code this service, which runs it itself, cannot run (torch
                    # is an optional install)
                    "unavailable": missing_runtime(code_keys[key].runtime, code_packages)
                    if grades_code_here and key in code_keys
                    else None,
                    "poll": poll_path(terms, latest.id, key, index) if result and key in code_keys and latest else None,
                    "picked": picks_of(sent) if key in choice_keys else [],
                }
            )
        problems.append({**problem, "parts": parts})
    titles = {part["key"]: part["title"] for problem in problems for part in problem["parts"]}
    # each attempt's answers as listed: a choice part's picks as the student read them, not by letter
    answered = {
        attempt.attempt: {
            key: picked_text(choice_keys[key], letters.to_file(key, value)) if key in choice_keys else value
            for key, value in attempt.answers.items()
        }
        for attempt in attempts
    }
    now = datetime.now(UTC)
    return {
        "assignment": terms,
        "regrade_requests": requests,
        "problems": problems,
        "titles": titles,
        "answered": answered,
        "attempts": attempts,
        "latest": latest if show_result else None,
        "just_submitted": submitted if latest is not None and submitted == latest.attempt else None,
        "attempts_left": preview.attempts_left,
        "no_attempt_left": preview.attempts_left == 0,
        "past_due": terms.due_at is not None and now > terms.due_at,
        "released": reference is not None,
        "practice_open": shown.practice,
        "closed": is_closed(terms, now),
        "form": form,
        "checked": checked,
        "idempotency_key": form.key or new_token(),
        "needs_math": needs_math(problems) or bool(solution),
        "has_code": bool(code_keys),
        "module_parts": problem_set.modules(),
    }


def _regrade_open(
    terms: Terms, key: str, result: Mapping[str, Any], level: Feedback | None, written_keys: Collection[str]
) -> bool:
    """Whether the student may ask for a regrade of the part (the REST API's rule,
    :func:`api.handgrading.release.ask_regrade`): graded, and its grade shown to them."""
    if result.get("score") is None:
        return False
    if key in written_keys:  # (shown with its rubric: only where nothing of it is held back)
        return is_manual(result) and grade_released(terms, key)
    return level in (Feedback.FULL, Feedback.CORRECTNESS)


def regrade_requests(db: Session, submission_id: int, problem_set: ProblemSet) -> dict[str, list[RegradeRequest]]:
    """The submission's regrade requests by key (oldest first), about any of its parts."""
    found: dict[str, list[RegradeRequest]] = {}
    query = select(RegradeRequest).where(RegradeRequest.submission_id == submission_id).order_by(RegradeRequest.id)
    for request in db.scalars(query):
        found.setdefault(request.key, []).append(request)
    return found


def reference_texts(problem_set: ProblemSet, variant: str | None) -> dict[str, str]:
    """The reference answers of a variant written as a student would write them (the values of
    :func:`api.assignments.service.reference_answers`, as text)."""
    found = {key: to_text(answer.kind, answer.value) for key, answer in problem_set.solve(variant).items()}
    return found | {key: right_text(part) for key, part in problem_set.choice().items()}


def staff_context(terms: Terms, problem_set: ProblemSet, member: Member) -> dict[str, Any]:
    """The statements of the declared numbers with their reference answers (a randomized set's
    students each have their own variant)."""
    reference = reference_texts(problem_set, None)
    problems = [
        {
            **problem,
            "parts": [
                {**part, "reference": reference.get(part["key"]), "right": _right(problem_set, part["key"])}
                for part in problem["parts"]
            ],
        }
        for problem in statements(problem_set, None)
    ]
    return {
        "assignment": terms,
        "problems": problems,
        "member": member,
        "randomized": problem_set.randomized,
        "pools": [
            {"choose": pool.choose, "ids": [problem_set.problems[index].id for index in pool.members]}
            for pool in problem_set.pools
        ],
        "shuffle": problem_set.shuffle,
        "written": list(problem_set.written()),
        "code": list(problem_set.code()),
        "needs_math": needs_math(problems),
    }


def _right(problem_set: ProblemSet, key: str) -> list[str]:
    """A choice part's right option ids (none for any other part)."""
    part = problem_set.choice().get(key)
    return sorted(part.right) if part is not None else []
