"""The tool's own RSA keys: made and rotated by a command, kept in the database with the private
key encrypted (Fernet, with ``GRADER_LTI_KEY`` from the settings), published at ``/lti/jwks``.

The newest key signs; a key that rotation replaced stays published for :data:`GRACE` so that a
platform holding a JWT it signed (or a cached key set) still verifies it.
"""

from __future__ import annotations

import json
import secrets
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm
from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from api.kit.errors import Conflict
from api.models import LtiKey

#: How long a replaced key stays published.
GRACE = timedelta(days=7)
KEY_BITS = 2048


class KeysUnavailable(Conflict):
    """No key-encryption key in the settings, or one that does not open the stored keys (409: the
    service is not set up for it yet)."""


def new_kek() -> str:
    """A fresh key-encryption key for ``GRADER_LTI_KEY``."""
    return Fernet.generate_key().decode("ascii")


def _fernet(kek: str | None) -> Fernet:
    if not kek:
        raise KeysUnavailable("LTI needs GRADER_LTI_KEY, the key that encrypts the tool's keys (grader lti new-kek).")
    try:
        return Fernet(kek.encode("ascii"))
    except (ValueError, UnicodeEncodeError):
        raise KeysUnavailable("GRADER_LTI_KEY is not a Fernet key (grader lti new-kek prints one).") from None


@dataclass(frozen=True, slots=True)
class SigningKey:
    kid: str
    private_pem: bytes


def add_key(db: Session, *, kek: str | None, now: datetime | None = None) -> str:
    """A new key, which signs from now on; the keys it replaces are retired (still published for
    :data:`GRACE`). Returns its ``kid``."""
    now = now or datetime.now(UTC)
    fernet = _fernet(kek)
    private = rsa.generate_private_key(public_exponent=65537, key_size=KEY_BITS)
    private_pem = private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    public_pem = private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    kid = uuid.uuid4().hex
    db.execute(update(LtiKey).where(LtiKey.retired_at.is_(None)).values(retired_at=now))
    db.add(
        LtiKey(
            kid=kid,
            public_pem=public_pem.decode("ascii"),
            private_encrypted=fernet.encrypt(private_pem).decode("ascii"),
            created_at=now,
        )
    )
    db.flush()
    return kid


def ensure_key(db: Session, *, kek: str | None) -> str:
    """The signing key's ``kid``, making the first key if there is none."""
    current = db.scalar(select(LtiKey.kid).where(LtiKey.retired_at.is_(None)).order_by(LtiKey.created_at.desc()))
    return current or add_key(db, kek=kek)


def signing_key(db: Session, *, kek: str | None) -> SigningKey:
    """The newest key, decrypted."""
    row = db.scalar(select(LtiKey).where(LtiKey.retired_at.is_(None)).order_by(LtiKey.created_at.desc()))
    if row is None:
        raise KeysUnavailable("The tool has no LTI key yet: grader lti register (or grader lti rotate-key) makes one.")
    try:
        private_pem = _fernet(kek).decrypt(row.private_encrypted.encode("ascii"))
    except InvalidToken:
        raise KeysUnavailable("GRADER_LTI_KEY does not open the stored LTI keys (was it changed?).") from None
    return SigningKey(row.kid, private_pem)


def published(db: Session, *, now: datetime | None = None) -> dict[str, Any]:
    """The JWKS of the keys in use or retired less than :data:`GRACE` ago."""
    now = now or datetime.now(UTC)
    rows = db.scalars(
        select(LtiKey)
        .where(or_(LtiKey.retired_at.is_(None), LtiKey.retired_at > now - GRACE))
        .order_by(LtiKey.created_at.desc())
    )
    keys = []
    for row in rows:
        public = serialization.load_pem_public_key(row.public_pem.encode("ascii"))
        assert isinstance(public, rsa.RSAPublicKey)  # add_key stores RSA keys only
        jwk = json.loads(RSAAlgorithm.to_jwk(public))
        keys.append({**jwk, "kid": row.kid, "alg": "RS256", "use": "sig"})
    return {"keys": keys}


def sign(key: SigningKey, claims: dict[str, Any], *, lifetime: int = 600, now: float | None = None) -> str:
    """A JWT of the tool: RS256, ``kid`` in the header, ``iat``/``exp`` and a fresh ``jti`` (never
    reused: 128 random bits)."""
    issued = int(now if now is not None else time.time())
    payload = {"iat": issued, "exp": issued + lifetime, "jti": secrets.token_hex(16), **claims}
    return jwt.encode(payload, key.private_pem, algorithm="RS256", headers={"kid": key.kid})
