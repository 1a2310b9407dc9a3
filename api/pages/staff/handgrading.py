"""``/courses/{course}/assignments/{id}/grading``, for the course's staff: the queue of a written
part, one answer at a time (``?at=``) or a group of similar answers at once (``?group=``), graded
with the rubric's items by mouse or keyboard (``static/grading.js``), then the next ungraded
answer; names hidden unless asked for (``?names=1``), and "assigned to me" (``?mine=1``) when staff
share the queue. Owners and instructors also release the grades and edit the rubric.

Every rule is the REST API's (:mod:`api.handgrading`): the queue, the versioned grading (a write over
another grader's change is refused and shown), the rubric's re-scoring, release and replies.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Query, Request
from pydantic import ValidationError
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.responses import RedirectResponse, Response

from api.access import Member
from api.deps import SessionDep, SetsDep, problem_set_of
from api.handgrading import gradings, queue, release, rubrics
from api.handgrading.schemas import GradingIn, QueueEntry, QueueOut, RegradeReplyIn, RubricIn
from api.kit.db import writes
from api.kit.errors import Conflict, NotFound, Unprocessable
from api.library.course_sets import Sets
from api.models import Submission
from api.pages.kit.deps import CsrfChecked, PageAssignment
from api.pages.kit.render import render
from api.pages.kit.roles import PageRunner, PageStaff
from api.pages.kit.routing import PageRoute
from api.terms.rows import Terms
from grader.awaiting import awaiting
from problems.parts import WrittenPart
from problems.sets import ProblemSet

router = APIRouter(route_class=PageRoute, include_in_schema=False)
GRADING = "/courses/{course_id}/assignments/{assignment_id}/grading"
#: What the page says after a form, by the ``?done=`` of the redirect (never text from the URL).
DONE = {
    "released": "Grades released: students see them, and their LMS gets the scores.",
    "rubric": "Rubric saved; the gradings it changes were scored again.",
    "replied": "Reply sent.",
    "regrouped": "Groups saved.",
}
Flag = Annotated[bool, Query()]
#: The most answers one form grades (a group is at most a class).
MAX_GROUP = 5000


def page_path(assignment: Terms) -> str:
    return f"/courses/{assignment.course_id}/assignments/{assignment.id}/grading"


def _written(problem_set_parts: dict[str, WrittenPart], key: str | None) -> tuple[str, WrittenPart] | None:
    if not problem_set_parts:
        return None
    chosen = key if key in problem_set_parts else next(iter(problem_set_parts))
    return chosen, problem_set_parts[chosen]


@router.get(GRADING)
@writes  # the first reader of a part copies its rubric from the set file
def grading_page(
    request: Request,
    staff: PageStaff,
    assignment: PageAssignment,
    db: SessionDep,
    sets: SetsDep,
    key: Annotated[str | None, Query(max_length=100)] = None,
    at: Annotated[int | None, Query(ge=1, lt=2**31)] = None,
    after: Annotated[int | None, Query(ge=1, lt=2**31)] = None,
    group: Annotated[int | None, Query(ge=0, lt=2**31)] = None,
    names: Flag = False,
    mine: Flag = False,
    done: Annotated[str, Query(max_length=20)] = "",
) -> Response:
    """One answer (``at``; after a grading, the next ungraded one ``after`` it), or a group."""
    view = View(key=key, at=at, after=after, group=group, names=names, mine=mine)
    return _page(request, staff, assignment, db, sets, view, notice=DONE.get(done))


class View:
    """What the page shows: the part, the answer or group, and the reader's toggles."""

    def __init__(
        self,
        *,
        key: str | None,
        at: int | None = None,
        after: int | None = None,
        group: int | None = None,
        names: bool = False,
        mine: bool = False,
    ) -> None:
        self.key, self.at, self.after, self.group, self.names, self.mine = key, at, after, group, names, mine

    def link(self, **changes: Any) -> str:
        """The page's query with ``changes`` (None drops a parameter)."""
        values = {"key": self.key, "names": int(self.names) or None, "mine": int(self.mine) or None, **changes}
        return "?" + urlencode({name: value for name, value in values.items() if value is not None})


