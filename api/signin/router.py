"""Sign-in links for a course's students, the course's mails, and the caller's own API tokens."""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter, BackgroundTasks, Depends, Request, Response
from sqlalchemy import select

from api.deps import CurrentUser, MemberIdPath, RunnerMember, SessionDep, StaffMember
from api.kit.public_url import public_url
from api.kit.responses import NO_STORE_HEADERS, errors, no_store
from api.models import Mail
from api.signin import service
from api.signin.invitations import wake_mail
from api.signin.schemas import MailOut, NewPersonalTokenOut, PersonalTokenOut, SignInLinkIn, SignInLinkOut, TokenIn
from api.users.service import create_personal_token, personal_tokens, revoke_personal_token

router = APIRouter()


def link_lifetime(request: Request) -> timedelta:
    return timedelta(days=request.app.state.settings.sign_in_link_days)


_LINK_NOTES = {
    403: "The caller may not act as that account (it is staff somewhere, was not created by a course the caller "
    "runs, or has work in a course the caller does not run): mail the link instead",
    404: "No such student",
    409: "`send` without mail set up, or to an account without an address",
}


@router.post(
    "/courses/{course_id}/members/{member_id}/sign-in-link",
    tags=["sign-in"],
    response_model=SignInLinkOut,
    summary="A one-time sign-in link for a student",
    responses={**errors(401, 403, 404, 409, 413, 422, 503, notes=_LINK_NOTES), 200: {"headers": NO_STORE_HEADERS}},
    dependencies=[Depends(no_store)],
)
def sign_in_link(
    body: SignInLinkIn,
    runner: RunnerMember,
    session: SessionDep,
    member_id: MemberIdPath,
    request: Request,
    background: BackgroundTasks,
) -> SignInLinkOut:
    """A link that opens a page session as the student once, until it expires
    (`GRADER_SIGN_IN_LINK_DAYS`, 7 by default). With `send`, it is mailed to the student's own
    address (the reply then carries the mail, not the link); otherwise it is shown here, to copy,
    which only whoever may act as the account may see (as for replacing a token)."""
    delivery = service.link_for_student(
        session,
        by=runner,
        user_id=member_id,
        lifetime=link_lifetime(request),
        link_base=public_url(request),
        send=body.send,
        can_mail=request.app.state.mail is not None,
    )
    wake_mail(request, background)
    return _link_out(delivery, public_url(request))


@router.post(
    "/courses/{course_id}/sign-in-links",
    tags=["sign-in"],
    response_model=list[SignInLinkOut],
    summary="A one-time sign-in link for every student",
    responses={**errors(401, 403, 404, 413, 422, 503), 200: {"headers": NO_STORE_HEADERS}},
    dependencies=[Depends(no_store)],
)
def sign_in_links(
    body: SignInLinkIn, runner: RunnerMember, session: SessionDep, request: Request, background: BackgroundTasks
) -> list[SignInLinkOut]:
    """As for one student, for each student of the course, each with its outcome: `url`, `mail`,
    or `refused` with the reason (one refusal does not stop the others)."""
    deliveries = service.links_for_students(
        session,
        by=runner,
        lifetime=link_lifetime(request),
        link_base=public_url(request),
        send=body.send,
        can_mail=request.app.state.mail is not None,
    )
    wake_mail(request, background)
    return [_link_out(delivery, public_url(request)) for delivery in deliveries]


def _link_out(delivery: service.Delivery, base: str) -> SignInLinkOut:
    link = delivery.link
    return SignInLinkOut(
        student=delivery.user.id,
        url=None if link is None else link.url(base),
        expires_at=None if link is None else link.expires_at,
        mail=None if delivery.mail is None else MailOut.model_validate(delivery.mail),
        refused=delivery.refused,
    )


@router.get(
    "/courses/{course_id}/mails",
    tags=["sign-in"],
    response_model=list[MailOut],
    summary="The course's mails and what became of them",
    responses=errors(401, 403, 404, 422, 503),
)
def course_mails(staff: StaffMember, session: SessionDep) -> list[MailOut]:
    """Invitations and sign-in links mailed to the course's members, newest first: `pending`
    (queued, or waiting to be retried, with the last `error`), `sent`, or `failed`."""
    mails = session.scalars(select(Mail).where(Mail.course_id == staff.course).order_by(Mail.id.desc()).limit(1000))
    return [MailOut.model_validate(mail) for mail in mails]


@router.get(
    "/account/tokens",
    tags=["account"],
    response_model=list[PersonalTokenOut],
    summary="The caller's API tokens",
    responses=errors(401, 503),
)
def list_tokens(user: CurrentUser, session: SessionDep) -> list[PersonalTokenOut]:
    """Name, when made, when last used (to the hour); never the token itself (only hashes are kept)."""
    return [PersonalTokenOut.model_validate(row) for row in personal_tokens(session, caller=user)]


@router.post(
    "/account/tokens",
    tags=["account"],
    status_code=201,
    response_model=NewPersonalTokenOut,
    summary="A new API token for the caller",
    responses={
        **errors(401, 409, 413, 422, 503, notes={409: "The account holds 20 tokens"}),
        201: {"headers": NO_STORE_HEADERS},
    },
    dependencies=[Depends(no_store)],
)
def create_token(body: TokenIn, user: CurrentUser, session: SessionDep) -> NewPersonalTokenOut:
    """A named token for the caller's own account, shown this once."""
    row, token = create_personal_token(session, caller=user, name=body.name)
    return NewPersonalTokenOut(id=row.id, name=row.name, created_at=row.created_at, last_used_at=None, token=token)


@router.delete(
    "/account/tokens/{token_id}",
    tags=["account"],
    status_code=204,
    summary="Revoke one of the caller's API tokens",
    responses=errors(401, 404, 422, 503, notes={404: "Not one of the caller's tokens"}),
)
def revoke_token(token_id: int, user: CurrentUser, session: SessionDep) -> Response:
    """The token stops working at once, and the page sessions it opened end."""
    revoke_personal_token(session, caller=user, token_id=token_id)
    return Response(status_code=204)
