"""A written part's grading queue: each student's counted answer with its grading, in a stable
shuffled order (never by name, so that the order says nothing about who wrote what), shared out
among the course's graders, with groups of similar answers (staff's, else suggested)."""

from __future__ import annotations

import hashlib
import sys
import threading
from collections import OrderedDict
from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from api.assignments.service import extensions
from api.handgrading.schemas import GradingOut, GroupOut, QueueEntry, QueueOut, RegradeRequestOut, RubricOut
from api.kit.collector import prepared_once
from api.kit.slots import connection_released
from api.models import AnswerGroup, CourseRole, Grading, Membership, RegradeRequest, Submission, User
from api.reports.service import stored_submissions
from api.terms.counted import counted_attempt
from api.terms.rows import Terms, with_extension
from grader.grouping import Group, group_answers, prepare
from grader.results import Status

#: Suggested groups kept per (part, answers): grouping a thousand answers takes a good part of a
#: second, and a queue is read after every grading.
SUGGESTIONS_KEPT = 64
#: The most the kept suggestions may take (their texts and keys, ``sys.getsizeof``): a group's
#: example is an answer's text, so 64 queues of a thousand long answers would otherwise keep
#: hundreds of megabytes. The least recently read go first.
SUGGESTIONS_BYTES = 64 * 2**20
_suggestions: OrderedDict[str, tuple[list[Group], int]] = OrderedDict()
_suggestions_lock = threading.Lock()
#: Groupings run one at a time in a process: each takes memory in proportion to its answers
#: (``grader.grouping``: about 130 MiB for a thousand answers of 3,000 characters), so graders who
#: open queues at once wait for one another (holding no connection) rather than add up, and those
#: who asked for the same queue get the groups the first one made.
_grouping = threading.Lock()
GRADERS = (CourseRole.OWNER, CourseRole.INSTRUCTOR, CourseRole.TA)


def answer_text(answer: Any) -> str | None:
    """A written answer as stored, as text: None when blank or not text (the engine refused it)."""
    if isinstance(answer, bool) or not isinstance(answer, str | int | float):
        return None
    text = answer if isinstance(answer, str) else str(answer)
    return text if text.strip() else None


def counted_submissions(session: Session, assignment: Terms) -> list[Submission]:
    """Each current student's counted attempt (as the gradebook counts it)."""
    students = set(
        session.scalars(
            select(Membership.user_id).where(
                Membership.course_id == assignment.course_id, Membership.role == CourseRole.STUDENT
            )
        )
    )
    by_student: dict[str, list[Submission]] = {}
    for submission in stored_submissions(session, assignment=assignment):
        if submission.student_id in students:
            by_student.setdefault(submission.student_id, []).append(submission)
    extended = extensions(session, assignment=assignment)
    counted = []
    for student, attempts in by_student.items():
        found = counted_attempt(attempts, with_extension(assignment, extended.get(student)))
        if found is not None:
            counted.append(found[0])
    return counted


def shuffled(assignment: Terms, key: str, submissions: Sequence[Submission]) -> list[Submission]:
    """A stable order that is neither by name nor by time: by a hash of the part and the submission."""

    def rank(submission: Submission) -> str:
        return hashlib.sha256(f"{assignment.course_id}/{assignment.id}/{key}/{submission.id}".encode()).hexdigest()

    return sorted(submissions, key=rank)


def queue(session: Session, *, assignment: Terms, key: str, prompt: str, rubric: RubricOut) -> QueueOut:
    """The part's queue (see the module)."""
    # (a submission without the part is not its to grade: of a set with pools, its student did not draw it)
    holding = [submission for submission in counted_submissions(session, assignment) if key in submission.parts]
    submissions = shuffled(assignment, key, holding)
    ids = [submission.id for submission in submissions]
    gradings = {
        grading.submission_id: grading
        for grading in session.scalars(select(Grading).where(Grading.submission_id.in_(ids), Grading.key == key))
    }
    requests: dict[int, list[RegradeRequestOut]] = {}
    for request in session.scalars(
        select(RegradeRequest)
        .where(RegradeRequest.submission_id.in_(ids), RegradeRequest.key == key)
        .order_by(RegradeRequest.id)
    ):
        requests.setdefault(request.submission_id, []).append(RegradeRequestOut.model_validate(request))
    students = {submission.student_id for submission in submissions}
    names = {user: name for user, name in session.execute(select(User.id, User.name).where(User.id.in_(students)))}
    graders = sorted(
        session.scalars(
            select(Membership.user_id).where(
                Membership.course_id == assignment.course_id, Membership.role.in_([role.value for role in GRADERS])
            )
        )
    )
    texts = {submission.id: answer_text(submission.answers.get(key)) for submission in submissions}
    confirmed = _confirmed(session, key, list(texts))
    with connection_released(session, slot_too=True):  # grouping a big class takes a moment
        groups = _groups(assignment, key, texts, confirmed)
    group_of = {member: group.id for group in groups for member in group.members}
    entries = [
        QueueEntry(
            submission=submission.id,
            student=submission.student_id,
            name=names.get(submission.student_id, ""),
            attempt=submission.attempt,
            answer=texts[submission.id],
            status=_status(submission, key),
            group=group_of[submission.id],
            assigned_to=graders[index % len(graders)] if graders else None,
            grading=None if submission.id not in gradings else GradingOut.model_validate(gradings[submission.id]),
            regrade_requests=requests.get(submission.id, []),
        )
        for index, submission in enumerate(submissions)
    ]
    return QueueOut(
        assignment=assignment.id,
        key=key,
        prompt=prompt,
        max_score=rubric.max_score,
        total=len(entries),
        graded=sum(entry.grading is not None for entry in entries),
        rubric=rubric,
        entries=entries,
        groups=groups,
    )


