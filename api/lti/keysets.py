"""The platforms' key sets and the signature of an id_token.

A platform's JWKS is fetched through the one HTTP client the tool uses for every call to a
platform (``app.state.lti_http``, an :class:`httpx.Client`: tests route it to a platform in the
test process), cached per URL for :data:`TTL`, and fetched again at most once per token for a
``kid`` the cached set lacks (the platform rotated its key). Only RS256 is accepted: never ``none``
nor an HMAC keyed with a public key.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from typing import Any

import httpx
import jwt
from jwt.algorithms import RSAAlgorithm

from api.lti.answers import Unreadable, call, json_of

#: How long a fetched key set is used before it is fetched again.
TTL = 3600.0
#: The largest key set read (a few keys are a few KiB).
MAX_JWKS_BYTES = 256 * 1024
#: The largest id_token read (Canvas's are a few KiB; custom claims add some).
MAX_ID_TOKEN_CHARS = 64 * 1024


class BadSignature(Exception):
    """The token could not be verified: ``check`` names what failed (``jwt``, ``alg``, ``kid``,
    ``jwks``, ``signature``)."""

    def __init__(self, check: str, detail: str) -> None:
        super().__init__(check, detail)
        self.check = check
        self.detail = detail


class KeySets:
    """Key sets by URL, shared by a process's requests (thread-safe: requests run in threads)."""

    def __init__(self, client: Callable[[], httpx.Client], *, ttl: float = TTL) -> None:
        self._client = client
        self._ttl = ttl
        self._lock = threading.Lock()
        self._cache: dict[str, tuple[float, dict[str, dict[str, Any]]]] = {}
        #: How many times each URL was fetched (for the tests and the logs).
        self.fetches: dict[str, int] = {}

    def _fetch(self, url: str) -> dict[str, dict[str, Any]]:
        self.fetches[url] = self.fetches.get(url, 0) + 1
        try:
            response = call(self._client(), "GET", url, headers={"Accept": "application/json"})
        except httpx.HTTPError as error:
            raise BadSignature(
                "jwks", f"The platform's key set could not be fetched: {type(error).__name__}."
            ) from None
        except Unreadable as error:
            raise BadSignature("jwks", f"The platform's key set could not be read: {error.reason}.") from None
        if response.status_code != 200 or len(response.content) > MAX_JWKS_BYTES:
            raise BadSignature("jwks", f"The platform's key set answered {response.status_code}.")
        try:
            document = json_of(response)
        except Unreadable:
            document = None
        keys = document.get("keys") if isinstance(document, dict) else None
        if not isinstance(keys, list):
            raise BadSignature("jwks", "The platform's key set is not a JWKS document.")
        found = {key["kid"]: key for key in keys if isinstance(key, dict) and isinstance(key.get("kid"), str)}
        with self._lock:
            self._cache[url] = (time.monotonic() + self._ttl, found)
        return found

    def _cached(self, url: str) -> dict[str, dict[str, Any]] | None:
        with self._lock:
            entry = self._cache.get(url)
        return entry[1] if entry is not None and entry[0] > time.monotonic() else None

    def key(self, url: str, kid: str) -> dict[str, Any]:
        """The key ``kid`` of the set at ``url``: from the cache, else fetched (once)."""
        keys = self._cached(url)
        if keys is not None and kid in keys:
            return keys[kid]
        keys = self._fetch(url)
        if kid not in keys:
            raise BadSignature("kid", "The token is signed with a key the platform does not publish.")
        return keys[kid]

    def verify(self, id_token: str, url: str) -> dict[str, Any]:
        """The token's claims once its RS256 signature checks against the platform's key set. The
        claims themselves are checked by :func:`api.lti.claims.check_launch`."""
        if len(id_token) > MAX_ID_TOKEN_CHARS:
            raise BadSignature("jwt", "The id_token is too large.")
        try:
            header = jwt.get_unverified_header(id_token)
        except jwt.PyJWTError:
            raise BadSignature("jwt", "The id_token is not a JWT.") from None
        if header.get("alg") != "RS256":
            raise BadSignature("alg", f"The id_token is signed with {header.get('alg')!r}; only RS256 is accepted.")
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise BadSignature("kid", "The id_token's header names no key (kid).")
        jwk = self.key(url, kid)
        try:
            public = RSAAlgorithm.from_jwk(json.dumps(jwk))
        except (jwt.PyJWTError, ValueError, TypeError, KeyError):
            raise BadSignature("jwks", "The platform's key for this token is not an RSA key.") from None
        try:
            claims = jwt.decode(
                id_token,
                public,  # type: ignore[arg-type]  # from_jwk gives a public key for a public JWK
                algorithms=["RS256"],
                options={"verify_aud": False, "verify_exp": False, "verify_iat": False, "verify_nbf": False},
            )
        except jwt.PyJWTError:
            raise BadSignature("signature", "The id_token's signature does not match the platform's key.") from None
        if not isinstance(claims, dict):
            raise BadSignature("jwt", "The id_token's claims are not an object.")
        return claims
