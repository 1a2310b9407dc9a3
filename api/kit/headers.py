"""The security headers of every response, set in one place: :class:`SecurityHeaders`, the
outermost middleware (``create_app`` installs it), adds those of the response's kind, told by its
path, and a response that set a header itself keeps its own.

=====================  ==================================  ==================  ===============
kind                   Content-Security-Policy             Referrer-Policy     Cache-Control
=====================  ==================================  ==================  ===============
``/api/…``             nothing loads, nothing frames it    ``no-referrer``     ``no-store``
``/health``            nothing loads, nothing frames it    ``no-referrer``     ``no-store``
``/docs``              Swagger UI from our files           ``same-origin``     ``no-store``
``/static/…``          nothing loads, nothing frames it    ``same-origin``     the assets' own
``/openapi.json``      nothing loads, nothing frames it    ``same-origin``     (none)
``/lti/…``             :data:`PAGES_CSP`, unless the page     ``same-origin``     ``no-store``
                       sets its own (framed by its LMS)
the pages (the rest)   :data:`PAGES_CSP`                   ``same-origin``     ``no-store``
=====================  ==================================  ==================  ===============

Every one also gets ``X-Content-Type-Options: nosniff`` and ``X-Frame-Options: DENY`` (for browsers
older than ``frame-ancestors``), except the LTI pages (:mod:`api.pages.lms.launch`): a learning platform
shows them in a frame, so they name its origin in their own ``frame-ancestors`` and carry no
``X-Frame-Options`` (which cannot name an origin); without their own policy they get the pages'
(``frame-ancestors 'none'``). ``no-store`` (with ``Pragma: no-cache`` for HTTP/1.0 caches) is on
everything personal, kept by no shared cache nor the browser's back-forward cache: every API
response (each is for an authenticated caller: answers, references, variant secrets, gradebooks,
tokens) and every page; and on ``/health`` and ``/docs``,
which are not personal but must not be kept: a cached health answer would hide an outage, and a
cached ``/docs`` would name the assets of a release that is gone. The static files are named by a
digest of their content and keep their year-long cache (:mod:`api.pages.kit.assets`); the OpenAPI
document is the same for every caller and changes only with a release.

The headers are encoded once, at import: on the submit path the middleware costs a dictionary look-up
and a list of a few tuples.
"""

from __future__ import annotations

from collections.abc import Sequence

from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

#: What the browser may load for our pages: scripts and styles from the service only. Inline style
#: attributes are allowed: KaTeX positions its glyphs with them, and htmx adds its indicator style.
PAGES_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
#: ``/docs``: Swagger UI's files and its starter (``static/docs.js``) from the service, no inline
#: script; it styles its elements inline, its stylesheet's icons are ``data:`` images, and it fetches
#: the OpenAPI document and runs "Try it out" against the service itself.
DOCS_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'none'; frame-ancestors 'none'; base-uri 'none'"
)
#: JSON, CSV and files: nothing in them runs or loads anything, nor may any site frame them.
STRICT_CSP = "default-src 'none'; frame-ancestors 'none'"

NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
_EVERY = {"X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY"}

API = {**_EVERY, "Content-Security-Policy": STRICT_CSP, "Referrer-Policy": "no-referrer", **NO_STORE}
PAGES = {**_EVERY, "Content-Security-Policy": PAGES_CSP, "Referrer-Policy": "same-origin", **NO_STORE}
DOCS = {**PAGES, "Content-Security-Policy": DOCS_CSP}
#: The static files (with their own ``Cache-Control``) and the OpenAPI document.
PUBLIC = {**_EVERY, "Content-Security-Policy": STRICT_CSP, "Referrer-Policy": "same-origin"}

RawHeaders = tuple[tuple[bytes, bytes], ...]


def _raw(headers: dict[str, str]) -> RawHeaders:
    return tuple((name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in headers.items())


#: The LTI pages: as the pages, without ``X-Frame-Options`` (see above).
LTI_PAGES = {name: value for name, value in PAGES.items() if name != "X-Frame-Options"}

_API, _PAGES, _PUBLIC, _LTI = _raw(API), _raw(PAGES), _raw(PUBLIC), _raw(LTI_PAGES)
_BY_PATH = {"/health": _API, "/docs": _raw(DOCS), "/openapi.json": _PUBLIC}


def headers_for(path: str) -> RawHeaders:
    """The headers of a response to ``path``, encoded."""
    if path.startswith("/api/"):
        return _API
    if path.startswith("/static/"):
        return _PUBLIC
    if path.startswith("/lti/"):
        return _LTI
    return _BY_PATH.get(path, _PAGES)


def with_headers(existing: Sequence[tuple[bytes, bytes]], added: RawHeaders) -> list[tuple[bytes, bytes]]:
    """``existing`` and those of ``added`` it does not name already."""
    present = {name.lower() for name, _ in existing}
    return [*existing, *(header for header in added if header[0] not in present)]


def add_to(response: Response, path: str) -> None:
    """For the one response the middleware never sees: the 500 of an unexpected error, which
    Starlette's ``ServerErrorMiddleware`` sends from outside every middleware of the app."""
    response.raw_headers[:] = with_headers(response.raw_headers, headers_for(path))


class SecurityHeaders:
    """Pure ASGI middleware (no ``BaseHTTPMiddleware``: it adds a task and copies per request)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        added = headers_for(scope["path"])

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = with_headers(message.get("headers", ()), added)
            await send(message)

        await self.app(scope, receive, send_with_headers)
