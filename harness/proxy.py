"""The repository's reverse proxy (``docker/nginx.conf``) run with the machine's nginx in front of
``grader serve`` processes, as ``docker compose`` runs it in front of the replicas.

The configuration is used as written except for what only Docker provides: Docker's DNS
(``resolver 127.0.0.11``) becomes :class:`ReplicaDNS`, a small DNS server on a loopback port that
answers the replicas' name with their addresses (each replica on its own loopback address,
127.0.0.2, 127.0.0.3, ..., all on one port, as containers are), and the listen port is a free one.
So the tests exercise the proxy's own name resolution and round-robin, not a rewritten upstream.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import struct
import subprocess
import tempfile
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Self

from harness.server import REPOSITORY

CONFIG = REPOSITORY / "docker" / "nginx.conf"
#: What docker-compose.yml calls the service and the port its replicas listen on.
SERVICE_NAME, SERVICE_PORT = "grader", 8000
DOCKER_DNS = "resolver 127.0.0.11 "
LISTEN = "listen 80;"


def find_nginx() -> str | None:
    return shutil.which("nginx") or next((p for p in ("/usr/sbin/nginx",) if Path(p).exists()), None)


class ReplicaDNS:
    """Answers A queries for ``name`` with ``addresses`` (NXDOMAIN for any other name), on UDP."""

    def __init__(self, name: str, addresses: Sequence[str]) -> None:
        self.name = name.lower()
        self.addresses = list(addresses)
        self.socket = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.socket.bind(("127.0.0.1", 0))
        self.port: int = self.socket.getsockname()[1]
        self.queries = 0
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def start(self) -> Self:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.socket.close()

    def _serve(self) -> None:
        while True:
            try:
                query, client = self.socket.recvfrom(512)
            except OSError:
                return
            with contextlib.suppress(ValueError, IndexError, struct.error, OSError):
                self.socket.sendto(self.answer(query), client)

    def answer(self, query: bytes) -> bytes:
        (ident,) = struct.unpack("!H", query[:2])
        labels, offset = [], 12
        while query[offset]:
            length = query[offset]
            labels.append(query[offset + 1 : offset + 1 + length].decode("ascii").lower())
            offset += 1 + length
        qtype, _qclass = struct.unpack("!HH", query[offset + 1 : offset + 5])
        question = query[12 : offset + 5]
        self.queries += 1
        if ".".join(labels) != self.name:
            return struct.pack("!HHHHHH", ident, 0x8183, 1, 0, 0, 0) + question  # NXDOMAIN
        records = self.addresses if qtype == 1 else []  # A only (the proxy asks for no AAAA)
        header = struct.pack("!HHHHHH", ident, 0x8580, 1, len(records), 0, 0)
        answers = b"".join(struct.pack("!HHHIH", 0xC00C, 1, 1, 5, 4) + socket.inet_aton(address) for address in records)
        return header + question + answers


def proxy_config(*, listen_port: int, dns_port: int, replica_port: int) -> str:
    """``docker/nginx.conf`` with Docker's DNS, the replicas' port and the listen port replaced."""
    text = CONFIG.read_text()
    upstream = f"{SERVICE_NAME}:{SERVICE_PORT};"
    for fixed in (DOCKER_DNS, upstream, LISTEN):
        assert text.count(fixed) == 1, f"docker/nginx.conf should hold {fixed!r} once"
    return (
        text.replace(DOCKER_DNS, f"resolver 127.0.0.1:{dns_port} ")
        .replace(upstream, f"{SERVICE_NAME}:{replica_port};")
        .replace(LISTEN, f"listen 127.0.0.1:{listen_port};")
    )


class NginxProxy:
    """nginx in the foreground with :func:`proxy_config`, its pid file and logs in a temporary folder."""

    def __init__(self, *, listen_port: int, replica_addresses: Sequence[str], replica_port: int) -> None:
        binary = find_nginx()
        if binary is None:
            raise RuntimeError("nginx is not installed (scripts/test-deps installs it)")
        self.binary = binary
        self.port = listen_port
        self.base_url = f"http://127.0.0.1:{listen_port}"
        self.dns = ReplicaDNS(SERVICE_NAME, replica_addresses)
        self.replica_port = replica_port
        self.dir = Path(tempfile.mkdtemp(prefix="grader-nginx-"))
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> Self:
        self.dns.start()
        config = self.dir / "nginx.conf"
        config.write_text(proxy_config(listen_port=self.port, dns_port=self.dns.port, replica_port=self.replica_port))
        with (self.dir / "output.log").open("ab") as out:
            self.process = subprocess.Popen(
                [self.binary, "-p", str(self.dir), "-c", str(config), "-e", "stderr", "-g", self._main_directives()],
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"nginx exited ({self.process.returncode}):\n{self.output()}")
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", self.port), timeout=1):
                return self
            time.sleep(0.05)
        raise RuntimeError(f"nginx did not listen within 15 s:\n{self.output()}")

    def _main_directives(self) -> str:
        """In the foreground, its pid file in its own folder (several tests' proxies may run at once)."""
        return f"daemon off; pid {self.dir / 'nginx.pid'};"

    def output(self) -> str:
        log = self.dir / "output.log"
        return log.read_text(errors="replace") if log.exists() else ""

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)  # fast shutdown, workers included
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)
        self.dns.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()
