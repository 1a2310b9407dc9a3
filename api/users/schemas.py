from __future__ import annotations

from pydantic import ConfigDict, Field

from api.schemas import Email, Identifier, Name, RequestSchema, Schema


class StudentIn(RequestSchema):
    id: Identifier
    name: Name
    email: Email | None = None


class RosterImport(RequestSchema):
    students: list[StudentIn] = Field(min_length=1, max_length=5000)

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "students": [
                        {"id": "s123", "name": "Ada Lovelace", "email": "ada@example.edu"},
                        {"id": "s124", "name": "Alan Turing"},
                    ]
                }
            ]
        },
    )


class StudentOut(Schema):
    id: str
    name: str
    email: str | None
    created: bool = Field(description="True for a new account; false for a known one (its name and email updated).")
    token: str | None = Field(
        description="The API token, shown this once: for a new account, and for a dropped student brought back "
        "(dropping revoked their tokens); null for a student already on the roster, who keeps theirs."
    )


class RosterOut(Schema):
    students: list[StudentOut]


class TokenOut(Schema):
    id: str
    token: str = Field(
        description="The new API token, shown this once (only its hash is stored); the earlier ones no longer work."
    )
