"""The connection budget of a deployment: every process that may hold PostgreSQL connections at
once must fit the server's ``max_connections``, or under load the last ones to connect are refused
("too many clients already") and their requests fail.

    replicas × workers × (GRADER_DB_POOL_SIZE + GRADER_DB_MAX_OVERFLOW) + GRADER_DB_RESERVED_CONNECTIONS
        ≤ max_connections − superuser_reserved_connections − reserved_connections

Each uvicorn worker process has a pool of its own. ``grader serve`` checks this at start, from the
server's own settings, and refuses to start when it cannot fit: a replica should fail at deploy
time, not at the first busy hour.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, text

from api.kit.config import Settings

#: PostgreSQL's settings that bound the connections an ordinary role may open.
SERVER_SETTINGS = ("max_connections", "superuser_reserved_connections", "reserved_connections")


@dataclass(frozen=True)
class ConnectionBudget:
    replicas: int
    workers: int
    pool_size: int
    max_overflow: int
    reserved: int
    max_connections: int
    kept_by_server: int  # superuser_reserved_connections (+ reserved_connections, PostgreSQL 16+)

    @classmethod
    def of(cls, settings: Settings, *, workers: int, server: dict[str, int]) -> ConnectionBudget:
        return cls(
            replicas=settings.replicas,
            workers=workers,
            pool_size=settings.db_pool_size,
            max_overflow=settings.db_max_overflow,
            reserved=settings.db_reserved_connections,
            max_connections=server["max_connections"],
            kept_by_server=server.get("superuser_reserved_connections", 0) + server.get("reserved_connections", 0),
        )

    @property
    def needed(self) -> int:
        return self.replicas * self.workers * (self.pool_size + self.max_overflow) + self.reserved

    @property
    def available(self) -> int:
        return self.max_connections - self.kept_by_server

    @property
    def fits(self) -> bool:
        return self.needed <= self.available

    def explain(self) -> str:
        return (
            f"{self.replicas} replicas (GRADER_REPLICAS) × {self.workers} workers × "
            f"({self.pool_size} GRADER_DB_POOL_SIZE + {self.max_overflow} GRADER_DB_MAX_OVERFLOW) + "
            f"{self.reserved} GRADER_DB_RESERVED_CONNECTIONS = {self.needed} connections; PostgreSQL allows "
            f"{self.available} ({self.max_connections} max_connections − {self.kept_by_server} kept for superusers)"
        )


def server_settings(connection: Connection) -> dict[str, int]:
    """The server's connection limits (``pg_settings``: a setting absent from an older version is left out)."""
    rows = connection.execute(
        text("SELECT name, setting FROM pg_settings WHERE name = ANY(:names)"), {"names": list(SERVER_SETTINGS)}
    )
    return {name: int(value) for name, value in rows}
