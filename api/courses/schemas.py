from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import ConfigDict, Field

from api.models import CourseRole
from api.schemas import Email, Identifier, Name, RequestSchema, Schema


class CourseIn(RequestSchema):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"id": "cs231-2026", "title": "Convolutional networks"}]}
    )

    id: Identifier
    title: Name


class CourseOut(Schema):
    id: str
    title: str
    role: str = Field(description="The caller's role in the course: owner, instructor, ta, student (or admin).")
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
