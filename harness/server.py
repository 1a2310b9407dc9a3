"""A real server in a subprocess (``grader serve`` or the container's entrypoint), or a ``grader
worker``, for the tests that must signal or kill it: TestClient runs the app in-process, which no
SIGKILL can test.

The process gets its own session (process group), so :meth:`ServerProcess.kill` reaches uvicorn's
worker processes too and nothing else.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Collection, Mapping, Sequence
from pathlib import Path
from typing import Self

import httpx

from harness.local_http import LOCAL

#: The virtual environment's scripts (``grader``), put first on the server's PATH.
VENV_BIN = Path(sys.executable).parent
REPOSITORY = Path(__file__).resolve().parents[1]


def free_port() -> int:
    """A loopback TCP port nobody listens on right now (the OS picks it)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def server_env(**variables: str) -> dict[str, str]:
    """This process's environment with the venv first on PATH and ``variables`` set."""
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL" and not k.startswith("GRADER_")}
    env["PATH"] = f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}"
    env.update(variables)
    return env


class ServerProcess:
    """``command`` run with ``env`` in ``cwd``, its output in ``log``; serving on ``host``:``port``
    (a loopback address: 127.0.0.2 and up let replicas share a port, as containers do)."""

    def __init__(
        self,
        command: Sequence[str],
        *,
        port: int,
        env: Mapping[str, str],
        cwd: Path,
        log: Path,
        host: str = "127.0.0.1",
    ) -> None:
        self.command = list(command)
        self.host = host
        self.port = port
        self.env = dict(env)
        self.cwd = cwd
        self.log = log
        self.process: subprocess.Popen[bytes] | None = None
        self.base_url = f"http://{host}:{port}"
        #: Where the log stood when the process last started: one object started again (a worker
        #: that comes back) appends to its log, and reads its latest run's part of it.
        self.started_at = 0

    @classmethod
    def grader_serve(
        cls, database_url: str, *, port: int, workdir: Path, workers: int = 1, host: str = "127.0.0.1", **env: str
    ) -> Self:
        """``grader serve`` on ``database_url``; ``env``: more variables (``GRADER_REPLICAS="2"``)."""
        command = [str(VENV_BIN / "grader"), "serve", "--host", host, "--port", str(port)]
        return cls(
            [*command, "--workers", str(workers)],
            port=port,
            env=server_env(DATABASE_URL=database_url, **env),
            cwd=workdir,
            log=workdir / f"server-{host}-{port}-{time.monotonic_ns()}.log",
            host=host,
        )

    @property
    def pid(self) -> int:
        assert self.process is not None, "not started"
        return self.process.pid

    def start(self) -> Self:
        self.started_at = self.log.stat().st_size if self.log.exists() else 0
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                self.command, cwd=self.cwd, env=self.env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )
        return self

    def output(self) -> str:
        """Everything the process wrote, over all its starts."""
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def latest_output(self) -> str:
        """What the process wrote since it last started."""
        if not self.log.exists():
            return ""
        with self.log.open("rb") as log:
            log.seek(self.started_at)
            return log.read().decode(errors="replace")

    def wait_healthy(self, timeout: float = 60.0) -> dict[str, str]:
        """The first ``/health`` body that says ok; fails with the server's output if it exits or never does."""
        assert self.process is not None, "not started"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"server exited ({self.process.returncode}):\n{self.output()}")
            try:
                response = LOCAL.get(f"{self.base_url}/health", timeout=2)
                if response.status_code == 200 and response.json().get("status") == "ok":
                    return response.json()
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise AssertionError(f"/health not ok within {timeout} s:\n{self.output()}")

    def group_alive(self) -> bool:
        """Whether any process of the server's group (uvicorn's workers included) still runs."""
        try:
            os.killpg(self.pid, 0)
        except ProcessLookupError:
            return False
        return True

    def terminate(self, timeout: float = 30.0) -> int:
        """SIGTERM to the server (what ``docker stop`` sends); its exit status."""
        assert self.process is not None, "not started"
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=timeout)

    def kill(self) -> None:
        """SIGKILL to every process of the server's group: nothing gets to clean up."""
        if self.process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.pid, signal.SIGKILL)
        self.process.wait(timeout=10)
        deadline = time.monotonic() + 10
        while self.group_alive() and time.monotonic() < deadline:
            time.sleep(0.02)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.kill()


class WorkerProcess(ServerProcess):
    """``grader worker`` on a PostgreSQL database: it listens on no port."""

    @classmethod
    def grader_worker(
        cls,
        database_url: str,
        *,
        workdir: Path,
        heartbeat: float = 10.0,
        stalled_after: float = 30.0,
        queues: Sequence[str] = (),
        concurrency: int | None = None,
        env: Mapping[str, str] | None = None,
        cpus: Collection[int] = (),
        cpu_group: Path | None = None,
    ) -> Self:
        """``queues``: those it runs (``--queue``; by default every one); ``concurrency``: its
        ``--concurrency`` (by default the cores it may use); ``env``: settings of its own
        (``GRADER_...``); ``cpus``: the cores it is held to (``taskset``: the worker and its
        sandboxes, as a host of that many cores; by default any); ``cpu_group``: a cgroup it joins
        before it starts (its ``cgroup.procs``), whose CPU quota then holds the worker and its sandboxes."""
        pinned = ["taskset", "--cpu-list", ",".join(map(str, sorted(cpus)))] if cpus else []
        if cpu_group is not None:  # (the shell joins the group, then becomes the worker: nothing escapes it)
            pinned = ["sh", "-c", 'echo $$ > "$0" && exec "$@"', str(cpu_group / "cgroup.procs"), *pinned]
        command = [*pinned, str(VENV_BIN / "grader"), "worker", "--heartbeat", str(heartbeat)]
        command += [option for name in queues for option in ("--queue", name)]
        command += ["--concurrency", str(concurrency)] if concurrency is not None else []
        return cls(
            [*command, "--stalled-after", str(stalled_after)],
            port=0,
            env=server_env(DATABASE_URL=database_url, **(env or {})),
            cwd=workdir,
            log=workdir / f"worker-{time.monotonic_ns()}.log",
        )

    def wait_ready(self, timeout: float = 60.0) -> None:
        """Until the worker says it is ready (since it last started); fails with its output if it
        exits or never does."""
        assert self.process is not None, "not started"
        deadline = time.monotonic() + timeout
        while "worker ready" not in self.latest_output():
            if self.process.poll() is not None:
                raise AssertionError(f"worker exited ({self.process.returncode}):\n{self.output()}")
            if time.monotonic() > deadline:
                raise AssertionError(f"worker not ready within {timeout} s:\n{self.output()}")
            time.sleep(0.05)
