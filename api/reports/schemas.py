from __future__ import annotations

from typing import Literal

from pydantic import Field

from api.schemas import Schema


class GradebookRow(Schema):
    student: str
    name: str
    email: str | None
    attempts: int
    attempt: int | None = Field(description="The attempt counted (best or last); null without submissions.")
    submission: int | None
    late: bool | None
    score: float | None
    max_score: float | None
    parts: dict[str, float | None] = Field(description="Key → score of the counted attempt.")


class Gradebook(Schema):
    assignment: str
    policy: str
    keys: list[str]
    students: list[GradebookRow]


class WrongAnswer(Schema):
    answer: str = Field(
        description="The answer as read; for a randomized set, what it means against each student's reference "
        "(a mistake code, a relation such as `off by one (reference + 1)`, or `other`)."
    )
    count: int
    example: str = Field(description="One answer of the group, as read.")


class KeyStats(Schema):
    submissions: int
    answered: int
    mean_score: float | None
    share_correct: float | None
    statuses: dict[str, int]
    commonest_wrong_answers: list[WrongAnswer]
    misconceptions: dict[str, int] = Field(description="Mistake code → how many answers it explains.")


class Stats(Schema):
    assignment: str
    attempts: Literal["all", "counted"] = Field(
        description="`all`: every stored attempt; `counted`: the one the gradebook counts per student."
    )
    submissions: int
    students: int
    keys: dict[str, KeyStats]
