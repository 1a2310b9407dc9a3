"""pydantic's refusals in words for a form: a field whose pattern is not met is described as its
schema describes it (``1 to 64 letters, digits and ...``) rather than by the regular expression."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel
from pydantic_core import ErrorDetails


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
