"""API tokens: random, shown once, stored only as a hash.

A token is ``secrets.token_urlsafe(32)``: 256 random bits. It is stored as its SHA-256 in hex,
which makes the lookup one indexed equality. A slow password hash (bcrypt, argon2) exists to
make guessing *low-entropy* secrets expensive; nobody can enumerate 2^256 tokens, so a fast
hash loses nothing here, while a leaked database still yields no usable token.
"""

from __future__ import annotations

import hashlib
import secrets


def new_token() -> str:
    return secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()
