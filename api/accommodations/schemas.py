from __future__ import annotations

from typing import Annotated

from pydantic import BeforeValidator, ConfigDict, Field, RootModel

from api.kit.schemas import Identifier, RequestSchema, Schema


def _not_a_boolean(value: object) -> object:
    """A JSON ``true`` or ``false`` is not a number of minutes, days or attempts (pydantic would read 1 or 0)."""
    if isinstance(value, bool):
        raise ValueError("a number is expected, not true or false")
    return value


#: A number that is not a boolean (``2`` and ``2.0`` are the same integer, as JSON Schema reads them).
Number = BeforeValidator(_not_a_boolean)

#: The largest multiplier of a time limit (an exam of 3 hours becomes at most 12).
MAX_MULTIPLIER = 4.0
#: The most minutes, days and attempts one accommodation adds.
MAX_EXTRA_MINUTES, MAX_EXTRA_DAYS, MAX_EXTRA_ATTEMPTS = 7 * 24 * 60, 365, 100


class AccommodationIn(RequestSchema):
    """The fields a label adds (absent: nothing of that kind; `{}`: a label that changes nothing yet,
    held by students all the same)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"time_multiplier": 1.5}, {"extra_days": 2, "extra_attempts": 1}]},
    )

    time_multiplier: Annotated[float, Field(ge=1, le=MAX_MULTIPLIER), Number] | None = Field(
        default=None,
        description="A timed assignment's limit is multiplied by it (rounded up to the minute): 1.5 makes 60 "
        "minutes 90.",
    )
    extra_minutes: Annotated[int, Field(ge=0, le=MAX_EXTRA_MINUTES), Number] | None = Field(
        default=None, description="Minutes added to a timed assignment's limit."
    )
    extra_days: Annotated[int, Field(ge=0, le=MAX_EXTRA_DAYS), Number] | None = Field(
        default=None, description="Days added to every due date and close."
    )
    extra_attempts: Annotated[int, Field(ge=0, le=MAX_EXTRA_ATTEMPTS), Number] | None = Field(
        default=None, description="Attempts added to every attempt limit."
    )


class AccommodationOut(Schema):
    name: str
    time_multiplier: float | None
    extra_minutes: int | None
    extra_days: int | None
    extra_attempts: int | None
    students: list[str] = Field(default=[], description="The students holding it, by id.")


class StudentAccommodationsOut(Schema):
    student: str
    accommodations: list[str]


class AccommodationNames(RootModel[list[Identifier]]):
    """The names of the course's accommodations a student holds (`[]`: none)."""

    model_config = ConfigDict(json_schema_extra={"examples": [["time-1.5", "plus-2-days"]]})
    root: list[Identifier] = Field(max_length=50)
