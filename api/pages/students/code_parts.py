"""Code parts on a student's assignment page: the answer taken from an uploaded file (``.py``, or
``.ipynb``, which the engine reads as its code cells in order) or the text area under it, and the result fragment
htmx polls every second while the code waits for, or runs in, the sandbox: it stops polling once
the result is written (the fragment it returns then has no trigger). Staff viewing a student's
page see every test; the student, the tests visible to them (the REST API's filter, through
:func:`api.submissions.views.to_out`)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from sqlalchemy.orm import Session
from starlette.datastructures import FormData, UploadFile
from starlette.responses import Response

from api.deps import SessionDep, SetsDep, problem_set_of
from api.kit.db import reads_only
from api.kit.errors import NotFound, Unprocessable
from api.kit.ids import may_exist
from api.library.course_sets import Sets
from api.models import Submission
from api.pages.kit.deps import PageMember, PageTerms
from api.pages.kit.render import render
from api.pages.kit.routing import PageRoute
from api.submissions.views import to_out
from api.terms.rows import Terms
from api.terms.standing import released_to
from problems.sets import ProblemSet

router = APIRouter(route_class=PageRoute, include_in_schema=False)
ASSIGNMENT = "/courses/{course_id}/assignments/{assignment_id}"

#: The form field of a code part's file: its key with this suffix (the text area is the key itself).
FILE_FIELD = ":file"
#: The statuses of a code part whose result is still to come: its fragment polls while they last.
WAITING = ("queued", "running")


def code_answers(form: FormData, problem_set: ProblemSet) -> dict[str, str]:
    """Each code part's answer from the posted form: the uploaded file's text when one was chosen,
    else the text area's. Unprocessable, with a sentence, for a file that is not UTF-8 text or a
    notebook that cannot be read."""
    answers: dict[str, str] = {}
    for key in problem_set.code():
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
def code_result(
    request: Request,
    member: PageMember,
    terms: PageTerms,
    db: SessionDep,
    sets: SetsDep,
    submission_id: int,
    key: Annotated[str, Path(max_length=200)],
    n: Annotated[int, Query(ge=0, le=10_000)] = 0,
) -> Response:
    """The result of one code part of a submission (its student's, or staff's), as the page shows
    it under the answer: polled by htmx while the code waits or runs."""
    submission = db.get(Submission, submission_id) if may_exist(submission_id) else None
    if (
        submission is None
        or (submission.course_id, submission.assignment_id) != (terms.course_id, terms.id)
        or not (member.is_staff or submission.student_id == member.id)
    ):
        raise NotFound(f"No submission {submission_id}.")
    return _fragment(request, db, sets, terms, submission, key, n, staff=member.is_staff)


def _fragment(
    request: Request, db: Session, sets: Sets, terms: Terms, submission: Submission, key: str, n: int, *, staff: bool
) -> Response:
    problem_set = problem_set_of(terms, sets)
    if key not in problem_set.code():
        raise NotFound(f"The assignment has no code part {key!r}.")
    released = not staff and released_to(db, terms=terms, student_id=submission.student_id)
    out = to_out(submission, staff=staff, terms=terms, problem_set=problem_set, released_to_student=released)
    poll = f"{request.url.path}?n={n}"
    return render(request, "_code_result.html", code_result_context(out.parts.get(key), n, poll))


def code_result_context(part: Any, n: int, poll: str) -> dict[str, Any]:
    """What ``_code_result.html`` shows of a code part: ``n`` is the part's index on the page, and
    ``poll`` the fragment's address, asked every second while the part waits."""
    waiting = isinstance(part, dict) and part.get("status") in WAITING
    return {"part": part, "i": n, "waiting": waiting, "poll": poll}


def poll_path(terms: Terms, submission_id: int, key: str, n: int) -> str:
    """The address of a code part's result fragment (``n``: the part's index on the page)."""
    return f"/courses/{terms.course_id}/assignments/{terms.id}/submissions/{submission_id}/code/{key}?n={n}"
