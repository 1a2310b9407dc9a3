"""The platforms' key sets and the signature of an id_token.

A platform's JWKS is fetched through the one HTTP client the tool uses for every call to a
platform (``app.state.lti_http``, an :class:`httpx.Client`: tests route it to a platform in the
test process) and cached per URL for :data:`TTL`. A ``kid`` the cached set lacks (the platform
rotated its key) fetches it again. Anyone may start a login and post a launch naming any ``kid``,
so what that costs is bounded, per key set URL:

* a ``kid`` still missing once the set was fetched is remembered as unknown for
  :data:`UNKNOWN_KID_TTL`: launches naming it are refused without a fetch;
* at most :data:`REFETCHES` fetches for unknown kids per :data:`REFETCH_WINDOW`, whatever the kids;
* a failed fetch is remembered for :data:`FAILURE_TTL`: launches needing the set meanwhile are
  refused with its reason, and the platform is not asked again;
* one fetch at a time: launches needing it meanwhile wait for its answer (a launch whose ``kid``
  the set held before goes on with that meanwhile), and at most :data:`WAITING` threads of the
  process wait on key sets at once (beyond: refused as busy, 503), so that waiting launches never
  take the threadpool other requests need;
* at most :data:`MAX_SETS` sets are kept, each with at most :data:`MAX_UNKNOWN_KIDS` unknown kids.

Callers hold no database connection while :meth:`KeySets.verify` may wait (:mod:`api.pages.lms.launch`).
Only RS256 is accepted: never ``none`` nor an HMAC keyed with a public key.
"""

from __future__ import annotations

import json
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import jwt
from jwt.algorithms import RSAAlgorithm

from api.lti.answers import Unreadable, call, json_of

#: How long a fetched key set is used before it is fetched again.
TTL = 3600.0
#: How long a ``kid`` missing from a freshly fetched set is refused without fetching again.
UNKNOWN_KID_TTL = 60.0
#: Fetches for unknown kids allowed per key set in each :data:`REFETCH_WINDOW` seconds.
REFETCHES, REFETCH_WINDOW = 5, 60.0
#: How long a failed fetch stands before the platform is asked again.
FAILURE_TTL = 30.0
#: The longest a fetch may take, all of it (the client's timeouts bound each wait, not a trickle).
FETCH_DEADLINE = 10.0
#: Threads of the process waiting on key sets at once (fetching or waiting for a fetch): with the
#: database slots and :data:`api.kit.slots.COMPUTING`, well below the 40 threads of anyio's threadpool.
WAITING = 16
#: Key sets kept (least recently used dropped first), and unknown kids remembered per set.
MAX_SETS, MAX_UNKNOWN_KIDS = 256, 256
#: The largest key set read (a few keys are a few KiB).
MAX_JWKS_BYTES = 256 * 1024
#: The largest id_token read (Canvas's are a few KiB; custom claims add some).
MAX_ID_TOKEN_CHARS = 64 * 1024
#: The longest ``kid`` looked up (platforms use a UUID or a thumbprint).
MAX_KID_CHARS = 256


class BadSignature(Exception):
    """The token could not be verified: ``check`` names what failed (``jwt``, ``alg``, ``kid``,
    ``jwks``, ``signature``); ``status`` is the page's (503: the tool is busy, try again)."""

    def __init__(self, check: str, detail: str, status: int = 401) -> None:
        super().__init__(check, detail)
        self.check = check
        self.detail = detail
        self.status = status


UNKNOWN_KID = "The token is signed with a key the platform does not publish."
BUSY = "Many launches are waiting for their platform's key set: try again in a moment."


@dataclass(slots=True)
class _KeySet:
    """What is known of one URL's key set."""

    keys: dict[str, dict[str, Any]] = field(default_factory=dict)
    fresh_until: float = 0.0
    failure: BadSignature | None = None
    failed_until: float = 0.0
    #: kid → until when it is refused without a fetch (oldest first).
    unknown: dict[str, float] = field(default_factory=dict)
    #: When the fetches for unknown kids of the current window began.
    refetches: deque[float] = field(default_factory=deque)
    #: Set when the fetch under way answers; None while none is.
    fetching: threading.Event | None = None


