"""``/account``: the caller's own API tokens (for scripts and the command line): make one (named,
shown once), see each one's name, age and last use, revoke one. The rules are the API's
(:mod:`api.users.service`)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Path, Request
from sqlalchemy.orm import Session
from starlette.responses import RedirectResponse, Response

from api.deps import SessionDep
from api.kit.errors import Conflict
from api.pages.kit.deps import CsrfChecked, SignedIn, SignedInDep
from api.pages.kit.render import render
from api.pages.kit.routing import PageRoute
from api.users.service import create_personal_token, personal_tokens, revoke_personal_token

router = APIRouter(route_class=PageRoute, include_in_schema=False)


def account_page(
    request: Request,
    page: SignedIn,
    db: Session,
    *,
    new_token: str | None = None,
    error: str | None = None,
    status: int = 200,
    name: str = "",
) -> Response:
    context = {
        "tokens": personal_tokens(db, caller=page.caller),
        "new_token": new_token,
        "error": error,
        "name": name,
    }
    response = render(request, "account.html", context, status=status)
    response.headers["Cache-Control"] = "no-store"
    return response


@router.get("/account")
def account(request: Request, page: SignedInDep, db: SessionDep) -> Response:
    return account_page(request, page, db)


@router.post("/account/tokens")
def create_token_page(
    request: Request, page: CsrfChecked, db: SessionDep, name: Annotated[str, Form(max_length=100)] = ""
) -> Response:
    """A new token, shown on the page this once."""
    name = name.strip()
    if not name:
        return account_page(request, page, db, error="Give the token a name (what it is for).", status=422)
    try:
        _, token = create_personal_token(db, caller=page.caller, name=name)
    except Conflict as refusal:
        return account_page(request, page, db, error=str(refusal.detail), status=409, name=name)
    return account_page(request, page, db, new_token=token)


@router.post("/account/tokens/{token_id}/revoke")
def revoke_token_page(page: CsrfChecked, db: SessionDep, token_id: Annotated[int, Path()]) -> Response:
    """The token stops working at once (with the sessions it opened: perhaps this one)."""
    revoke_personal_token(db, caller=page.caller, token_id=token_id)
    return RedirectResponse("/account", status_code=303)
