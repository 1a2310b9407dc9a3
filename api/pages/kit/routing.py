"""How a page answers a refusal: the same domain errors as the API (:mod:`api.kit.errors`), shown as
an HTML page with the same status, instead of JSON; no session is a redirect to the sign-in page."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any
from urllib.parse import quote

from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from api.kit import metrics
from api.kit.errors import STATUS, DomainError, refusal_headers
from api.pages.kit.deps import SignInRequired
from api.pages.kit.render import render
from api.pages.kit.sessions import SESSION_COOKIE, clear_session_cookie


def is_htmx(request: Request) -> bool:
    """A request htmx made for a fragment: it gets its answer as a fragment too, not a page."""
    return request.headers.get("HX-Request") == "true"


def sign_in_redirect(request: Request) -> Response:
    """To ``/``, which comes back here after signing in (GET pages only: a form's POST is not
    replayed). A cookie that opened nothing is cleared. htmx gets a sentence in place of the
    fragment it asked for."""
    if is_htmx(request):
        message = "Your session has ended: reload the page to sign in again (what you typed stays in the form)."
        return render(request, "_refusal.html", {"detail": message}, status=401)
    target = "/"
    if request.method == "GET" and request.url.path != "/":
        target = "/?next=" + quote(request.url.path, safe="/")
    response = RedirectResponse(target, status_code=303)
    if SESSION_COOKIE in request.cookies:
        clear_session_cookie(response, request)
    return response


def error_page(request: Request, error: DomainError) -> Response:
    status = next(code for kind, code in STATUS.items() if isinstance(error, kind))
    metrics.refused(type(error))
    if is_htmx(request):
        page = render(request, "_refusal.html", {"detail": error.detail}, status=status)
    else:
        page = render(request, "error.html", {"status": status, "detail": error.detail}, status=status)
    page.headers.update(refusal_headers(error) or {})
    return page


class PageRoute(APIRoute):
    """A route of the pages: the API's refusals become pages with the same status."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handle = super().get_route_handler()

        async def handle_page(request: Request) -> Response:
            try:
                return await handle(request)
            except SignInRequired:
                return sign_in_redirect(request)
            except DomainError as error:
                return error_page(request, error)
            except RequestValidationError as error:
                fields = ", ".join(str(e.get("loc", ("?",))[-1]) for e in error.errors())
                detail = f"This form is missing or has malformed fields: {fields}."
                return render(request, "error.html", {"status": 422, "detail": detail}, status=422)

        return handle_page
