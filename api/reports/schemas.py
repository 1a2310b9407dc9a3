from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field

from api.kit.schemas import Schema


class ExtensionTerms(Schema):
    due_at: datetime | None
    max_attempts: int | None


class GradebookRow(Schema):
    student: str
    name: str
    email: str | None
    extension: ExtensionTerms | None = Field(description="The student's own due date or attempt limit, if any.")
    accommodations: list[str] = Field(
        default=[],
        description="The names of the student's accommodations (`PUT C/students/ID/accommodations`), which apply "
        "to this assignment where their extension does not say otherwise.",
    )
    attempts: int
    attempt: int | None = Field(
        description="The attempt counted (best after the late penalty, or last); null without submissions."
    )
    submission: int | None
    late: bool | None = Field(description="The counted attempt was past the student's due date.")
    days_late: int | None = Field(description="Started days past the student's due date (0: on time).")
    minutes_late: int | None = Field(
        default=None, description="Whole minutes past the student's due date (0: on time)."
    )
    lateness: str | None = Field(
        default=None,
        description='How late, in the unit of the late penalty ("2 h 30 min late: 3 started hours × 10 %"); null '
        "on time or without submissions.",
    )
    penalty: float | None = Field(description="The share of the score the late penalty leaves (1: none).")
    raw_score: float | None = Field(description="The counted attempt's score before the late penalty.")
    score: float | None = Field(description="The score counted: `raw_score` × `penalty`.")
    max_score: float | None
    problems: list[str] | None = Field(
        default=None,
        description="For a set with pools or `shuffle`: the ids of the problems drawn for the student, in "
        "their order; null: every student has every problem.",
    )
    parts: dict[str, float | None] = Field(
        description="Key → score of the counted attempt (null: a written part awaiting a grader); of a set "
        "with pools, the keys of the student's own problems only."
    )
    pending: list[str] = Field(
        default_factory=list, description="The counted attempt's written parts awaiting a grader (they count 0)."
    )
    graded_max_score: float | None = Field(
        default=None,
        description="The points of the counted attempt's parts with a score: `raw_score` is out of these while "
        "parts await (null without submissions).",
    )
    awaiting_points: float | None = Field(
        default=None, description="The points of the counted attempt's parts without a score yet (they count 0)."
    )
    awaiting_parts: list[str] = Field(
        default_factory=list,
        description="The counted attempt's parts without a score yet: `pending` written parts, and code parts "
        "not run yet.",
    )


class Gradebook(Schema):
    course: str
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


DISCRIMINATION = (
    "The Pearson (point-biserial) correlation with the rest of the assignment: each submission's total less this "
    "problem's score; near 0 or below, it does not tell the stronger from the weaker; null where undefined (fewer "
    "than two submissions, or no spread)."
)


class OptionStats(Schema):
    option: str = Field(description="The option's letter in the file's order.")
    correct: bool
    count: int = Field(description="The submissions that picked it.")
    share: float | None = Field(description="Of the submissions that answered the part, the share that picked it.")
    discrimination: float | None = Field(description="Of picking it (1) or not (0): " + DISCRIMINATION)


class ProblemStats(Schema):
    responses: int = Field(description="The submissions that have the problem.")
    difficulty: float | None = Field(description="The mean score fraction (1: every submission had it all right).")
    discrimination: float | None = Field(description="Of the problem's score: " + DISCRIMINATION)


class KeyStats(Schema):
    submissions: int = Field(
        description="The submissions counted that have this key (of a pool, only those of the students who drew "
        "its problem)."
    )
    students: int = Field(default=0, description="The students of those submissions.")
    answered: int
    mean_score: float | None
    share_correct: float | None
    statuses: dict[str, int]
    commonest_wrong_answers: list[WrongAnswer]
    misconceptions: dict[str, int] = Field(description="Mistake code → how many answers it explains.")
    rubric_items: dict[str, int] = Field(
        default_factory=dict, description="A written part: rubric item text → how many gradings applied it."
    )
    options: list[OptionStats] = Field(
        default_factory=list, description="A choice part: each option (by the file's letter), who picked it."
    )


class Stats(Schema):
    course: str
    assignment: str
    attempts: Literal["all", "counted"] = Field(
        description="`all`: every stored attempt; `counted`: the one the gradebook counts per student."
    )
    submissions: int
    students: int
    keys: dict[str, KeyStats]
    problems: dict[str, ProblemStats] = Field(
        default_factory=dict,
        description="Item analysis per problem (its parts' scores together), over the same submissions.",
    )