def _page(
    request: Request,
    staff: Member,
    assignment: Terms,
    db: Session,
    sets: Sets,
    view: View,
    *,
    notice: str | None = None,
    error: str | None = None,
    confirm: dict[str, Any] | None = None,
    status: int = 200,
) -> Response:
    db.flush()  # (what a form wrote is committed before the queue groups its answers)
    problem_set = problem_set_of(assignment, sets)
    written = problem_set.written()
    found = _written(written, view.key)
    context: dict[str, Any] = {
        "assignment": assignment,
        "path": page_path(assignment),
        "parts": list(written),
        "runs": staff.runs,
        "notice": notice,
        "error": error,
        "released": assignment.grades_released_at,
        "confirm": confirm,
    }
    if found is None:
        return render(request, "grading.html", {**context, "key": None}, status=status)
    key, part = found
    view.key = key
    part_released = (assignment.grades_released_parts or {}).get(key)
    context["part_released"] = datetime.fromisoformat(part_released) if part_released else None
    items = rubrics.items_of(db, assignment, key, part)
    rubric = rubrics.rubric_out(key, part, items)
    full = queue.queue(db, assignment=assignment, key=key, prompt=part.prompt, rubric=rubric)
    entries = [e for e in full.entries if not view.mine or e.assigned_to == staff.id]
    shown = _shown(full, entries, view)
    position = {entry.submission: number for number, entry in enumerate(entries, 1)}
    current = shown[0] if len(shown) == 1 and view.group is None else None
    context |= {
        "key": key,
        "part": part,
        "question": _question(problem_set, key),
        "rubric": rubric,
        "items": items,
        "queue": full,
        "entries": entries,
        "graded": sum(entry.grading is not None for entry in entries),
        "shown": shown,
        "one": current,
        "position": position,
        "view": view,
        "group": next((g for g in full.groups if g.id == view.group), None),
        "group_of": {g.id: g for g in full.groups},
        "neighbours": _neighbours(entries, current),
        "applied": _applied(shown),
        "adjustment": shown[0].grading.adjustment if len(shown) == 1 and shown[0].grading else 0,
        "comment": shown[0].grading.comment if len(shown) == 1 and shown[0].grading else "",
        "total": None if current is None else _running_total(db, current, key),
    }
    return render(request, "grading.html", context, status=status)


def _running_total(db: Session, current: QueueEntry, key: str) -> dict[str, float] | None:
    """The student's points so far beside the part being graded: the other parts' scores (computed,
    and written parts graded), the points still awaited in them, the maximum, and this part's score
    as graded now. The page's script adds this part's score as the rubric is marked."""
    submission = db.get(Submission, current.submission)  # (read with the queue: no query)
    if submission is None:
        return None
    others = {other: part for other, part in submission.parts.items() if other != key}
    waiting = awaiting(others)
    scored = round(sum(part.get("score") or 0.0 for part in others.values() if isinstance(part, dict)), 6)
    this = current.grading.score if current.grading else 0.0
    return {
        "others": scored,
        "awaiting": waiting.points,
        "max_score": submission.max_score,
        "part": this,
        "total": round(scored + this, 6),
    }


def _question(problem_set: ProblemSet, key: str) -> str:
    """The statement of the written part's problem (declared numbers), which the prompt follows."""
    problem_id, _, own = key.partition(".")
    for problem in problem_set.problems:
        if problem.id == problem_id and any(part.key == own for part in problem.written):
            return problem.statement()
    return ""


def _shown(full: QueueOut, entries: list[QueueEntry], view: View) -> list[QueueEntry]:
    """The answers to grade now: the group's, the one asked for, the next ungraded one after the
    last graded (wrapping round), or the first."""
    if view.group is not None:
        members = {member for g in full.groups if g.id == view.group for member in g.members}
        return [entry for entry in entries if entry.submission in members]
    if view.at is not None:
        return [entry for entry in entries if entry.submission == view.at][:1]
    if not entries:
        return []
    start = next((n + 1 for n, entry in enumerate(entries) if entry.submission == view.after), 0)
    ordered = entries[start:] + entries[:start]
    ungraded = [entry for entry in ordered if entry.grading is None]
    if view.after is not None and not ungraded:
        return []  # all graded: the page says so
    return (ungraded or ordered)[:1]


