"""``grader gradescope bundle``: a zip that Gradescope's autograder harness runs as it is.

The bundle grades one problem set offline: it holds a frozen copy of the set file, the pure
packages ``problems/`` and ``grader/`` as source, with ``sandbox/`` (a set's code parts run in it,
where the image allows its walls), the runner (``cli/gradescope_runner.py``), the
versions of their four dependencies installed here, and the two scripts Gradescope calls.
"""

from __future__ import annotations

import json
import secrets
import stat
import sys
import zipfile
from importlib.metadata import version
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

import grader
import problems
import sandbox
from cli import gradescope_runner
from cli.problems import find_set, set_source

gradescope_app = typer.Typer(help="Gradescope autograders.", no_args_is_help=True, rich_markup_mode="markdown")
console = Console(stderr=True)

#: What ``problems``, ``grader`` and ``sandbox`` import beyond the standard library (nbformat reads a
#: code answer sent as a notebook).
DEPENDENCIES = ("numpy", "sympy", "lark", "pydantic", "PyYAML", "nbformat")
#: Who the variant of a randomized set is drawn for: fields of a user in submission_metadata.json.
STUDENT_FIELDS = ("id", "email")
#: Entries get this time, so that the same inputs make the same zip.
TIMESTAMP = (2000, 1, 1, 0, 0, 0)
EXECUTABLE = stat.S_IFREG | 0o755
REGULAR = stat.S_IFREG | 0o644

SETUP = """#!/usr/bin/env bash
# Gradescope runs this once, as root, while it builds the autograder image (Ubuntu, online):
# Python {python} in a virtual environment next to this file, with the pinned requirements,
# then a check that the bundled problem set loads and solves.
set -euo pipefail
PYTHON=python{python}
HERE="$(cd "$(dirname "${{BASH_SOURCE[0]}}")" && pwd)"
export DEBIAN_FRONTEND=noninteractive
apt-get update
if ! apt-get install -y --no-install-recommends "$PYTHON" "$PYTHON-venv"; then
    # not in this Ubuntu release: the deadsnakes archive has it
    apt-get install -y --no-install-recommends software-properties-common gpg-agent
    add-apt-repository -y ppa:deadsnakes/ppa
    apt-get update
    apt-get install -y --no-install-recommends "$PYTHON" "$PYTHON-venv"
fi
"$PYTHON" -m venv "$HERE/.venv"
"$HERE/.venv/bin/python" -m pip install --upgrade pip
"$HERE/.venv/bin/python" -m pip install -r "$HERE/requirements.txt"
"$HERE/.venv/bin/python" "$HERE/gradescope_runner.py" --check
"""

RUN = """#!/usr/bin/env bash
# Gradescope runs this once per submission, as /autograder/run_autograder: it grades the answers
# file in $AUTOGRADER_ROOT/submission and writes $AUTOGRADER_ROOT/results/results.json.
# AUTOGRADER_ROOT (default /autograder) lets the same layout live elsewhere, e.g. in a test.
set -euo pipefail
export AUTOGRADER_ROOT="${AUTOGRADER_ROOT:-/autograder}"
SOURCE="$AUTOGRADER_ROOT/source"
PYTHON="$SOURCE/.venv/bin/python"
if [ ! -x "$PYTHON" ]; then
    PYTHON="$(command -v python3)"
fi
exec "$PYTHON" "$SOURCE/gradescope_runner.py"
"""


@gradescope_app.command("bundle")
def bundle(
    set_id: Annotated[str, typer.Argument(metavar="SET", help="A built-in set id or a set file.")],
    out: Annotated[Path | None, typer.Option("--out", help="The zip to write; default SET-gradescope.zip.")] = None,
    student_field: Annotated[
        str, typer.Option("--student-field", help="Randomized sets: the submitter's id or email draws the numbers.")
    ] = "id",
    secret: Annotated[
        str | None,
        typer.Option("--secret", help="Randomized sets: the variant secret (default: a new one, printed)."),
    ] = None,
) -> None:
    """Write a Gradescope autograder zip that grades SET offline, one submission at a time.

    Upload it as the autograder of a Gradescope programming assignment. Its `setup.sh` installs
    Python and the pinned dependencies when Gradescope builds the image; its `run_autograder` reads
    the student's `answers.json` (a JSON object of answer key to answer), `answers.yaml` or
    `answers.txt` (`key: answer` lines, a matrix's rows on the lines below its key) and writes
    `results.json`: one test per answer key, with how the answer was read and the mistake named.

    A randomized set is graded against the numbers drawn with the bundle's variant secret for the
    first submitter's Gradescope user id (`--student-field email`: their email), so hand each
    student the statements of `grader problems show SET --secret S --student THAT-ID`. The zip
    holds the secret: share it with Gradescope only, not with students.
    """
    if student_field not in STUDENT_FIELDS:
        console.print(f"[red]--student-field is id or email, not {student_field!r}.[/red]")
        raise typer.Exit(code=2)
    problem_set = find_set(set_id)
    target = out or Path(f"{problem_set.id}-gradescope.zip")
    if problem_set.randomized and secret is None:
        secret = secrets.token_urlsafe(24)
    files = bundle_files(set_source(set_id), problem_set.id, problem_set.version, student_field, secret)
    write_zip(target, files, executables={"setup.sh", "run_autograder"})
    console.print(f"wrote {target}: {problem_set.id} version {problem_set.version}", highlight=False)
    if problem_set.randomized:
        console.print(
            f"variant secret: {secret} (statements: grader problems show {set_id} --secret {secret} --student ID)",
            highlight=False,
        )


def bundle_files(
    set_file: Path, set_id: str, set_version: str, student_field: str, secret: str | None = None
) -> dict[str, bytes]:
    """Every file of the bundle by its path in the zip."""
    python = max((3, 11), sys.version_info[:2])
    config = {
        "set": set_id,
        "version": set_version,
        "set_file": "set.yaml",
        "student_field": student_field,
        "secret": secret,
    }
    files = {
        "setup.sh": SETUP.format(python="{}.{}".format(*python)).encode(),
        "run_autograder": RUN.encode(),
        "requirements.txt": "".join(f"{name}=={version(name)}\n" for name in DEPENDENCIES).encode(),
        "bundle.json": (json.dumps(config, indent=1) + "\n").encode(),
        "set.yaml": set_file.read_bytes(),
        "gradescope_runner.py": Path(gradescope_runner.__file__).read_bytes(),
    }
    for package in (grader, problems, sandbox):
        assert package.__file__ is not None  # regular packages, not namespace ones
        base = Path(package.__file__).parent
        for path in sorted(base.rglob("*.py")):
            if "__pycache__" not in path.parts:
                files[f"{package.__name__}/{path.relative_to(base).as_posix()}"] = path.read_bytes()
    return files


def write_zip(target: Path, files: dict[str, bytes], executables: set[str]) -> None:
    """Entries in name order with Unix modes, so that ``run_autograder`` stays executable."""
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in sorted(files):
            info = zipfile.ZipInfo(name, date_time=TIMESTAMP)
            info.create_system = 3  # Unix: unzip honours the mode bits below
            info.external_attr = (EXECUTABLE if name in executables else REGULAR) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, files[name])
