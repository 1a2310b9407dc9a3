"""``grader courses create``: a course made from the shell by an admin, for an instructor who owns
it, on the database ``DATABASE_URL`` names (as ``grader users create``)."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer

from cli.service import _account_change, _valid

courses_app = typer.Typer(help="Courses of the service.", no_args_is_help=True)


@courses_app.command("create")
def courses_create(
    course_id: Annotated[str, typer.Argument(help="The course's id, part of its address, e.g. cs231-2026.")],
    title: Annotated[str, typer.Option("--title", help="The course's title.")],
    owner: Annotated[str, typer.Option("--owner", help="The id of the instructor or admin account that owns it.")],
    time_zone: Annotated[
        str,
        typer.Option("--time-zone", help="The IANA time zone its pages show and read dates in, e.g. America/Chicago."),
    ] = "UTC",
    as_json: Annotated[bool, typer.Option("--json", help='Print {"id", "title", "owner", "time_zone"}.')] = False,
) -> None:
    """Create a course owned by an existing instructor or admin account (make one with `grader
    users create`), as `POST /api/v1/courses` does for its caller. Exit 2 for a value that is not
    valid, 1 for a course the service refuses (an id taken, no such owner, a student account)."""
    from api.courses.service import course_owner, create_course
    from api.kit.schemas import Identifier, Name
    from api.kit.zones import TimeZoneName

    course_id = _valid(Identifier, course_id)
    title = _valid(Name, title)
    owner = _valid(Identifier, owner)
    time_zone = _valid(TimeZoneName, time_zone)

    def change(session: Any) -> dict[str, str]:
        caller = course_owner(session, user_id=owner)
        course = create_course(session, course_id=course_id, title=title, owner=caller, time_zone=time_zone)
        return {"id": course.id, "title": course.title, "owner": caller.id, "time_zone": course.time_zone}

    made = _account_change(change)
    if as_json:
        print(json.dumps(made))
    else:
        print(f"created course {made['id']} ({made['title']}), owned by {made['owner']}, dates in {made['time_zone']}")
