"""Domain errors (no HTTP in them) and the one place that turns them, and anything unexpected,
into JSON responses ``{"detail": ...}``."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

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


class NotFound(DomainError):
    pass


class Conflict(DomainError):
    """Already exists, past the attempt limit, or an idempotency key reused for another request."""


class Unprocessable(DomainError):
    """Well-formed JSON that cannot be accepted: unknown problem set, unreadable answers, ..."""


STATUS: dict[type[DomainError], int] = {
    NotAuthenticated: 401,
    Forbidden: 403,
    NotFound: 404,
    Conflict: 409,
    Unprocessable: 422,
}


def _domain_error(_request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, DomainError)
    status = next(code for kind, code in STATUS.items() if isinstance(error, kind))
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse({"detail": error.detail}, status_code=status, headers=headers)


def _unexpected(request: Request, error: Exception) -> JSONResponse:
    """A bug, not an input: logged with its traceback, answered without one."""
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=error)
    return JSONResponse({"detail": "Internal error; it has been logged."}, status_code=500)


def install(app: FastAPI) -> None:
    app.add_exception_handler(DomainError, _domain_error)
    app.add_exception_handler(Exception, _unexpected)
