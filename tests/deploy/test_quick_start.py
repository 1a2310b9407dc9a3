"""The README's quick start as ``make`` runs it (``make -n``: what it would do on a fresh clone):
``make serve`` installs the service without the test tooling (with uv, itself installed by pip) and
serves on ``PORT``; ``make test`` installs everything."""

from __future__ import annotations

import os
import subprocess

from harness.server import REPOSITORY


def planned(*arguments: str, **env: str) -> list[str]:
    """The commands ``make`` would run from scratch (``-B``: as if nothing were built yet)."""
    # as a person runs it, not as a sub-make of `make test` (which would add its own lines)
    outer = {name: value for name, value in os.environ.items() if name not in ("MAKEFLAGS", "MAKELEVEL", "MFLAGS")}
    done = subprocess.run(
        ["make", "--no-print-directory", "-n", "-B", *arguments],
        cwd=REPOSITORY,
        env={**outer, **env},
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.splitlines()


def test_make_serve_installs_the_service_alone_and_serves_on_port() -> None:
    commands = planned("serve", PORT="8123")
    installs = [c for c in commands if "pip install" in c]
    assert installs == [
        ".venv/bin/python -m pip install --quiet uv",  # (the installer, from PyPI as every package)
        ".venv/bin/uv pip install --compile-bytecode --python .venv/bin/python -e .",
    ], installs
    assert commands[-1] == ".venv/bin/grader serve --demo --port 8123"
    assert planned("serve")[-1].endswith("--port 8000")


def test_make_test_installs_the_test_tooling() -> None:
    installs = [c for c in planned("test") if "pip install" in c]
    assert installs == [
        ".venv/bin/python -m pip install --quiet uv",
        ".venv/bin/uv pip install --quiet --compile-bytecode --python .venv/bin/python -e '.[test]'",
    ], installs
