from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pydantic import ConfigDict, Field, field_validator

from api.models import GradePolicy, Release
from api.schemas import Identifier, Name, RequestSchema, Schema


class AssignmentCreate(RequestSchema):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "id": "hw3",
                    "problem_set": "conv-arithmetic",
                    "title": "Homework 3: convolution arithmetic",
                    "due_at": "2026-12-01T23:59:00Z",
                    "max_attempts": 5,
                    "release_answers": "after_due",
                    "grade_policy": "best",
                }
            ]
        },
    )

    id: Identifier
    problem_set: str = Field(max_length=64, description="A set id from `GET /problem-sets`.")
    title: Name | None = Field(default=None, description="Defaults to the problem set's title.")
    due_at: datetime | None = Field(
        default=None, description="ISO 8601; without a timezone it is UTC. Later submissions are accepted, marked late."
    )
    max_attempts: int | None = Field(default=None, ge=1, le=1000, description="Null: unlimited.")
    release_answers: Release = Field(
        default=Release.NEVER, description="When students see reference answers: never, after_due or immediately."
    )
    grade_policy: GradePolicy = Field(default=GradePolicy.BEST, description="Which attempt the gradebook counts.")

    @field_validator("due_at")
    @classmethod
    def _in_utc(cls, due_at: datetime | None) -> datetime | None:
        """Stored in UTC; a due date without a timezone is taken as UTC."""
        if due_at is None:
            return None
        if due_at.tzinfo is None:
            due_at = due_at.replace(tzinfo=UTC)
        if not 1970 <= due_at.year <= 9998:
            raise ValueError("the due date must be between 1970 and 9998")
        return due_at.astimezone(UTC)


class AssignmentOut(Schema):
    id: str
    title: str
    problem_set: str
    set_version: str | None = Field(description="The current version (content hash) of the problem set.")
    due_at: datetime | None
    max_attempts: int | None
    release_answers: Release
    grade_policy: GradePolicy
    answers_released: bool = Field(description="Whether students may see the reference answers now.")
    created_at: datetime
    attempts_used: int | None = Field(default=None, description="For a student: attempts stored so far.")
    variant_secret: str | None = Field(
        default=None,
        description="For instructors: what students' variants are drawn with; `grader problems show SET "
        "--secret S --student ID` reproduces a student's numbers offline. Null for students, and for "
        "assignments made before variants had secrets (drawn from the student id).",
    )


class PartStatement(Schema):
    key: str
    prompt: str
    points: float
    kind: str | None


class ProblemStatement(Schema):
    id: str
    title: str
    statement: str
    parts: list[PartStatement]


class AssignmentDetail(AssignmentOut):
    variant: str | None = Field(description="Whose variant the statements are (null: the declared numbers).")
    max_score: float
    problems: list[ProblemStatement]
    reference: dict[str, Any] | None = Field(
        default=None, description="Reference answers by key: for instructors, and for students once released."
    )


class ProblemSetOut(Schema):
    id: str
    title: str
    version: str
    randomized: bool
    source: str
    keys: list[str]
    max_score: float
