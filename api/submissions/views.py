"""How a stored submission reads to whoever may see it: the REST API's replies and the pages both
show a submission through :func:`to_out`, so lateness, the release of reference answers and the
feedback an assignment holds back (:mod:`api.terms.feedback`) are decided in one place."""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson
from pydantic import TypeAdapter

from api.assignments.options import StudentLetters, order_key
from api.assignments.service import reference_answers, worked_solutions
from api.models import Feedback, Submission
from api.submissions import service
from api.submissions.schemas import GradedPartOut, GradedParts, SubmissionOut
from api.terms.feedback import held_back, level_for, shows_score
from api.terms.grades import as_student_sees
from api.terms.lateness import lateness
from api.terms.rows import Terms
from api.terms.rules import is_closed
from grader.awaiting import awaiting
from grader.code import visible_tests
from grader.written import is_manual
from problems.sets import ProblemSet

PARTS: TypeAdapter[dict[str, GradedPartOut]] = TypeAdapter(GradedParts)


@dataclass(frozen=True)
class Released:
    """What a variant shows once its answers are released: the references and the worked steps."""

    reference: dict[str, Any]
    solution: dict[str, list[dict[str, Any]]]


#: The variants whose :class:`Released` the process keeps (as JSON, a few kB each), the last shown.
RELEASED_KEPT = 4096
_released: OrderedDict[tuple[str, str | None], bytes] = OrderedDict()
_released_lock = threading.Lock()


def released_of(problem_set: ProblemSet, variant: str | None) -> Released:
    """The references and worked steps of ``variant`` of the set. Worked out once per process for a
    set with a version (named by a hash of its text, so they never change) and kept for the
    :data:`RELEASED_KEPT` variants shown last: drawing a variant's numbers, solving and working it
    take about 9 ms, and a staff list of a 1,000-student class shows 500 variants (4.7 s each time
    it was asked, where its set keeps 16 variants drawn)."""
    key = (problem_set.version, variant)
    with _released_lock:
        kept = _released.get(key)
        if kept is not None:
            _released.move_to_end(key)
    if kept is None:
        found = Released(reference_answers(problem_set, variant), worked_solutions(problem_set, variant))
        if not problem_set.version:  # (a set made in code: nothing names its content)
            return found
        kept = orjson.dumps([found.reference, found.solution])
        with _released_lock:
            _released[key] = kept
            while len(_released) > RELEASED_KEPT:
                _released.popitem(last=False)
    reference, solution = orjson.loads(kept)  # (a copy of its own to each reader, as kept)
    return Released(reference, solution)


def to_out(
    submission: Submission | service.SubmissionValues,
    *,
    staff: bool,
    terms: Terms,
    problem_set: ProblemSet | None,
    references: dict[str | None, Released] | None = None,
    released_to_student: bool = False,
) -> SubmissionOut:
    """The submission as a reader (``staff`` or its student) may see it, late or not under its
    student's ``terms`` (the assignment with their extension), with the reference answers and
    worked solutions if ``staff`` or ``released_to_student``
    (:func:`api.terms.standing.released_to`, read by the caller, which may hold no connection
    here); ``references`` holds them per variant (:func:`released_of`: a list shows each variant once).
    Before the answers are released to a student, the assignment's ``feedback`` says what of the
    grade they see (:func:`api.terms.feedback.held_back`). A student reads a choice part's picks,
    how they were read and its right options in their own letters, staff in the file's
    (:mod:`api.assignments.options`)."""
    released = None
    if problem_set is not None and (staff or released_to_student):
        references = {} if references is None else references
        if submission.variant not in references:
            references[submission.variant] = released_of(problem_set, submission.variant)
        released = references[submission.variant]
        if problem_set.draws_problems:  # only the student's own problems (those the submission was graded on)
            released = Released(
                {key: value for key, value in released.reference.items() if key in submission.parts},
                {key: steps for key, steps in released.solution.items() if key in submission.parts},
            )
    out = SubmissionOut.model_validate(submission)
    if not staff and any(isinstance(part, dict) and is_manual(part) for part in submission.parts.values()):
        # grades by hand: the student's once released; who graded, and the version, are staff's
        parts, out.score = as_student_sees(terms, submission.parts, submission.score)
        out.parts = PARTS.validate_python({key: _unstamped(part) for key, part in parts.items()})
    run = {key: part for key, part in submission.parts.items() if isinstance(part, dict) and "tests" in part}
    if run:  # a code part's tests, as the reader may see them
        after_close = is_closed(terms, datetime.now(UTC))
        out.parts = PARTS.validate_python(
            {
                key: {**part, "tests": visible_tests(run[key], staff=staff, after_close=after_close)}
                if key in run
                else part
                for key, part in out.parts.items()
            }
        )
    out.reference = None if released is None else released.reference
    if not staff and problem_set is not None:  # a choice part's picks as its student names them
        letters = StudentLetters.of(problem_set, order_key(terms, submission.student_id))
        out.answers = letters.answers_shown(out.answers)
        out.parts = letters.parts_shown(out.parts)
        for earlier in out.earlier_grades:
            earlier.parts = letters.parts_shown(earlier.parts)
        out.reference = None if out.reference is None else letters.reference_shown(out.reference)
    if released is not None:  # the worked steps go with the references
        solution = released.solution
        out.parts = {
            key: {**part, "solution": solution[key]} if key in solution else part  # type: ignore[typeddict-item]
            for key, part in out.parts.items()
        }
    waiting = awaiting(out.parts)
    out.graded_max_score, out.awaiting_points = waiting.graded_max_score, waiting.points
    out.awaiting_parts = list(waiting.keys)
    late = lateness(submission.submitted_at, terms.due_at, terms.late_penalty, terms.grace_minutes)
    out.late, out.days_late, out.penalty = late.late, late.days_late, late.factor
    out.minutes_late, out.lateness = late.minutes_late, late.described or None
    out.final_score = None if out.score is None else late.applied(out.score)
    out.feedback = level_for(terms, staff=staff, released=staff or released_to_student)
    return _held_back(out)


def _held_back(out: SubmissionOut) -> SubmissionOut:
    """The reply with what its ``feedback`` level holds back taken out, earlier grades included
    (``full``, as staff and most replies read: the reply as it is, not validated again)."""
    level = out.feedback
    if level == Feedback.FULL:
        return out
    out.parts = PARTS.validate_python(held_back(out.parts, level))
    for earlier in out.earlier_grades:
        earlier.parts = PARTS.validate_python(held_back(earlier.parts, level))
        earlier.score = earlier.score if shows_score(level) else None
    if not shows_score(level):
        out.score = out.final_score = None
    return out


def _unstamped(part: Any) -> Any:
    """A stored part without its grading's stamp (version, grader, time)."""
    return {name: value for name, value in part.items() if name != "grading"} if "grading" in part else part
