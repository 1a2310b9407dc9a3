"""Large API replies travel gzipped to a caller that accepts it; pages never do (they carry the CSRF
token beside text a caller chooses: BREACH), nor small replies (:mod:`api.kit.compression`)."""

from __future__ import annotations

import gzip
import json

import pytest
from fastapi.testclient import TestClient
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.gzip import GZipMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from api.kit.compression import COMPRESSED

pytestmark = pytest.mark.only_backend("sqlite")  # (no database read)

BIG = 40 * 1024


def _raw(client: TestClient, path: str, encoding: str = "gzip") -> Response:
    """The reply as it travels: the test client would decompress it."""
    with client.stream("GET", path, headers={"Accept-Encoding": encoding}) as reply:
        body = b"".join(reply.iter_raw())
        return Response(body, status_code=reply.status_code, headers=dict(reply.headers))


def test_the_apis_large_json_travels_gzipped_and_reads_the_same(client) -> None:
    plain = client.get("/openapi.json", headers={"Accept-Encoding": "identity"})
    assert plain.status_code == 200 and len(plain.content) > BIG and "content-encoding" not in plain.headers
    sent = _raw(client, "/openapi.json")
    assert sent.headers["content-encoding"] == "gzip"
    assert len(sent.body) < len(plain.content) / 4
    assert json.loads(gzip.decompress(sent.body)) == plain.json()


def _app() -> Starlette:
    async def page(request: Request) -> Response:
        return HTMLResponse("<p>" + "x" * BIG + "</p>")

    async def big(request: Request) -> Response:
        return JSONResponse({"x": "y" * BIG})

    async def csv(request: Request) -> Response:
        return PlainTextResponse("a,b\r\n" * (BIG // 5), media_type="text/csv")

    async def small(request: Request) -> Response:
        return JSONResponse({"x": "y" * 1000})

    routes = [Route("/page", page), Route("/big", big), Route("/csv", csv), Route("/small", small)]
    return Starlette(routes=routes, middleware=[Middleware(GZipMiddleware, **COMPRESSED)])


@pytest.mark.parametrize(("path", "compressed"), [("/page", False), ("/big", True), ("/csv", True), ("/small", False)])
def test_pages_and_small_replies_are_never_compressed(path: str, compressed: bool) -> None:
    sent = _raw(TestClient(_app()), path)
    assert (sent.headers.get("content-encoding") == "gzip") is compressed, sent.headers
    if compressed:
        assert gzip.decompress(sent.body)


def test_a_caller_that_does_not_accept_gzip_gets_the_reply_as_it_is() -> None:
    sent = _raw(TestClient(_app()), "/big", encoding="identity")
    assert "content-encoding" not in sent.headers and json.loads(sent.body)["x"] == "y" * BIG
