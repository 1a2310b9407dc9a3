"""Rendering a page: one Jinja2 template per page (in its group's ``templates/``), extending ``base.html``;
fragments that htmx swaps in are small templates of their own, included by the page too, so the
first render and the live update are the same markup. Their headers (the Content-Security-Policy,
``no-store``) are those :mod:`api.kit.headers` puts on every page.

Every page has ``zone`` in its context: the time zone of the course in its path when the caller is
a member of it, else UTC. ``{{ moment|when }}`` writes a date in it, with the zone's abbreviation
(:func:`api.kit.local_time.shown`), and templates name it as ``{{ zone.key }}``."""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from fastapi.templating import Jinja2Templates
from jinja2 import pass_context
from jinja2.runtime import Context
from starlette.requests import Request
from starlette.responses import HTMLResponse

from api.kit.local_time import OVERLAP_RULE, shown
from api.kit.zones import zone_named
from api.pages.kit import assets
from api.pages.kit.deps import zone_of
from api.pages.kit.notation import with_math
from grader.awaiting import Awaiting, awaiting

#: Each group of pages keeps its templates beside it (``students/templates/``...); the kit's are the
#: shared ones (``base.html``). A name is looked for in each folder in turn, and names are unique.
GROUPS = ("kit", "students", "staff", "lms", "accounts")
TEMPLATES = [Path(__file__).parents[1] / group / "templates" for group in GROUPS]


@pass_context
def when(context: Context, moment: datetime | None) -> str:
    """A date as every page writes it: in the page's zone, to the minute, the zone abbreviated."""
    zone = context.get("zone")
    return shown(moment, zone if isinstance(zone, ZoneInfo) else zone_named(None))


def points(value: float | None) -> str:
    """``3`` for 3.0, ``2.5``, ``0.333`` (a score or a maximum)."""
    return "–" if value is None else f"{value:.3g}" if value != int(value) else str(int(value))


#: A whole number written as digits only (a reference answer's text, say).
_WHOLE = re.compile(r"-?[0-9]+")


def count(value: object) -> str:
    """A whole number as every page writes it for people, in thousands (``43,243,776``), as the
    answers read back to students are: a count, or a text that is only a whole number (a reference
    answer; the reader takes ``43,243,776`` back as written). Anything else as it is."""
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    if isinstance(value, str) and _WHOLE.fullmatch(value):
        return f"{int(value):,}"
    return "" if value is None else str(value)


def scored(score: float | None, max_score: float | None, waiting: Awaiting | None = None) -> str:
    """A score as readers read it: ``7 / 10``; with parts not scored yet, what is graded so far and
    what is awaited (``4 of 6 graded points; 4 awaiting a grader``), never a failing ``4 / 10``."""
    if waiting is None or not waiting.any:
        return f"{points(score)} / {points(max_score)}"
    left = ", ".join(f"{points(share)} {reason}" for reason, share in waiting.reasons) or "some parts awaited"
    return f"{points(score)} of {points(waiting.graded_max_score)} graded points; {left}"


#: What a page says of an attempt whose grade is held back (the assignment's ``feedback`` ``none``).
SUBMITTED = "Submitted"


def attempt_score(attempt: Any) -> str:
    """An attempt's score as :func:`scored` writes it (a :class:`api.submissions.schemas.SubmissionOut`);
    only :data:`SUBMITTED` where its grade is held back (no score)."""
    if attempt.score is None:
        return SUBMITTED
    return scored(attempt.final_score, attempt.max_score, awaiting(attempt.parts))


templates = Jinja2Templates(directory=TEMPLATES)
templates.env.globals["asset"] = assets.asset_url
templates.env.globals["overlap_rule"] = OVERLAP_RULE
templates.env.globals.update(scored=scored, awaiting=awaiting, attempt_score=attempt_score)
templates.env.filters.update(when=when, points=points, count=count, math=with_math)
templates.env.trim_blocks = True
templates.env.lstrip_blocks = True


def render(request: Request, name: str, context: dict[str, Any] | None = None, *, status: int = 200) -> HTMLResponse:
    """The template ``name`` with ``context``; the signed-in caller (``request.state.page``, set
    by :func:`api.pages.kit.deps.signed_in`) is in every page's context as ``page``, and the zone of
    its course (UTC on a page of no course) as ``zone``."""
    page = getattr(request.state, "page", None)
    values = {"page": page, "zone": zone_of(page), **(context or {})}
    return templates.TemplateResponse(request, name, values, status_code=status)
