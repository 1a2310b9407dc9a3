"""What a platform answers the tool's calls (token, line items, scores, rosters, key sets), read
within bounds: at most :data:`MAX_BYTES` of body (a larger answer is refused as it streams in, not
after it has filled the memory), and JSON read without trusting its depth (a document nested too
deep for the parser is refused like one that is not JSON)."""

from __future__ import annotations

import json
import time
from typing import Any

import httpx

#: The largest answer read from a platform: a page of a roster is the largest one expected.
MAX_BYTES = 4 * 1024 * 1024


class Unreadable(Exception):
    """An answer too large (``kind`` ``size``), too slow to arrive (``time``), or not JSON
    (``json``): ``reason`` says which in words."""

    def __init__(self, kind: str, reason: str) -> None:
        super().__init__(reason)
        self.kind, self.reason = kind, reason


def call(
    http: httpx.Client,
    method: str,
    url: str,
    *,
    max_bytes: int = MAX_BYTES,
    deadline: float | None = None,
    **options: Any,
) -> httpx.Response:
    """The platform's answer, its body read whole but never beyond ``max_bytes`` (nor, with a
    ``deadline`` in seconds, for longer than that: the client's own timeouts bound each read,
    not a platform that trickles)."""
    ends = None if deadline is None else time.monotonic() + deadline
    request = http.build_request(method, url, **options)
    answer = http.send(request, stream=True)
    too_large = Unreadable("size", f"the answer is larger than {_size(max_bytes)}")
    try:
        declared = answer.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > max_bytes:
            raise too_large
        body = bytearray()
        for chunk in answer.iter_bytes():
            body += chunk
            if len(body) > max_bytes:
                raise too_large
            if ends is not None and time.monotonic() > ends:
                raise Unreadable("time", f"the answer took longer than {deadline:.0f} s")
    finally:
        answer.close()
    return httpx.Response(answer.status_code, headers=answer.headers, content=bytes(body), request=request)


def json_of(response: httpx.Response) -> Any:
    try:
        return json.loads(response.content)
    except (ValueError, UnicodeDecodeError, RecursionError):  # RecursionError: nested too deep to read
        raise Unreadable("json", "the answer is not JSON") from None


def _size(count: int) -> str:
    return f"{count // 2**20} MiB" if count >= 2**20 else f"{count // 1024} KiB"
