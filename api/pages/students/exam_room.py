"""The exam room on a student's pages: the same rules as the REST API's doors
(:func:`api.exam_room.admission.admit`), with the page's session as the student's session, the
password typed in the page's form once per session (then a pass in a cookie, scoped to the
assignment), and each refusal said on the page (403): the password asked for, the network named,
or "locked: ask the proctor". The doors are the pages' own routes (start, draft, submit, and the
form that takes the password to open or resume: :mod:`api.pages.students.pages`)."""

from __future__ import annotations

from fastapi import Request
from sqlalchemy.orm import Session
from starlette.datastructures import FormData
from starlette.responses import Response

from api.exam_room.admission import Visitor, admit
from api.exam_room.doors import client_address
from api.exam_room.rules import AccessRules, pass_token
from api.kit.errors import Refused, TooManyRequests
from api.pages.kit.deps import SignedIn
from api.pages.kit.sessions import is_https
from api.terms.rows import Terms
from api.users.tokens import hash_token

#: The cookie that says this browser session typed the assignment's password.
PASS_COOKIE = "exam_pass"
#: How long a pass lasts (it is void sooner if the password changes or the session ends).
PASS_SECONDS = 12 * 3600
#: The form field the password is typed in.
PASSWORD_FIELD = "exam_password"


def page_visitor(request: Request, page: SignedIn, password: str | None = None) -> Visitor:
    """The student at the page: their browser session is their session."""
    return Visitor(
        client_address(request), hash_token(page.session_id), password=password, passed=request.cookies.get(PASS_COOKIE)
    )


def refusal_of(
    db: Session,
    request: Request,
    page: SignedIn,
    terms: Terms,
    student_id: str,
    *,
    bind: bool,
    password: str | None = None,
) -> Refused | None:
    """Why the rules refuse the page's student now (None: they may work)."""
    try:
        admit(db, terms=terms, student_id=student_id, visitor=page_visitor(request, page, password), bind=bind)
    except Refused as refusal:
        return refusal
    except TooManyRequests as guessed:  # (too many wrong passwords: said beside the password's field)
        return Refused(str(guessed), reason="password")
    return None


def keep_pass(response: Response, request: Request, page: SignedIn, terms: Terms) -> Response:
    """Once the password was typed right: the session's pass, sent back on the assignment's pages
    only (HttpOnly, SameSite=Lax, Secure over HTTPS, as the session's cookie)."""
    password_hash = AccessRules.of(terms.access).password_hash
    if password_hash is not None:
        value = pass_token(hash_token(page.session_id), password_hash)
        response.set_cookie(
            PASS_COOKIE,
            value,
            max_age=PASS_SECONDS,
            path=assignment_path(request),
            httponly=True,
            samesite="lax",
            secure=is_https(request),
        )
    return response


def assignment_path(request: Request) -> str:
    params = request.path_params
    return f"/courses/{params['course_id']}/assignments/{params['assignment_id']}"


def typed_password(form: FormData) -> str | None:
    value = form.get(PASSWORD_FIELD)
    return value if isinstance(value, str) and value else None