def _neighbours(entries: list[QueueEntry], current: QueueEntry | None) -> tuple[int | None, int | None]:
    if current is None:
        return None, None
    index = next(n for n, entry in enumerate(entries) if entry.submission == current.submission)
    before = entries[index - 1].submission if index > 0 else None
    following = entries[index + 1].submission if index + 1 < len(entries) else None
    return before, following


def _applied(shown: list[QueueEntry]) -> set[int]:
    """The items the form starts with: the grading's, when one answer with a grading is shown."""
    return set(shown[0].grading.items) if len(shown) == 1 and shown[0].grading else set()


@router.post(GRADING)
async def save_grading(
    request: Request, _page: CsrfChecked, staff: PageStaff, assignment: PageAssignment, db: SessionDep, sets: SetsDep
) -> Response:
    """The form, posted: the grading of each answer shown (one, or a group's), each at the version
    the form was made with; then the next ungraded answer. A write over another grader's change is
    refused and the page shows what it is now."""
    form = await request.form()
    return await run_in_threadpool(_save, request, form, staff, assignment, db, sets)


def _save(request: Request, form: FormData, staff: Member, assignment: Terms, db: Session, sets: Sets) -> Response:
    written = problem_set_of(assignment, sets).written()
    key = _text(form, "key")
    view = View(key=key, names=_text(form, "names") == "1", mine=_text(form, "mine") == "1")
    group = _text(form, "group")
    view.group = int(group) if group.isdigit() and len(group) < 10 else None
    if key not in written:
        raise NotFound(f"No written part {key!r} in this assignment.")
    try:
        body = GradingIn.model_validate(
            {
                "items": [int(v) for v in form.getlist("item") if isinstance(v, str) and v.isdigit() and len(v) < 10],
                "adjustment": float(_text(form, "adjustment") or 0),
                "comment": _text(form, "comment", 5000),
            }
        )
    except (ValueError, ValidationError):
        return _page(
            request,
            staff,
            assignment,
            db,
            sets,
            view,
            error="The adjustment is a number; the comment at most 5,000 characters.",
            status=422,
        )
    part = written[key]
    items = rubrics.items_of(db, assignment, key, part, lock=True)
    stale, last = [], None
    chosen = form.getlist("submission")
    if len(chosen) > MAX_GROUP:
        return _page(
            request, staff, assignment, db, sets, view, error=f"At most {MAX_GROUP:,} answers at once.", status=422
        )
    for value in chosen:
        number = value if isinstance(value, str) and value.isdigit() and len(value) < 10 else ""
        submission = db.get(Submission, int(number)) if number else None
        if (
            submission is None
            or submission.assignment_id != assignment.id
            or submission.course_id != assignment.course_id
        ):
            raise NotFound("No such submission of this assignment.")
        version = _text(form, f"version-{submission.id}")
        try:
            gradings.grade(
                db,
                submission=submission,
                key=key,
                max_score=part.points,
                items=items,
                chosen=body.items,
                adjustment=body.adjustment,
                comment=body.comment,
                expected=int(version) if version.isdigit() and len(version) < 10 else None,
                grader=staff.id,
            )
        except Conflict:
            stale.append(submission.id)
            continue
        except Unprocessable as refusal:
            return _page(request, staff, assignment, db, sets, view, error=str(refusal.detail), status=422)
        gradings.told_lms(db, submission, key)
        last = submission.id
    if stale:
        view.at = stale[0] if view.group is None else None
        message = (
            "Another grader changed this grading meanwhile; it is shown as it is now. Nothing of yours was "
            "saved for it: grade it again if needed."
            if view.group is None
            else f"{len(stale)} answer(s) of the group were changed by another grader meanwhile and were not "
            "saved; the others were."
        )
        db.flush()
        return _page(request, staff, assignment, db, sets, view, error=message, status=409)
    return RedirectResponse(page_path(assignment) + view.link(after=last), status_code=303)


