"""The settings page's form of the gradebook's categories, read into the REST API's own request
(:class:`api.courses.schemas.CategoryIn`, the list ``PATCH /courses/{course}`` takes): one row per
category (``name-N``, ``weight-N``, ``drop-N``), a row left blank ignored, so the form always
offers :data:`SPARE` empty rows for new categories. The weights' sum is the service's check
(:func:`api.categories.store.checked`), as for the REST API."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import TypeAdapter, ValidationError

from api.categories.store import from_json
from api.categories.weights import MAX_CATEGORIES, Category
from api.courses.schemas import CategoryIn
from api.pages.kit import validation

#: Empty rows offered beyond the course's categories.
SPARE = 2
FIELDS = ("name", "weight", "drop")
_ROWS = TypeAdapter(list[CategoryIn])


@dataclass(frozen=True)
class CategoriesForm:
    """The rows as typed (to show again), the categories they make, or the errors by input id
    (``name-0``) and ``categories`` for the whole list."""

    rows: list[dict[str, str]]
    categories: list[Category] | None = None
    errors: dict[str, str] = field(default_factory=dict)


def shown(stored: list[Any] | None) -> CategoriesForm:
    """The form filled with the course's categories, and :data:`SPARE` empty rows."""
    rows = [{"name": c.name, "weight": f"{c.weight:g}", "drop": str(c.drop_lowest)} for c in from_json(stored)]
    return CategoriesForm(rows + [dict.fromkeys(FIELDS, "") for _ in range(SPARE)])


def read_categories(form: Mapping[str, Any]) -> CategoriesForm:
    """The categories of the rows filled in (a blank drop is 0), or why not."""
    rows = []
    for n in range(MAX_CATEGORIES + SPARE):
        if f"name-{n}" not in form:
            break
        rows.append({name: str(form.get(f"{name}-{n}") or "").strip() for name in FIELDS})
    filled = [(n, row) for n, row in enumerate(rows) if any(row.values())]
    typed = rows + [dict.fromkeys(FIELDS, "") for _ in range(SPARE - (len(rows) - len(filled)))]
    if not filled:
        return CategoriesForm(typed, errors={"categories": "Give at least one category."})
    body = [{"name": row["name"], "weight": row["weight"], "drop_lowest": row["drop"] or "0"} for _, row in filled]
    try:
        parsed = _ROWS.validate_python(body)
    except ValidationError as error:
        errors: dict[str, str] = {}
        for problem in error.errors():
            index, name = (problem["loc"] + ("", ""))[:2]
            if isinstance(index, int):
                n = filled[index][0]
                key = f"{'drop' if name == 'drop_lowest' else name}-{n}"
                errors.setdefault(key, validation.message(CategoryIn, problem))
            else:
                errors.setdefault("categories", validation.message(CategoryIn, problem))
        return CategoriesForm(typed, errors=errors)
    return CategoriesForm(typed, [Category(c.name, c.weight, c.drop_lowest) for c in parsed])
