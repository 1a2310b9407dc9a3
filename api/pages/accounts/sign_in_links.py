"""Signing in without pasting a token: following a one-time link (``/signin/{token}``), asking
for one by email on ``/``, and the staff's "sign-in links" on the roster. The rules are the API's
(:mod:`api.signin.service`); this module only turns forms into calls and outcomes into pages."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Form, Path, Request
from starlette.responses import RedirectResponse, Response

from api.deps import SessionDep
from api.kit.db import writes
from api.kit.errors import Conflict, Forbidden
from api.kit.public_url import public_url
from api.models import SessionOrigin
from api.pages.accounts import link_downloads
from api.pages.accounts.home import sign_in_page
from api.pages.kit.deps import CsrfChecked, PageZone
from api.pages.kit.forms import PostedForm
from api.pages.kit.render import render
from api.pages.kit.roles import PageRunner
from api.pages.kit.routing import PageRoute
from api.pages.kit.sessions import SIGN_IN_COOKIE, csrf_matches, open_account_session, set_session_cookie
from api.signin import service
from api.signin.invitations import wake_mail
from api.signin.links import Opened, Refusal, use_link

router = APIRouter(route_class=PageRoute, include_in_schema=False)

#: The status of each refusal's page.
_STATUS = {Refusal.UNKNOWN: 404, Refusal.USED: 410, Refusal.EXPIRED: 410}


@router.get("/signin/{token}")
@writes
def follow_link(request: Request, db: SessionDep, token: Annotated[str, Path(max_length=200)]) -> Response:
    """Opens a session for the link's account (replacing any session this browser had), then its
    course; a used, expired or unknown link is a page saying which."""
    opened = use_link(db, token=token)
    if not isinstance(opened, Opened):
        context = {"message": opened.value, "can_ask": request.app.state.mail is not None}
        return render(request, "sign_in_link_refused.html", context, status=_STATUS[opened])
    session_id = open_account_session(db, user_id=opened.user_id, via=SessionOrigin.LINK)
    target = f"/courses/{opened.course_id}" if opened.course_id else "/"
    response = RedirectResponse(target, status_code=303)
    set_session_cookie(response, request, session_id)
    return response


@router.post("/sign-in/email")
def ask_for_link(
    request: Request,
    db: SessionDep,
    background: BackgroundTasks,
    email: Annotated[str, Form(max_length=320)],
    csrf: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    """Mails a link to the accounts of ``email``; the same page whether or not there are any."""
    secret = request.cookies.get(SIGN_IN_COOKIE)
    if secret is None or not csrf_matches(secret, csrf):
        message = "The form had expired or came from another site; it has been reloaded: type the address again."
        return sign_in_page(request, error=message, status=403)
    if request.app.state.mail is None:
        return sign_in_page(request, error="This service sends no mail: ask your instructor for a link.", status=409)
    client = request.client.host if request.client else "unknown"
    if not service.request_link(db, address=email, client=client, link_base=public_url(request)):
        message = "Too many links were asked for from here or for this address: try again in an hour."
        return sign_in_page(request, error=message, status=429)
    wake_mail(request, background)
    return render(request, "sign_in_link_asked.html", {"email": email.strip()})


@router.post("/courses/{course_id}/sign-in-links")
def links_page(
    request: Request,
    form: PostedForm,
    runner: PageRunner,
    db: SessionDep,
    background: BackgroundTasks,
    zone: PageZone,
) -> Response:
    """For one student (``member``) or every student: links to copy, or mailed (``send``)."""
    send = form.get("send") == "1"
    member = form.get("member")
    lifetime = timedelta(days=request.app.state.settings.sign_in_link_days)
    can_mail = request.app.state.mail is not None
    base = public_url(request)
    if isinstance(member, str) and member:
        try:
            deliveries = [
                service.link_for_student(
                    db, by=runner, user_id=member, lifetime=lifetime, link_base=base, send=send, can_mail=can_mail
                )
            ]
        except (Forbidden, Conflict) as refusal:
            context = {"course_id": runner.course, "deliveries": [], "refused": refusal.detail, "base": base}
            return render(request, "sign_in_links.html", context, status=refusal_status(refusal))
    else:
        deliveries = service.links_for_students(
            db, by=runner, lifetime=lifetime, link_base=base, send=send, can_mail=can_mail
        )
    wake_mail(request, background)
    text = link_downloads.links_csv(deliveries, base, zone)
    filename = f"sign-in-links-{runner.course}-{datetime.now(UTC):%Y-%m-%d-%H%M}-UTC.csv"
    ticket = (
        None
        if text is None
        else link_downloads.keep(db, course_id=runner.course, by=runner.id, filename=filename, text=text)
    )
    context = {
        "course_id": runner.course,
        "deliveries": deliveries,
        "refused": None,
        "base": base,
        "download": ticket,
        "download_minutes": link_downloads.LIFETIME.seconds // 60,
    }
    response = render(request, "sign_in_links.html", context)
    response.headers["Cache-Control"] = "no-store"
    return response


@router.post("/courses/{course_id}/sign-in-links/download")
def download_links(
    request: Request,
    _checked: CsrfChecked,
    runner: PageRunner,
    db: SessionDep,
    download: Annotated[str, Form(max_length=100)],
    key: Annotated[str, Form(max_length=100)],
) -> Response:
    """The file of the links just issued, once: the first download takes it; a second, or one
    after :data:`api.pages.accounts.link_downloads.LIFETIME`, is a page saying so (410)."""
    ticket = link_downloads.Ticket(download, key)
    taken = link_downloads.take(db, course_id=runner.course, by=runner.id, ticket=ticket)
    if taken is None:
        return render(request, "error.html", {"status": 410, "detail": link_downloads.GONE}, status=410)
    filename, text = taken
    headers = {"Content-Disposition": f'attachment; filename="{filename}"', "Cache-Control": "no-store"}
    return Response(text, media_type="text/csv; charset=utf-8", headers=headers)


def refusal_status(refusal: Forbidden | Conflict) -> int:
    return 403 if isinstance(refusal, Forbidden) else 409