class KeySets:
    """Key sets by URL, shared by a process's requests (thread-safe: requests run in threads)."""

    def __init__(
        self, client: Callable[[], httpx.Client], *, ttl: float = TTL, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._client = client
        self._ttl = ttl
        self._clock = clock
        self._lock = threading.Lock()
        self._sets: OrderedDict[str, _KeySet] = OrderedDict()
        self._waiting = threading.BoundedSemaphore(WAITING)

    def _fetch(self, url: str) -> dict[str, dict[str, Any]]:
        try:
            response = call(
                self._client(),
                "GET",
                url,
                max_bytes=MAX_JWKS_BYTES,
                deadline=FETCH_DEADLINE,
                headers={"Accept": "application/json"},
            )
        except (httpx.HTTPError, httpx.InvalidURL) as error:
            raise BadSignature(
                "jwks", f"The platform's key set could not be fetched: {type(error).__name__}."
            ) from None
        except Unreadable as error:
            raise BadSignature("jwks", f"The platform's key set could not be read: {error.reason}.") from None
        if response.status_code != 200:
            raise BadSignature("jwks", f"The platform's key set answered {response.status_code}.")
        try:
            document = json_of(response)
        except Unreadable:
            document = None
        keys = document.get("keys") if isinstance(document, dict) else None
        if not isinstance(keys, list):
            raise BadSignature("jwks", "The platform's key set is not a JWKS document.")
        return {key["kid"]: key for key in keys if isinstance(key, dict) and isinstance(key.get("kid"), str)}

    def _entry(self, url: str) -> _KeySet:
        """The URL's entry, made if new (under the lock); the least recently used ones beyond
        :data:`MAX_SETS` are dropped, unless a fetch of theirs is under way."""
        entry = self._sets.get(url)
        if entry is not None:
            self._sets.move_to_end(url)
            return entry
        entry = self._sets[url] = _KeySet()
        for old in [u for u, e in self._sets.items() if e.fetching is None][: max(0, len(self._sets) - MAX_SETS)]:
            del self._sets[old]
        return entry

    def _forget(self, entry: _KeySet, kid: str, now: float) -> None:
        """``kid`` is unknown until :data:`UNKNOWN_KID_TTL` from now (under the lock)."""
        entry.unknown.pop(kid, None)
        entry.unknown[kid] = now + UNKNOWN_KID_TTL
        while len(entry.unknown) > MAX_UNKNOWN_KIDS:
            del entry.unknown[next(iter(entry.unknown))]

    def key(self, url: str, kid: str) -> dict[str, Any]:
        """The key ``kid`` of the set at ``url``: from the cache, else from a fetch (its own, or
        the one under way), within the bounds above."""
        waited = False
        while True:
            with self._lock:
                entry, now = self._entry(url), self._clock()
                found = entry.keys.get(kid)
                if found is not None and (now < entry.fresh_until or entry.fetching is not None):
                    return found
                if entry.unknown.get(kid, 0.0) > now:
                    raise BadSignature("kid", UNKNOWN_KID)
                fetching = entry.fetching
                if fetching is None:
                    failed = entry.failure
                    if failed is not None and now < entry.failed_until:
                        raise BadSignature(failed.check, failed.detail, failed.status)
                    if waited:  # the fetch this launch waited for answered without its kid
                        self._forget(entry, kid, now)
                        raise BadSignature("kid", UNKNOWN_KID)
                    refetch = now < entry.fresh_until  # fresh, but without this kid
                    if refetch:
                        while entry.refetches and entry.refetches[0] <= now - REFETCH_WINDOW:
                            entry.refetches.popleft()
                        if len(entry.refetches) >= REFETCHES:
                            raise BadSignature("kid", UNKNOWN_KID)
                    if not self._waiting.acquire(blocking=False):
                        raise BadSignature("jwks", BUSY, status=503)
                    if refetch:
                        entry.refetches.append(now)
                    entry.fetching = threading.Event()
            if fetching is not None:
                self._wait(fetching)
                waited = True
                continue
            return self._fetch_for(url, entry, kid)

    def _wait(self, fetching: threading.Event) -> None:
        """Waits for the fetch under way (holding one of the :data:`WAITING` places)."""
        if not self._waiting.acquire(blocking=False):
            raise BadSignature("jwks", BUSY, status=503)
        try:
            answered = fetching.wait(timeout=FETCH_DEADLINE * 4)
        finally:
            self._waiting.release()
        if not answered:
            raise BadSignature("jwks", "The platform's key set took too long to arrive.")

    def _fetch_for(self, url: str, entry: _KeySet, kid: str) -> dict[str, Any]:
        """Fetches the set (this thread took :attr:`_KeySet.fetching` and a waiting place); those
        waiting for it are woken whatever happens."""
        keys: dict[str, dict[str, Any]] | None = None
        failure: BadSignature | None = None
        try:
            keys = self._fetch(url)
        except BadSignature as error:
            failure = error
        finally:
            self._waiting.release()
            with self._lock:
                now, fetching = self._clock(), entry.fetching
                entry.fetching = None
                if keys is not None:
                    entry.keys, entry.fresh_until, entry.failure = keys, now + self._ttl, None
                    if kid not in keys:
                        self._forget(entry, kid, now)
                elif failure is not None:
                    entry.failure, entry.failed_until = failure, now + FAILURE_TTL
                if fetching is not None:
                    fetching.set()
        if failure is not None:
            raise failure
        assert keys is not None  # _fetch returned
        if kid not in keys:
            raise BadSignature("kid", UNKNOWN_KID)
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
        if len(kid) > MAX_KID_CHARS:
            raise BadSignature("kid", UNKNOWN_KID)
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
