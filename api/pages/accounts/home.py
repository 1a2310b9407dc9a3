"""``/``: the sign-in form (paste an API token), then the caller's courses; signing in and out."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from starlette.responses import RedirectResponse, Response

from api.courses.service import courses_of
from api.demo.course import demo_accounts
from api.deps import SessionDep
from api.pages.kit.deps import CsrfChecked, MaybeSignedIn
from api.pages.kit.render import render
from api.pages.kit.routing import PageRoute
from api.pages.kit.sessions import (
    SESSION_COOKIE,
    SIGN_IN_COOKIE,
    clear_session_cookie,
    close_session,
    csrf_matches,
    csrf_token,
    open_session,
    set_cookie,
    set_session_cookie,
)
from api.users.tokens import new_token

router = APIRouter(route_class=PageRoute, include_in_schema=False)

#: The sign-in form's CSRF cookie lasts an hour (a form left open longer is reloaded).
SIGN_IN_SECONDS = 3600


def local_path(target: str | None) -> str:
    """Where to go after signing in: a path of this site only (never ``//host`` or a URL)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


def sign_in_page(request: Request, *, next_path: str = "/", error: str | None = None, status: int = 200) -> Response:
    """The form, with the CSRF value of the browser's sign-in cookie (a new one if it has none)."""
    secret = request.cookies.get(SIGN_IN_COOKIE) or new_token()
    context = {
        "csrf": csrf_token(secret),
        "next": local_path(next_path),
        "error": error,
        "can_mail": request.app.state.mail is not None,
        # one-click sign-in as each demo account, on a service started with --demo only (api.pages.accounts.demo)
        "demo_accounts": demo_accounts() if request.app.state.settings.demo else [],
    }
    response = render(request, "sign_in.html", context, status=status)
    set_cookie(response, request, SIGN_IN_COOKIE, secret, max_age=SIGN_IN_SECONDS)
    return response


@router.get("/")
def home(request: Request, page: MaybeSignedIn, db: SessionDep, next: str | None = None) -> Response:
    """Signed in: the caller's courses with their role in each; otherwise the sign-in form."""
    if page is None:
        response = sign_in_page(request, next_path=next or "/")
        if SESSION_COOKIE in request.cookies:  # expired, signed out elsewhere, or its token replaced
            clear_session_cookie(response, request)
        return response
    courses = courses_of(db, page.caller)
    return render(request, "home.html", {"courses": courses})


@router.post("/sign-in")
def sign_in(
    request: Request,
    db: SessionDep,
    token: Annotated[str, Form(max_length=200)],
    csrf: Annotated[str, Form(max_length=200)] = "",
    next: Annotated[str, Form(max_length=2000)] = "/",
) -> Response:
    """Opens a session for the account of the pasted token, and goes to ``next``."""
    secret = request.cookies.get(SIGN_IN_COOKIE)
    if secret is None or not csrf_matches(secret, csrf):
        message = "The sign-in form had expired or came from another site; it has been reloaded: paste the token again."
        return sign_in_page(request, next_path=next, error=message, status=403)
    session_id = open_session(db, token=token.strip())
    if session_id is None:
        message = "That token opens no account: check that it was pasted whole."
        return sign_in_page(request, next_path=next, error=message, status=401)
    response = RedirectResponse(local_path(next), status_code=303)
    set_session_cookie(response, request, session_id)
    response.delete_cookie(SIGN_IN_COOKIE, path="/")
    return response


@router.post("/sign-out")
def sign_out(request: Request, page: CsrfChecked, db: SessionDep) -> Response:
    """Deletes the session (its cookie opens nothing any more, wherever it was copied)."""
    close_session(db, session_id=page.session_id)
    response = RedirectResponse("/", status_code=303)
    clear_session_cookie(response, request)
    return response
