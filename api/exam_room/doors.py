"""The exam room at the REST API's doors: who knocks (:class:`Visitor`) as a request shows it, and
the header that carries the password."""

from __future__ import annotations

from typing import Annotated

from fastapi import Header, Request

from api.exam_room.admission import Visitor
from api.users.tokens import hash_token

#: The header a student's start, draft save and submission send the exam password in.
PASSWORD_HEADER = "X-Exam-Password"

ExamPassword = Annotated[
    str | None,
    Header(
        alias=PASSWORD_HEADER,
        max_length=200,
        description="The exam password, on an assignment whose `access` asks for one (else ignored).",
    ),
]


def client_address(request: Request) -> str | None:
    """The client's address as the service determined it: uvicorn's, which takes ``X-Forwarded-For``
    only from the proxy named in ``FORWARDED_ALLOW_IPS`` (``grader serve`` runs it with
    ``proxy_headers``); anyone else's forwarded header is ignored."""
    return request.client.host if request.client is not None else None


def api_visitor(request: Request, token: str, password: str | None) -> Visitor:
    """An API caller: their token is their session."""
    return Visitor(client_address(request), hash_token(token), password=password)
