from __future__ import annotations

from pydantic import Field

from api.kit.schemas import Schema


class CategoryOut(Schema):
    name: str
    weight: float = Field(description="Percent of the total.")
    drop_lowest: int = Field(description="How many of the category's lowest scores (by fraction) are dropped.")


class CourseColumn(Schema):
    id: str
    title: str
    category: str
    max_score: float | None = Field(description="Its points (null: its set is gone; it counts nothing).")


class CourseStudent(Schema):
    id: str
    name: str
    scores: dict[str, float | None] = Field(
        description="Assignment id → the score its gradebook counts (best or last attempt, after the late "
        "penalty); null: nothing submitted (it counts 0)."
    )
    categories: dict[str, float | None] = Field(
        description="Category → percent: points earned over points possible after its drop-lowest; null: no "
        "assignment with points in it yet."
    )
    total: float | None = Field(
        description="The weighted total in percent over the categories that hold points (with every category "
        "holding some, the weighted sum); null: nothing to grade yet."
    )
    problems: dict[str, list[str]] | None = Field(
        default=None,
        description="Assignment id → the ids of the problems drawn for the student, in their order, for the "
        "assignments whose set has pools or `shuffle`; null: none has.",
    )


class CourseGradebook(Schema):
    course: str
    categories: list[CategoryOut]
    assignments: list[CourseColumn] = Field(
        description="The assignments that count: published and not archived, oldest first."
    )
    students: list[CourseStudent] = Field(description="The course's current students, by id.")
