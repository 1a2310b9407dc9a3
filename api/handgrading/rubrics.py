"""An assignment part's rubric: copied from the set file's template when a grader first needs it,
then the staff's to edit. Changing an item's points (or removing it) re-scores every grading that
applied it (:func:`api.handgrading.gradings.rescore`)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.handgrading.schemas import RubricItemIn, RubricItemOut, RubricOut
from api.kit.db import dialect_insert
from api.kit.errors import NotFound, Unprocessable
from api.models import Rubric, RubricItem
from api.terms.rows import Terms
from problems.parts import RubricItemTemplate, WrittenPart
from problems.sets import ProblemSet


def written_part(problem_set: ProblemSet, key: str) -> WrittenPart:
    """The assignment's written part of that key; 404 for a key it does not have, or a computed one."""
    found = problem_set.written().get(key)
    if found is None:
        if key in problem_set.parts():
            raise NotFound(f"{key!r} is computed and graded by the service; only written parts are graded by hand.")
        raise NotFound(f"No written part {key!r} in this assignment.")
    return found


def items_of(
    session: Session, assignment: Terms, key: str, part: WrittenPart, *, lock: bool = False
) -> list[RubricItem]:
    """The rubric's items in order, made from the part's template the first time any is asked for
    (the :class:`Rubric` row decides which of two first readers copies it). ``lock``: the rubric is
    held until the transaction ends, so that two edits of it, or an edit and a grading, take turns."""
    made = session.execute(
        dialect_insert(session, Rubric.__table__)
        .values(course_id=assignment.course_id, assignment_id=assignment.id, key=key, created_at=datetime.now(UTC))
        .on_conflict_do_nothing()
        .returning(Rubric.key)
    ).first()
    if made is not None:
        session.add_all(_from_template(assignment, key, part.rubric))
        session.flush()
    elif lock:
        session.execute(
            select(Rubric.key)
            .where(Rubric.course_id == assignment.course_id, Rubric.assignment_id == assignment.id, Rubric.key == key)
            .with_for_update()
        )
    return list(
        session.scalars(
            select(RubricItem)
            .where(
                RubricItem.course_id == assignment.course_id,
                RubricItem.assignment_id == assignment.id,
                RubricItem.key == key,
                RubricItem.retired_at.is_(None),
            )
            .order_by(RubricItem.position, RubricItem.id)
        )
    )


def _from_template(assignment: Terms, key: str, template: Sequence[RubricItemTemplate]) -> list[RubricItem]:
    return [
        RubricItem(
            course_id=assignment.course_id,
            assignment_id=assignment.id,
            key=key,
            position=position,
            points=item.points,
            text=item.text,
            note=item.note,
            shortcut=item.key,
        )
        for position, item in enumerate(template)
    ]


def rubric_out(key: str, part: WrittenPart, items: Sequence[RubricItem]) -> RubricOut:
    """The rubric with each item's key as the grading page uses it."""
    keys = WrittenPart(
        key=part.key,
        answer="text",
        rubric=[RubricItemTemplate(points=0, text="-", key=item.shortcut) for item in items],
    ).item_keys()
    return RubricOut(
        key=key,
        max_score=part.points,
        items=[
            RubricItemOut(id=item.id, points=item.points, text=item.text, note=item.note, key=shown)
            for item, shown in zip(items, keys, strict=True)
        ],
    )


def replace_items(
    session: Session, assignment: Terms, key: str, part: WrittenPart, wanted: Sequence[RubricItemIn]
) -> tuple[list[RubricItem], set[int]]:
    """The rubric made what ``wanted`` says (in its order); returns the items now, and the ids of
    the items whose points or text changed or that were removed: the gradings that applied them
    must be re-scored. 422 for an id the rubric does not have, or two items with one key."""
    current = {item.id: item for item in items_of(session, assignment, key, part, lock=True)}
    named = [item.id for item in wanted if item.id is not None]
    unknown = sorted({item_id for item_id in named if item_id not in current})
    if unknown:
        raise Unprocessable(f"No item {', '.join(map(str, unknown))} in the rubric of {key!r}.")
    if len(named) != len(set(named)):
        raise Unprocessable("An item is listed twice; list each once, in the order wanted.")
    shortcuts = [item.key for item in wanted if item.key is not None]
    if len(shortcuts) != len(set(shortcuts)):
        raise Unprocessable("Two items have the same key; each key toggles one item.")
    changed: set[int] = set()
    now = datetime.now(UTC)
    for item_id, item in current.items():
        if item_id not in named:
            item.retired_at = now
            changed.add(item_id)
    kept: list[RubricItem] = []
    for position, given in enumerate(wanted):
        if given.id is None:
            item = RubricItem(course_id=assignment.course_id, assignment_id=assignment.id, key=key)
            session.add(item)
        else:
            item = current[given.id]
            if (item.points, item.text) != (given.points, given.text):
                changed.add(item.id)  # (a grading shows the text of what it applied)
        item.position, item.points, item.text, item.note, item.shortcut = (
            position,
            given.points,
            given.text,
            given.note,
            given.key,
        )
        kept.append(item)
    session.flush()
    return kept, changed
