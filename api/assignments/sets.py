"""Uploading a set file: checked as ``grader sets validate`` checks it, then stored as a version."""

from __future__ import annotations

import re

from api.db import upsert
from api.errors import Unprocessable
from api.library import Sets
from api.models import CourseSet
from grader.selftest import check_set
from problems.loader import Issue, SetFileError, parse_set
from problems.sets import ProblemSet

#: Where a file's top-level ``id:`` is, for the refusal of an id the library already uses.
_TOP_LEVEL_ID = re.compile(r"^id\s*:", re.MULTILINE)


def upload(sets: Sets, *, course_id: str, text: str, uploaded_by: str) -> tuple[ProblemSet, bool]:
    """The set of ``text``, stored as a version of the course's set of that id (nothing changes
    for a file that does not validate: :class:`Unprocessable` lists each issue with its line);
    ``True`` for a version the course did not have."""
    try:
        problem_set = parse_set(text, "upload")
    except SetFileError as error:
        raise Unprocessable([_issue(issue) for issue in error.issues]) from None
    failed = check_set(problem_set)  # the set's own checks and every part's own answers, as validate runs them
    if failed:
        raise Unprocessable([_issue(issue) for issue in failed])
    if problem_set.id in sets.library.built_in():
        line = text[: found.start()].count("\n") + 1 if (found := _TOP_LEVEL_ID.search(text)) else None
        message = f"{problem_set.id!r} is the id of a built-in set; give the course's own set another id"
        raise Unprocessable([_issue(Issue(line, 1 if line else None, "id", message))])
    known = problem_set.version in sets.course_versions(course_id).get(problem_set.id, [])
    if not known:
        sets.store(problem_set, text)
        values = {"course_id": course_id, "set_id": problem_set.id, "version": problem_set.version}
        upsert(sets.session, CourseSet, {**values, "uploaded_by": uploaded_by}, keys=tuple(values))
    sets.library.remember(problem_set)
    return problem_set, not known


def _issue(issue: Issue) -> dict[str, object]:
    """``field`` from the top of the file (``problems.q1.layers.0.kernel`` reads as ``q1.layers...``)."""
    return {"line": issue.line, "column": issue.column, "field": issue.where, "message": issue.message}
