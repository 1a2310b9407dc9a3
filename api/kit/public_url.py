"""The service's public address, from configuration only.

Every link that leaves the service (a sign-in link or an invitation in a mail, the LTI tool's
login, launch and key-set URLs) is made from ``GRADER_PUBLIC_URL``, never from the request: a
request's ``Host`` header is whatever its sender writes, and a one-time sign-in link mailed to a
victim but pointing at the sender's host hands the account over on the victim's first click.
``grader serve`` sets the address itself when it listens on a loopback interface (the browser on
that machine uses exactly that one) and refuses to start on any other without it.
"""

from __future__ import annotations

from starlette.requests import Request

from api.kit.errors import NotConfigured

#: Why a link cannot be made, for the client and the operator alike.
NO_PUBLIC_URL = (
    "This service does not know its public address, so it makes no links (sign-in links, LTI): its "
    "administrator sets GRADER_PUBLIC_URL to the address browsers reach it at."
)


def public_url(request: Request) -> str:
    """``GRADER_PUBLIC_URL``, without a trailing slash."""
    configured: str | None = request.app.state.settings.public_url
    if configured is None:
        raise NotConfigured(NO_PUBLIC_URL)
    return configured
