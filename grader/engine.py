"""The grading engine's front door: a whole submission graded against a problem set.

Pure: no files, no database, no web. Reading and grading are two steps: an answer is read
when grading needs it (its own part, or a later part that builds on it), then compared with
its reference value, with the known mistakes, and with the value that follows from the
student's own earlier answers. The comparisons of one answer share one work budget
(``grader.comparison.identity``): an answer that would spend more is ``invalid``, with a sentence.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import replace
from fractions import Fraction
from typing import Any

from grader import choice, code, written
from grader.comparison.compare import NOT_RIGHT, Comparison, agrees, compare
from grader.comparison.identity import OutOfWork, budget
from grader.comparison.mistakes import EXPLANATIONS
from grader.comparison.reference import Following, PartReference, Remembered, SetReference, reference_for
from grader.reading import Number, Read, Unreadable, read_answer
from grader.results import GradedPart, GradedSubmission, PreviewedPart, Status
from problems.kinds import JSON, AnswerKind
from problems.sets import ProblemSet

SCALARS = (AnswerKind.INTEGER, AnswerKind.REAL, AnswerKind.PERCENT)
FORMULAS = (AnswerKind.FORMULA, AnswerKind.FORMULA_SHAPE)
#: Graded parts remembered per set variant (see ``PartReference.graded``).
GRADED_CACHE = 50_000
#: Longest answer whose grade is remembered, as text or a list's ``repr`` (an 8×8 matrix of
#: decimals, the largest a course asks for), and longest the answers a follow-through grade depends
#: on may be together: an entry keeps them and the reading, so the cache's memory is bounded by
#: this times :data:`GRADED_CACHE`, and a class's answers are short.
REMEMBERED_CHARS = 1_000

Reading = Read | Unreadable | None
#: Where a part whose grading raised is reported, with its traceback (the application decides
#: where that goes); the part itself is ``invalid`` and named in ``GradedSubmission.failed``.
log = logging.getLogger("grader.engine")
GRADING_FAILED = "This answer could not be graded; ask your instructor to look at it."


def grade_submission(
    problem_set: ProblemSet, answers: Mapping[str, JSON], *, student: str | None = None, solutions: bool = False
) -> GradedSubmission:
    """Grade every part of the set (missing answers are ``unanswered``); report unknown keys. With
    ``solutions`` (the caller's answers are released), each part carries its worked steps. A code
    part is not run here: it is ``queued`` (``grader.code.grade_code`` runs it), or ``invalid`` at
    once when its source cannot be run (a syntax error), like any unreadable answer."""
    reference = reference_for(problem_set, student)
    reads = _Reads(reference, answers)
    graded: dict[str, GradedPart] = {}
    failed: list[str] = []
    for key, part_reference in reference.parts.items():
        kept = _kept(key, part_reference, answers, graded)
        if kept is not None and (cached := _recalled(part_reference.graded, kept)) is not None:
            graded[key] = cached
            continue
        try:
            graded[key] = _budgeted(key, part_reference, reads, graded, reference)
            if kept is not None:
                _remember(reference, part_reference.graded, kept, graded[key], reads[key])
        except Exception:
            log.exception("grading %s of set %s (variant %s) failed", key, problem_set.id, student)
            graded[key] = GradedPart(key, 0.0, part_reference.answer.part.points, Status.INVALID, GRADING_FAILED)
            failed.append(key)
    if reference.order:
        graded |= {key: written.received(key, part, answers.get(key)) for key, part in reference.written.items()}
        graded |= {key: code.received(key, part, answers.get(key)) for key, part in reference.code.items()}
        graded |= {key: choice.graded(key, part, answers.get(key)) for key, part in reference.choice.items()}
        graded = {key: graded[key] for key in reference.order}
    if solutions:
        graded = {key: replace(part, solution=reference.solutions.get(key)) for key, part in graded.items()}
    return GradedSubmission(problem_set.id, graded, _unknown(reference, answers), tuple(failed))


def preview_submission(
    problem_set: ProblemSet, answers: Mapping[str, JSON], *, student: str | None = None
) -> tuple[dict[str, PreviewedPart], tuple[str, ...]]:
    """How each answer was read (or why it could not be), and the keys the set does not have."""
    reference = reference_for(problem_set, student)
    previews: dict[str, PreviewedPart] = {}
    reads = _Reads(reference, answers)
    for key in reference.order or reference.parts:
        if key in reference.written:
            previews[key] = _previewed_text(written.received(key, reference.written[key], answers.get(key)))
            continue
        if key in reference.code:
            previews[key] = _previewed_text(code.received(key, reference.code[key], answers.get(key)))
            continue
        if key in reference.choice:
            previews[key] = _previewed_picks(key, choice.read_picks(reference.choice[key], answers.get(key)))
            continue
        reading = reads[key]
        if reading is None:
            previews[key] = PreviewedPart(key, readable=False, reason="No answer given.", answered=False)
        elif isinstance(reading, Unreadable):
            previews[key] = PreviewedPart(key, readable=False, reason=reading.reason)
        else:
            previews[key] = PreviewedPart(key, readable=True, read_as=reading.shown)
    return previews, _unknown(reference, answers)


def _previewed_text(received: GradedPart) -> PreviewedPart:
    """A written or code answer previewed: taken as written (shown as it was typed, by whoever
    shows it), or why not."""
    if received.status is Status.UNANSWERED:
        return PreviewedPart(received.key, readable=False, reason=received.feedback, answered=False)
    if received.status is Status.INVALID:
        return PreviewedPart(received.key, readable=False, reason=received.feedback)
    return PreviewedPart(received.key, readable=True)


def _previewed_picks(key: str, picks: choice.Picks | str | None) -> PreviewedPart:
    """A choice answer previewed: the letters it picks, or why it cannot be read."""
    if picks is None:
        return PreviewedPart(key, readable=False, reason=choice.NO_ANSWER, answered=False)
    if isinstance(picks, str):
        return PreviewedPart(key, readable=False, reason=picks)
    return PreviewedPart(key, readable=True, read_as=picks.shown)


def _kept(
    key: str, ref: PartReference, answers: Mapping[str, JSON], graded: Mapping[str, GradedPart]
) -> Remembered | Following | None:
    """What the part's grade is remembered by: its answer; for a part that follows earlier parts
    differing from the reference, its answer and theirs (a part's grade depends on its answer and
    on theirs alone: the others are not followed through, :func:`_carried_forward`). None if one of
    them is not worth remembering, or they are long together."""
    raw = answers.get(key)
    own = raw if type(raw) is str and len(raw) <= REMEMBERED_CHARS else _remembered(raw)  # most answers: text
    follows = ref.follows
    if own is None or not follows:  # most parts: the answer alone, looked up a million times a batch
        return own
    earlier = []
    for each in follows:
        if (part := graded.get(each)) is not None and _differs(part):
            remembered = _remembered(answers.get(each))
            if remembered is None:
                return None
            earlier.append((each, remembered))
    if not earlier:
        return own
    size = _chars(own) + sum(_chars(remembered) for _, remembered in earlier)
    return Following(own, tuple(earlier)) if size <= REMEMBERED_CHARS else None


def _chars(remembered: Remembered) -> int:
    value = remembered if isinstance(remembered, str) else remembered[1]
    return len(value) if isinstance(value, str) else 0


#: Grades reached before the earlier parts an answer follows are looked at (no answer, an
#: unreadable one or one that runs out of work on its own, a right one): the same whatever those
#: earlier answers were.
_FOLLOWING_NOTHING = (Status.UNANSWERED, Status.INVALID, Status.CORRECT)


def _recalled(graded: Mapping[Remembered | Following, GradedPart], kept: Remembered | Following) -> GradedPart | None:
    """The remembered grade for these answers; for an answer following earlier ones that differ
    from the reference, its grade alone where that never looked at them (a class's right answer
    to a total after wrong terms: one lookup, not a grade per combination of wrong terms)."""
    found = graded.get(kept)
    if found is None and isinstance(kept, Following):
        alone = graded.get(kept.own)
        if alone is not None and _reached_alone(alone):
            return alone
    return found


def _remember(
    reference: SetReference,
    graded: dict[Remembered | Following, GradedPart],
    kept: Remembered | Following,
    part: GradedPart,
    reading: Reading,
) -> None:
    """Keep a grade: under its answer alone when the earlier parts it follows did not count (see
    :func:`_recalled`; an answer that ran out of work may have run out following them, so only an
    unreadable one is kept alone among the invalid). A variant's grades are all forgotten when
    :data:`GRADED_CACHE` are kept."""
    if reference.remembered() >= GRADED_CACHE:
        reference.forget()
    if isinstance(kept, Following) and _followed_nothing(part, reading):
        kept = kept.own
    graded[kept] = part


def _followed_nothing(part: GradedPart, reading: Reading) -> bool:
    """Whether a grade was reached before the earlier answers were looked at."""
    return _reached_alone(part) and (part.status is not Status.INVALID or isinstance(reading, Unreadable))


def _reached_alone(part: GradedPart) -> bool:
    """Whether a grade's status is one reached without the earlier answers (none, invalid, right),
    not carried forward from them."""
    return not part.follow_through and part.status in _FOLLOWING_NOTHING


def _remembered(raw: JSON) -> Remembered | None:
    """How the cache keys one answer, None if it is not worth remembering.

    A list (a matrix or a shape sent as JSON) is keyed by its ``repr``, which tells apart every
    value the reader tells apart (``1`` and ``1.0``, ``true`` and ``1``, every float: its ``repr``
    reads back as itself); long ones are not kept."""
    if isinstance(raw, str):
        return raw if len(raw) <= REMEMBERED_CHARS else None
    if raw is None:
        return (type(None), "")
    if isinstance(raw, int | float):
        return (type(raw), raw)
    if isinstance(raw, list):
        try:
            text = repr(raw)
        except (RecursionError, ValueError):  # nested too deep; an integer too long to write out
            return None
        return (list, text) if len(text) <= REMEMBERED_CHARS else None
    return None


def is_blank(raw: JSON) -> bool:
    return raw is None or (isinstance(raw, str) and not raw.strip())


class _Reads(dict[str, Reading]):
    """Answers read on first use: a part graded from the cache is not read at all, unless a
    later part builds on it."""

    def __init__(self, reference: SetReference, answers: Mapping[str, JSON]):
        super().__init__()
        self.reference, self.answers = reference, answers

    def __missing__(self, key: str) -> Reading:
        raw, part_reference = self.answers.get(key), self.reference.parts[key]
        answer = part_reference.answer
        part = answer.part
        self[key] = (
            None
            if is_blank(raw)
            else read_answer(
                raw,
                answer.kind,
                part_reference.symbols,
                part.layout,
                square=part.square,
                dimension=part.dimension,
                unit_size=part.unit_size,
            )
        )
        return self[key]


def _unknown(reference: SetReference, answers: Mapping[str, JSON]) -> tuple[str, ...]:
    known = reference.keys
    if known.issuperset(answers):  # most submissions: no key to name
        return ()
    return tuple(key for key in answers if key not in known)


def _budgeted(
    key: str, ref: PartReference, reads: dict[str, Reading], graded: dict[str, GradedPart], reference: SetReference
) -> GradedPart:
    """The part graded within its answer's work budget; out of it, ``invalid`` with the reason
    (the budget counts work, not time: the same answer always grades the same). Only formulas
    charge it: every other kind's comparison is bounded by the size reading allows."""
    if ref.answer.kind not in FORMULAS:
        return _grade(key, ref, reads, graded, reference)
    try:
        with budget():
            return _grade(key, ref, reads, graded, reference)
    except OutOfWork as error:
        return GradedPart(key, 0.0, ref.answer.part.points, Status.INVALID, str(error))


#: Added to the feedback of a count (an integer part) given as an approximation.
EXACT_COUNT_ASKED = "An exact count was asked for: give the number itself, not an approximation (~, ≈, about)."


def _grade(
    key: str, ref: PartReference, reads: dict[str, Reading], graded: dict[str, GradedPart], reference: SetReference
) -> GradedPart:
    """The part graded, with a note when a count was hedged: the hedged value is read and graded
    as written (a hedge never changes a value), but the part asked for the exact count."""
    part = _compared(key, ref, reads, graded, reference)
    reading = reads[key]
    if (
        ref.answer.kind == AnswerKind.INTEGER
        and isinstance(reading, Read)
        and isinstance(reading.value, Number)
        and reading.value.hedged
    ):
        return replace(part, feedback=f"{part.feedback} {EXACT_COUNT_ASKED}".strip())
    return part


def _compared(
    key: str, ref: PartReference, reads: dict[str, Reading], graded: dict[str, GradedPart], reference: SetReference
) -> GradedPart:
    answer, reading = ref.answer, reads[key]
    part, points = answer.part, answer.part.points
    if reading is None:
        return GradedPart(key, 0.0, points, Status.UNANSWERED, "No answer given.")
    if isinstance(reading, Unreadable):
        return GradedPart(key, 0.0, points, Status.INVALID, reading.reason)
    verdict = compare(answer.kind, answer.value, reading.value, part)
    if verdict.right:
        return GradedPart(key, points, points, Status.CORRECT, verdict.feedback, None, reading.shown, verdict.tolerance)
    carried = _carried_forward(key, reading, ref, reads, graded, reference)
    if carried is not None:
        return GradedPart(
            key,
            round(points * part.follow_credit, 6),
            points,
            Status.CORRECT if part.follow_credit >= 1 else Status.PARTIAL,
            carried,
            None,
            reading.shown,
            verdict.tolerance,
            follow_through=True,
        )
    code = verdict.misconception or ref.mistake_for(reading.value)
    feedback = _explained(verdict, code, answer.kind)
    parting = None if code is None else reference.parting(key, code, reading.value)
    if parting is not None:
        number, theirs = parting
        feedback = f"{feedback} Your working parts from the worked solution at step {number}: {theirs.text}."
    share = max(0.0, min(verdict.share, 1.0))
    status = Status.PARTIAL if share > 0 else Status.INCORRECT
    return GradedPart(key, round(points * share, 6), points, status, feedback, code, reading.shown, verdict.tolerance)


def _explained(verdict: Comparison, code: str | None, kind: AnswerKind) -> str:
    """The feedback with the named mistake's explanation: the comparison's own detail after it
    where it has one (which sizes or elements are off), in place of a number's generic sentence."""
    if code is None:
        return verdict.feedback
    explanation = EXPLANATIONS[code]
    if verdict.misconception:
        return f"{explanation} {verdict.feedback}".strip()
    if kind in SCALARS or verdict.feedback == NOT_RIGHT:
        return explanation
    return f"{verdict.feedback} {explanation}"


def _carried_forward(
    key: str,
    reading: Read,
    ref: PartReference,
    reads: dict[str, Reading],
    graded: dict[str, GradedPart],
    reference: SetReference,
) -> str | None:
    """Feedback for an answer that is right given the student's own wrong earlier answers."""
    given = {
        k: _solver_value(earlier.value)
        for k in ref.follows
        if k in graded and _differs(graded[k]) and isinstance(earlier := reads[k], Read)
    }
    if not given:
        return None
    value = reference.problem_set.follow_through(key, given, reference.student, reference.answers)
    if value is None or not agrees(ref.answer.kind, value, reading.value, ref.answer.part):
        return None
    return f"Right for your own answer to {', '.join(given)}, which was not: credit carried forward."


_DIFFERING = (Status.INCORRECT, Status.PARTIAL)


def _differs(earlier: GradedPart) -> bool:
    """Whether an earlier answer differs from the reference: wrong, partly right, or right
    only by carrying its own earlier error forward (so a chain of parts keeps following)."""
    return earlier.follow_through or earlier.status in _DIFFERING


def _solver_value(value: Any) -> Any:
    """A read value in the form the solvers compute with (a percentage stays in percent)."""
    if isinstance(value, Number):
        number = value.value
        return number.numerator if number.denominator == 1 else Fraction(number)
    return value
