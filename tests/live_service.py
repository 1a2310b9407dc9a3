"""A real ``grader serve`` with a course in it, and Debian's chromium driven by playwright, for the
tests that use the pages in a browser (tests/pages/test_browser.py).

Chromium comes from the Debian package (``scripts/test-deps`` installs it in ``make test``); a
missing browser fails the tests, never skips them. Screenshots go to ``$GRADER_SCREENSHOTS``
(e.g. ``docs/screenshots``) when it is set, else to the test's temporary directory.
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import socket
import threading
from collections.abc import Collection, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import BrowserContext, Playwright, sync_playwright
from playwright.sync_api import Error as PlaywrightError

from api.kit.config import Settings
from api.kit.db import make_engine
from api.models import Role
from harness.local_http import LOCAL
from harness.server import ServerProcess, free_port

from factories import make_account
from migrated import migrated_sqlite

#: Flags for a headless browser in a container: no sandbox (CI runs as root), no GPU, and nothing
#: that reaches the network by itself (QUIC, updates, sync, background fetches).
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def port_in(ports: range, taken: Collection[int] = ()) -> int:
    """A loopback port of ``ports`` nobody listens on right now, tried in a random order: two test
    processes setting up at once must not both find the same lowest free one."""
    for port in random.sample(ports, len(ports)):
        if port in taken:
            continue
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    pytest.fail(f"no free port in {ports.start}-{ports.stop - 1}")


def chromium_path() -> str:
    found = shutil.which("chromium") or ("/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None)
    if found is None:
        pytest.fail("Debian's chromium is needed for the browser tests: run scripts/test-deps (as root) first")
    return found


@dataclass
class LiveCourse:
    """A running service with a course: its URL, the instructor's token and the course id."""

    server: ServerProcess
    instructor: str
    course: str

    @property
    def url(self) -> str:
        return self.server.base_url

    def api(self, method: str, path: str, token: str | None = None, **kwargs: Any) -> httpx.Response:
        headers = {**kwargs.pop("headers", {}), "Authorization": f"Bearer {token or self.instructor}"}
        return LOCAL.request(method, f"{self.url}/api/v1{path}", headers=headers, timeout=30, **kwargs)

    def enrol(self, member_id: str, name: str, role: str = "student") -> str:
        """The new member's token."""
        body = {"members": [{"id": member_id, "name": name, "role": role}]}
        response = self.api("POST", f"/courses/{self.course}/members", json=body)
        assert response.status_code == 200, response.text
        return str(response.json()["members"][0]["token"])

    def assignment(self, assignment_id: str, problem_set: str, **fields: object) -> None:
        body = {"id": assignment_id, "problem_set": problem_set, **fields}
        response = self.api("POST", f"/courses/{self.course}/assignments", json=body)
        assert response.status_code == 201, response.text


def new_account(database_url: str, role: str, name: str) -> str:
    """The token of a new account in a migrated database, made as ``grader users create`` makes it
    (``tests/cli/test_service.py`` runs the command itself): in this process, as starting the command
    line for each account cost the live tests seconds each."""
    engine = make_engine(Settings(database_url=database_url))
    try:
        return make_account(engine, role=Role(role), name=name)
    finally:
        engine.dispose()


@contextmanager
def live_course(workdir: Path, **env: str) -> Iterator[LiveCourse]:
    """``grader serve`` on a fresh SQLite file (``env``: more variables for it), an instructor
    (:func:`new_account`) and their course ``cnn101``."""
    database_url = migrated_sqlite(workdir / "grader.db")
    instructor = new_account(database_url, "instructor", "Ada Lovelace")
    with ServerProcess.grader_serve(database_url, port=free_port(), workdir=workdir, **env) as server:
        server.wait_healthy()
        live = LiveCourse(server, instructor, "cnn101")
        made = live.api("POST", "/courses", json={"id": "cnn101", "title": "Convolutional networks"})
        assert made.status_code == 201, made.text
        yield live


@contextmanager
def chromium(profile: Path, *, javascript: bool = True, args: Sequence[str] = ()) -> Iterator[BrowserContext]:
    """Headless chromium with a fresh profile (user data directory); ``javascript=False`` for a
    browser that runs no script, ``args`` for flags beside :data:`CHROMIUM_ARGS`."""
    with sync_playwright() as playwright:
        context = _launch(playwright, profile, javascript=javascript, args=args)
        try:
            yield context
        finally:
            close_within(context, profile, CLOSE_SECONDS)


@contextmanager
def chromiums(*profiles: Path) -> Iterator[list[BrowserContext]]:
    """Several headless chromiums at once, each with a fresh profile of its own (cookies included:
    as many devices), from one playwright (a second one cannot start beside the first)."""
    with sync_playwright() as playwright:
        contexts: list[BrowserContext] = []
        try:
            for profile in profiles:
                contexts.append(_launch(playwright, profile, javascript=True, args=()))
            yield contexts
        finally:
            for context, profile in zip(contexts, profiles, strict=False):
                close_within(context, profile, CLOSE_SECONDS)


def _launch(playwright: Playwright, profile: Path, *, javascript: bool, args: Sequence[str]) -> BrowserContext:
    return playwright.chromium.launch_persistent_context(
        str(profile),
        executable_path=chromium_path(),
        headless=True,
        args=[*CHROMIUM_ARGS, *args],
        java_script_enabled=javascript,
    )


#: The longest a browser's close may take before its processes are killed: a hung chromium ends
#: its test, not the run (playwright's close has no timeout of its own).
CLOSE_SECONDS = 60.0


def close_within(context: BrowserContext, profile: Path, seconds: float) -> None:
    """Closes the browser, or kills its processes (found by their profile) after ``seconds`` and
    fails the test saying so."""
    killed: list[int] = []
    watchdog = threading.Timer(seconds, lambda: killed.extend(kill_browser_of(profile)))
    watchdog.start()
    try:
        context.close()
    except PlaywrightError:
        if not killed:
            raise
    finally:
        watchdog.cancel()
    if killed:
        pytest.fail(f"chromium did not close within {seconds:.0f} s: its processes {killed} were killed")


def kill_browser_of(profile: Path) -> list[int]:
    """SIGKILLs the processes of the chromium whose user data directory is ``profile`` (its
    renderers and helpers included, which carry the same flag)."""
    flag = f"--user-data-dir={profile}".encode()
    killed = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            arguments = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:  # the process has ended
            continue
        if flag in arguments:
            try:
                os.kill(int(entry.name), signal.SIGKILL)
            except ProcessLookupError:
                continue
            killed.append(int(entry.name))
    return killed


def screenshot_dir(fallback: Path) -> Path:
    directory = Path(os.environ.get("GRADER_SCREENSHOTS") or fallback)
    directory.mkdir(parents=True, exist_ok=True)
    return directory
