"""A form read into the REST API's own request model, and pydantic's refusals in words for it: a
field whose pattern is not met is described as its schema describes it (``1 to 64 letters, digits
and ...``) rather than by the regular expression."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

Body = TypeVar("Body", bound=BaseModel)


def read_form(
    form: Mapping[str, Any], model: type[Body], names: tuple[str, ...], *, required: tuple[str, ...] | None = None
) -> tuple[dict[str, str], Body | None, dict[str, str]]:
    """What was typed (trimmed), the request ``model`` makes of it (or None), and the errors by
    field: a blank ``required`` field (by default every one) is reported, not left to a default,
    and a blank optional one is left out."""
    values = {name: str(form.get(name) or "").strip() for name in names}
    errors = {name: "is required" for name in (names if required is None else required) if not values[name]}
    try:
        body = model.model_validate({name: value for name, value in values.items() if value})
    except ValidationError as error:
        for problem in error.errors():
            name = str(problem["loc"][0]) if problem["loc"] else "form"
            errors.setdefault(name, message(model, problem))
        return values, None, errors
    return values, (None if errors else body), errors


def message(model: type[BaseModel], problem: ErrorDetails) -> str:
    """One error of ``model``'s validation, for the person who typed the value."""
    if problem["type"] == "missing":
        return "is required"
    if problem["type"] == "string_pattern_mismatch":
        described = _description(model, str(problem["loc"][-1]) if problem["loc"] else "")
        if described:
            return "should be " + described[0].lower() + described[1:]
    return problem["msg"].removeprefix("Value error, ")


def _description(model: type[BaseModel], name: str) -> str | None:
    schema: dict[str, Any] = model.model_json_schema()["properties"].get(name, {})
    for option in (schema, *schema.get("anyOf", ())):
        if option.get("pattern") and option.get("description"):
            return str(option["description"])
    return None
