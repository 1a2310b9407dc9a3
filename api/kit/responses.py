"""The error bodies on the wire and :func:`errors`, which documents the statuses an operation can
answer besides its success: one table, so that every operation tells the same truth as the
handlers of :mod:`api.kit.errors` (and ``tests/api/test_schemathesis.py`` checks it does)."""

from __future__ import annotations

from typing import Any, Literal, Union

from fastapi import Response
from pydantic import BaseModel, ConfigDict, Field


class ErrorBody(BaseModel):
    """An error body: nothing but ``detail``."""

    model_config = ConfigDict(extra="forbid")


class ErrorOut(ErrorBody):
    detail: str = Field(description="What went wrong, in a sentence.")


class RefusedOut(ErrorBody):
    """A refusal by the exam room's rules (:class:`api.kit.errors.Refused`)."""

    detail: str = Field(description="Why, in a sentence, and what to do.")
    reason: Literal["password", "network", "session"] = Field(
        description="`password`: missing or wrong; `network`: the client's address is outside the allowed networks; "
        "`session`: the attempt is bound to another session (locked until staff unlock it)."
    )


class InvalidField(ErrorBody):
    """One refused field, as :func:`api.kit.errors._invalid_request` reports it (the input not echoed)."""

    type: str = Field(description="The kind of error, e.g. `missing`, `string_too_long`.")
    loc: list[str | int] = Field(
        description="Where: `body`, `query`, `path` or `header`, then field names and indices."
    )
    msg: str


class ValidationErrorOut(ErrorBody):
    detail: list[InvalidField]


_REQUIRED_STRING = {"required": True, "schema": {"type": "string"}}
#: The header of every 503 (see :data:`api.kit.errors.RETRY_AFTER_SECONDS`) and 429 (:mod:`api.kit.quotas`).
RETRY_AFTER = {"Retry-After": {**_REQUIRED_STRING, "description": "Seconds to wait before retrying."}}

#: What each error status means, and the headers it always carries.
STATUSES: dict[int, tuple[str, dict[str, Any]]] = {
    401: (
        "No token, or one that matches no account",
        {"WWW-Authenticate": {**_REQUIRED_STRING, "description": "`Bearer`"}},
    ),
    403: ("The caller's role may not do this, or the data is someone else's", {}),
    404: ("No such resource", {}),
    409: ("Conflicts with what is stored", {}),
    413: ("The request body is larger than the limit (`GRADER_MAX_BODY_BYTES`)", {}),
    422: ("The request is not one the service can accept", {}),
    429: ("Past the account's budget of grading work, at once or lately; retry after `Retry-After`", RETRY_AFTER),
    503: ("The database does not answer; retry later", RETRY_AFTER),
}

#: A 422 body: fields of the wrong shape (a list), or a sentence (a body that is not JSON, or a
#: request refused for what it means, such as an unknown problem set).
UNPROCESSABLE: tuple[type[BaseModel], ...] = (ValidationErrorOut, ErrorOut)


def errors(
    *statuses: int, notes: dict[int, str] | None = None, bodies: dict[int, type[BaseModel]] | None = None
) -> dict[int | str, dict[str, Any]]:
    """``responses=`` for an operation that can answer ``statuses``: each with its body's schema
    and headers. ``notes`` replace a status's general description with when this operation answers
    it; ``bodies`` adds a body an operation may send besides the usual one (the schema becomes a union)."""
    notes, bodies = notes or {}, bodies or {}
    documented: dict[int | str, dict[str, Any]] = {}
    for status in statuses:
        description, headers = STATUSES[status]
        models = (*(UNPROCESSABLE if status == 422 else (ErrorOut,)), *((bodies[status],) if status in bodies else ()))
        response: dict[str, Any] = {
            "description": notes.get(status, description),
            "model": models[0] if len(models) == 1 else Union[models],  # noqa: UP007 (a runtime union of types)
        }
        if headers:
            response["headers"] = headers
        documented[status] = response
    return documented


#: Replies that carry a token are not to be kept by any cache, the browser's or a proxy's.
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
NO_STORE_HEADERS = {
    name: {"required": True, "schema": {"type": "string", "enum": [value]}} for name, value in NO_STORE.items()
}


async def no_store(response: Response) -> None:
    response.headers.update(NO_STORE)
