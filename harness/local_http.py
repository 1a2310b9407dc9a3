"""One HTTP client for the tests' requests to a server on this host, over plain HTTP.

``httpx.get``, ``httpx.post`` and a new ``httpx.Client()`` each build a TLS context with certifi's
roots, about 50 ms of CPU that a request to ``http://127.0.0.1`` never uses; the suite sends
thousands (a poll of ``/health`` every 0.1 s while a server starts, a thousand submissions). This
client is built once and keeps no connection alive, so each request still opens and closes its own
connection, as ``httpx.post`` did: nothing a test proves about a fresh request changes. httpx's
clients are safe to share between threads.
"""

from __future__ import annotations

import httpx

LOCAL = httpx.Client(limits=httpx.Limits(max_keepalive_connections=0))
