"""A course's categories as stored (``courses.categories``; null: :data:`weights.DEFAULT`), and the
check that an assignment's category is one of them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.categories.weights import DEFAULT, Category, problems
from api.kit.errors import Unprocessable
from api.models import Course


def from_json(stored: list[Any] | None) -> tuple[Category, ...]:
    """The categories of a stored (or sent) list; null: the default one."""
    if not stored:
        return DEFAULT
    return tuple(Category(str(c["name"]), float(c["weight"]), int(c.get("drop_lowest") or 0)) for c in stored)


def to_json(categories: Sequence[Category]) -> list[dict[str, Any]]:
    return [{"name": c.name, "weight": c.weight, "drop_lowest": c.drop_lowest} for c in categories]


def categories_of(session: Session, *, course_id: str) -> tuple[Category, ...]:
    return from_json(session.scalar(select(Course.categories).where(Course.id == course_id)))


def checked(categories: Sequence[Category]) -> list[dict[str, Any]]:
    """The categories as stored; :class:`Unprocessable` with every reason they cannot be."""
    found = problems(categories)
    if found:
        raise Unprocessable(" ".join(found))
    return to_json(categories)


def require_category(session: Session, *, course_id: str, name: str) -> str:
    """``name`` if it is one of the course's categories; :class:`Unprocessable` naming them if not.
    The course's row is locked ``FOR SHARE`` (PostgreSQL; SQLite's write lock orders writes), so a
    change of the categories that would leave this one out waits and then sees the assignment."""
    stored = session.scalar(select(Course.categories).where(Course.id == course_id).with_for_update(read=True))
    names = [c.name for c in from_json(stored)]
    if name not in names:
        raise Unprocessable(f"No category {name!r} in this course; its categories are: {', '.join(names)}.")
    return name
