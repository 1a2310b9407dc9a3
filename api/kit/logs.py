"""The access log without secrets. uvicorn writes each request's path *with* its query string, and
a client that sends its token as ``?token=...`` (or pastes one into any parameter, as a value or
as a name) would have it written to the log, where tokens must never be; and a few paths hold a
secret themselves: a sign-in link (``/signin/TOKEN``), an LTI launch that opens a session
(``/lti/continue/ID``), a dynamic-registration URL (``/lti/register/TOKEN``).

The query string is dropped rather than its sensitive parameters redacted: no list of names
catches a token sent under a name nobody thought of, or as a name itself, and telling a token
from other values by its looks would guess. The service's own parameters (``student``,
``format``, ``limit``, ...) are worth less in a log than that guarantee; the line keeps a ``?``
mark so that a reader knows there was a query. The secret segment of those paths is replaced
likewise (``tests/api/test_logs.py`` finds every route whose path holds a secret, and fails on
one this misses).
"""

from __future__ import annotations

import copy
import logging
import re
from typing import Any

import uvicorn.config

#: What stands for a dropped query string.
OMITTED = "?..."
#: What stands for the secret segment of a path.
REDACTED = "..."
#: The paths whose next segment is a secret (its own route's parameter: ``token``, ``launch_id``).
SECRET_SEGMENT = re.compile(r"^(/signin/|/lti/continue/|/lti/register/)[^/?]+")


class KeepSecretsOut(logging.Filter):
    """For the ``uvicorn.access`` logger, whose records carry ``args = (client_addr, method,
    full_path, http_version, status_code)``: ``full_path`` loses its query string and the secret
    segment of a path that holds one."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) == 5 and isinstance(args[2], str):
            path, query, _ = args[2].partition("?")
            path = SECRET_SEGMENT.sub(rf"\g<1>{REDACTED}", path) + (OMITTED if query else "")
            record.args = (*args[:2], path, *args[3:])
        return True


def uvicorn_log_config() -> dict[str, Any]:
    """uvicorn's own logging configuration, with :class:`KeepSecretsOut` on its access logger
    (a logger's filter applies whatever handlers are added later)."""
    config: dict[str, Any] = copy.deepcopy(uvicorn.config.LOGGING_CONFIG)
    config.setdefault("filters", {})["keep_secrets_out"] = {"()": f"{__name__}.KeepSecretsOut"}
    config["loggers"]["uvicorn.access"]["filters"] = ["keep_secrets_out"]
    return config