@router.post(GRADING + "/groups")
async def regroup(
    request: Request, _page: CsrfChecked, staff: PageStaff, assignment: PageAssignment, db: SessionDep, sets: SetsDep
) -> Response:
    """Staff's word on a group (``PUT .../grading/{key}/groups``): ``confirm`` it, ``split`` the
    ticked answers (``member``) off into a new group, or ``move`` an answer (``submission``) to
    another group (``target``). The groups staff confirmed before stay as they were."""
    form = await request.form()
    return await run_in_threadpool(_regroup, form, staff, assignment, db, sets)


def _regroup(form: FormData, staff: Member, assignment: Terms, db: Session, sets: Sets) -> Response:
    written = problem_set_of(assignment, sets).written()
    key, action = _text(form, "key"), _text(form, "action")
    if key not in written or action not in ("confirm", "split", "move"):
        raise NotFound("No such written part, or no such change of its groups.")
    part = written[key]
    rubric = rubrics.rubric_out(key, part, rubrics.items_of(db, assignment, key, part))
    full = queue.queue(db, assignment=assignment, key=key, prompt=part.prompt, rubric=rubric)
    groups = {group.id: list(group.members) for group in full.groups}
    kept = [group.id for group in full.groups if group.how == "confirmed"]
    chosen, target = _number(form, "group"), _number(form, "target")
    view = View(key=key, group=chosen)
    if action == "move":
        moved = _number(form, "submission")
        source = next((gid for gid, members in groups.items() if moved in members), None)
        if moved is None or source is None or target is None or target not in groups:
            raise NotFound("No such answer or group in this part's queue.")
        groups[source].remove(moved)
        groups[target].append(moved)
        touched, view = [source, target], View(key=key, at=moved)
    elif chosen is None or chosen not in groups:
        raise NotFound("No such group in this part's queue.")
    elif action == "split":
        ticked = {number for value in form.getlist("member") if (number := _as_number(value)) in groups[chosen]}
        if not ticked or len(ticked) == len(groups[chosen]):
            touched = [chosen]  # nothing to split off: the group is confirmed as it is
        else:
            new = max(groups) + 1
            groups[chosen] = [member for member in groups[chosen] if member not in ticked]
            groups[new] = sorted(ticked)
            touched = [chosen, new]
    else:
        touched = [chosen]
    order = [gid for gid in kept + [gid for gid in touched if gid not in kept] if groups[gid]]
    in_queue = {entry.submission for entry in full.entries}
    queue.confirm_groups(db, key=key, submissions=in_queue, groups=[sorted(groups[g]) for g in order], by=staff.id)
    if view.group is not None:  # confirmed groups are numbered 1, 2, ... in that order
        view.group = order.index(view.group) + 1 if view.group in order else None
    return RedirectResponse(page_path(assignment) + view.link(done="regrouped"), status_code=303)


def _as_number(value: object) -> int | None:
    return int(value) if isinstance(value, str) and value.isdigit() and len(value) < 10 else None


def _number(form: FormData, name: str) -> int | None:
    return _as_number(form.get(name))


