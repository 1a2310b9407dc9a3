"""A timed assignment on the student's page: the notice and Start button before the clock runs,
the time left and the draft saved as they type while it does (htmx posts the form here a second
after they stop typing), and what time-up did once it is over. The rules are :mod:`api.timed`'s
and :mod:`api.terms.clock`'s; the page only says them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.responses import Response

from api.access import Member
from api.deps import SessionDep, SetsDep, get_course_student, problem_set_of
from api.exam_room import events
from api.exam_room.doors import client_address
from api.kit.errors import Conflict, Unprocessable
from api.library.course_sets import Sets
from api.pages.kit.deps import CsrfChecked, PageMember, PageTerms, SignedIn
from api.pages.kit.render import render
from api.pages.kit.routing import PageRoute
from api.pages.students.choice_parts import choice_answers
from api.pages.students.exam_room import refusal_of
from api.submissions.schemas import check_answers
from api.terms.clock import ClockRow, capped_at, read_clock
from api.terms.rows import Terms
from api.timed import service as timed
from problems.sets import ProblemSet

router = APIRouter(route_class=PageRoute, include_in_schema=False)
ASSIGNMENT = "/courses/{course_id}/assignments/{assignment_id}"


@dataclass(frozen=True)
class TimedView:
    """A student's clock as their page shows it (``clock`` None: not started)."""

    limit: int
    clock: ClockRow | None
    ends_at: datetime | None
    now: datetime
    #: The close, where it would end a clock started now before its minutes do (None: it would not).
    capped_by: datetime | None = None

    @property
    def minutes_available(self) -> int:
        """The whole minutes a clock started now would really run (the limit, or less before the close)."""
        if self.capped_by is None:
            return self.limit
        return max(0, int((self.capped_by - self.now).total_seconds() // 60))

    @property
    def started(self) -> bool:
        return self.clock is not None

    @property
    def over(self) -> bool:
        return self.clock is not None and (
            self.clock.submitted_at is not None or (self.ends_at is not None and self.now > self.ends_at)
        )

    @property
    def running(self) -> bool:
        return self.started and not self.over

    @property
    def handled(self) -> bool:
        return self.clock is not None and self.clock.submitted_at is not None

    def draft(self, last_submitted: datetime | None) -> dict[str, Any] | None:
        """The draft to fill the form with: saved after the last attempt (else that attempt's answers)."""
        clock = self.clock
        if clock is None or not clock.answers or clock.saved_at is None:
            return None
        return clock.answers if last_submitted is None or clock.saved_at > last_submitted else None


def timed_view(db: Session, terms: Terms, student_id: str) -> TimedView | None:
    """The student's clock on a timed assignment (None: untimed)."""
    if terms.time_limit is None:
        return None
    clock = read_clock(db, course_id=terms.course_id, assignment_id=terms.id, student_id=student_id)
    end = None if clock is None else clock.end(terms)
    now = datetime.now(UTC)
    capped = None if clock is not None else capped_at(terms, started_at=None, now=now)
    return TimedView(terms.time_limit, clock, end, now, capped)


@router.post(ASSIGNMENT + "/draft")
async def save_draft(
    request: Request, page: CsrfChecked, member: PageMember, terms: PageTerms, db: SessionDep, sets: SetsDep
) -> Response:
    """The form as typed so far, saved as the draft (htmx posts it as the student types): the small
    status under the form; 409 with the sentence once the time is over; 403 with the exam room's
    reason (nothing saved before is lost)."""
    student = await get_course_student(member)
    form = await request.form()
    return await run_in_threadpool(_save, request, page, form, student, terms, db, sets)


def _save(
    request: Request, page: SignedIn, form: FormData, student: Member, terms: Terms, db: Session, sets: Sets
) -> Response:
    kept_out = refusal_of(db, request, page, terms, student.id, bind=True)
    if kept_out is not None:
        context = {"error": f"Not saved: {kept_out.detail}", "reason": kept_out.reason}
        return render(request, "_draft_status.html", context, status=403)
    problem_set = problem_set_of(terms, sets)
    try:
        answers = check_answers(typed_answers(form, problem_set))
        saved_at = timed.save_draft(
            db,
            terms=terms,
            student_id=student.id,
            answers=answers,
            problem_set=problem_set,
            address=client_address(request),
        )
    except ValueError as error:
        return render(request, "_draft_status.html", {"error": f"Not saved: {error}."}, status=422)
    except (Conflict, Unprocessable) as refusal:
        status = 409 if isinstance(refusal, Conflict) else 422
        return render(request, "_draft_status.html", {"error": str(refusal.detail)}, status=status)
    return render(request, "_draft_status.html", {"saved_at": saved_at})


def typed_answers(form: FormData, problem_set: ProblemSet) -> dict[str, Any]:
    """The answers of the form as the submit button sends them (a code part's text, not its file)."""
    answers: dict[str, Any] = {
        key: value for key in problem_set.answer_keys() if isinstance(value := form.get(key), str)
    }
    return answers | choice_answers(form, problem_set)


@router.post(ASSIGNMENT + "/signals")
async def record_signal(
    request: Request, page: CsrfChecked, member: PageMember, terms: PageTerms, db: SessionDep
) -> Response:
    """A focus loss or a paste the exam page noticed (``signal``), recorded for the proctor: never
    enforced, never a penalty. 204 whatever becomes of it (kept, or past the bounds of
    :mod:`api.exam_room.events`); 409 once the attempt is not running; 422 for another signal."""
    student = await get_course_student(member)
    form = await request.form()
    signal = form.get("signal")
    if signal not in events.SIGNALS:
        return Response(f"A signal is one of {', '.join(events.SIGNALS)}.", status_code=422)
    return await run_in_threadpool(_signal, db, terms, student.id, str(signal))


def _signal(db: Session, terms: Terms, student_id: str, signal: str) -> Response:
    view = timed_view(db, terms, student_id)
    if view is None or not view.running:
        return Response("Your attempt is not running: nothing was recorded.", status_code=409)
    events.record_signal(db, terms=terms, student_id=student_id, signal=signal, at=datetime.now(UTC))
    return Response(status_code=204)
