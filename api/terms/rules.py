"""The rules that read one student's terms (:func:`api.terms.rows.with_extension`): whether students
see the assignment, whether a submission is late or past the close, whether the reference answers
and worked solutions are shown, whether practice is open; and which terms may be set at all."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from api.models import Feedback, Practice, Release
from api.terms.lateness import is_late as late_at
from api.terms.rows import Terms


def visible_to_students(terms: Terms, now: datetime | None = None) -> bool:
    """Students see an assignment once it is published and open, until it is archived: before
    ``opens_at`` they neither see nor open it (staff always do)."""
    now = now or datetime.now(UTC)
    return terms.published and terms.archived_at is None and (terms.opens_at is None or now >= terms.opens_at)


def is_late(terms: Terms, at: datetime) -> bool:
    """Past the due date and its grace period (:func:`api.terms.lateness.is_late`)."""
    return late_at(at, terms.due_at, terms.grace_minutes)


def is_closed(terms: Terms, at: datetime) -> bool:
    """Whether a submission made at ``at`` comes after the student's close (``closes_at`` is the
    last moment one is accepted; without it the assignment never closes)."""
    return terms.closes_at is not None and at > terms.closes_at


@dataclass(frozen=True, slots=True)
class Standing:
    """What the release of answers reads beyond one student's terms, each read only when the rule
    asks for it (:func:`api.terms.standing.standing`): whether the assignment has closed for every
    student at ``now``, extensions included; whether this student has no attempt left or a full
    score."""

    closed_for_everyone: Callable[[datetime], bool]
    finished: Callable[[], bool]


def without_extensions(terms: Terms) -> Standing:
    """The standing of an assignment no extension was granted for yet (a new one), for no student
    in particular: closed for everyone once its own close has passed."""
    close = terms.closes_at
    return Standing(closed_for_everyone=lambda now: close is not None and now > close, finished=lambda: False)


def answers_released(terms: Terms, standing: Standing, now: datetime | None = None) -> bool:
    """``immediately``: always; ``after_close`` (and ``after_due``, which is only allowed where the
    due date is the close): once the assignment is closed for everyone, extensions included, so that
    nobody who may still submit sees answers a classmate was shown; ``after_attempts``: to a student
    with no attempt left or a full score; ``never``: never."""
    now = now or datetime.now(UTC)
    match terms.release_answers:
        case Release.IMMEDIATELY:
            return True
        case Release.AFTER_CLOSE | Release.AFTER_DUE:
            return nobody_can_submit(terms, standing, now)
        case Release.AFTER_ATTEMPTS:
            return standing.finished()
    return False


def nobody_can_submit(terms: Terms, standing: Standing, now: datetime) -> bool:
    """Whether the assignment is closed for every student at ``now``: its own close has passed and
    every extension's too (late work included; never, where it never closes)."""
    return terms.closes_at is not None and now > terms.closes_at and standing.closed_for_everyone(now)


def references_shown(terms: Terms, *, staff: bool, standing: Standing, now: datetime | None = None) -> bool:
    """The one rule for showing reference answers and worked solutions, in the REST API, the pages
    and every export: staff always see them; a student under their own ``terms`` (the assignment
    with their extension) once :func:`answers_released` says so."""
    return staff or answers_released(terms, standing, now)


def practice_open(terms: Terms, *, randomized: bool, standing: Standing, now: datetime | None = None) -> bool:
    """Whether a student may practise under their own ``terms`` (extension included).

    ``practice`` says when the student wants it: ``always``; ``after_due`` once their due date has
    passed (never without one); ``never``: never. But practice shows worked solutions, and its
    variants are drawn from the same ranges as the graded ones, so a practice variant may be the
    numbers of a graded one (a small space: 1,296 variants of a set is one student found by
    clicking). It therefore opens only when no student can still submit numbers it could show
    without holding their answers already:

    - a ``randomized`` set: once nobody can submit any more (:func:`nobody_can_submit`, late work
      and extensions included), or where the answers are released ``immediately`` (every student
      sees their own already); and only with the assignment's variant secret, which signs the
      practice addresses (an assignment made before secrets has none);
    - a fixed set, whose one variant is the graded one: once its answers are released to this
      student (:func:`answers_released`).

    Practice shows everything (each part's feedback, the named mistake, the worked steps), so where
    the assignment holds feedback back (``feedback`` other than ``full``) it opens only once the
    answers are released to this student: a fresh variant's feedback would tell what an attempt's
    hides."""
    now = now or datetime.now(UTC)
    after_due = terms.practice == Practice.AFTER_DUE and terms.due_at is not None and now >= terms.due_at
    if not (terms.practice == Practice.ALWAYS or after_due):
        return False
    if terms.feedback != Feedback.FULL and not answers_released(terms, standing, now):
        return False
    if not randomized:
        return answers_released(terms, standing, now)
    if terms.variant_secret is None:
        return False
    return terms.release_answers == Release.IMMEDIATELY or nobody_can_submit(terms, standing, now)


def schedule_problems(
    *,
    due_at: datetime | None,
    opens_at: datetime | None,
    closes_at: datetime | None,
    release_answers: str,
    show: Callable[[datetime], str] | None = None,
    time_limit: int | None = None,
    now: datetime | None = None,
) -> list[tuple[str, str]]:
    """Why these terms cannot be set, each with the field it is about (empty: they can): dates out
    of order, answers released at the due date while late work is still accepted after it (a
    late student would see them beside open inputs), and a time limit longer than the assignment
    is open (nobody could use it all): from ``opens_at``, or from ``now`` where it opens earlier
    or has no opening (``now``: the limit or the dates are being set now; None: not checked from
    now, so that changing another field of a running exam near its close is not refused). ``show``
    writes a date (a page: in the course's zone; ISO 8601 in UTC without it)."""
    show = show or iso
    due, closes, opens = due_at, closes_at, opens_at
    problems = []
    if closes is not None and due is not None and closes < due:
        problems.append(
            (
                "closes_at",
                f"The close ({show(closes)}) is before the due date ({show(due)}): it must be at or after it.",
            )
        )
    if opens is not None and closes is not None and opens >= closes:
        problems.append(("opens_at", f"The opening ({show(opens)}) is not before the close ({show(closes)})."))
    elif opens is not None and due is not None and opens >= due:
        problems.append(("opens_at", f"The opening ({show(opens)}) is not before the due date ({show(due)})."))
    if release_answers == Release.AFTER_DUE and (closes is None or due is None or closes > due):
        problems.append(
            (
                "release_answers",
                "release_answers after_due would show the answers while late work is still accepted; use "
                "after_close (answers once the assignment is closed for everyone), or set closes_at to the due date.",
            )
        )
    if now is not None and (opens is None or opens < now):
        opens = now  # (open from now on: the time that is left)
    if time_limit is not None and opens is not None and closes is not None and opens < closes:
        open_minutes = (closes - opens).total_seconds() / 60
        if time_limit > open_minutes:
            shown_minutes = f"{open_minutes:g}" if opens is opens_at else f"{open_minutes:.0f}"
            problems.append(
                (
                    "time_limit",
                    f"The time limit ({time_limit} minutes) is longer than the assignment is open "
                    f"({'now' if opens is not opens_at else show(opens)} to {show(closes)}, {shown_minutes} minutes): "
                    "shorten it or widen the dates.",
                )
            )
    return problems


def iso(moment: datetime) -> str:
    """ISO 8601 in UTC, as the REST API writes dates."""
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")
