"""The bodies of the proctor's routes."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import ConfigDict, Field

from api.kit.schemas import RequestSchema, Schema
from api.timed.added import MAX_MINUTES


class EventOut(Schema):
    at: datetime
    kind: str = Field(
        description="`start`, `save` (at most one a minute is logged), `lock`, `unlock`, `time`, `submission`, "
        "`auto_submission`, `end` (by staff) or `signal` (focus loss or paste, recorded from the page, never enforced)."
    )
    by: str | None = Field(default=None, description="The staff member who acted (absent: the student or the service).")
    detail: dict[str, Any] | None = Field(default=None, description="Minutes added, the signal, the outcome.")


class AttemptOut(Schema):
    student: str
    accommodations: list[str] = Field(
        description="The course's accommodations the student holds: their clock and attempts are under them."
    )
    state: Literal["not_started", "in_progress", "submitted", "auto_submitted", "locked"]
    started_at: datetime | None
    ends_at: datetime | None = Field(description="The end of their clock, the time a proctor added included.")
    last_saved_at: datetime | None
    address: str | None = Field(
        description=(
            "The client address of the last request admitted on a one-session exam, else of the attempt's "
            "start or its last logged save."
        )
    )
    sessions: int = Field(description="Browser sessions seen: the one the attempt is bound to, and each refused one.")
    outcome: str | None = Field(default=None, description="What time-up (or staff's end) did.")
    events: list[EventOut]


class TimeIn(RequestSchema):
    """Minutes added to every running clock of the assignment, or to one student's."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"minutes": 10}]})

    minutes: int = Field(ge=1, le=MAX_MINUTES, description=f"1 to {MAX_MINUTES}.")
    student: str | None = Field(default=None, max_length=64, description="Only this student's clock.")


class MovedOut(Schema):
    student: str
    ends_at: datetime


class TimeOut(Schema):
    minutes: int
    students: list[MovedOut] = Field(description="The clocks moved (running ones only), with their new end.")


class EndedOut(Schema):
    student: str
    outcome: str | None = Field(description="What was done with the draft (`submitted`, or why not).")
    submission_id: int | None


class SignalIn(RequestSchema):
    """What the exam page noticed: recorded for the proctor, never enforced, never a penalty."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"signal": "focus_loss"}]})

    signal: Literal["focus_loss", "paste"]
