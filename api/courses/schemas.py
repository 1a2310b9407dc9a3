from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated

from pydantic import ConfigDict, Field, TypeAdapter, WithJsonSchema, model_validator
from pydantic.json_schema import SkipJsonSchema

from api.kit.schemas import Email, Identifier, Name, RequestSchema, Schema
from api.kit.zones import DEFAULT_TIME_ZONE, TimeZoneName
from api.models import CourseRole, DatesFrom

TIME_ZONE = (
    "The IANA time zone the course's pages show and read dates in, e.g. `America/Chicago` (default `UTC`); "
    "the REST API keeps ISO 8601 with offsets."
)
DATES_FROM = (
    "Which side owns the dates where the course is linked to an LMS: `grader` (the default: the LMS's line items "
    "are sent each assignment's `opens_at` and `due_at`, and again when they change) or `lms` (a student's due "
    "date at a launch from the LMS, `$Canvas.assignment.dueAt.iso8601`, is their extension here)."
)


class CourseIn(RequestSchema):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"id": "cs231-2026", "title": "Convolutional networks", "time_zone": "America/Chicago"}]
        },
    )

    id: Identifier
    title: Name
    time_zone: TimeZoneName = Field(default=DEFAULT_TIME_ZONE, description=TIME_ZONE)
    dates_from: DatesFrom = Field(default=DatesFrom.GRADER, description=DATES_FROM)


# A field that may be absent but not null: the model's own check refuses a null, so each schema
# shows the type alone. (``X | None`` keeps a refusal at its field, where a union with
# ``SkipJsonSchema[None]`` would report it once per member of the union.)
TitleOrAbsent = Annotated[Name | None, WithJsonSchema(TypeAdapter(Name).json_schema())]
TimeZoneOrAbsent = Annotated[TimeZoneName | None, WithJsonSchema(TypeAdapter(TimeZoneName).json_schema())]
DatesFromOrAbsent = Annotated[DatesFrom | None, WithJsonSchema(TypeAdapter(DatesFrom).json_schema())]


CATEGORIES = (
    "The course gradebook's categories: each assignment counts in one (its `category`), a category's percent is "
    "its points earned over points possible after dropping its `drop_lowest` lowest scores (by fraction), and the "
    "total weighs the categories by `weight` (percent; the weights add up to 100). Default: one category "
    "`homework` of weight 100."
)


class CategoryIn(RequestSchema):
    name: Identifier
    weight: float = Field(ge=0, le=100, description="Percent of the total; the weights add up to 100.")
    drop_lowest: int = Field(
        default=0, ge=0, le=100, description="How many of the category's lowest scores (by fraction) are dropped."
    )


class CategoryOut(Schema):
    name: str
    weight: float
    drop_lowest: int


class CourseChange(RequestSchema):
    """Only the fields sent change."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"time_zone": "America/Chicago"}], "minProperties": 1},
    )

    title: TitleOrAbsent = None
    time_zone: TimeZoneOrAbsent = Field(default=None, description=TIME_ZONE)
    categories: Annotated[list[CategoryIn], Field(min_length=1, max_length=50)] | SkipJsonSchema[None] = Field(
        default=None, description=CATEGORIES
    )
    dates_from: DatesFromOrAbsent = Field(default=None, description=DATES_FROM)

    @model_validator(mode="after")
    def _something_and_no_null(self) -> CourseChange:
        if not self.model_fields_set:
            raise ValueError("send at least one field to change: title, time_zone, categories, dates_from")
        for name in ("title", "time_zone", "categories", "dates_from"):
            if name in self.model_fields_set and getattr(self, name) is None:
                raise ValueError(f"{name} cannot be null")
        return self


class CourseOut(Schema):
    id: str
    title: str
    role: str = Field(description="The caller's role in the course: owner, instructor, ta, student (or admin).")
    time_zone: str = Field(description=TIME_ZONE)
    categories: list[CategoryOut] = Field(description=CATEGORIES)
    dates_from: DatesFrom = Field(description=DATES_FROM)
    created_at: datetime


class ImportedRole(StrEnum):
    """The roles a roster import gives (a course has one owner: whoever created it)."""

    STUDENT = CourseRole.STUDENT.value
    TA = CourseRole.TA.value
    INSTRUCTOR = CourseRole.INSTRUCTOR.value


class MemberIn(RequestSchema):
    id: Identifier
    name: Name
    email: Email | None = None
    role: ImportedRole = Field(default=ImportedRole.STUDENT, description="student (default), ta or instructor.")
    accommodations: list[Identifier] | None = Field(
        default=None,
        max_length=50,
        description="A student's accommodations, by name (each one of the course's: `PUT C/accommodations/NAME`), "
        "replacing those they held; absent: unchanged.",
    )


class MembersImport(RequestSchema):
    members: list[MemberIn] = Field(min_length=1, max_length=5000)

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "members": [
                        {"id": "s123", "name": "Ada Lovelace", "email": "ada@example.edu"},
                        {"id": "s124", "name": "Alan Turing"},
                        {"id": "t1", "name": "Grace Hopper", "role": "ta"},
                    ]
                }
            ]
        },
    )


class ImportedMemberOut(Schema):
    id: str
    name: str
    email: str | None
    role: CourseRole
    created: bool = Field(description="True for a new account; false for a known one (its name and email updated).")
    token: str | None = Field(
        description="The API token of a new account, shown this once; null for an account that existed (it keeps "
        "its token, whichever courses it is in)."
    )


class MembersOut(Schema):
    members: list[ImportedMemberOut]


class MemberOut(Schema):
    id: str
    name: str
    email: str | None
    role: CourseRole
    joined_at: datetime


class TokenOut(Schema):
    id: str
    token: str = Field(
        description="The new API token, shown this once (only its hash is stored); the earlier ones no longer work."
    )
