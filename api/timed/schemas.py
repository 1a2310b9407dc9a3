"""The bodies of a timed assignment's clock and draft."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import ConfigDict, Field

from api.kit.schemas import RequestSchema, Schema
from api.submissions.schemas import Answers


class ClockOut(Schema):
    student: str
    started_at: datetime = Field(description="When the student first started the assignment (fixed).")
    ends_at: datetime | None = Field(
        description="The earlier of start + `time_limit` (+ their extension's `extra_minutes`) and their close: "
        "after it nothing is accepted, and their last saved draft is submitted for them (within a minute)."
    )
    time_limit: int | None = Field(description="The student's minutes, their extension's extra ones included.")
    submitted_at: datetime | None = Field(
        default=None, description="When time-up handled the clock (null: running, or not handled yet)."
    )
    submission_id: int | None = Field(default=None, description="The submission made of the draft at the end.")
    outcome: str | None = Field(
        default=None, description="What time-up did: `submitted`, or why nothing was submitted."
    )


class DraftIn(RequestSchema):
    """The answers as typed so far (every key, replacing the last draft); held to a submission's limits."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"answers": {"q1.shape": "126x"}}]})

    answers: Answers


class DraftOut(Schema):
    answers: dict[str, Any] = Field(description="The last draft saved (empty: none yet). Never graded.")
    saved_at: datetime | None = Field(description="When it was saved (null: never).")
    ends_at: datetime | None = Field(description="The end of the student's clock.")
