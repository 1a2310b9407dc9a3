"""Which replies travel compressed, and how: a large JSON or CSV reply (a 1,000-student course's
gradebook is about 460 kB of JSON) is sent gzipped to a caller that accepts it, at the fastest
level (2 ms for 600 kB, to an eighth of its size; the default level 9 takes 28 ms for 6 % less).

Pages are never compressed: they carry the session's CSRF token beside text a caller can choose
(a search, a name), and a compressed reply's length would tell an eavesdropper guesses at the token
(the BREACH attack). The API's replies carry no such secret; a reply under 32 kB gains too little
for the CPU.
"""

from __future__ import annotations

from typing import Any

#: Arguments of Starlette's ``GZipMiddleware`` (api/app.py).
COMPRESSED: dict[str, Any] = {
    "minimum_size": 32 * 1024,
    "compresslevel": 1,
    "exclude_content_types": (
        # Starlette's own exclusions (already compressed, or streamed as events) ...
        "application/grpc",
        "application/gzip",
        "application/x-gzip",
        "application/zip",
        "audio/*",
        "font/woff",
        "font/woff2",
        "image/*",
        "text/event-stream",
        "video/*",
        # ... and the pages (see the module)
        "text/html",
    ),
}
