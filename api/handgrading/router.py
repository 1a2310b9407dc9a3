"""Grading written parts by hand: the queue, rubrics, gradings, groups, release and regrade
requests (contract: "Manual grading")."""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import APIRouter, Header, Path, Query, Response
from sqlalchemy.orm import Session

from api.access import member_of
from api.deps import (
    AssignmentDep,
    CurrentUser,
    RunnerMember,
    SessionDep,
    SetsDep,
    StaffMember,
    SubmissionDep,
    problem_set_of,
)
from api.handgrading import gradings, keys, queue, release, rubrics
from api.handgrading.schemas import (
    GradingEventOut,
    GradingHistoryOut,
    GradingIn,
    GradingOut,
    GroupsIn,
    GroupsOut,
    QueueOut,
    RegradeReplyIn,
    RegradeRequestIn,
    RegradeRequestOut,
    ReleaseOut,
    RubricIn,
    RubricOut,
)
from api.kit.db import writes
from api.kit.errors import Forbidden, NotFound, Unprocessable
from api.kit.responses import errors
from api.library.course_sets import Sets
from api.models import Assignment, Feedback, Submission
from api.submissions.schemas import GradedPartOut
from api.terms.accommodations import own_extension
from api.terms.grades import grade_released
from api.terms.rows import Terms, with_extension
from api.terms.standing import feedback_to
from problems.parts import WrittenPart

router = APIRouter(tags=["grading"])
ASSIGNMENT = "/courses/{course_id}/assignments/{assignment_id}"
PART = "/submissions/{submission_id}/parts/{key:answer_key}"
Key = Annotated[
    str,
    Path(max_length=100, pattern=f"^{keys.ANSWER_KEY}$", description="The answer key of a written part (`q5.why`)."),
]
#: ``If-Match``: a grading's version, as a number or an entity tag (``"3"``, ``W/"3"``).
VERSION = re.compile(r'^\s*(?:W/)?"?(\d{1,9})"?\s*$')


def _written(assignment: Terms, sets: Sets, key: str) -> WrittenPart:
    return rubrics.written_part(problem_set_of(assignment, sets), key)


@router.get(
    ASSIGNMENT + "/grading/{key:answer_key}",
    response_model=QueueOut,
    summary="A written part's grading queue",
    responses=errors(401, 403, 404, 422, 503, notes={404: "No such assignment, or no written part of that key"}),
)
@writes  # the first reader of a part copies its rubric from the set file
def grading_queue(
    _staff: StaffMember, assignment: AssignmentDep, session: SessionDep, sets: SetsDep, key: Key
) -> QueueOut:
    """Each student's counted answer (`submission`, `answer`, `group`, `grading` or null) in a stable
    shuffled order, with the rubric, progress (`graded` of `total`), the grader each answer falls to
    (`assigned_to`), open regrade requests, and groups of similar answers (staff's, else suggested)."""
    part = _written(assignment, sets, key)
    items = rubrics.items_of(session, assignment, key, part)
    rubric = rubrics.rubric_out(key, part, items)
    return queue.queue(session, assignment=assignment, key=key, prompt=part.prompt, rubric=rubric)


@router.put(
    ASSIGNMENT + "/grading/{key}/groups",
    response_model=GroupsOut,
    summary="Confirm, split or regroup the answers of a written part",
    responses=errors(401, 403, 404, 413, 422, 503),
)
def confirm_groups(
    staff: StaffMember, assignment: AssignmentDep, session: SessionDep, sets: SetsDep, key: Key, groups: GroupsIn
) -> GroupsOut:
    """The groups staff want, each a list of submission ids of the queue; answers left out stay in
    their suggested groups. 422 for a submission not in the queue, or listed twice."""
    part = _written(assignment, sets, key)
    in_queue = {submission.id for submission in queue.counted_submissions(session, assignment)}
    listed = [member for group in groups.groups for member in group]
    strangers = sorted(set(listed) - in_queue)
    if strangers:
        raise Unprocessable(f"Not in this part's queue: submission {', '.join(map(str, strangers[:10]))}.")
    if len(listed) != len(set(listed)):
        raise Unprocessable("A submission is listed in two groups (or twice in one).")
    queue.confirm_groups(session, key=key, submissions=in_queue, groups=groups.groups, by=staff.id)
    session.flush()
    rubric = rubrics.rubric_out(key, part, rubrics.items_of(session, assignment, key, part))
    found = queue.queue(session, assignment=assignment, key=key, prompt=part.prompt, rubric=rubric)
    return GroupsOut(groups=found.groups)


