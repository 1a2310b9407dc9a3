"""``POST /demo/sign-in``: one click signs a browser in as a demo account, on a service started with
``grader serve --demo`` only (:attr:`api.kit.config.Settings.demo`). Anywhere else the route answers
404, as if it did not exist, and the sign-in page offers nothing of the kind.

The session opened is the one pasting the account's token would open (the token ``--demo`` issued
on its last start), so starting the demo again, which replaces the tokens, ends these sessions too.
Only the accounts the demo made are offered or accepted (:func:`api.demo.course.is_demo_account`): a real
account that happens to have a demo id is never signed in this way.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.responses import RedirectResponse, Response

from api.demo.course import COURSE, is_demo_account
from api.deps import SessionDep
from api.kit.errors import NotFound
from api.models import ApiToken, SessionOrigin
from api.pages.accounts.home import local_path, sign_in_page
from api.pages.kit.routing import PageRoute
from api.pages.kit.sessions import SIGN_IN_COOKIE, csrf_matches, open_account_session, set_session_cookie

router = APIRouter(route_class=PageRoute, include_in_schema=False)


def _current_token(db: Session, user_id: str) -> int | None:
    """The id of the account's newest token (the one ``--demo`` issued), if it has one."""
    return db.scalar(select(ApiToken.id).where(ApiToken.user_id == user_id).order_by(ApiToken.id.desc()).limit(1))


@router.post("/demo/sign-in")
def demo_sign_in(
    request: Request,
    db: SessionDep,
    account: Annotated[str, Form(max_length=64)],
    csrf: Annotated[str, Form(max_length=200)] = "",
    next: Annotated[str, Form(max_length=2000)] = "/",
) -> Response:
    """Opens a session as the demo account ``account``, then goes to ``next`` (the demo course when
    the form names no page)."""
    if not request.app.state.settings.demo:
        raise NotFound("There is no demo on this service: sign in with your token or a sign-in link.")
    secret = request.cookies.get(SIGN_IN_COOKIE)
    if secret is None or not csrf_matches(secret, csrf):
        message = "The sign-in form had expired or came from another site; it has been reloaded: choose again."
        return sign_in_page(request, next_path=next, error=message, status=403)
    token_id = _current_token(db, account) if is_demo_account(db, account) else None
    if token_id is None:
        message = f"{account!r} is not a demo account of this service: choose one of the accounts listed."
        return sign_in_page(request, next_path=next, error=message, status=404)
    session_id = open_account_session(db, user_id=account, via=SessionOrigin.TOKEN, token_id=token_id)
    target = local_path(next)
    response = RedirectResponse(f"/courses/{COURSE[0]}" if target == "/" else target, status_code=303)
    set_session_cookie(response, request, session_id)
    response.delete_cookie(SIGN_IN_COOKIE, path="/")
    return response
