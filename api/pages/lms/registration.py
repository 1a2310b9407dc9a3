"""``GET /lti/register/{token}``: the platform opens an admin's one-time registration URL (LTI
Dynamic Registration) with ``openid_configuration`` and, usually, ``registration_token``.

The URL is claimed, which uses it up, the tool's key made if it has none (without
``GRADER_LTI_KEY`` the claim is released: nothing was asked of the platform), and the claim
committed; then, with neither database connection nor slot held, the platform's configuration is
fetched and checked and the tool's registration posted (:mod:`api.lti.dynamic`); then the
platform is registered. The page, in the platform's frame or popup, tells the platform to close it.

Whatever goes wrong while the tool talks to the address the registrant named is one and the same
page (:data:`FAILED`), the reason going to the service's log: the registrant learns nothing of
what answered there (a closed port, a status, a page that is not JSON, a time-out), so the URL
can not be used to probe the tool's network, and it can not be tried twice.
"""

from __future__ import annotations

import logging
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from starlette.responses import Response

from api.deps import SessionDep
from api.kit.db import writes
from api.kit.errors import Conflict
from api.kit.public_url import public_url
from api.kit.slots import connection_released
from api.lti import dynamic, keys, registration, service
from api.pages.kit.render import render
from api.pages.kit.routing import PageRoute
from api.pages.lms.launch import _framed_by

router = APIRouter(route_class=PageRoute, include_in_schema=False)
log = logging.getLogger("grader.lti")

#: The status of each reason a URL is unusable.
_STATUS = {
    registration.Unusable.UNKNOWN: 404,
    registration.Unusable.USED: 410,
    registration.Unusable.EXPIRED: 410,
}
#: The page of every failure to fetch the platform's configuration or to register with it.
FAILED = (
    "The tool could not register with the platform: fetching the platform's OpenID configuration or posting "
    "the tool's registration to it failed (the tool's log says why)."
)


def _page(request: Request, status: int, frame_origin: str | None, **context: Any) -> Response:
    context = {"platform": None, "retry": False, **context}
    return _framed_by(render(request, "lti_registration.html", context, status=status), [frame_origin])


@router.get(registration.PATH + "{token}")
@writes
def register(
    request: Request,
    db: SessionDep,
    token: Annotated[str, Path(max_length=200)],
    openid_configuration: Annotated[str | None, Query(max_length=2000)] = None,
    registration_token: Annotated[str | None, Query(max_length=4096)] = None,
) -> Response:
    """Registers the platform that opened the URL, once."""
    if not openid_configuration:
        detail = "The URL was opened without openid_configuration: start the registration from the LMS."
        return _page(request, 400, None, check="openid_configuration", detail=detail)
    frame = dynamic.origin(openid_configuration)
    claimed = registration.claim(db, token=token)
    if isinstance(claimed, registration.Unusable):
        return _page(request, _STATUS[claimed], frame, check="registration URL", detail=claimed.value)
    try:
        keys.ensure_key(db, kek=request.app.state.settings.lti_key)
        keys.signing_key(db, kek=request.app.state.settings.lti_key)
    except Conflict as error:  # no GRADER_LTI_KEY: nothing to give the platform, nothing asked of it
        registration.release(db, token=token, claimed_at=claimed)
        return _page(request, 409, frame, check="GRADER_LTI_KEY", detail=error.detail, retry=True)
    client, base = request.app.state.lti_http, public_url(request)
    try:
        # the claim is committed; neither connection nor slot is held while the platform answers
        with connection_released(db, slot_too=True):
            found = dynamic.fetch_configuration(client, openid_configuration, token=registration_token)
            registered = dynamic.register_tool(client, found, base=base, token=registration_token)
    except dynamic.RegistrationRefused as error:
        log.warning(
            "LTI dynamic registration with openid_configuration %r failed: %s: %s",
            openid_configuration,
            error.check,
            error.detail,
        )
        return _page(request, 400, frame, check="registration", detail=FAILED)
    try:
        platform = service.register_platform(
            db,
            name=f"{found.product} ({found.issuer})"[:200],
            issuer=found.issuer,
            client_id=registered.client_id,
            auth_url=found.auth_url,
            token_url=found.token_url,
            jwks_url=found.jwks_url,
            deployments=[registered.deployment_id] if registered.deployment_id else [],
        )
    except Conflict as error:
        return _page(request, 409, frame, check="client_id", detail=error.detail)
    registration.finish(db, token=token, platform_id=platform.id)
    context = {"platform": platform, "deployment": registered.deployment_id, "origin": frame}
    return _page(request, 200, frame, **context)
