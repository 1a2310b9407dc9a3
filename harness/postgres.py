"""A throwaway PostgreSQL server for tests and benchmarks, started and stopped by the caller.

PostgreSQL refuses to run as root, and CI runs as root: then the cluster is created and run as
the ``postgres`` system user (``runuser``) in a temporary directory that user owns. It listens on
a Unix socket in that directory only (no TCP port, so parallel test workers cannot collide)
unless ``tcp_port`` is given. fsync is off: the data is thrown away.

    with PostgresServer() as server:
        url = server.create_database("t1")   # postgresql+psycopg://postgres@/t1?host=...
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Self

import psycopg

PG_BIN_DIRS = [Path(f"/usr/lib/postgresql/{v}/bin") for v in (17, 16, 15, 14, 13)]
SOCKET_PORT = 5432


def find_bin_dir() -> Path | None:
    """The directory with ``initdb`` and ``pg_ctl``, or None when PostgreSQL is not installed."""
    explicit = os.environ.get("GRADER_PG_BIN")
    candidates = [Path(explicit)] if explicit else []
    on_path = shutil.which("pg_ctl")
    if on_path:
        candidates.append(Path(on_path).parent)
    candidates += PG_BIN_DIRS
    return next((d for d in candidates if (d / "initdb").exists() and (d / "pg_ctl").exists()), None)


class PostgresServer:
    def __init__(self, bin_dir: Path | None = None, tcp_port: int | None = None, *, durable: bool = False) -> None:
        """``durable``: PostgreSQL's own defaults (every commit flushed to disk) instead of the tests'
        throwaway settings (no fsync), for a benchmark that should count the disk in."""
        found = bin_dir or find_bin_dir()
        if found is None:
            raise RuntimeError("PostgreSQL binaries not found (set GRADER_PG_BIN)")
        self.bin_dir = found
        self.tcp_port = tcp_port
        self.durable = durable
        self.port = tcp_port or SOCKET_PORT
        self.as_postgres = os.geteuid() == 0
        self.dir = Path(tempfile.mkdtemp(prefix="grader-pg-"))
        self.data = self.dir / "data"
        self.started = False

    def _run(self, *args: str) -> None:
        command = [str(self.bin_dir / args[0]), *args[1:]]
        if self.as_postgres:
            command = ["runuser", "-u", "postgres", "--", *command]
        done = subprocess.run(command, capture_output=True, text=True, cwd="/", check=False)
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(command)} failed ({done.returncode}):\n{done.stdout}{done.stderr}")

    def start(self) -> Self:
        if self.as_postgres:
            shutil.chown(self.dir, "postgres", "postgres")
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "-A", "trust", "--no-sync", "-E", "UTF8")
        listen = "'*'" if self.tcp_port else "''"
        options = f"-p {self.port} -k {self.dir} -c listen_addresses={listen} -c max_connections=300"
        if not self.durable:
            options += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        self._run("pg_ctl", "-D", str(self.data), "-o", options, "-l", str(self.dir / "log"), "-w", "start")
        self.started = True
        return self

    def stop(self) -> None:
        if self.started:
            self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
            self.started = False
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()

    def url(self, database: str = "postgres") -> str:
        if self.tcp_port:
            return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"
        return f"postgresql+psycopg://postgres@/{database}?host={self.dir}&port={self.port}"

    def _admin(self) -> psycopg.Connection:
        return psycopg.connect(host=str(self.dir), port=self.port, user="postgres", dbname="postgres", autocommit=True)

    def create_database(self, name: str, template: str | None = None) -> str:
        """A fresh database (optionally a copy of ``template``); returns its SQLAlchemy URL."""
        with self._admin() as connection:
            suffix = f' TEMPLATE "{template}"' if template else ""
            connection.execute(f'CREATE DATABASE "{name}"{suffix}')
        return self.url(name)

    def drop_database(self, name: str) -> None:
        with self._admin() as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
