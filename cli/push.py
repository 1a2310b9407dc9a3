"""``grader sets push``: set files uploaded to a running service, as `POST .../problem-sets` takes them,
and a set with code parts followed until its check is over (its solutions and declared mistakes run on
their tests by a job of the service's: 202, then `GET .../problem-sets/SET?version=`)."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Annotated, Any

import httpx
import typer
from rich.console import Console

# soft_wrap: lines a program reads (FILE:LINE:COL: ...) are never folded at the terminal width
console = Console(stderr=True, highlight=False, soft_wrap=True)


def push(
    files: Annotated[list[Path], typer.Argument(help="Set files (YAML).", show_default=False)],
    course: Annotated[str, typer.Option("--course", help="The course's id.")],
    url: Annotated[
        str | None, typer.Option("--url", help="The service's address (default: $GRADER_URL).", show_default=False)
    ] = None,
    token: Annotated[
        str | None, typer.Option("--token", help="An API token (default: $GRADER_TOKEN).", show_default=False)
    ] = None,
    wait: Annotated[
        float,
        typer.Option(
            "--wait",
            min=0,
            max=24 * 3600,
            help="Seconds to wait for a set's check (its code run on its tests); 0: do not wait.",
        ),
    ] = 600.0,
) -> None:
    """Upload set files to a course of a running service and print each set's id and version
    (`new` or `unchanged`). A file the service refuses is reported at its lines, as `grader sets
    validate` reports it; a set with code parts is followed until its check is over (`--wait`),
    and a failed check reported at its lines the same way. Exit 1 if any file was refused, failed
    its check, was still being checked after `--wait`, or could not be sent."""
    base = url or os.environ.get("GRADER_URL")
    secret = token or os.environ.get("GRADER_TOKEN")
    if not base or not secret:
        console.print(
            "[red]Give the service's address and a token: --url and --token, or GRADER_URL and GRADER_TOKEN.[/red]"
        )
        raise typer.Exit(code=2)
    failed = False
    headers = {"Authorization": f"Bearer {secret}", "Content-Type": "application/yaml"}
    with httpx.Client(base_url=base.rstrip("/"), headers=headers, timeout=120) as client:
        for path in files:
            failed |= not _push_one(client, path, course, wait)
    if failed:
        raise typer.Exit(code=1)


def _push_one(client: httpx.Client, path: Path, course: str, wait: float) -> bool:
    try:
        text = path.read_bytes()
    except OSError as error:
        console.print(f"{path}: cannot be read: {error.strerror or error}")
        return False
    try:
        response = client.post(f"/api/v1/courses/{course}/problem-sets", content=text)
    except httpx.HTTPError as error:
        console.print(f"{path}: not sent: {error}")
        return False
    if response.status_code not in (200, 201, 202):
        _print_issues(path, _detail(response), response.status_code)
        return False
    body = response.json()
    state = {200: "unchanged", 201: "new", 202: "stored"}[response.status_code]
    check = body.get("check") or {"status": "passed"}
    if check["status"] in ("queued", "running") and wait > 0:
        try:
            check = _checked(client, course, body, wait)
        except httpx.HTTPError as error:
            console.print(f"{path}: stored, but its check could not be followed: {error}")
            return False
    print(f"{path}: {body['id']} version {body['version']} ({state}{_checked_words(check)})")
    if check["status"] == "failed":
        _print_issues(path, check["issues"], None)
        return False
    if check["status"] != "passed" and wait > 0:
        console.print(f"{path}: still being checked after {wait:g} s; GET .../problem-sets/{body['id']} shows it")
        return False
    return True


def _checked(client: httpx.Client, course: str, body: dict[str, Any], wait: float) -> dict[str, Any]:
    """The set's check once it is over, or as it stands after ``wait`` seconds (asked every second)."""
    deadline = time.monotonic() + wait
    path = f"/api/v1/courses/{course}/problem-sets/{body['id']}"
    while True:
        response = client.get(path, params={"version": body["version"]})
        response.raise_for_status()
        check: dict[str, Any] = response.json()["check"]
        if check["status"] not in ("queued", "running") or time.monotonic() >= deadline:
            return check
        time.sleep(min(1.0, max(0.0, deadline - time.monotonic())))


def _checked_words(check: dict[str, Any]) -> str:
    """What the line says of the check of a set with code (nothing of one without)."""
    if check.get("job") is None and check["status"] == "passed":
        return ""
    return {"passed": "; its check passed", "failed": "; its check failed"}.get(check["status"], "; being checked")


def _print_issues(path: Path, detail: object, status: int | None) -> None:
    """Each issue at its line, as `grader sets validate` prints them; a refusal's sentence otherwise."""
    if isinstance(detail, list):
        for issue in detail:
            where = ":".join(str(issue.get(k)) for k in ("line", "column") if issue.get(k) is not None)
            field = f" {issue['field']}:" if issue.get("field") else ""
            console.print(f"{path}:{where + ':' if where else ''}{field} {issue.get('message')}")
    else:
        console.print(f"{path}: refused ({status}): {detail}")


def _detail(response: httpx.Response) -> object:
    try:
        return response.json().get("detail")
    except ValueError:
        return response.text[:200]