def _status(submission: Submission, key: str) -> Status:
    part = submission.parts.get(key)
    status = part.get("status") if isinstance(part, dict) else None
    return Status(status) if isinstance(status, str) and status in set(Status) else Status.PENDING


def _confirmed(session: Session, key: str, submissions: list[int]) -> dict[int, list[int]]:
    """Staff's groups of the part's answers: label → submission ids."""
    confirmed: dict[int, list[int]] = {}
    for submission_id, label in session.execute(
        select(AnswerGroup.submission_id, AnswerGroup.label).where(
            AnswerGroup.submission_id.in_(submissions), AnswerGroup.key == key
        )
    ):
        confirmed.setdefault(label, []).append(submission_id)
    return confirmed


def _groups(
    assignment: Terms, key: str, texts: dict[int, str | None], confirmed: dict[int, list[int]]
) -> list[GroupOut]:
    """Staff's groups first (their labels), then the suggested groups of the other answers, then
    the blank ones together."""
    groups = [
        GroupOut(id=label, members=sorted(members), how="confirmed", example=texts[min(members)] or "")
        for label, members in sorted(confirmed.items())
    ]
    placed = {member for members in confirmed.values() for member in members}
    rest = {str(i): text for i, text in texts.items() if i not in placed and text is not None}
    next_label = max(confirmed, default=0) + 1
    for group in suggested(assignment, key, rest):
        members = sorted(int(member) for member in group.members)
        groups.append(GroupOut(id=next_label, members=members, how=group.how, example=group.example))
        next_label += 1
    blank = sorted(i for i, text in texts.items() if i not in placed and text is None)
    if blank:
        groups.append(GroupOut(id=next_label, members=blank, how="same", example=""))
    return groups


def suggested(assignment: Terms, key: str, answers: dict[str, str]) -> list[Group]:
    """:func:`grader.grouping.group_answers`, one at a time, remembered for the same answers to the
    same part."""
    digest = hashlib.sha256(repr(sorted(answers.items())).encode()).hexdigest()
    remembered = f"{assignment.course_id}/{assignment.id}/{key}/{digest}"
    if (found := _remembered(remembered)) is not None:
        return found
    prepared_once(prepare)  # scikit-learn and SciPy, imported by the process's first grouping
    with _grouping:
        if (found := _remembered(remembered)) is not None:  # made while this request waited
            return found
        made = group_answers(answers)
    size = sum(sys.getsizeof(group.example) + sum(map(sys.getsizeof, group.members)) for group in made)
    with _suggestions_lock:
        _suggestions[remembered] = (made, size)
        kept = sum(weight for _, weight in _suggestions.values())
        while len(_suggestions) > SUGGESTIONS_KEPT or (kept > SUGGESTIONS_BYTES and len(_suggestions) > 1):
            kept -= _suggestions.popitem(last=False)[1][1]
    return made


def _remembered(remembered: str) -> list[Group] | None:
    with _suggestions_lock:
        if (found := _suggestions.get(remembered)) is None:
            return None
        _suggestions.move_to_end(remembered)
        return found[0]


def confirm_groups(session: Session, *, key: str, submissions: set[int], groups: list[list[int]], by: str) -> None:
    """Staff's groups replace the part's confirmed ones: labelled 1, 2, ... in the order sent. 422
    (by the caller) for a submission that is not in the queue, or one listed twice."""
    session.execute(delete(AnswerGroup).where(AnswerGroup.submission_id.in_(list(submissions)), AnswerGroup.key == key))
    session.add_all(
        AnswerGroup(submission_id=member, key=key, label=label, set_by=by)
        for label, members in enumerate(groups, 1)
        for member in members
    )
