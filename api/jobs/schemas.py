"""What the API shows of a job."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import ConfigDict, Field

from api.kit.schemas import Schema


class JobOut(Schema):
    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={
            "examples": [
                {
                    "id": 17,
                    "kind": "regrade",
                    "status": "running",
                    "done": 1200,
                    "total": 5000,
                    "course": "cnn-101",
                    "assignment": "hw1",
                    "changed": 310,
                    "set_version": "3f2a9c0b1d2e",
                    "created_at": "2026-11-23T16:00:00Z",
                }
            ]
        },
    )

    id: int
    kind: Literal["regrade", "lti_sync", "set_check", "similarity"]
    status: Literal["queued", "running", "done", "failed"]
    done: int = Field(
        description="Submissions done so far: it only grows, and ends equal to `total`; a set check: sandbox runs "
        "made; a similarity report: the submissions this job fingerprinted (the new ones)."
    )
    total: int = Field(
        description="Submissions the job covers (those stored when it was asked for); an LTI sync: scores to send; "
        "a set check: the sandbox runs it makes at most (0 until it starts); a similarity report: the students "
        "compared (0 until it is done)."
    )
    error: str | None = Field(default=None, description="Why it failed (status `failed` only).")
    course: str = Field(validation_alias="course_id")
    assignment: str | None = Field(
        validation_alias="assignment_id", description="Null for an LTI sync and a set check (the course)."
    )
    changed: int = Field(
        description="Regrade: of those done, submissions whose score changed (every regraded grade that differs, "
        "score or feedback or set version, is written again, the earlier kept in `earlier_grades`)."
    )
    set_version: str | None = Field(
        description="Regrade: the problem-set version it grades against; a set check: the version it checks."
    )
    created_at: datetime
    started_at: datetime | None = None
    finished_at: datetime | None = None
