"""Page sessions: a browser signs in by pasting an API token and then holds a session cookie.

The session id is 256 random bits (:func:`api.users.tokens.new_token`) and only its SHA-256 is
stored (:class:`api.models.WebSession`), like an API token's; the row names its account and how it
was opened (``via``). A session opened with a pasted token names that token too, so replacing it (a
lost token, the roster's "replace token") ends every session it opened; a session opened by an LTI
launch (:mod:`api.lti`) names no token and ends with its lifetime or on signing out. Sessions live
in the database, never in a process's memory, so any replica reads them. They last
:data:`LIFETIME`; signing out deletes the row.

The CSRF token of a session is an HMAC of the session id: per session, unguessable without the
cookie (which scripts cannot read: HttpOnly), and stored nowhere. Before signing in, the sign-in
form is protected by a random value in a cookie of its own, repeated in the form.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import Response

from api.models import ApiToken, SessionOrigin, WebSession
from api.users.tokens import hash_token, new_token

#: How long a session lasts after signing in (then the token is pasted again).
LIFETIME = timedelta(hours=24)
SESSION_COOKIE = "grader_session"
#: The sign-in form's own CSRF value (before there is a session).
SIGN_IN_COOKIE = "grader_sign_in"
#: The form field and the header (htmx requests) that carry the CSRF token.
CSRF_FIELD = "csrf"
CSRF_HEADER = "X-CSRF-Token"


def open_session(db: Session, *, token: str, now: datetime | None = None) -> str | None:
    """A new session for the account of ``token`` (its id, to put in the cookie); None if the token
    opens no account. Sessions that have expired, anyone's, are deleted on the way."""
    found = db.execute(select(ApiToken.id, ApiToken.user_id).where(ApiToken.token_hash == hash_token(token))).first()
    if found is None:
        return None
    return open_account_session(db, user_id=found.user_id, via=SessionOrigin.TOKEN, token_id=found.id, now=now)


def open_account_session(
    db: Session, *, user_id: str, via: SessionOrigin, token_id: int | None = None, now: datetime | None = None
) -> str:
    """A new session for the account ``user_id`` (its id, to put in the cookie), opened ``via`` a
    token (then ``token_id`` names it), an LTI launch or a sign-in link. The caller has established
    who the browser is. Sessions that have expired, anyone's, are deleted on the way."""
    now = now or datetime.now(UTC)
    db.execute(delete(WebSession).where(WebSession.expires_at <= now))
    session_id = new_token()
    row = WebSession(
        id_hash=hash_token(session_id),
        user_id=user_id,
        token_id=token_id,
        via=via.value,
        created_at=now,
        expires_at=now + LIFETIME,
    )
    db.add(row)
    db.flush()
    return session_id


def close_session(db: Session, *, session_id: str) -> None:
    db.execute(delete(WebSession).where(WebSession.id_hash == hash_token(session_id)))


def csrf_token(secret: str) -> str:
    """The CSRF token that goes with a session id (or with the sign-in cookie's value)."""
    return hmac.new(secret.encode("utf-8", "surrogatepass"), b"grader csrf", hashlib.sha256).hexdigest()


def csrf_matches(secret: str, sent: str | None) -> bool:
    """Constant-time; anything but the token (absent, not ASCII) does not match."""
    return sent is not None and sent.isascii() and hmac.compare_digest(csrf_token(secret), sent)


def is_https(request: Request) -> bool:
    """Whether the browser reached us over HTTPS: the scheme uvicorn saw, which honours
    ``X-Forwarded-Proto`` from the proxies it trusts (``--forwarded-allow-ips``, 127.0.0.1 by
    default; ``grader serve`` runs it with ``proxy_headers``)."""
    return request.url.scheme == "https"


def set_cookie(response: Response, request: Request, name: str, value: str, *, max_age: int) -> None:
    """HttpOnly (no script reads it), SameSite=Lax (not sent on cross-site POSTs), Secure over
    HTTPS, for the whole site."""
    response.set_cookie(name, value, max_age=max_age, path="/", httponly=True, samesite="lax", secure=is_https(request))


def set_session_cookie(response: Response, request: Request, session_id: str) -> None:
    set_cookie(response, request, SESSION_COOKIE, session_id, max_age=int(LIFETIME.total_seconds()))


def clear_session_cookie(response: Response, request: Request) -> None:
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="lax", secure=is_https(request))
