"""Code parts on a student's assignment page: the answer taken from an uploaded file (``.py``, or
``.ipynb``, which the engine reads as its code cells in order) or the text area under it, and the result fragment
htmx asks for while the code waits for, or runs in, the sandbox: one request that the service holds
until the result is written (``wait``, :mod:`api.code_runs.watch`), asked again when it comes back
still waiting; it stops once the result is there (the fragment it returns then has no trigger).
Staff viewing a student's page see every test; the student, the tests visible to them, and of those what the
assignment's ``feedback`` lets them see before the answers are released (the REST API's filters, through
:func:`api.submissions.views.to_out`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData, UploadFile
from starlette.responses import Response

from api.access import require_assignment, require_member
from api.code_runs.watch import MAX_WAIT
from api.deps import problem_set_of, request_session
from api.kit.db import reads_only
from api.kit.errors import NotFound, Unprocessable
from api.kit.ids import may_exist
from api.library.course_sets import Sets
from api.models import Submission
from api.pages.kit.deps import signed_in
from api.pages.kit.render import attempt_score, render
from api.pages.kit.routing import PageRoute
from api.submissions.views import to_out
from api.terms.rows import Terms, with_extension
from api.terms.standing import released_to
from problems.sets import ProblemSet

router = APIRouter(route_class=PageRoute, include_in_schema=False)
ASSIGNMENT = "/courses/{course_id}/assignments/{assignment_id}"

#: The form field of a code part's file: its key with this suffix (the text area is the key itself).
FILE_FIELD = ":file"
#: The statuses of a code part whose result is still to come: its fragment is asked for while they last.
WAITING = ("queued", "running")
#: Seconds the page's request for a result waits for it (under :data:`MAX_WAIT`).
WAIT = 15.0


def code_answers(form: FormData, problem_set: ProblemSet) -> dict[str, str]:
    """Each problem's module from the posted form, under the problem's id (its one file input and text
    area answer every code part of the problem), and each code part's own where a form has one (a page
    served before problems took one module): the uploaded file's text when one was chosen, else the
    text area's. Unprocessable, with a sentence, for a file that is not UTF-8 text."""
    answers: dict[str, str] = {}
    for key in [*problem_set.modules(), *problem_set.code()]:
        upload = form.get(key + FILE_FIELD)
        if isinstance(upload, UploadFile) and upload.filename:
            answers[key] = _uploaded_source(upload)
        elif isinstance(text := form.get(key), str):
            answers[key] = text
    return answers


def _uploaded_source(upload: UploadFile) -> str:
    """The file's text as sent (a notebook's JSON is read by the engine, which names a bad cell)."""
    data = upload.file.read()  # (bounded by the service's limit on a request's body)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        name = upload.filename or "The file"
        raise Unprocessable(f"Not submitted (no attempt used): {name} is not UTF-8 text.") from None


@router.get(ASSIGNMENT + "/submissions/{submission_id}/code/{key}")
@reads_only
async def code_result(
    request: Request,
    submission_id: int,
    key: Annotated[str, Path(max_length=200)],
    n: Annotated[int, Query(ge=0, le=10_000)] = 0,
    wait: Annotated[float, Query(ge=0, le=MAX_WAIT)] = 0,
) -> Response:
    """The result of one code part of a submission (its student's, or staff's), as the page shows
    it under the answer: asked for by htmx while the code waits or runs, answered once it is
    graded or after ``wait`` seconds (no session, slot or thread held meanwhile)."""
    found = await _result(request, submission_id, key, n, patient=wait > 0)
    if wait > 0 and found.waiting:
        await request.app.state.results.graded(submission_id, within=wait)
        found = await _result(request, submission_id, key, n, patient=True)
    return found.response


@dataclass(frozen=True)
class _Shown:
    response: Response
    waiting: bool


async def _result(request: Request, submission_id: int, key: str, n: int, *, patient: bool = False) -> _Shown:
    """``patient``: read behind other requests (the caller waits for the code anyway: api.kit.slots)."""
    async with request_session(request, patient=patient) as db:
        return await run_in_threadpool(_fragment, request, db, submission_id, key, n)


def _fragment(request: Request, db: Session, submission_id: int, key: str, n: int) -> _Shown:
    page = signed_in(request, db)
    member = require_member(page.access, request.path_params["course_id"])
    terms = with_extension(require_assignment(page.access, request.path_params["assignment_id"]), page.access.extension)
    submission = db.get(Submission, submission_id) if may_exist(submission_id) else None
    if (
        submission is None
        or (submission.course_id, submission.assignment_id) != (terms.course_id, terms.id)
        or not (member.is_staff or submission.student_id == member.id)
    ):
        raise NotFound(f"No submission {submission_id}.")
    problem_set = problem_set_of(terms, Sets(request.app.state.library, db))
    if key not in problem_set.code():
        raise NotFound(f"The assignment has no code part {key!r}.")
    staff = member.is_staff
    released = not staff and released_to(db, terms=terms, student_id=submission.student_id)
    out = to_out(submission, staff=staff, terms=terms, problem_set=problem_set, released_to_student=released)
    context = code_result_context(out.parts.get(key), n, poll_path(terms, submission_id, key, n))
    if not context["waiting"]:  # the page's score and the attempt's row, now that this part has its own
        context["score"], context["attempt"] = attempt_score(out), out.attempt
    return _Shown(render(request, "_code_result.html", context), context["waiting"])


def code_result_context(part: Any, n: int, poll: str) -> dict[str, Any]:
    """What ``_code_result.html`` shows of a code part: ``n`` is the part's index on the page, and
    ``poll`` the fragment's address, asked for (and waited on) while the part waits."""
    waiting = isinstance(part, dict) and part.get("status") in WAITING
    return {"part": part, "i": n, "waiting": waiting, "poll": poll}


def poll_path(terms: Terms, submission_id: int, key: str, n: int) -> str:
    """The address of a code part's result fragment (``n``: the part's index on the page)."""
    path = f"/courses/{terms.course_id}/assignments/{terms.id}/submissions/{submission_id}/code/{key}"
    return f"{path}?n={n}&wait={WAIT:g}"
