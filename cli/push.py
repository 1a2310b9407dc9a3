"""``grader sets push``: set files uploaded to a running service, as `POST .../problem-sets` takes them."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import httpx
import typer
from rich.console import Console

console = Console(stderr=True, highlight=False, soft_wrap=True)  # one line per issue, as editors read them


def push(
    files: Annotated[list[Path], typer.Argument(help="Set files (YAML).", show_default=False)],
    course: Annotated[str, typer.Option("--course", help="The course's id.")],
    url: Annotated[
        str | None, typer.Option("--url", help="The service's address (default: $GRADER_URL).", show_default=False)
    ] = None,
    token: Annotated[
        str | None, typer.Option("--token", help="An API token (default: $GRADER_TOKEN).", show_default=False)
    ] = None,
) -> None:
    """Upload set files to a course of a running service and print each set's id and version
    (`new` or `unchanged`). A file the service refuses is reported at its lines, as `grader sets
    validate` reports it; exit 1 if any file was refused or could not be sent."""
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
            failed |= not _push_one(client, path, course)
    if failed:
        raise typer.Exit(code=1)


def _push_one(client: httpx.Client, path: Path, course: str) -> bool:
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
    if response.status_code in (200, 201):
        body = response.json()
        state = "new" if response.status_code == 201 else "unchanged"
        print(f"{path}: {body['id']} version {body['version']} ({state})")
        return True
    detail = _detail(response)
    if isinstance(detail, list):
        for issue in detail:
            where = ":".join(str(issue.get(k)) for k in ("line", "column") if issue.get(k) is not None)
            field = f" {issue['field']}:" if issue.get("field") else ""
            console.print(f"{path}:{where + ':' if where else ''}{field} {issue.get('message')}")
    else:
        console.print(f"{path}: refused ({response.status_code}): {detail}")
    return False


def _detail(response: httpx.Response) -> object:
    try:
        return response.json().get("detail")
    except ValueError:
        return response.text[:200]
