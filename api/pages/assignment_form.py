"""The create-assignment form read into the REST API's own request
(:class:`api.assignments.schemas.AssignmentCreate`): the same fields, checked by the same schema,
so the page and ``POST .../assignments`` accept exactly the same assignments.

A form sends text, and every field, filled in or not: a blank field is one left out (its default),
and the late penalty is chosen by ``late_penalty`` (``none``, ``per_day``, ``factor``) with its
numbers in fields of their own. The due date is a wall-clock time in the course's zone
(:func:`api.pages.local_time.read_local`). Errors come back by field name, to be shown beside each
input.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import ValidationError

from api.assignments.schemas import AssignmentCreate, FactorPenalty, PerDayPenalty
from api.pages import validation
from api.pages.local_time import LocalTimeRefused, read_local

#: The text fields that go to the request as they are (when not blank).
PLAIN = (
    *("id", "problem_set", "version", "title", "due_at", "max_attempts"),
    *("release_answers", "grade_policy", "practice"),
)
#: ``late_penalty`` choice → the fields of that penalty (names as in the request's object).
PENALTIES: dict[str, tuple[str, ...]] = {"none": (), "per_day": ("per_day", "floor"), "factor": ("factor",)}
#: ``late_penalty`` choice → the member of the request's union it is (pydantic names it in errors).
UNION_MEMBER = {"per_day": PerDayPenalty.__name__, "factor": FactorPenalty.__name__}
#: Every field of the form, for keeping what was typed.
FIELDS = (*PLAIN, "late_penalty", *{name for names in PENALTIES.values() for name in names})


@dataclass(frozen=True)
class AssignmentForm:
    """What was typed (``values``, to fill the form again), and either the request or the errors
    by field name (``form`` for one about the whole form)."""

    values: dict[str, str]
    request: AssignmentCreate | None = None
    errors: dict[str, str] = field(default_factory=dict)


def read_assignment_form(form: Mapping[str, Any], *, zone: ZoneInfo) -> AssignmentForm:
    """The form's request, its due date read in ``zone``; or every field's error."""
    values = {name: str(form.get(name) or "").strip() for name in FIELDS}
    if not values["late_penalty"]:
        values["late_penalty"] = "none"
    kind = values["late_penalty"]
    if kind not in PENALTIES:
        return AssignmentForm(values, errors={"late_penalty": "choose none, per_day or factor"})
    body: dict[str, Any] = {name: values[name] for name in PLAIN if values[name]}
    if kind != "none":
        body["late_penalty"] = {name: values[name] for name in PENALTIES[kind] if values[name]}
    errors: dict[str, str] = {}
    if "due_at" in body:
        try:
            body["due_at"] = read_local(body["due_at"], zone)
        except LocalTimeRefused as refused:
            errors["due_at"] = str(refused)
            del body["due_at"]
    try:
        request = AssignmentCreate.model_validate(body)
    except ValidationError as error:
        return AssignmentForm(values, errors={**errors, **_by_field(error, kind)})
    return AssignmentForm(values, errors=errors) if errors else AssignmentForm(values, request)


def _by_field(error: ValidationError, kind: str) -> dict[str, str]:
    """The first message per form field. A late penalty's errors are those of the kind chosen
    (pydantic reports every member of the union); their field is the number's own input."""
    errors: dict[str, str] = {}
    for problem in error.errors():
        location = [str(part) for part in problem["loc"]]
        name = location[0] if location else "form"
        if name == "late_penalty":
            if UNION_MEMBER.get(kind) not in location or location[-1] not in PENALTIES[kind]:
                continue
            name = location[-1]
        errors.setdefault(name, validation.message(AssignmentCreate, problem))
    return errors or {"form": "this assignment cannot be created as typed"}
