"""Rendering a page: one Jinja2 template per page (``templates/``), extending ``base.html``;
fragments that htmx swaps in are small templates of their own, included by the page too, so the
first render and the live update are the same markup. Their headers (the Content-Security-Policy,
``no-store``) are those :mod:`api.headers` puts on every page."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fastapi.templating import Jinja2Templates
from starlette.requests import Request
from starlette.responses import HTMLResponse

from api.pages import assets
from api.pages.notation import with_math

TEMPLATES = Path(__file__).parent / "templates"


def when(moment: datetime | None) -> str:
    """A date as every page writes it: in UTC, to the minute."""
    return "" if moment is None else moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def points(value: float | None) -> str:
    """``3`` for 3.0, ``2.5``, ``0.333`` (a score or a maximum)."""
    return "–" if value is None else f"{value:.3g}" if value != int(value) else str(int(value))


templates = Jinja2Templates(directory=TEMPLATES)
templates.env.globals["asset"] = assets.asset_url
templates.env.filters.update(when=when, points=points, math=with_math)
templates.env.trim_blocks = True
templates.env.lstrip_blocks = True


def render(request: Request, name: str, context: dict[str, Any] | None = None, *, status: int = 200) -> HTMLResponse:
    """The template ``name`` with ``context``; the signed-in caller (``request.state.page``, set
    by :func:`api.pages.deps.signed_in`) is in every page's context as ``page``."""
    values = {"page": getattr(request.state, "page", None), **(context or {})}
    return templates.TemplateResponse(request, name, values, status_code=status)
