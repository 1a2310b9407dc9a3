"""Domain errors (no HTTP in them) and the one place that turns them, and anything unexpected,
into JSON responses ``{"detail": ...}``."""

from __future__ import annotations

import json
import logging
import re
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException
from starlette.routing import compile_path

from api.kit import headers, metrics

log = logging.getLogger("grader.api")


class DomainError(Exception):
    """A request the service refuses; ``detail`` is what the client is told (a string or JSON)."""

    def __init__(self, detail: Any) -> None:
        super().__init__(detail if isinstance(detail, str) else repr(detail))
        self.detail = detail


class NotAuthenticated(DomainError):
    """No token, or one that matches no account."""


class Forbidden(DomainError):
    """The wrong role, or someone else's data."""


class Refused(Forbidden):
    """A 403 that says why in a word a client can act on (``reason``) besides its sentence: the
    exam room's refusals (``password``, ``network``, ``session``)."""

    def __init__(self, detail: str, *, reason: str) -> None:
        super().__init__(detail)
        self.reason = reason


class NotFound(DomainError):
    pass


class Conflict(DomainError):
    """Already exists, past the attempt limit, or an idempotency key reused for another request."""


class Unprocessable(DomainError):
    """Well-formed JSON that cannot be accepted: unknown problem set, unreadable answers, ..."""


class TooManyRequests(DomainError):
    """The caller asked for more work than its budget allows (:mod:`api.kit.quotas`); it may ask again
    in ``retry_after`` seconds."""

    def __init__(self, detail: str, *, retry_after: int) -> None:
        super().__init__(detail)
        self.retry_after = retry_after


class NotConfigured(DomainError):
    """The service lacks a setting the request needs (an operator's fix, not the client's)."""


STATUS: dict[type[DomainError], int] = {
    NotAuthenticated: 401,
    Forbidden: 403,
    NotFound: 404,
    Conflict: 409,
    Unprocessable: 422,
    NotConfigured: 503,
    TooManyRequests: 429,
}


def refusal_headers(error: DomainError) -> dict[str, str] | None:
    """The headers a refusal carries, whether answered as JSON or as a page."""
    if isinstance(error, NotAuthenticated):
        return {"WWW-Authenticate": "Bearer"}
    if isinstance(error, TooManyRequests):
        return {"Retry-After": str(error.retry_after)}
    return None


class SafeJSONResponse(JSONResponse):
    """Error bodies in pure ASCII: a detail may quote the client's input, which can hold lone
    surrogates that UTF-8 cannot encode."""

    def render(self, content: Any) -> bytes:
        return json.dumps(content, ensure_ascii=True, allow_nan=False, separators=(",", ":")).encode("ascii")


def _domain_error(_request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, DomainError)
    return error_response(error)


def error_response(error: DomainError) -> JSONResponse:
    """The JSON answer to a refusal: ``{"detail"}`` (and ``reason`` where it has one), its status."""
    status = next(code for kind, code in STATUS.items() if isinstance(error, kind))
    metrics.refused(type(error))
    body = {"detail": error.detail}
    if isinstance(error, Refused):
        body["reason"] = error.reason
    return SafeJSONResponse(body, status_code=status, headers=refusal_headers(error))


def _invalid_request(_request: Request, error: Exception) -> JSONResponse:
    """FastAPI's 422 shape (``type``, ``loc``, ``msg`` per error) without echoing the input, which
    may be huge or not even representable in JSON (NaN, lone surrogates)."""
    assert isinstance(error, RequestValidationError)
    errors = []
    for e in error.errors():
        loc = [p if isinstance(p, int) else str(p) for p in e.get("loc", ())]
        errors.append({"type": e.get("type"), "loc": loc, "msg": e.get("msg")})
    return SafeJSONResponse({"detail": errors}, status_code=422)


#: FastAPI answers a body it cannot parse as JSON (bad bytes, nesting past Python's recursion
#: limit, an integer with thousands of digits) with this 400; the contract says 422.
UNPARSABLE = "There was an error parsing the body"


def _http_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, HTTPException)
    if error.status_code == 400 and error.detail == UNPARSABLE:
        detail = "The body is not JSON this service can read (invalid bytes or syntax, or nested too deeply)."
        return SafeJSONResponse({"detail": detail}, status_code=422)
    headers = error.headers
    if error.status_code == 405:
        headers = {**(headers or {}), "Allow": _allowed_methods(request, (headers or {}).get("Allow", ""))}
    return SafeJSONResponse({"detail": error.detail}, status_code=error.status_code, headers=headers)


def _allowed_methods(request: Request, named: str) -> str:
    """Every method of the path: Starlette's 405 names only those of the first route that matches
    it (``named``), and ``GET`` and ``POST /assignments`` are two routes. The others are those the
    OpenAPI document lists for a path template that matches, with values that fit the patterns it
    documents (an answer key has a dot, so ``/grading/release`` is not ``/grading/{key}``)."""
    methods = {m.strip() for m in named.split(",") if m.strip()}
    for template, operations in request.app.openapi()["paths"].items():
        matched = compile_path(template)[0].match(request.url.path)
        if matched is not None:
            methods |= {m.upper() for m, operation in operations.items() if _fits(operation, matched.groupdict())}
    return ", ".join(sorted(methods))


def _fits(operation: dict[str, Any], values: dict[str, str]) -> bool:
    """Whether the path's values fit the patterns the operation documents for them."""
    for parameter in operation.get("parameters", []):
        pattern = parameter.get("schema", {}).get("pattern")
        if parameter.get("in") == "path" and pattern and not re.search(pattern, values.get(parameter["name"], "")):
            return False
    return True


#: What a client is told when the database cannot be reached (or stays locked past the timeout).
DATABASE_UNAVAILABLE = (
    "The database is not available at the moment; retry shortly (with the same Idempotency-Key a "
    "submission is never stored twice)."
)
RETRY_AFTER_SECONDS = 5


def _database_unavailable(request: Request, error: Exception) -> JSONResponse:
    """Not a bug in the service: a 503 the client can retry, logged in one line."""
    log.error("database unavailable on %s %s: %s", request.method, request.url.path, str(error).splitlines()[0])
    headers = {"Retry-After": str(RETRY_AFTER_SECONDS)}
    return SafeJSONResponse({"detail": DATABASE_UNAVAILABLE}, status_code=503, headers=headers)


def _unexpected(request: Request, error: Exception) -> JSONResponse:
    """A bug, not an input: logged with its traceback, answered without one. Starlette sends this
    answer from outside every middleware, so it adds the security headers itself. It also says
    ``Connection: close``: Starlette raises the error again once it is sent, and uvicorn then
    closes the connection, where a keep-alive client would send its next request and get a reset
    instead of an answer."""
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=error)
    response = JSONResponse(
        {"detail": "Internal error; it has been logged."}, status_code=500, headers={"Connection": "close"}
    )
    headers.add_to(response, request.url.path)
    return response


def install(app: FastAPI) -> None:
    app.add_exception_handler(DomainError, _domain_error)
    app.add_exception_handler(RequestValidationError, _invalid_request)
    app.add_exception_handler(HTTPException, _http_error)
    # connection refused or lost, SQLite locked past its busy timeout; no pooled connection in time
    app.add_exception_handler(OperationalError, _database_unavailable)
    app.add_exception_handler(PoolTimeout, _database_unavailable)
    app.add_exception_handler(Exception, _unexpected)
