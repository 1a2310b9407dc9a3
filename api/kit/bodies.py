"""A request body checked inside the endpoint rather than by FastAPI: for an endpoint that finds
its caller in its own worker thread (submitting), where the schema must be checked after the
caller, so that an anonymous client learns nothing of it (401 before 422).

FastAPI still parses the JSON (its errors, bounds and 422s for unreadable bytes stay as for every
other endpoint); :func:`validated_body` checks it against the model with FastAPI's error shape, and
:func:`documented_as` documents the model as the operation's body in the OpenAPI document.
"""

from __future__ import annotations

from typing import Any, TypeVar

from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ValidationError, WithJsonSchema

Model = TypeVar("Model", bound=BaseModel)


def validated_body(model: type[Model], payload: Any) -> Model:
    """``payload`` (parsed JSON) as ``model``; the 422 FastAPI would answer otherwise."""
    try:
        return model.model_validate(payload)
    except ValidationError as error:
        raise RequestValidationError(
            [{**e, "loc": ("body", *e["loc"])} for e in error.errors(include_url=False, include_input=False)]
        ) from None


def documented_as(model: type[BaseModel]) -> WithJsonSchema:
    """The body parameter's schema in the OpenAPI document: ``model``'s, in the components (which
    hold it as long as another operation takes it as its body)."""
    return WithJsonSchema({"$ref": f"#/components/schemas/{model.__name__}"})
