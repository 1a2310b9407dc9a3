"""The OIDC login's ``state``: signed by the tool, bound to the browser that began the login, used once.

``/lti/login`` is anyone's to call, so it stores nothing: the state is a token the tool signs
(HMAC-SHA256, keyed by a key derived from ``GRADER_LTI_KEY``) carrying the login's platform, nonce,
platform storage frame and expiry, which the launch reads back from it.

The state is bound to the browser (the LTI security framework's rule, OpenID Connect's defence
against login CSRF): the login sets a cookie named after the state, and the launch must bring it,
so a launch that another browser posts (a form captured from someone's own login) opens nothing.
The platform's launch is a cross-site POST, and may come in the platform's frame: the cookie is
``SameSite=None`` (hence ``Secure``: LTI needs https, or a loopback address in development),
``HttpOnly``, ``Partitioned`` (kept for the platform's frames by browsers that block third-party
cookies) and, on https, ``__Host-`` (no other host of the domain can set it). A login that asks for
platform storage (``lti_storage_target``, where the frame's cookies may be blocked) is bound by the
state read back from this browser's platform storage instead (:mod:`api.pages.lms.launch`).

A state is used once: an accepted launch records its hash until the state expires, and a second
launch with it is refused. Only launches whose id_token the platform signed write that row.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete
from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import Response

from api.kit.db import dialect_insert
from api.kit.public_url import public_url
from api.lti.keys import KeysUnavailable
from api.models import LtiLogin
from api.users.tokens import hash_token, new_token

#: How long a login waits for its launch, in seconds.
LIFETIME = 600
#: The longest state read (a platform id, a nonce, a frame name and an expiry, signed).
MAX_STATE_CHARS = 512
_LABEL = b"grader: LTI login state"


@dataclass(frozen=True, slots=True)
class LoginState:
    """What the login's state carries: its platform, the nonce the id_token must name, the
    platform's storage frame (when the login asked for platform storage), and its expiry."""

    platform_id: str
    nonce: str
    storage_target: str | None
    expires_at: int


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _signature(kek: str | None, body: str) -> str:
    if not kek:
        raise KeysUnavailable("LTI needs GRADER_LTI_KEY, the key that encrypts the tool's keys (grader lti new-kek).")
    key = hmac.new(kek.encode("utf-8"), _LABEL, hashlib.sha256).digest()
    return _b64(hmac.new(key, body.encode("ascii"), hashlib.sha256).digest())


def new_state(
    *, kek: str | None, platform_id: str, storage_target: str | None, now: float | None = None
) -> tuple[str, LoginState]:
    """A login's state and what it carries (its nonce: 256 random bits). :class:`KeysUnavailable`
    without ``GRADER_LTI_KEY``."""
    expires_at = int(now if now is not None else time.time()) + LIFETIME
    login = LoginState(platform_id, new_token(), storage_target, expires_at)
    fields = {"p": login.platform_id, "n": login.nonce, "t": login.storage_target, "x": login.expires_at}
    body = _b64(json.dumps(fields, separators=(",", ":")).encode("utf-8"))
    return f"{body}.{_signature(kek, body)}", login


def read_state(state: str, *, kek: str | None, now: float | None = None) -> LoginState | None:
    """What ``state`` carries, if the tool signed it and it has not expired; None otherwise."""
    body, _, signature = state.partition(".")
    if not body or len(state) > MAX_STATE_CHARS or not body.isascii():
        return None
    if not hmac.compare_digest(signature.encode("ascii", "replace"), _signature(kek, body).encode("ascii")):
        return None
    try:
        fields: Any = json.loads(_unb64(body))
    except (ValueError, binascii.Error):
        return None
    if not isinstance(fields, dict):
        return None
    platform_id, nonce, target, expires = fields.get("p"), fields.get("n"), fields.get("t"), fields.get("x")
    if not (isinstance(platform_id, str) and isinstance(nonce, str) and isinstance(expires, int)):
        return None
    if target is not None and not isinstance(target, str):
        return None
    if expires <= (now if now is not None else time.time()):
        return None
    return LoginState(platform_id, nonce, target, expires)


# ---- the browser's cookie ------------------------------------------------------------------------


def _cookie_name(request: Request, state: str) -> str:
    prefix = "__Host-" if public_url(request).startswith("https://") else ""
    return f"{prefix}lti-login-{hash_token(state)[:24]}"


def _cookie(name: str, value: str, max_age: int) -> tuple[bytes, bytes]:
    # Written out: the standard library's cookies learn Partitioned only in Python 3.14.
    cookie = f"{name}={value}; HttpOnly; Max-Age={max_age}; Path=/; SameSite=None; Secure; Partitioned"
    return b"set-cookie", cookie.encode("latin-1")


def bind(response: Response, request: Request, state: str) -> None:
    """The login's cookie: this browser began the login of ``state``."""
    response.raw_headers.append(_cookie(_cookie_name(request, state), hash_token(state), LIFETIME))


def is_bound(request: Request, state: str) -> bool:
    """Whether this browser began the login of ``state`` (it brought the login's cookie)."""
    found = request.cookies.get(_cookie_name(request, state))
    return found is not None and hmac.compare_digest(found.encode("latin-1", "replace"), hash_token(state).encode())


def unbind(response: Response, request: Request, state: str) -> None:
    """The login's cookie removed: its launch came (used once, it is of no further use)."""
    response.raw_headers.append(_cookie(_cookie_name(request, state), "", 0))


# ---- used once -----------------------------------------------------------------------------------


def use(db: Session, *, state: str, login: LoginState, now: datetime | None = None) -> bool:
    """Records the state of an accepted launch as used (until it expires); False if it was used
    already, even by a launch at the same moment (the unique key decides). Used states that have
    expired are deleted on the way."""
    now = now or datetime.now(UTC)
    db.execute(delete(LtiLogin).where(LtiLogin.expires_at <= now))
    expires_at = datetime.fromtimestamp(login.expires_at, UTC)
    row = {"state_hash": hash_token(state), "platform_id": login.platform_id, "expires_at": expires_at}
    statement = dialect_insert(db, LtiLogin.__table__).values(row).on_conflict_do_nothing()
    return db.execute(statement.returning(LtiLogin.state_hash)).first() is not None