@router.post(GRADING + "/release")
def release_grades(
    request: Request,
    _checked: CsrfChecked,
    runner: PageRunner,
    assignment: PageAssignment,
    db: SessionDep,
    sets: SetsDep,
    key: Annotated[str, Form(max_length=100)] = "",
    force: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    """As ``POST .../grading/release``: students (and their LMS) see the grades by hand of the part
    ``key`` (none: of every written part). While counted answers are ungraded the page asks first,
    saying how many students will see "awaiting a grader"; ``force`` is the answer."""
    written = problem_set_of(assignment, sets).written()
    if key and key not in written:
        raise NotFound(f"No written part {key!r} in this assignment.")
    part = key or None
    try:
        release.release(db, assignment=assignment, written=list(written), part=part, force=force == "1")
    except release.Ungraded as refusal:
        view = View(key=part)
        asking = {"part": part, "sentence": release.ungraded_sentence(refusal.count, part=part)}
        return _page(request, runner, assignment, db, sets, view, confirm=asking, status=409)
    done = View(key=part).link(done="released") if part else "?done=released"
    return RedirectResponse(page_path(assignment) + done, status_code=303)


@router.post(GRADING + "/rubric")
async def save_rubric(
    request: Request, _page: CsrfChecked, runner: PageRunner, assignment: PageAssignment, db: SessionDep, sets: SetsDep
) -> Response:
    """The rubric editor, posted: rows ``id``, ``points``, ``text``, ``note``, ``key`` (a row
    without an id is a new item, an empty new row is ignored, ``remove`` drops a row), as
    ``PUT .../rubrics/{key}`` takes them, re-scoring the gradings they change."""
    form = await request.form()
    return await run_in_threadpool(_save_rubric, request, form, runner, assignment, db, sets)


def _save_rubric(
    request: Request, form: FormData, runner: Member, assignment: Terms, db: Session, sets: Sets
) -> Response:
    written = problem_set_of(assignment, sets).written()
    key = _text(form, "key")
    if key not in written:
        raise NotFound(f"No written part {key!r} in this assignment.")
    removed = {v for v in form.getlist("remove") if isinstance(v, str)}
    rows: list[dict[str, Any]] = []
    for row, item_id in enumerate(form.getlist("row")):
        if not isinstance(item_id, str) or str(row) in removed:
            continue
        text, points = _text(form, f"text-{row}", 600), _text(form, f"points-{row}")
        if not item_id and not text.strip():
            continue  # the empty row for a new item
        rows.append(
            {
                **({"id": int(item_id)} if item_id.isdigit() and len(item_id) < 10 else {}),
                "points": points or "0",
                "text": text,
                "note": _text(form, f"note-{row}", 2100),
                **({"key": k} if (k := _text(form, f"key-{row}").strip()) else {}),
            }
        )
    view = View(key=key)
    try:
        wanted = RubricIn.model_validate({"items": rows})
        items, touched = rubrics.replace_items(db, assignment, key, written[key], wanted.items)
    except ValidationError as error:
        problem = error.errors()[0]
        where = ".".join(str(step) for step in problem["loc"][1:])
        message = f"The rubric was not saved: item {where}: {problem['msg']}."
        return _page(request, runner, assignment, db, sets, view, error=message, status=422)
    except Unprocessable as refusal:
        return _page(request, runner, assignment, db, sets, view, error=str(refusal.detail), status=422)
    gradings.rescore(
        db,
        course_id=assignment.course_id,
        assignment_id=assignment.id,
        key=key,
        items=items,
        touched=touched,
        max_score=written[key].points,
    )
    return RedirectResponse(page_path(assignment) + view.link(done="rubric"), status_code=303)


@router.post(GRADING + "/reply")
async def reply(
    request: Request, _page: CsrfChecked, staff: PageStaff, assignment: PageAssignment, db: SessionDep, sets: SetsDep
) -> Response:
    """Staff's answer to a regrade request (``release.reply``), then the same answer again."""
    form = await request.form()
    return await run_in_threadpool(_reply, request, form, staff, assignment, db, sets)


def _reply(request: Request, form: FormData, staff: Member, assignment: Terms, db: Session, sets: Sets) -> Response:
    key, number = _text(form, "key"), _text(form, "submission")
    submission = db.get(Submission, int(number)) if number.isdigit() and len(number) < 10 else None
    if submission is None or submission.assignment_id != assignment.id or submission.course_id != assignment.course_id:
        raise NotFound("No such submission of this assignment.")
    view = View(key=key, at=submission.id)
    try:
        body = RegradeReplyIn.model_validate({"reply": _text(form, "reply", 2100)})
        release.reply(db, submission=submission, key=key, text=body.reply, by=staff.id)
    except ValidationError:
        return _page(
            request, staff, assignment, db, sets, view, error="Write a reply (at most 2,000 characters).", status=422
        )
    except Conflict as refusal:
        return _page(request, staff, assignment, db, sets, view, error=str(refusal.detail), status=409)
    return RedirectResponse(page_path(assignment) + view.link(at=submission.id, done="replied"), status_code=303)


def _text(form: FormData, name: str, limit: int = 200) -> str:
    value = form.get(name)
    return value[:limit] if isinstance(value, str) else ""