@router.get(
    ASSIGNMENT + "/rubrics/{key:answer_key}",
    response_model=RubricOut,
    summary="A written part's rubric",
    responses=errors(401, 403, 404, 422, 503),
)
@writes  # (the same)
def get_rubric(
    _staff: StaffMember, assignment: AssignmentDep, session: SessionDep, sets: SetsDep, key: Key
) -> RubricOut:
    """The items graders apply: copied from the set file's template the first time it is needed."""
    part = _written(assignment, sets, key)
    return rubrics.rubric_out(key, part, rubrics.items_of(session, assignment, key, part))


@router.put(
    ASSIGNMENT + "/rubrics/{key:answer_key}",
    response_model=RubricOut,
    summary="Change a written part's rubric (re-scores the gradings it changes)",
    responses=errors(401, 403, 404, 413, 422, 503, notes={422: "An item id the rubric does not have, or a shared key"}),
)
def put_rubric(
    _runner: RunnerMember, assignment: AssignmentDep, session: SessionDep, sets: SetsDep, key: Key, rubric: RubricIn
) -> RubricOut:
    """The whole rubric in order: items with an `id` change, items without one are added, items left
    out are removed. Every grading that applied an item whose points or text changed, or that was
    removed, is graded again with the new rubric (a new version, kept in its history)."""
    part = _written(assignment, sets, key)
    items, touched = rubrics.replace_items(session, assignment, key, part, rubric.items)
    gradings.rescore(
        session,
        course_id=assignment.course_id,
        assignment_id=assignment.id,
        key=key,
        items=items,
        touched=touched,
        max_score=part.points,
    )
    return rubrics.rubric_out(key, part, items)


@router.post(
    ASSIGNMENT + "/grading/release",
    response_model=ReleaseOut,
    summary="Release the grades of written parts to students",
    responses=errors(
        401, 403, 404, 409, 422, 503, notes={409: "Counted answers are ungraded: release with `force=true`"}
    ),
)
def release_grades(
    _runner: RunnerMember,
    assignment: AssignmentDep,
    session: SessionDep,
    sets: SetsDep,
    key: Annotated[
        str | None,
        Query(
            max_length=100,
            pattern=f"^{keys.ANSWER_KEY}$",
            description="The written part to release on its own (absent: every written part).",
        ),
    ] = None,
    force: Annotated[
        bool, Query(description="Release even though counted answers are ungraded (else 409 says how many).")
    ] = False,
) -> ReleaseOut:
    """Until now students saw `pending` for the written parts; from now on they see their grades
    (and later grades as they are made), and their LMS gets the scores: every written part's, or
    with `key` that part's alone. While some counted answers are ungraded it is 409 with their
    number, unless `force`: their students then see "awaiting a grader" until graded."""
    written = problem_set_of(assignment, sets).written()
    if key is not None:
        _written(assignment, sets, key)
    done = release.release(session, assignment=assignment, written=list(written), part=key, force=force)
    return ReleaseOut(released_at=done.at, key=key, students=done.students, ungraded=done.ungraded)


def _staff_assignment(session: Session, user: CurrentUser, submission: Submission) -> Assignment:
    member = member_of(session, user, submission.course_id)
    if member is None or not member.is_staff:
        raise Forbidden("Only the course's staff grade written parts.")
    assignment = session.get(Assignment, (submission.course_id, submission.assignment_id))
    assert assignment is not None  # (a submission's assignment goes with it)
    return assignment


def _version(if_match: str | None) -> int | None:
    if if_match is None:
        return None
    matched = VERSION.match(if_match)
    if matched is None:
        raise Unprocessable('If-Match is a grading\'s version: a whole number, or an entity tag such as "3".')
    return int(matched.group(1))


