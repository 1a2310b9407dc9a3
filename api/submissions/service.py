"""Submissions: graded on arrival, stored atomically, numbered exactly, safe to retry.

**One statement stores a submission.** ``INSERT ... SELECT ... ON CONFLICT DO NOTHING RETURNING``
computes the attempt number (``coalesce(max(attempt), 0) + 1`` of the student's attempts), checks
it against the attempt limit, and inserts, all in one statement: there is no moment at which a
submission is half stored. ``(assignment, student, attempt)`` is unique, so two concurrent
submissions that compute the same number cannot both be stored: the loser's statement returns no
row (PostgreSQL first waits for the winner to commit; at READ COMMITTED the next statement sees
it) and is run again. Numbers are therefore dense and unique, and a number above ``max_attempts``
is never inserted (409): the limit holds exactly, by the database, without a read-then-write race.
It runs in the request's session like every other write, committed (:func:`api.deps.request_session`)
before the 201 goes out.

**The close is the one in force when the row is written.** The terms the request read come before
grading, which holds no connection, and the close may be set or moved meanwhile; so the INSERT also
checks the student's close as it is when it runs (:func:`api.terms.closing.open_when_written`,
which a change of the assignment waits for): a submission is stored before the close or refused
(409), never after it.

**A timed assignment's clock** (:mod:`api.terms.clock`): a submission before the student started
it or after its end is refused (409), through every door that calls :func:`submit`; the time-up
sweep (:mod:`api.timed.sweep`) submits their draft as made at the end.

**Unreadable answers.** A submission with an answer that cannot be read (an ``invalid`` part)
or a key the assignment does not have is refused with 422 and stored nowhere: it uses no
attempt, and the detail says which keys and how each answer was read, so the student can fix
the typo (``/preview`` shows the same without submitting). Blank answers are fine (``unanswered``),
but a submission with no answer at all is refused the same way.

**Grading holds no database slot** (:func:`grading`): reading and grading take what the answers
and the set make them take (a megabyte of answers about a second, a wrong answer to a large
network hundreds of milliseconds), so they run with the request's connection and slot given back
(a submission's slot once it has been graded for :data:`SUBMISSION_KEEPS_SLOT`, longer than an
ordinary one takes), within the student's budget of grading work (:mod:`api.kit.quotas`: 429 past it).
Previews, practice and refused submissions, which use no attempt, are held to that budget like
the rest.

**A choice part's picks** arrive in the student's own letters (those of the order they are shown:
:mod:`api.assignments.options`) at every door that calls :func:`submit`, and are graded and stored
in the file's, the letters staff, statistics, regrades and exports read.

**Idempotency.** ``(student, Idempotency-Key)`` is unique and a row with a key keeps a SHA-256
of the request (assignment and answers). A retry with the same key and request returns the
stored submission; the same key with a different request is refused (422).

**Code parts** are not run here: they are stored ``queued`` (no score yet) and their run queued
in the same transaction (:mod:`api.code_runs`), so the 201 never waits for the sandbox. A student
gets a share of the code queue (:mod:`api.code_runs.shares`): a submission with code to run is
refused with 429 (no attempt used, nothing stored) while the student has as many runs waiting as
one may, or has used their sandbox time on the assignment (:mod:`api.code_runs.budget`); checked
in the transaction that would queue the run, before the INSERT (once: a check before grading as
well cost every code submission two statements to save the grading of a refused one's other
parts, which its grading budget bounds anyway).

**Regrades** move the current grade into ``earlier_grades`` before replacing it; they run as
background jobs (:mod:`api.jobs`), a chunk of submissions at a time: read
(:func:`submissions_to_regrade`), graded with no database connection (:func:`regrade`), then
written in one transaction (:func:`lock_for_regrade`, :func:`store_regrades`).
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, cast
from zoneinfo import ZoneInfo

from sqlalchemy import Integer, Table, bindparam, func, insert, select, true, update
from sqlalchemy.orm import Session, selectinload

from api.assignments.draws import not_drawn, own_set
from api.assignments.options import StudentLetters, order_key
from api.assignments.service import variant_of
from api.code_runs.budget import check_share
from api.code_runs.queueing import Deferrer, queue_run, waiting_keys
from api.code_runs.shares import CodeLimits, configured
from api.exam_room import events
from api.kit import metrics, score_changes
from api.kit.db import atomic, insert_of
from api.kit.errors import Conflict, Unprocessable
from api.kit.local_time import stated
from api.kit.quotas import GradingBudget
from api.kit.slots import connection_released
from api.kit.statements import Prepared
from api.models import EarlierGrade, Submission
from api.terms.clock import check_time_left, open_by_added_time, time_up_message
from api.terms.closing import close_now, open_when_written
from api.terms.moments import in_course_time
from api.terms.rows import Terms, allowance_of
from api.terms.rules import is_closed, is_late
from grader.engine import grade_submission, is_blank, preview_submission
from grader.results import PreviewedPart
from grader.written import is_manual, total
from problems.sets import ProblemSet, TwoModules

#: Rounds of "number taken, count again" before giving up (each round means another submission
#: of the same student committed meanwhile, so this is far more than a limit can need).
MAX_NUMBERING_ROUNDS = 200

SUBMISSIONS = cast(Table, Submission.__table__)


@dataclass(frozen=True, slots=True)
class SubmissionValues:
    """A submission with the attributes of its :class:`Submission` row, without an ORM object, which
    cost more to build than the statement that has them (``bench/service.py``): the values sent to
    the INSERT of one just stored, or those one read of it returned (:func:`api.access.read_submission_access`)."""

    id: int
    attempt: int
    course_id: str
    assignment_id: str
    student_id: str
    idempotency_key: str | None
    request_hash: str | None
    answers: dict[str, Any]
    parts: dict[str, Any]
    score: float
    max_score: float
    set_version: str
    variant: str | None
    submitted_at: datetime
    graded_at: datetime
    late: bool
    earlier_grades: tuple[EarlierGrade, ...] = ()


@dataclass(frozen=True)
class Stored:
    submission: Submission | SubmissionValues
    replayed: bool


def fingerprint(course_id: str, assignment_id: str, answers: dict[str, Any]) -> str:
    request = {"course": course_id, "assignment": assignment_id, "answers": answers}
    canonical = json.dumps(request, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8", "surrogatepass")).hexdigest()


@dataclass(frozen=True, slots=True)
class Preview:
    """How each answer is read, and whether submitting now would be accepted: ``obstacle`` says why
    not when it is neither an unreadable answer nor an unknown key (no attempt left, nothing
    answered)."""

    parts: dict[str, PreviewedPart]
    unreadable: list[str]
    unknown_keys: list[str]
    attempts_left: int | None
    obstacle: str | None

    @property
    def ready(self) -> bool:
        return not self.unreadable and not self.unknown_keys and self.obstacle is None


#: How long a submission's grading keeps the request's database slot before giving it back: an
#: ordinary submission is graded sooner (1 to 15 ms), and handing the slot on and waiting for one
#: again would cost it more than its grading (``api.kit.slots.connection_released``).
SUBMISSION_KEEPS_SLOT = 0.02


@contextmanager
def grading(
    session: Session, *, budget: GradingBudget | None, account: str, keep_slot_for: float = 0.0
) -> Iterator[None]:
    """The block reads or grades answers for ``account``: within its budget (:mod:`api.kit.quotas`,
    429 past it; none outside a request) and holding no database connection, nor its slot (after
    ``keep_slot_for`` seconds, :func:`api.kit.slots.connection_released`). The session is not to be
    used inside."""
    spending = budget.spend(account) if budget is not None else nullcontext()
    # (released first: a grading waiting for the student's other one to end holds no slot meanwhile)
    with connection_released(session, slot_too=True, keep_slot_for=keep_slot_for), spending:
        yield


def attempts_left(session: Session, *, assignment: Terms, student_id: str) -> int | None:
    """How many attempts the student has left (None: no limit)."""
    limit = assignment.max_attempts
    return None if limit is None else max(0, limit - _used(session, assignment, student_id))


def previewed(
    *,
    problem_set: ProblemSet,
    assignment: Terms,
    student_id: str,
    answers: dict[str, Any],
    left: int | None,
    zone: ZoneInfo,
) -> Preview:
    """What :func:`submit` would say of these answers, without grading or storing anything, the
    attempts ``left`` and the course's ``zone`` (in which a close is stated) already read:
    computation only (no session), for a caller that reads the answers in a :func:`grading` block
    of its own (they count against the student's budget of grading work as submitting does)."""
    answers = per_part(problem_set, answers)
    problem_set = own_set(problem_set, assignment, student_id)
    variant = variant_of(problem_set, assignment, student_id)
    parts, unknown = preview_submission(problem_set, answers, student=variant)
    unreadable = [key for key, part in parts.items() if part.answered and not part.readable]
    obstacle = (
        _closed_message(assignment, stated(assignment.closes_at, zone))
        if assignment.closes_at is not None and is_closed(assignment, datetime.now(UTC))
        else _limit_message(assignment)
        if left == 0
        else _nothing_answered(problem_set)
        if all(is_blank(answer) for answer in answers.values())
        else None
    )
    return Preview(parts, unreadable, list(unknown), left, obstacle)


def per_part(problem_set: ProblemSet, answers: dict[str, Any]) -> dict[str, Any]:
    """The answers one per part, as they are graded and stored (:meth:`ProblemSet.per_part`: a module
    sent once under its problem's id answers each of the problem's code parts); unprocessable, with a
    sentence, where a part is answered both ways."""
    try:
        return problem_set.per_part(answers)
    except TwoModules as error:
        raise Unprocessable(f"Not submitted (no attempt used): {error}") from None


def _replay(session: Session, *, student_id: str, key: str, request_hash: str) -> Stored | None:
    existing = session.scalar(
        select(Submission)
        .options(selectinload(Submission.earlier_grades))
        .where(Submission.student_id == student_id, Submission.idempotency_key == key)
    )
    if existing is None:
        return None
    if existing.request_hash != request_hash:
        raise Unprocessable(
            f"The Idempotency-Key {key!r} was already used for a different request (submission {existing.id}); "
            "use a new key for new answers."
        )
    return Stored(existing, replayed=True)


def submit(
    session: Session,
    *,
    problem_set: ProblemSet,
    assignment: Terms,
    student_id: str,
    answers: dict[str, Any],
    idempotency_key: str | None = None,
    now: datetime | None = None,
    from_lms: bool | None = None,
    budget: GradingBudget | None = None,
    defer_code: Deferrer | None = None,
    code_limits: CodeLimits | None = None,
    logged: bool = True,
) -> Stored:
    """Grade and store one attempt (flushed; the caller's session commits). ``from_lms``: whether
    the student came from an LMS, when the caller's access read it (:class:`api.access.Member`);
    None looks it up. The grading is charged to the student's ``budget`` (:func:`grading`).

    Code parts are stored ``queued`` (scoring 0 until their results are written) and their run
    queued in the submission's own transaction (:mod:`api.code_runs`): ``defer_code`` carries it to
    a code worker on PostgreSQL. An exam's submission is logged as its attempt's event unless
    ``logged`` is False (time-up logs its own). Past the student's share of the code queue (``code_limits``, the
    environment's unless given) the submission is refused with 429 before anything is stored."""
    whole, problem_set = problem_set, own_set(problem_set, assignment, student_id)  # (of a pool, their problems)
    request_hash = None  # (a retry with the key is compared with the first request; no key, no retry)
    if idempotency_key is not None:
        request_hash = fingerprint(assignment.course_id, assignment.id, answers)
        replay = _replay(session, student_id=student_id, key=idempotency_key, request_hash=request_hash)
        if replay is not None:
            return replay
    # a choice part's picks arrive in the student's own letters and are graded and stored in the file's
    letters = StudentLetters.of(problem_set, order_key(assignment, student_id))
    answers = letters.answers_to_file(per_part(whole, answers))

    at = now or datetime.now(UTC)
    closes = assignment.closes_at
    if (
        closes is not None
        and is_closed(assignment, at)
        and not open_by_added_time(session, terms=assignment, student_id=student_id, at=at)
    ):  # (a shortcut that saves grading)
        raise Conflict(_closed_message(assignment, in_course_time(session, assignment.course_id, closes)))
    # a timed assignment: within the student's clock (checked again once graded, below)
    clock_end = check_time_left(session, terms=assignment, student_id=student_id, at=now or datetime.now(UTC))
    if all(is_blank(answer) for answer in answers.values()):
        raise Unprocessable(f"Not submitted (no attempt used): {_nothing_answered(problem_set)}")
    limit = assignment.max_attempts
    if limit is not None and _used(session, assignment, student_id) >= limit:
        # a shortcut that saves grading; the INSERT below is what enforces the limit
        raise Conflict(_limit_message(assignment))
    code_limits = code_limits or configured()

    variant = variant_of(problem_set, assignment, student_id)
    with grading(session, budget=budget, account=student_id, keep_slot_for=SUBMISSION_KEEPS_SLOT):
        graded = grade_submission(problem_set, answers, student=variant)
        # (a part whose grading failed is ours to fix, not the student's: it is stored as invalid)
        refusal = None
        if graded.unreadable or graded.unknown_keys:
            unknown = list(graded.unknown_keys)
            refusal = _refusal(graded.previewed(), graded.unreadable, unknown, problem_set, whole, letters)
        parts = graded.parts_json() if refusal is None else {}
    if refusal is not None:
        raise Unprocessable(refusal)

    now = now or datetime.now(UTC)
    if clock_end is not None and now > clock_end:  # (the time ran out while grading)
        raise Conflict(time_up_message(session, terms=assignment, student_id=student_id, end=clock_end))
    values: dict[str, Any] = {
        "course_id": assignment.course_id,
        "assignment_id": assignment.id,
        "student_id": student_id,
        "idempotency_key": idempotency_key,
        "request_hash": request_hash,
        "answers": answers,
        "parts": parts,
        "score": graded.score,
        "max_score": graded.max_score,
        "set_version": problem_set.version,
        "variant": variant,
        "submitted_at": now,
        "graded_at": now,
        "late": is_late(assignment, now),
    }
    dialect = session.get_bind().dialect.name
    insert_unless_taken = _insert_unless_taken(dialect, tuple(values), limited=limit is not None)
    parameters = {f"new_{name}": value for name, value in values.items()}
    parameters["max_attempts"] = limit
    allowance = allowance_of(assignment)
    parameters["at_less_days"] = now - timedelta(days=allowance.extra_days if allowance else 0)
    # The new counted score goes to the LMS the student came from (LTI), in the submission's own
    # transaction; a student from no LMS (most, and every one outside LTI) stores in one statement.
    lms = (
        score_changes.targets(session, course_id=assignment.course_id, student_id=student_id)
        if from_lms is not False
        else []
    )
    queued = bool(waiting_keys(parts))  # code to run: the submission and its run in one transaction
    logging = logged and events.watched(assignment)  # (an exam's: the submission and its event in one transaction)
    with atomic(session, needed=bool(lms) or queued or logging):
        if queued:  # (before the INSERT: a refusal stores nothing)
            check_share(
                session,
                course_id=assignment.course_id,
                assignment_id=assignment.id,
                student_id=student_id,
                limits=code_limits,
                now=datetime.now(UTC),
            )
        stored = _store(session, insert_unless_taken, parameters, values, assignment, lms, limit)
        if queued and not stored.replayed:
            queue_run(session, submission_id=stored.submission.id, set_version=problem_set.version, defer=defer_code)
        if logging and not stored.replayed:
            detail = {"attempt": stored.submission.attempt}
            events.record(
                session, terms=assignment, student_id=student_id, kind=events.SUBMISSION, detail=detail, at=now
            )
    if not stored.replayed:
        metrics.SUBMISSIONS.inc()
    return stored


def _store(
    session: Session,
    insert_unless_taken: Prepared,
    parameters: dict[str, Any],
    values: dict[str, Any],
    assignment: Terms,
    lms: list[tuple[str, Sequence[object]]],
    limit: int | None,
) -> Stored:
    student_id, idempotency_key = values["student_id"], values["idempotency_key"]
    request_hash = values["request_hash"]
    for _ in range(MAX_NUMBERING_ROUNDS):
        rows = insert_unless_taken.rows(session, parameters)
        if rows:
            row = rows[0]
            if lms:
                course, assignment_id = assignment.course_id, assignment.id
                score_changes.changed(
                    session,
                    course_id=course,
                    assignment_id=assignment_id,
                    student_id=student_id,
                    found=lms,
                    new_submission=True,
                )
            return Stored(SubmissionValues(id=row["id"], attempt=row["attempt"], **values), replayed=False)
        # The number was taken by another submission of this student (or this idempotency key
        # was), or the next number is past the limit.
        if idempotency_key is not None:
            replay = _replay(session, student_id=student_id, key=idempotency_key, request_hash=request_hash)
            if replay is not None:
                return replay
        if limit is not None and _used(session, assignment, student_id) >= limit:
            raise Conflict(_limit_message(assignment))
        close = close_now(
            session,
            course_id=assignment.course_id,
            assignment_id=assignment.id,
            student_id=student_id,
            allowance=allowance_of(assignment),
        )
        if close is not None and values["submitted_at"] > close:  # the close passed, or moved, while grading
            raise Conflict(_closed_message(assignment, in_course_time(session, assignment.course_id, close)))
    raise Conflict("Too many simultaneous submissions; please retry.")


@functools.cache
def _insert_unless_taken(dialect: str, names: tuple[str, ...], *, limited: bool) -> Prepared:
    """``INSERT ... SELECT ... ON CONFLICT DO NOTHING RETURNING id, attempt``: a taken attempt
    number or idempotency key, a number past the limit (``limited``), or a submission past the
    student's close as it is when the statement runs (:func:`api.terms.closing.open_when_written`),
    yields no row.

    Built once, with a bound parameter ``new_<column>`` per value: a statement built per request
    with the answers inline costs more to build and to key for the compiled cache than the INSERT.
    """
    columns = SUBMISSIONS.c
    bound = {name: bindparam(f"new_{name}", type_=columns[name].type) for name in names}
    numbering = (
        select((func.coalesce(func.max(columns.attempt), 0) + 1).label("next"))
        .where(
            columns.course_id == bound["course_id"],
            columns.assignment_id == bound["assignment_id"],
            columns.student_id == bound["student_id"],
        )
        .subquery("numbering")
    )
    rows = select(*bound.values(), numbering.c.next)
    # (SQLite needs a WHERE in an INSERT ... SELECT ... ON CONFLICT, to tell the two ONs apart.)
    rows = rows.where(numbering.c.next <= bindparam("max_attempts", type_=Integer) if limited else true())
    rows = rows.where(
        open_when_written(
            course_id=bound["course_id"],
            assignment_id=bound["assignment_id"],
            student_id=bound["student_id"],
            at=bound["submitted_at"],
            at_less_days=bindparam("at_less_days", type_=columns["submitted_at"].type),
        )
    )
    return Prepared(
        insert_of(dialect, SUBMISSIONS)
        .from_select([*names, "attempt"], rows)
        .on_conflict_do_nothing()
        .returning(columns.id, columns.attempt)
    )


def earlier_grades(session: Session, submission_id: int) -> tuple[EarlierGrade, ...]:
    """A regraded submission's earlier grades, oldest first (as its ORM row orders them)."""
    found = select(EarlierGrade).where(EarlierGrade.submission_id == submission_id).order_by(EarlierGrade.id)
    return tuple(session.scalars(found))


def _used(session: Session, assignment: Terms, student_id: str) -> int:
    """How many submissions a student stored for an assignment."""
    columns = SUBMISSIONS.c
    counted = (
        select(func.count())
        .select_from(SUBMISSIONS)
        .where(
            columns.course_id == assignment.course_id,
            columns.assignment_id == assignment.id,
            columns.student_id == student_id,
        )
    )
    return session.scalar(counted) or 0


def _nothing_answered(problem_set: ProblemSet) -> str:
    return f"No answer given: send at least one of the keys {', '.join(problem_set.answer_keys())}."


def _closed_message(assignment: Terms, closed: str) -> str:
    """Why work past the close is refused, the close as the course states it (``closed``)."""
    return f"Assignment {assignment.id!r} closed at {closed}: no submission is accepted after it (no attempt used)."


def _limit_message(assignment: Terms) -> str:
    return f"All {assignment.max_attempts} attempts of assignment {assignment.id!r} are used."


def _refusal(
    parts: dict[str, PreviewedPart],
    unreadable: list[str],
    unknown: list[str],
    problem_set: ProblemSet,
    whole: ProblemSet,
    letters: StudentLetters,
) -> dict[str, Any]:
    """Why answers are refused; ``problem_set`` is the student's own draw of ``whole`` (an answer to
    a problem of a pool they did not get is named as such, not as a key the assignment lacks), the
    choice parts read in the student's ``letters``."""
    problems = []
    undrawn = not_drawn(whole, problem_set, unknown)
    unknown = [key for key in unknown if key not in undrawn]
    if unreadable:
        problems.append(f"{len(unreadable)} answer(s) could not be read: {', '.join(unreadable)}")
    if undrawn:
        problems.append(
            f"{', '.join(undrawn)} belong(s) to problems not drawn for you: answer only your own problems "
            f"({', '.join(problem_set.problem_ids())})"
        )
    if unknown:
        problems.append(f"the assignment has no key(s) {', '.join(unknown)}")
    return {
        "message": "Not submitted (no attempt used): " + "; ".join(problems) + ".",
        "unreadable": {key: parts[key].reason for key in unreadable},
        "unknown_keys": [*unknown, *undrawn],
        "not_drawn_keys": undrawn,
        "known_keys": problem_set.answer_keys() if unknown or undrawn else [],
        "parts": letters.parts_shown({key: part.to_json() for key, part in parts.items()}),
    }


def list_submissions(
    session: Session,
    *,
    assignment: Terms,
    student: str | None = None,
    limit: int | None = None,
    offset: int = 0,
    earlier_grades: bool = True,
) -> list[Submission]:
    """By student, then attempt: an order that is unique, so pages (``limit``, ``offset``) neither
    repeat nor skip a submission. ``earlier_grades=False`` for the reports, which never show them
    (a second statement and an object per regraded submission saved)."""
    query = (
        select(Submission)
        .where(Submission.course_id == assignment.course_id, Submission.assignment_id == assignment.id)
        .order_by(Submission.student_id, Submission.attempt)
        .offset(offset)
        .limit(limit)
    )
    if earlier_grades:
        query = query.options(selectinload(Submission.earlier_grades))
    if student is not None:
        query = query.where(Submission.student_id == student)
    return list(session.scalars(query))


@dataclass(frozen=True, slots=True)
class StoredGrade:
    """A submission as a regrade reads it: its answers, and the grade a new one would replace."""

    id: int
    student_id: str
    answers: dict[str, Any]
    parts: dict[str, Any]
    score: float
    max_score: float
    set_version: str
    graded_at: datetime

    @property
    def stamp(self) -> tuple[str, datetime]:
        """What differs once the grade was written again: every write of a grade sets ``graded_at``."""
        return (self.set_version, self.graded_at)


@dataclass(frozen=True, slots=True)
class Regraded:
    """A stored submission graded again, not yet written."""

    submission: StoredGrade
    parts: dict[str, Any]
    score: float
    max_score: float
    set_version: str
    variant: str | None

    @property
    def changed(self) -> bool:
        """Whether the grade is to be written again (its parts or its version differ)."""
        return self.parts != self.submission.parts or self.set_version != self.submission.set_version

    @property
    def score_changed(self) -> bool:
        """Whether the score differs: what a regrade reports and an LMS is sent (a grade moved to a
        new version of the set with the same score is written again, and counts for neither)."""
        return self.score != self.submission.score or self.max_score != self.submission.max_score


def submissions_to_regrade(
    session: Session, *, assignment: Terms, after: int, last: int, limit: int
) -> list[StoredGrade]:
    """The assignment's next ``limit`` submissions by id, past ``after`` and up to ``last``, with
    what :func:`regrade` needs."""
    columns = SUBMISSIONS.c
    rows = session.execute(
        select(
            columns.id,
            columns.student_id,
            columns.answers,
            columns.parts,
            columns.score,
            columns.max_score,
            columns.set_version,
            columns.graded_at,
        )
        .where(
            columns.course_id == assignment.course_id,
            columns.assignment_id == assignment.id,
            columns.id > after,
            columns.id <= last,
        )
        .order_by(columns.id)
        .limit(limit)
    )
    return [StoredGrade(*row) for row in rows]


def regrade(problem_set: ProblemSet, assignment: Terms, submissions: Sequence[StoredGrade]) -> list[Regraded]:
    """The submissions graded again against ``problem_set``: computation only (no session, no
    I/O), so that a regrade grades holding no database connection."""
    regraded = []
    for submission in submissions:
        own = own_set(problem_set, assignment, submission.student_id)
        variant = variant_of(own, assignment, submission.student_id)
        graded = grade_submission(own, submission.answers, student=variant)
        parts, score = kept_by_hand(graded.parts_json(), submission.parts, graded.score)
        if submission.set_version == problem_set.version:
            parts, score = kept_code(parts, submission.parts, score)
        regraded.append(Regraded(submission, parts, score, graded.max_score, problem_set.version, variant))
    return regraded


def kept_by_hand(parts: dict[str, Any], stored: dict[str, Any], score: float) -> tuple[dict[str, Any], float]:
    """A regrade's parts with the grades by hand of the stored ones kept: the engine leaves a written
    answer pending, and only a grader (or a rubric change) changes its grade. A written part the
    set no longer has goes with the rest of the old grade (into ``earlier_grades``)."""
    manual = {key: part for key, part in stored.items() if key in parts and isinstance(part, dict) and is_manual(part)}
    if not manual:
        return parts, score
    kept = {key: manual.get(key, part) for key, part in parts.items()}
    return kept, total(kept)


def kept_code(parts: dict[str, Any], stored: dict[str, Any], score: float) -> tuple[dict[str, Any], float]:
    """A regrade against the version a submission was graded with keeps its code parts as stored
    (their results, or their run still queued): the tests are the same, so running the code again
    could only cost time. Against another version the code parts are queued again
    (:func:`store_regrades`), since its tests may differ."""
    code = [key for key in waiting_keys(parts) if isinstance(stored.get(key), dict)]
    if not code:
        return parts, score
    kept = {key: stored[key] if key in code else part for key, part in parts.items()}
    return kept, total(kept)


def lock_for_regrade(session: Session, *, ids: Sequence[int]) -> dict[int, tuple[str, datetime]]:
    """The :attr:`StoredGrade.stamp` of each of the submissions ``ids`` still stored, their rows
    locked until the transaction ends (``FOR NO KEY UPDATE`` on PostgreSQL, taken in id order; a
    SQLite writer holds the whole database already): what a regrade compares with what it read."""
    columns = SUBMISSIONS.c
    rows = session.execute(
        select(columns.id, columns.set_version, columns.graded_at)
        .where(columns.id.in_(ids))
        .order_by(columns.id)
        .with_for_update(key_share=True)
    )
    return {row.id: (row.set_version, row.graded_at) for row in rows}


def store_regrades(
    session: Session, *, regraded: Sequence[Regraded], job_id: int | None = None, defer_code: Deferrer | None = None
) -> int:
    """The new grades written (flushed; the caller commits), the caller having checked that each
    submission is still as it was read (:func:`lock_for_regrade`): a grade that changes moves into
    ``earlier_grades`` (with ``job_id``). Returns how many changed. Written with one executemany
    per table, not an ORM object per row. Code parts graded against a new version are queued to
    run again, in this transaction (``defer_code``: :func:`submit`'s)."""
    now = datetime.now(UTC)
    changed = [new for new in regraded if new.changed]
    if not changed:
        return 0
    earlier = [
        {
            "submission_id": new.submission.id,
            "parts": new.submission.parts,
            "score": new.submission.score,
            "max_score": new.submission.max_score,
            "set_version": new.submission.set_version,
            "graded_at": new.submission.graded_at,
            "replaced_at": now,
            "note": "regrade",
            "job_id": job_id,
        }
        for new in changed
    ]
    grades = [
        {
            "id": new.submission.id,
            "parts": new.parts,
            "score": new.score,
            "max_score": new.max_score,
            "set_version": new.set_version,
            "variant": new.variant,
            "graded_at": now,
        }
        for new in changed
    ]
    session.execute(insert(EarlierGrade), earlier)
    session.execute(update(Submission), grades)  # by primary key, as one executemany
    for new in changed:
        if new.set_version != new.submission.set_version and waiting_keys(new.parts):
            queue_run(session, submission_id=new.submission.id, set_version=new.set_version, defer=defer_code)
    return len(changed)
