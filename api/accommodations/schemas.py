from __future__ import annotations

from pydantic import ConfigDict, Field, RootModel, model_validator

from api.kit.schemas import Identifier, RequestSchema, Schema

#: The largest multiplier of a time limit (an exam of 3 hours becomes at most 12).
MAX_MULTIPLIER = 4.0
#: The most minutes, days and attempts one accommodation adds.
MAX_EXTRA_MINUTES, MAX_EXTRA_DAYS, MAX_EXTRA_ATTEMPTS = 7 * 24 * 60, 365, 100


class AccommodationIn(RequestSchema):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"time_multiplier": 1.5}, {"extra_days": 2, "extra_attempts": 1}]},
    )

    time_multiplier: float | None = Field(
        default=None,
        ge=1,
        le=MAX_MULTIPLIER,
        description="A timed assignment's limit is multiplied by it (rounded up to the minute): 1.5 makes 60 "
        "minutes 90.",
    )
    extra_minutes: int | None = Field(
        default=None, ge=0, le=MAX_EXTRA_MINUTES, description="Minutes added to a timed assignment's limit."
    )
    extra_days: int | None = Field(
        default=None, ge=0, le=MAX_EXTRA_DAYS, description="Days added to every due date and close."
    )
    extra_attempts: int | None = Field(
        default=None, ge=0, le=MAX_EXTRA_ATTEMPTS, description="Attempts added to every attempt limit."
    )

    @model_validator(mode="after")
    def _something(self) -> AccommodationIn:
        if not ((self.time_multiplier or 1) > 1 or self.extra_minutes or self.extra_days or self.extra_attempts):
            raise ValueError(
                "an accommodation must add something: a time_multiplier above 1, extra_minutes, extra_days or "
                "extra_attempts (DELETE removes one)"
            )
        return self


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