@router.put(
    PART + "/grading",
    response_model=GradedPartOut,
    summary="Grade a written part with rubric items",
    responses=errors(
        401,
        403,
        404,
        409,
        413,
        422,
        503,
        notes={409: "The grading changed since the version in If-Match (or exists and If-Match is missing)"},
    ),
)
def grade_part(
    user: CurrentUser,
    submission: SubmissionDep,
    session: SessionDep,
    sets: SetsDep,
    key: Key,
    grading: GradingIn,
    response: Response,
    if_match: Annotated[
        str | None,
        Header(max_length=40, description="The version of the grading read (`ETag`); required to change one."),
    ] = None,
) -> GradedPartOut:
    """Applies rubric items, an adjustment and a comment; the score is their sum kept between 0 and
    the part's points. A first grading needs no `If-Match`; changing one needs the version read,
    and a stale version is 409 (another grader wrote since). The reply carries the new `ETag`."""
    assignment = _staff_assignment(session, user, submission)
    if key not in submission.parts:
        raise NotFound(f"No part {key!r} in this submission.")
    part = _written(assignment, sets, key)
    items = rubrics.items_of(session, assignment, key, part, lock=True)
    done = gradings.grade(
        session,
        submission=submission,
        key=key,
        max_score=part.points,
        items=items,
        chosen=grading.items,
        adjustment=grading.adjustment,
        comment=grading.comment,
        expected=_version(if_match),
        grader=user.id,
    )
    gradings.told_lms(session, submission, key)
    response.headers["ETag"] = f'"{done.version}"'
    graded: GradedPartOut = submission.parts[key]
    return graded


@router.get(
    PART + "/grading",
    response_model=GradingHistoryOut,
    summary="A written part's grading and its history",
    responses=errors(401, 403, 404, 422, 503),
)
def grading_history(user: CurrentUser, submission: SubmissionDep, session: SessionDep, key: Key) -> GradingHistoryOut:
    """Staff: the current grading (its `version` for `If-Match`) and every earlier version: who
    graded, when, the items as they were, the adjustment, comment and score."""
    _staff_assignment(session, user, submission)
    if key not in submission.parts:
        raise NotFound(f"No part {key!r} in this submission.")
    current, events = gradings.history(session, submission_id=submission.id, key=key)
    return GradingHistoryOut(
        key=key,
        grading=None if current is None else GradingOut.model_validate(current),
        history=[GradingEventOut.model_validate(event) for event in events],
    )


def _own_submission(session: Session, user: CurrentUser, submission: Submission) -> None:
    """The submitting student, still a member of the course: a dropped one still reads their work
    (it stays for the record), but the course's staff no longer see them."""
    if submission.student_id != user.id:
        raise Forbidden("Only the student who submitted may ask for a regrade.")
    member = member_of(session, user, submission.course_id)
    if member is None:
        raise Forbidden("You are no longer a member of this course, so its staff would not see a regrade request.")


@router.post(
    PART + "/regrade-request",
    status_code=201,
    response_model=RegradeRequestOut,
    summary="Ask staff to look at a graded part again",
    responses=errors(
        401,
        403,
        404,
        409,
        413,
        422,
        503,
        notes={409: "Not graded, its grade not shown to the student yet, or a request about it is open"},
    ),
)
def ask_regrade(
    user: CurrentUser, submission: SubmissionDep, session: SessionDep, key: Key, body: RegradeRequestIn
) -> RegradeRequestOut:
    """For the student, about any part once it is graded and its grade shown to them (a written
    part's once its grades are released): staff see the request on the course page, a written
    part's in its grading queue, and answer it (`.../regrade-request/reply`)."""
    _own_submission(session, user, submission)
    if key not in submission.parts:
        raise NotFound(f"No part {key!r} in this submission.")
    assignment = session.get(Assignment, (submission.course_id, submission.assignment_id))
    released = assignment is not None and grade_released(assignment, key)
    shown = assignment is not None and verdict_shown(session, assignment, submission.student_id)
    request = release.ask_regrade(
        session, submission=submission, key=key, message=body.message, released=released, verdict_shown=shown
    )
    return RegradeRequestOut.model_validate(request)


@router.post(
    PART + "/regrade-request/reply",
    response_model=RegradeRequestOut,
    summary="Answer a regrade request",
    responses=errors(401, 403, 404, 409, 413, 422, 503, notes={409: "No open request about this part"}),
)
def reply_regrade(
    user: CurrentUser, submission: SubmissionDep, session: SessionDep, key: Key, body: RegradeReplyIn
) -> RegradeRequestOut:
    """Staff's answer to the part's open request (change the grading itself with `PUT .../grading`)."""
    _staff_assignment(session, user, submission)
    request = release.reply(session, submission=submission, key=key, text=body.reply, by=user.id)
    return RegradeRequestOut.model_validate(request)


def verdict_shown(session: Session, assignment: Assignment, student_id: str) -> bool:
    """Whether the student is shown whether each part is right, under their own terms now."""
    own = own_extension(session, course_id=assignment.course_id, assignment_id=assignment.id, student_id=student_id)
    level = feedback_to(session, terms=with_extension(assignment, own), student_id=student_id)
    return level in (Feedback.FULL, Feedback.CORRECTNESS)
