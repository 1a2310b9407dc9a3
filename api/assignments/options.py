"""Choice parts as one student reads them: the options in their own order (drawn from the
assignment's secret, like their numbers, whether or not the set varies its numbers), each with
its id, the letter in the file's order that answers name."""

from __future__ import annotations

from typing import Any

from api.terms.rows import Terms
from problems.choices import ChoicePart, shown_order
from problems.sets import ProblemSet
from problems.variants import variant_key


def order_key(assignment: Terms, student: str | None) -> str | None:
    """What a student's option orders are drawn from (None: the file's order, staff's view)."""
    return variant_key(student=student, secret=assignment.variant_secret)


def choice_statement(problem_set: ProblemSet, key: str, part: ChoicePart, drawn_from: str | None) -> dict[str, Any]:
    """What a part statement adds for a choice part: checkboxes or not, the options in order."""
    order = shown_order(problem_set.id, key, part, drawn_from)
    return {
        "kind": "choice",
        "max_length": None,
        "multiple": part.multiple,
        "all_or_nothing": part.all_or_nothing,
        "choices": [{"id": option, "text": part.option(option).text} for option in order],
    }


def right_text(part: ChoicePart) -> str:
    """The right options as a reader is told them: ``b (fc)``, ``a (conv1); c (fc)``."""
    return picks_text(part, sorted(part.right))


def picks_of(raw: Any) -> list[str]:
    """The ids an answer as sent picks, in its order (anything not an id or a list of them: none)."""
    if isinstance(raw, str):
        return [raw.strip().lower()]
    if isinstance(raw, list):
        return [item.strip().lower() for item in raw if isinstance(item, str)]
    return []


def picks_text(part: ChoicePart, raw: Any) -> str:
    """An answer's picks for staff: each letter with its option's text, ``b (fc)``."""
    return "; ".join(f"{option} ({part.option(option).text})" for option in picks_of(raw) if option in part.ids)
