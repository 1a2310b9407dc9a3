"""Ten replicas starting at once on a fresh PostgreSQL database migrate it exactly once: each
container's entrypoint runs ``grader db upgrade``, which queues on an advisory lock
(:data:`api.kit.migrate.MIGRATION_LOCK`) before it reads the schema's revision.

To be sure the ten really overlap (rather than run one after another on a busy machine), the test
holds the lock itself until all ten are waiting for it in ``pg_locks``, then lets them go.
"""

from __future__ import annotations

import re
import subprocess
import time
from pathlib import Path

import psycopg

from api.kit import migrate
from api.kit.config import Settings
from api.kit.db import make_engine
from harness.postgres import PostgresServer
from harness.server import VENV_BIN, server_env

from factories import unique

REPLICAS = 10


def waiting_for_the_lock(connection: psycopg.Connection, database: str) -> int:
    """Backends of ``database`` waiting for the migration lock (a bigint key: high and low halves)."""
    row = connection.execute(
        "SELECT count(*) FROM pg_locks JOIN pg_database d ON d.oid = pg_locks.database"
        " WHERE locktype = 'advisory' AND NOT granted AND d.datname = %s"
        " AND classid = %s AND objid = %s AND objsubid = 1",
        (database, migrate.MIGRATION_LOCK >> 32, migrate.MIGRATION_LOCK & 0xFFFFFFFF),
    ).fetchone()
    assert row is not None
    return int(row[0])


def test_ten_replicas_started_at_once_migrate_once(pg_server: PostgresServer, tmp_path: Path) -> None:
    name = unique("fresh")
    url = pg_server.create_database(name)  # empty: no template
    connect = {"host": str(pg_server.dir), "port": pg_server.port, "user": "postgres"}
    holder = psycopg.connect(**connect, dbname=name)  # a migration "in progress" the replicas must wait for
    watcher = psycopg.connect(**connect, dbname=name, autocommit=True)
    replicas: list[subprocess.Popen[str]] = []
    try:
        holder.execute("SELECT pg_advisory_xact_lock(%s)", (migrate.MIGRATION_LOCK,))
        env = server_env(DATABASE_URL=url)
        replicas = [
            subprocess.Popen(
                [str(VENV_BIN / "grader"), "db", "upgrade"],
                env=env,
                cwd=tmp_path,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for _ in range(REPLICAS)
        ]
        deadline = time.monotonic() + 180
        while waiting_for_the_lock(watcher, name) < REPLICAS:
            exited = [r.returncode for r in replicas if r.poll() is not None]
            assert not exited, f"a replica exited before the lock was free: {exited}"
            assert time.monotonic() < deadline, f"only {waiting_for_the_lock(watcher, name)} replicas waiting"
            time.sleep(0.1)
        tables = watcher.execute("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'").fetchone()
        assert tables == (0,), "a replica migrated without the lock"
        holder.rollback()  # the lock is free: all ten go at once
        outputs = [r.communicate(timeout=180) for r in replicas]
    finally:
        for replica in replicas:
            if replica.poll() is None:
                replica.kill()
        holder.close()
        watcher.close()

    assert [r.returncode for r in replicas] == [0] * REPLICAS, [err for _, err in outputs]
    head = migrate.head()
    # Alembic's "Running upgrade a -> b": every revision applied once, by one replica
    applied = [re.findall(r"Running upgrade .*? -> (\w+)", err) for _, err in outputs]
    migrating = [steps for steps in applied if steps]
    revisions = [r.revision for r in reversed(list(migrate.script_directory().walk_revisions()))]
    assert migrating == [revisions], applied
    assert sorted(out.strip() for out, _ in outputs) == sorted(
        [f"database at {head} (was empty)"] + [f"database at {head}"] * (REPLICAS - 1)
    )
    engine = make_engine(Settings(database_url=url))
    try:
        assert migrate.current(engine) == head
    finally:
        engine.dispose()
    pg_server.drop_database(name)
