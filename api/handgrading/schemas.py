"""Requests and replies of grading written parts by hand."""

from __future__ import annotations

import math
from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, ConfigDict, Field

from api.kit.schemas import RequestSchema, Schema, at_most, not_blank, printable, prose_schema
from grader.results import Status
from problems.parts import MAX_RUBRIC_ITEMS

ItemText = Annotated[
    str,
    at_most(500),
    AfterValidator(printable),
    AfterValidator(not_blank),
    prose_schema(500, required=True, description="What the item says, as the student reads it (1 to 500 characters)."),
]
ItemNote = Annotated[
    str,
    at_most(2000),
    AfterValidator(printable),
    prose_schema(2000, required=False, description="Guidance for graders only (at most 2,000 characters)."),
]
Comment = Annotated[
    str,
    at_most(5000),
    AfterValidator(printable),
    prose_schema(5000, required=False, description="The grader's comment to the student (at most 5,000 characters)."),
]
Message = Annotated[
    str,
    at_most(2000),
    AfterValidator(printable),
    AfterValidator(not_blank),
    prose_schema(2000, required=True, description="Why the part should be looked at again, or staff's answer."),
]


def _finite(value: float) -> float:
    if not math.isfinite(value):
        raise ValueError("must be a finite number")
    return value


Points = Annotated[float, Field(ge=-1000, le=1000), AfterValidator(_finite)]
ItemKey = Annotated[str, Field(pattern=r"^[a-z0-9]$", description="A digit or a lower-case letter.")]


class RubricItemIn(RequestSchema):
    id: int | None = Field(default=None, description="An item of the rubric to change; without it, a new item.")
    points: Points = Field(description="Points the item adds when applied; negative for a deduction.")
    text: ItemText
    note: ItemNote = ""
    key: ItemKey | None = Field(default=None, description="The key that toggles it on the grading page.")


class RubricIn(RequestSchema):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "items": [
                        {"id": 12, "points": 1, "text": "Reduces the channels before the 3×3 convolution"},
                        {"points": -0.5, "text": "Confuses channels with spatial size", "note": "", "key": "x"},
                    ]
                }
            ]
        },
    )
    """The whole rubric, in order: items with an ``id`` are changed, items without one added, and
    items left out removed (from every grading that applied them, which are re-scored)."""

    items: list[RubricItemIn] = Field(max_length=MAX_RUBRIC_ITEMS)


class RubricItemOut(Schema):
    id: int
    points: float
    text: str
    note: str
    key: str | None = Field(description="The key that toggles it on the grading page (its own or the next digit).")


class RubricOut(Schema):
    key: str = Field(description="The answer key of the written part.")
    max_score: float
    items: list[RubricItemOut]


class GradingIn(RequestSchema):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"items": [12, 13], "adjustment": -0.25, "comment": "Say why it saves."}]},
    )
    items: list[int] = Field(max_length=MAX_RUBRIC_ITEMS, description="The ids of the rubric items applied.")
    adjustment: Points = Field(default=0.0, description="Points added (or, negative, taken) besides the items.")
    comment: Comment = ""


class GradingOut(Schema):
    version: int = Field(description="Send it back as `If-Match` to change this grading.")
    items: list[int]
    adjustment: float
    comment: str
    score: float
    graded_by: str | None
    graded_at: datetime


class AppliedItem(Schema):
    id: int
    points: float
    text: str


class GradingEventOut(Schema):
    version: int
    items: list[AppliedItem] = Field(description="The items applied, as they were then.")
    adjustment: float
    comment: str
    score: float
    graded_by: str | None = Field(description="Who graded (null: a change of the rubric re-scored it).")
    reason: Literal["graded", "rubric changed"]
    at: datetime


class GradingHistoryOut(Schema):
    key: str
    grading: GradingOut | None = Field(description="The current grading (null: not graded yet).")
    history: list[GradingEventOut] = Field(description="Every version, oldest first.")


class RegradeRequestIn(RequestSchema):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"message": "I did compare the multiply-adds, in (b)."}]}
    )
    message: Message


class RegradeReplyIn(RequestSchema):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"reply": "Right: item 2 now applies."}]})
    reply: Message


class RegradeRequestOut(Schema):
    id: int
    submission: int = Field(validation_alias="submission_id")
    key: str
    student: str = Field(validation_alias="student_id")
    message: str
    created_at: datetime
    reply: str | None
    replied_by: str | None
    replied_at: datetime | None


class QueueEntry(Schema):
    submission: int
    student: str
    name: str
    attempt: int
    answer: str | None = Field(description="The written answer as typed (null: none given).")
    status: Status = Field(description="The part's status: `pending` until graded.")
    group: int = Field(description="The group of similar answers it is in (see `groups`).")
    assigned_to: str | None = Field(description="The grader the answer falls to when staff share the queue.")
    grading: GradingOut | None
    regrade_requests: list[RegradeRequestOut]


class GroupOut(Schema):
    id: int
    members: list[int] = Field(description="Submission ids.")
    how: Literal["confirmed", "same", "near", "similar", "alone"] = Field(
        description="`confirmed` by staff, else how it was suggested: the `same` answer once normalised, "
        "`near` duplicates, `similar` wording, or `alone`."
    )
    example: str = Field(description="An answer that stands for the group.")


class QueueOut(Schema):
    assignment: str
    key: str
    prompt: str
    max_score: float
    total: int = Field(description="Answers to grade: one per student with a submission, the counted attempt's.")
    graded: int
    rubric: RubricOut
    entries: list[QueueEntry] = Field(description="In a stable shuffled order (not by name).")
    groups: list[GroupOut]


class GroupsIn(RequestSchema):
    """Groups as staff confirm them: each a list of submission ids (split a group by sending it as
    two, move an answer by listing it elsewhere). Answers left out stay in their suggested groups."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"groups": [[101, 107], [103]]}]})

    groups: list[Annotated[list[int], Field(min_length=1, max_length=10_000)]] = Field(max_length=10_000)


class GroupsOut(Schema):
    groups: list[GroupOut]


class ReleaseOut(Schema):
    released_at: datetime
    key: str | None = Field(
        default=None, description="The written part released on its own (null: every written part)."
    )
    students: int = Field(description="Students whose counted score changed for them (and their LMS, if any).")
    ungraded: int = Field(
        default=0,
        description="Counted answers released while ungraded (with `force`): their students see "
        "“awaiting a grader” until graded.",
    )
