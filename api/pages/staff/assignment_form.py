"""The assignment forms read into the REST API's own requests: the create form (the course's
dashboard) into :class:`api.assignments.schemas.AssignmentCreate`, the edit form
(``.../assignments/{id}/edit``) into :class:`api.assignments.schemas.AssignmentUpdate`; the same
fields, checked by the same schemas, so the pages and ``POST``/``PATCH .../assignments`` accept
exactly the same assignments.

A form sends text, and every field, filled in or not. The late penalty is chosen by
``late_penalty`` (``none``, ``per_day``, ``per_hour``, ``factor``) with its numbers in fields of their own;
``draft`` is a checkbox (ticked: ``published`` false; absent, as a form that leaves it out sends,
the assignment is published). The dates are wall-clock times in the course's zone
(:func:`api.kit.local_time.read_local`), and checked together as the service checks them
(:func:`api.terms.rules.schedule_problems`), with the dates of the sentences in that zone. Errors
come back by field name, to be shown beside each input.

On the create form a blank field is one left out (its default). The edit form shows every field
filled with the assignment's values (:func:`edit_values`), so there a blank date or attempt limit,
or the penalty ``none``, **clears** it, and a blank title is refused; the update holds only the
fields whose value differs from the assignment's (a date: whose text differs from the one the
form showed, so a date stored with seconds, or in the second reading of an overlap, is not moved
by saving the form untouched), so saving an unchanged form changes nothing and tells no LMS.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ValidationError

from api.assignments.schemas import AssignmentCreate, AssignmentUpdate, FactorPenalty, PerDayPenalty, PerHourPenalty
from api.assignments.service import TIMING
from api.exam_room.rules import AccessRules
from api.kit.local_time import LocalTimeRefused, form_value, read_local, shown
from api.pages.kit import validation
from api.terms.rows import Terms
from api.terms.rules import schedule_problems

#: The text fields that go to the request as they are (when not blank).
PLAIN = (
    *("id", "problem_set", "version", "title", "due_at", "opens_at", "closes_at", "max_attempts"),
    *("release_answers", "grade_policy", "practice", "grace_minutes", "category", "feedback", "time_limit"),
)
#: The dates, typed in the course's zone.
DATES = ("due_at", "opens_at", "closes_at")
#: What a blank clears on the edit form (with the late penalty ``none``).
CLEARABLE = (*DATES, "max_attempts", "time_limit")
#: The edit form's choices, sent as they are.
CHOICES = ("release_answers", "grade_policy", "practice", "category", "feedback")
#: ``late_penalty`` choice → the fields of that penalty (names as in the request's object; the
#: floor is one input, for either share off).
PENALTIES: dict[str, tuple[str, ...]] = {
    "none": (),
    "per_day": ("per_day", "floor"),
    "per_hour": ("per_hour", "floor"),
    "factor": ("factor",),
}
#: ``late_penalty`` choice → the member of the request's union it is (pydantic names it in errors).
UNION_MEMBER = {
    "per_day": PerDayPenalty.__name__,
    "per_hour": PerHourPenalty.__name__,
    "factor": FactorPenalty.__name__,
}
#: The exam room's inputs (:class:`api.assignments.schemas.AccessIn`): a password typed (never shown
#: again: blank keeps the current one on the edit form, where a checkbox removes it), the networks
#: one per line (or separated by commas or spaces), and a checkbox for one session per attempt.
ACCESS = ("access_password", "access_password_remove", "access_networks", "access_one_session")
#: Every field of the form, for keeping what was typed.
FIELDS = (*PLAIN, "draft", "late_penalty", *{name for names in PENALTIES.values() for name in names}, *ACCESS)


@dataclass(frozen=True)
class AssignmentForm:
    """What was typed (``values``, to fill the form again), and either the request or the errors
    by field name (``form`` for one about the whole form)."""

    values: dict[str, str]
    request: AssignmentCreate | None = None
    errors: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class AssignmentEdit:
    """The edit form: what was typed, the errors by field name, and the update of the fields that
    changed (None with errors, or when nothing changed: then ``unchanged``)."""

    values: dict[str, str]
    update: AssignmentUpdate | None = None
    errors: dict[str, str] = field(default_factory=dict)

    @property
    def unchanged(self) -> bool:
        return self.update is None and not self.errors


@dataclass(frozen=True)
class _Typed:
    """A form's text made into a request's body (dates read in the zone), and what could not be."""

    values: dict[str, str]
    body: dict[str, Any]
    errors: dict[str, str]
    kind: str


def _typed(form: Mapping[str, Any], zone: ZoneInfo) -> _Typed:
    """The non-blank fields as the request takes them; the penalty of the kind chosen; the dates
    as instants (a date that names none is an error and left out)."""
    values = {name: str(form.get(name) or "").strip() for name in FIELDS}
    values["late_penalty"] = values["late_penalty"] or "none"
    kind = values["late_penalty"]
    if kind not in PENALTIES:
        return _Typed(values, {}, {"late_penalty": "choose none, per_day, per_hour or factor"}, kind)
    body: dict[str, Any] = {name: values[name] for name in PLAIN if values[name]}
    body["published"] = not values["draft"]
    access = _access_typed(form, values)
    if access:
        body["access"] = access
    if kind != "none":
        body["late_penalty"] = {name: values[name] for name in PENALTIES[kind] if values[name]}
    errors: dict[str, str] = {}
    for name in DATES:
        if name in body:
            try:
                body[name] = read_local(body[name], zone)
            except LocalTimeRefused as refused:
                errors[name] = str(refused)
                del body[name]
    return _Typed(values, body, errors, kind)


def _networks(text: str) -> list[str]:
    return [network for network in text.replace(",", " ").split() if network]


def _access_typed(form: Mapping[str, Any], values: dict[str, str]) -> dict[str, Any]:
    """The rules the create form sets (nothing: none). The password as typed (not stripped), and
    never kept in ``values``, which fill the form again."""
    password = str(form.get("access_password") or "")
    values["access_password"] = ""
    access: dict[str, Any] = {}
    if password:
        access["password"] = password
    if values["access_networks"]:
        access["networks"] = _networks(values["access_networks"])
    if values["access_one_session"]:
        access["one_session"] = True
    return access


def _access_changes(typed: _Typed, shown_before: dict[str, str]) -> dict[str, Any]:
    """The rules the edit form changes: a password typed (or removed), the networks and the one
    session where they differ from what was shown."""
    sent = typed.body.get("access", {})
    changes: dict[str, Any] = {}
    if "password" in sent:
        changes["password"] = sent["password"]
    elif typed.values["access_password_remove"]:
        changes["password"] = None
    if _networks(typed.values["access_networks"]) != _networks(shown_before["access_networks"]):
        changes["networks"] = sent.get("networks", [])
    if bool(typed.values["access_one_session"]) != bool(shown_before["access_one_session"]):
        changes["one_session"] = bool(typed.values["access_one_session"])
    return changes


def _schedule_errors(
    *,
    due_at: datetime | None,
    opens_at: datetime | None,
    closes_at: datetime | None,
    release_answers: str,
    zone: ZoneInfo,
    time_limit: int | None = None,
    from_now: bool = True,
) -> dict[str, str]:
    problems = schedule_problems(
        due_at=due_at,
        opens_at=opens_at,
        closes_at=closes_at,
        release_answers=release_answers,
        show=lambda moment: shown(moment, zone),
        time_limit=time_limit,
        now=datetime.now(UTC) if from_now else None,
    )
    errors: dict[str, str] = {}
    for name, message in problems:
        errors.setdefault(name, message)
    return errors


def read_assignment_form(form: Mapping[str, Any], *, zone: ZoneInfo) -> AssignmentForm:
    """The create form's request, its dates read in ``zone``; or every field's error."""
    typed = _typed(form, zone)
    if "late_penalty" in typed.errors:
        return AssignmentForm(typed.values, errors=typed.errors)
    try:
        request = AssignmentCreate.model_validate(typed.body)
    except ValidationError as error:
        return AssignmentForm(typed.values, errors={**typed.errors, **_by_field(AssignmentCreate, error, typed.kind)})
    schedule = _schedule_errors(
        due_at=request.due_at,
        opens_at=request.opens_at,
        closes_at=request.closes_at,
        release_answers=request.release_answers,
        zone=zone,
        time_limit=request.time_limit,
    )
    errors = schedule | typed.errors
    return AssignmentForm(typed.values, errors=errors) if errors else AssignmentForm(typed.values, request)


def edit_values(assignment: Terms, zone: ZoneInfo) -> dict[str, str]:
    """The edit form filled with the assignment's terms (its dates in ``zone``, to the minute)."""
    penalty = assignment.late_penalty or {}
    rules = AccessRules.of(assignment.access)
    kind = next((k for k, names in PENALTIES.items() if names and names[0] in penalty), "none")
    values = {name: "" for name in FIELDS}
    values |= {name: form_value(getattr(assignment, name), zone) for name in DATES}
    values |= {name: str(getattr(assignment, name)) for name in CHOICES}
    values |= {name: f"{float(penalty[name]):g}" for name in PENALTIES[kind] if penalty.get(name) is not None}
    return values | {
        "title": assignment.title,
        "problem_set": assignment.problem_set,
        "version": assignment.set_version or "",
        "max_attempts": "" if assignment.max_attempts is None else str(assignment.max_attempts),
        "time_limit": "" if assignment.time_limit is None else str(assignment.time_limit),
        "draft": "" if assignment.published else "on",
        "late_penalty": kind,
        "grace_minutes": str(assignment.grace_minutes),
        "access_networks": "\n".join(rules.networks),
        "access_one_session": "on" if rules.one_session else "",
        "access_password_set": "on" if rules.password_hash is not None else "",
    }


