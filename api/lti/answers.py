"""What a platform answers the tool's calls (token, line items, scores, rosters, key sets), read
within bounds: at most :data:`MAX_BYTES` of body (a larger answer is refused as it streams in, not
after it has filled the memory), and JSON read without trusting its depth (a document nested too
deep for the parser is refused like one that is not JSON)."""

from __future__ import annotations

import json
from typing import Any

import httpx

#: The largest answer read from a platform: a page of a roster is the largest one expected.
MAX_BYTES = 4 * 1024 * 1024


class Unreadable(Exception):
    """An answer too large, or not JSON: ``reason`` says which."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def call(http: httpx.Client, method: str, url: str, **options: Any) -> httpx.Response:
    """The platform's answer, its body read whole but never beyond :data:`MAX_BYTES`."""
    request = http.build_request(method, url, **options)
    answer = http.send(request, stream=True)
    try:
        declared = answer.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > MAX_BYTES:
            raise Unreadable(f"the answer is larger than {MAX_BYTES // 2**20} MiB")
        body = bytearray()
        for chunk in answer.iter_bytes():
            body += chunk
            if len(body) > MAX_BYTES:
                raise Unreadable(f"the answer is larger than {MAX_BYTES // 2**20} MiB")
    finally:
        answer.close()
    return httpx.Response(answer.status_code, headers=answer.headers, content=bytes(body), request=request)


def json_of(response: httpx.Response) -> Any:
    try:
        return json.loads(response.content)
    except (ValueError, UnicodeDecodeError, RecursionError):  # RecursionError: nested too deep to read
        raise Unreadable("the answer is not JSON") from None
