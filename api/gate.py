"""Requests through the doors that grade, refused before their body is read: those of a caller
whose last grading was refused for its account's budget (:mod:`api.kit.quotas`), while the budget
would still refuse them, and those past one more than the budget's gradings at once of the same
caller (the others are still being received or graded).

A refused request would otherwise cost what the largest body costs to receive, parse and check (a
megabyte of answers: about 10 ms of the event loop, which then waits for the interpreter lock at
each piece of it while a grading runs), however often the caller sends it: one student sending
from 32 connections at once kept ``/health`` waiting seconds. The caller is known by its
credential (its bearer token or session cookie); the budget notes a digest of it with the account
it refused. The answer is the one the application gives, with the same sentence and
``Retry-After`` (JSON for the API, the page's fragment or page otherwise), sent after
:data:`PAUSE`: meanwhile the body is not read, so the server soon stops receiving it.
"""

from __future__ import annotations

import re

import anyio
from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from api.kit import metrics
from api.kit.errors import SafeJSONResponse, TooManyRequests, refusal_headers
from api.kit.quotas import CALLER, GradingBudget
from api.pages.kit.routing import error_page
from api.pages.kit.sessions import SESSION_COOKIE

#: The doors that read or grade answers (POST): the REST preview and submissions; the assignment
#: page's form, its live preview and the practice form.
GRADING_DOORS = re.compile(
    r"^/api/v1/courses/[^/]+/assignments/[^/]+/(preview|submissions)$"
    r"|^/courses/[^/]+/assignments/[^/]+(/preview|/practice)?$"
)
#: Seconds a refusal of the gate waits before it is sent: past 64 KiB of a body nobody reads, the
#: server stops receiving it, so a caller refused cannot keep the event loop busy receiving
#: megabytes, whatever it sends and from however many connections.
PAUSE = 1.0
AT_ONCE = (
    "Too much grading at once for this account: its other requests are still being received or graded; "
    "retry in a second."
)


class GradingGate:
    """Pure ASGI middleware, in front of the body's size limit (which reads the whole body). On
    the busiest path, submitting, it costs a pattern match, a header lookup and a count."""

    def __init__(self, app: ASGIApp, *, pause: float = PAUSE) -> None:
        self.app, self.pause = app, pause
        self._in_flight: dict[str, int] = {}  # requests of each credential through these doors (event loop only)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST" or not GRADING_DOORS.match(scope["path"]):
            await self.app(scope, receive, send)
            return
        credential = _credential(scope)
        if credential is None:
            await self.app(scope, receive, send)
            return
        budget: GradingBudget = scope["app"].state.grading_budget
        refused = budget.refusal(credential)
        if refused is None and self._in_flight.get(credential, 0) > budget.at_once:
            refused = TooManyRequests(AT_ONCE, retry_after=1)
        if refused is not None:
            await anyio.sleep(self.pause)
            await _refuse(Request(scope), refused)(scope, receive, send)
            return
        self._in_flight[credential] = self._in_flight.get(credential, 0) + 1
        token = CALLER.set(credential)
        try:
            await self.app(scope, receive, send)
        finally:
            CALLER.reset(token)
            if self._in_flight[credential] == 1:
                del self._in_flight[credential]
            else:
                self._in_flight[credential] -= 1


def _credential(scope: Scope) -> str | None:
    """The request's credential: its bearer token for the API, its session for a page."""
    if scope["path"].startswith("/api/"):
        for name, value in scope["headers"]:
            if name == b"authorization":
                return value.decode("latin-1")
        return None
    return Request(scope).cookies.get(SESSION_COOKIE)


def _refuse(request: Request, refused: TooManyRequests) -> ASGIApp:
    """The answer the application gives a refusal of the budget, on the API or on the pages."""
    if request.url.path.startswith("/api/"):
        metrics.refused(TooManyRequests)
        return SafeJSONResponse({"detail": refused.detail}, status_code=429, headers=refusal_headers(refused))
    return error_page(request, refused)
