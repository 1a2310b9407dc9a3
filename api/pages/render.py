"""Rendering a page: one Jinja2 template per page (``templates/``), extending ``base.html``;
fragments that htmx swaps in are small templates of their own, included by the page too, so the
first render and the live update are the same markup."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi.templating import Jinja2Templates
from starlette.requests import Request
from starlette.responses import HTMLResponse

from api.pages import assets

TEMPLATES = Path(__file__).parent / "templates"

#: Our pages load scripts and styles from the service only. Inline style attributes are allowed:
#: KaTeX positions its glyphs with them, and htmx adds its indicator style.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    # pages show a student's answers and grades: not for shared caches, nor the back-forward cache
    "Cache-Control": "no-store",
}

templates = Jinja2Templates(directory=TEMPLATES)
templates.env.globals["asset"] = assets.asset_url
templates.env.trim_blocks = True
templates.env.lstrip_blocks = True


def render(request: Request, name: str, context: dict[str, Any] | None = None, *, status: int = 200) -> HTMLResponse:
    """The template ``name`` with ``context``; the signed-in caller (``request.state.page``, set
    by :func:`api.pages.deps.signed_in`) is in every page's context as ``page``."""
    values = {"page": getattr(request.state, "page", None), **(context or {})}
    response = templates.TemplateResponse(request, name, values, status_code=status)
    response.headers.update(HEADERS)
    return response
