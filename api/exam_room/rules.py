"""An assignment's access rules as stored (``assignments.access``) and the pure checks on them:
the password's hash, the networks, which sessions count as one.

The password is typed by a proctor in the room, so it is short and low in entropy: it is stored
as a slow, salted hash (scrypt, of the standard library), never as text, so that a leaked
database does not give it away at the price of a lookup table."""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import ipaddress
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

#: scrypt's cost (2^14), block size and parallelism: OWASP's minimum, about 30 ms and 16 MiB a check.
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**14, 8, 1
SCHEME = "scrypt"
#: At most this many networks on one assignment.
MAX_NETWORKS = 50
#: The longest password taken (in characters).
MAX_PASSWORD = 200

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def hash_password(password: str) -> str:
    """``scrypt$N$r$p$SALT$HASH`` (base64): what is stored in place of the password."""
    salt = secrets.token_bytes(16)
    digest = _scrypt(password, salt, SCRYPT_N, SCRYPT_R, SCRYPT_P)
    return "$".join((SCHEME, str(SCRYPT_N), str(SCRYPT_R), str(SCRYPT_P), _b64(salt), _b64(digest)))


def password_matches(stored: str, typed: str | None) -> bool:
    """Whether ``typed`` is the password ``stored`` is the hash of (constant time; nothing typed, or
    a stored value of another scheme, never matches). A REST client sends the password with each
    draft save: a pair checked once is remembered by the process (:func:`_matches`), so scrypt's
    cost (a tenth of a second of CPU and 16 MiB) is paid once per password and process, while each
    new guess still pays it."""
    if typed is None:
        return False
    return _matches(stored, typed)


@functools.lru_cache(maxsize=4096)
def _matches(stored: str, typed: str) -> bool:
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != SCHEME:
            return False
        expected = base64.b64decode(digest)
        found = _scrypt(typed, base64.b64decode(salt), int(n), int(r), int(p))
    except ValueError:
        return False
    return hmac.compare_digest(found, expected)


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(password.encode("utf-8", "surrogatepass"), salt=salt, n=n, r=r, p=p, dklen=32)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def parse_network(text: str) -> Network:
    """A CIDR block (``10.0.0.0/8``, ``2001:db8::/32``) or one address (a /32 or /128); ValueError
    with a sentence otherwise (host bits set included: ``10.0.0.1/8`` is most likely a typo)."""
    try:
        return ipaddress.ip_network(text.strip(), strict=True)
    except ValueError as error:
        raise ValueError(
            f"{text!r} is not a network in CIDR notation (e.g. 192.0.2.0/24 or 2001:db8::/32): {error}"
        ) from None


def in_networks(address: str | None, networks: Sequence[str]) -> bool:
    """Whether the client's ``address`` lies in one of ``networks``; an address that is not an IP
    address (none known) lies in none. An IPv4 address mapped into IPv6 counts as the IPv4 one."""
    if address is None:
        return False
    try:
        client = ipaddress.ip_address(address)
    except ValueError:
        return False
    if isinstance(client, ipaddress.IPv6Address) and client.ipv4_mapped is not None:
        client = client.ipv4_mapped
    return any(client in ipaddress.ip_network(network) for network in networks)


@dataclass(frozen=True, slots=True)
class AccessRules:
    """The rules of one assignment, as stored: the password's hash (None: no password), the
    networks (empty: any address) and whether an attempt is bound to one session."""

    password_hash: str | None = None
    networks: tuple[str, ...] = ()
    one_session: bool = False

    @classmethod
    def of(cls, stored: dict[str, Any] | None) -> AccessRules:
        if not stored:
            return cls()
        return cls(stored.get("password"), tuple(stored.get("networks") or ()), bool(stored.get("one_session")))

    def __bool__(self) -> bool:
        return self.password_hash is not None or bool(self.networks) or self.one_session

    def stored(self) -> dict[str, Any] | None:
        """What the column holds (None: no rule)."""
        if not self:
            return None
        return {"password": self.password_hash, "networks": list(self.networks), "one_session": self.one_session}

    def shown(self) -> dict[str, Any] | None:
        """What a reply says of them: whether there is a password, never its hash."""
        if not self:
            return None
        return {
            "password": self.password_hash is not None,
            "networks": list(self.networks),
            "one_session": self.one_session,
        }


def changed(stored: dict[str, Any] | None, sent: dict[str, Any] | None) -> dict[str, Any] | None:
    """The rules as stored after a change: the fields ``sent`` replace the stored ones (a password
    typed is hashed here; ``password: None`` removes it), the others stay; ``sent`` None removes
    every rule."""
    if sent is None:
        return None
    current = AccessRules.of(stored)
    password_hash = current.password_hash
    if "password" in sent:
        password_hash = None if sent["password"] is None else hash_password(sent["password"])
    networks = current.networks
    if "networks" in sent:
        networks = tuple(str(parse_network(network)) for network in sent["networks"] or ())
    one_session = current.one_session if sent.get("one_session") is None else bool(sent["one_session"])
    return AccessRules(password_hash, networks, one_session).stored()


def pass_token(session_key: str, password_hash: str) -> str:
    """What a page keeps (a cookie) once its session typed the password: unforgeable without the
    stored hash, which never leaves the service, and void once the password changes (a new salt)."""
    return hmac.new(password_hash.encode("ascii"), f"exam pass {session_key}".encode(), hashlib.sha256).hexdigest()