def read_assignment_changes(form: Mapping[str, Any], *, zone: ZoneInfo, current: Terms) -> AssignmentEdit:
    """The edit form's update of ``current``: the fields that differ from what
    :func:`edit_values` showed (a blank date, limit or penalty clears it; another version of the
    set only while the set stays the same: another set is pinned at its newest version); the
    terms that would result checked as the service checks them, with dates in ``zone``."""
    typed = _typed(form, zone)
    if "late_penalty" in typed.errors:
        return AssignmentEdit(typed.values, errors=typed.errors)
    shown_before = edit_values(current, zone)
    typed.values["access_password_set"] = shown_before["access_password_set"]  # (the form shown again says so)
    errors = dict(typed.errors)
    if not typed.values["title"]:
        errors["title"] = "is required"
    body: dict[str, Any] = {}
    for name in (*CLEARABLE, *CHOICES, "title", "draft", "grace_minutes"):
        field = "published" if name == "draft" else name
        if typed.values[name] != shown_before[name] and field not in errors:
            body[field] = typed.body.get(field, 0 if field == "grace_minutes" else None)  # (no grace: 0)
    if (typed.values["late_penalty"], *_penalty_numbers(typed.values)) != (
        shown_before["late_penalty"],
        *_penalty_numbers(shown_before),
    ):
        body["late_penalty"] = typed.body.get("late_penalty")
    access = _access_changes(typed, shown_before)
    if access:
        body["access"] = access
    if typed.values["problem_set"] and typed.values["problem_set"] != current.problem_set:
        body["problem_set"] = typed.values["problem_set"]
    elif typed.values["version"] and typed.values["version"] != (current.set_version or ""):
        body["version"] = typed.values["version"]
    if not body:
        return AssignmentEdit(typed.values, errors=errors)
    try:
        update = AssignmentUpdate.model_validate(body)
    except ValidationError as error:
        return AssignmentEdit(typed.values, errors={**errors, **_by_field(AssignmentUpdate, error, typed.kind)})
    after = {
        name: getattr(current, name) for name in ("due_at", "opens_at", "closes_at", "release_answers", "time_limit")
    }
    after |= {name: value for name, value in update.changes().items() if name in after}
    timing = bool(TIMING.intersection(update.changes()))
    errors = _schedule_errors(**after, zone=zone, from_now=timing) | errors
    return AssignmentEdit(typed.values, errors=errors) if errors else AssignmentEdit(typed.values, update)


def _penalty_numbers(values: Mapping[str, str]) -> tuple[float | str, ...]:
    """The chosen penalty's numbers as numbers where they are (``10`` and ``10.0`` are the same)."""

    def number(text: str) -> float | str:
        try:
            return float(text)
        except ValueError:
            return text

    return tuple(number(values[name]) for name in PENALTIES.get(values["late_penalty"], ()))


def _by_field(model: type[BaseModel], error: ValidationError, kind: str) -> dict[str, str]:
    """The first message per form field. A late penalty's errors are those of the kind chosen
    (pydantic reports every member of the union); their field is the number's own input."""
    errors: dict[str, str] = {}
    for problem in error.errors():
        location = [str(part) for part in problem["loc"]]
        name = location[0] if location else "form"
        if name == "access" and len(location) > 1:  # (the rule's own input)
            name = f"access_{location[1]}"
        if name == "late_penalty":
            if UNION_MEMBER.get(kind) not in location or location[-1] not in PENALTIES[kind]:
                continue
            name = location[-1]
        errors.setdefault(name, validation.message(model, problem))
    return errors or {"form": "this assignment cannot be saved as typed"}
