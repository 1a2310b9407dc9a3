"""The static files of the pages (our stylesheet and script, and the vendored libraries), served
under a URL that names a digest of their content: ``/static/<digest>/grader.css``.

A new release changes the digest, so a browser may keep every file for a year without ever
asking again (``Cache-Control: immutable``) and still never runs an old script with a new page.
The vendored files are listed with their source and SHA-256 in ``static/vendor/MANIFEST.json``
(checked by ``tests/pages/test_assets.py``); nothing is fetched from elsewhere at run time.
"""

from __future__ import annotations

import hashlib
import json
from functools import cache
from pathlib import Path
from typing import Any

from starlette.responses import Response
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

STATIC = Path(__file__).parent / "static"
MANIFEST = STATIC / "vendor" / "MANIFEST.json"
#: A year: the URL changes whenever a file does.
CACHE_CONTROL = "public, max-age=31536000, immutable"


@cache
def digest() -> str:
    """12 hex digits of a SHA-256 over every static file's path and content (a few MB, read once
    per process)."""
    hashed = hashlib.sha256()
    for path in sorted(p for p in STATIC.rglob("*") if p.is_file()):
        hashed.update(path.relative_to(STATIC).as_posix().encode() + b"\0" + path.read_bytes())
    return hashed.hexdigest()[:12]


def prefix() -> str:
    return f"/static/{digest()}"


def asset_url(name: str) -> str:
    """The URL of a static file, e.g. ``asset_url("vendor/htmx/htmx.min.js")``."""
    if not (STATIC / name).is_file():
        raise FileNotFoundError(f"no static file {name!r}")
    return f"{prefix()}/{name}"


def manifest() -> dict[str, Any]:
    return dict(json.loads(MANIFEST.read_text()))


class ImmutableFiles(StaticFiles):
    """Static files with the year-long cache header (under the digest URL only)."""

    async def get_response(self, path: str, scope: Scope) -> Response:
        response = await super().get_response(path, scope)
        if response.status_code == 200:
            response.headers["Cache-Control"] = CACHE_CONTROL
        return response


def static_app() -> ImmutableFiles:
    return ImmutableFiles(directory=STATIC)
