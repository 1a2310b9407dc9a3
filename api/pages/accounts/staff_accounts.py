"""``/admin/accounts`` (admins): the service's instructor and admin accounts, and the form that
makes one, with its first sign-in: a one-time link mailed to the new account's address when the
service sends mail, else shown here once to hand over (``grader users create`` stays for scripts).
A refusal shows the form again with the reason beside its field and what was typed kept."""

from __future__ import annotations

from datetime import timedelta
from typing import Literal

from fastapi import APIRouter, BackgroundTasks, Request
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.responses import Response

from api.deps import SessionDep
from api.kit.errors import Conflict
from api.kit.public_url import public_url
from api.kit.schemas import Email, Name
from api.models import Role, User
from api.pages.kit import validation
from api.pages.kit.forms import PostedForm
from api.pages.kit.render import render
from api.pages.kit.roles import PageAdmin, PostingAdmin
from api.pages.kit.routing import PageRoute
from api.signin import service
from api.signin.invitations import wake_mail

router = APIRouter(route_class=PageRoute, include_in_schema=False)

PATH = "/admin/accounts"
FIELDS = ("name", "role", "email")
#: The most accounts listed (an admin looks for staff, not the students).
SHOWN = 500


class StaffAccountIn(BaseModel):
    """The form, read as the CLI's ``grader users create`` reads its options."""

    model_config = ConfigDict(extra="forbid")
    name: Name
    role: Literal["instructor", "admin"] = Field(description="What the account may do outside any course.")
    email: Email | None = None


def _page(
    request: Request,
    db: Session,
    values: dict[str, str],
    errors: dict[str, str],
    made: service.Delivery | None = None,
    status: int = 200,
) -> Response:
    accounts = db.scalars(
        select(User).where(User.role.in_((Role.ADMIN.value, Role.INSTRUCTOR.value))).order_by(User.id).limit(SHOWN)
    ).all()
    context = {
        "accounts": accounts,
        "values": values,
        "errors": errors,
        "made": made,
        "url": None if made is None or made.link is None else made.link.url(public_url(request)),
        "mails": request.app.state.mail is not None,
    }
    response = render(request, "admin_accounts.html", context, status=status)
    response.headers["Cache-Control"] = "no-store"  # (a link shown once is not kept by the browser)
    return response


@router.get(PATH)
def accounts_page(request: Request, _admin: PageAdmin, db: SessionDep) -> Response:
    """The instructor and admin accounts, and the form for a new one."""
    return _page(request, db, {"name": "", "role": "instructor", "email": ""}, {})


@router.post(PATH)
def create_account(
    request: Request, form: PostedForm, admin: PostingAdmin, db: SessionDep, background: BackgroundTasks
) -> Response:
    """A new instructor or admin account and its first sign-in, mailed or shown once."""
    values, body, errors = validation.read_form(form, StaffAccountIn, FIELDS, required=("name", "role"))
    if body is None:
        return _page(request, db, values, errors, status=422)
    try:
        made = service.new_staff_account(
            db,
            by=admin.caller.id,
            name=body.name,
            role=Role(body.role),
            email=body.email,
            lifetime=timedelta(days=request.app.state.settings.sign_in_link_days),
            link_base=public_url(request),
            send=request.app.state.mail is not None,
        )
    except Conflict as error:
        db.rollback()
        return _page(request, db, values, {"name": str(error.detail)}, status=409)
    wake_mail(request, background)
    return _page(request, db, {"name": "", "role": body.role, "email": ""}, {}, made=made, status=201)
