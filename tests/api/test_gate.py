"""The gate in front of the doors that grade (:mod:`api.gate`), around an application that holds
each request until the test lets it go: past one more request of a credential than the budget
grades at once, the next is refused before its body is read; other credentials, other paths and
requests without a credential pass."""

from __future__ import annotations

import asyncio
import json
from types import SimpleNamespace
from typing import Any

from api.gate import GradingGate
from api.kit.quotas import GradingBudget

DOOR = "/api/v1/courses/c/assignments/a/preview"


class Held:
    """An ASGI application that counts the requests it got and answers each once ``release`` is set."""

    def __init__(self) -> None:
        self.entered = 0
        self.release = asyncio.Event()

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        self.entered += 1
        await self.release.wait()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"{}"})


async def _post(gate: GradingGate, path: str, token: str | None, budget: GradingBudget) -> tuple[int, Any]:
    headers = [(b"authorization", f"Bearer {token}".encode())] if token else []
    scope = {
        "type": "http",
        "method": "POST",
        "path": path,
        "headers": headers,
        "query_string": b"",
        "app": SimpleNamespace(state=SimpleNamespace(grading_budget=budget)),
    }
    sent: list[dict[str, Any]] = []
    read: list[bool] = []

    async def receive() -> dict[str, Any]:
        read.append(True)
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await gate(scope, receive, send)
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    headers_out = dict(sent[0]["headers"])
    return sent[0]["status"], (json.loads(body) if body else None, headers_out.get(b"retry-after"), bool(read))


def test_past_the_requests_a_credential_may_have_in_flight_the_next_is_refused_unread() -> None:
    async def scenario() -> None:
        held = Held()
        gate = GradingGate(held, pause=0.0)
        budget = GradingBudget(at_once=1)
        first = asyncio.create_task(_post(gate, DOOR, "ada", budget))
        second = asyncio.create_task(_post(gate, DOOR, "ada", budget))
        while held.entered < 2:  # both in: one graded, one waiting its turn
            await asyncio.sleep(0)
        status, (body, retry_after, read) = await _post(gate, DOOR, "ada", budget)
        assert (status, retry_after, read) == (429, b"1", False)
        assert body["detail"].startswith("Too much grading at once for this account")
        others = [_post(gate, DOOR, "grace", budget), _post(gate, DOOR, None, budget)]
        others.append(_post(gate, "/api/v1/courses/c/assignments/a/submissions/x", "ada", budget))
        waiting = [asyncio.create_task(other) for other in others]
        while held.entered < 5:  # another credential, none, another path: all let through
            await asyncio.sleep(0)
        held.release.set()
        assert [(await task)[0] for task in (first, second, *waiting)] == [200] * 5
        assert gate._in_flight == {}

    asyncio.run(scenario())
