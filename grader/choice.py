"""Grading choice parts: an answer read as the option ids it picks (or why it cannot be), then
scored against the options the file marks right. Pure, like the rest of the engine.

A ``multiple`` part scores (right picks − wrong picks) / right options, never below 0, unless
``all_or_nothing``; a part of one option is right or not. A wrong option the student picked is
named like any mistake: its ``misconception`` and ``feedback``.
"""

from __future__ import annotations

from dataclasses import dataclass

from grader.comparison.mistakes import EXPLANATIONS
from grader.results import GradedPart, Status
from problems.choices import ChoicePart
from problems.kinds import JSON

NO_ANSWER = "No answer given."
RIGHT = "Correct."
NOT_RIGHT = "Not correct."


@dataclass(frozen=True)
class Picks:
    """The option ids an answer picks, in the file's order."""

    ids: tuple[str, ...]

    @property
    def shown(self) -> str:
        return ", ".join(self.ids)


def expected_form(part: ChoicePart) -> str:
    """The sentence saying what an answer to this part is."""
    if part.multiple:
        return f'Send a list of the letters you pick, e.g. ["a", "c"], among {_letters(part)}.'
    return f'Send the letter of one option, e.g. "b", among {_letters(part)}.'


def _letters(part: ChoicePart) -> str:
    return ", ".join(part.ids)


def read_picks(part: ChoicePart, raw: JSON) -> Picks | str | None:
    """The ids an answer picks; None when it picks nothing (blank, an empty list); else the
    sentence why it cannot be read: not the form the part takes, an id it does not have, an id
    twice. Ids are letters; ``" B "`` is ``b``."""
    if raw is None or raw == [] or (isinstance(raw, str) and not raw.strip()):
        return None
    if part.multiple and not isinstance(raw, list):
        return f"This part takes several options as a list of letters, not {_kind(raw)}. {expected_form(part)}"
    if not part.multiple and not isinstance(raw, str):
        return f"This part takes one option's letter as text, not {_kind(raw)}. {expected_form(part)}"
    given = raw if isinstance(raw, list) else [raw]
    picked: list[str] = []
    for item in given:
        if not isinstance(item, str):
            return f"Each pick is a letter as text, not {_kind(item)}. {expected_form(part)}"
        option = item.strip().lower()
        if option not in part.ids:
            return f"“{item[:20]}” is not one of this part's options. {expected_form(part)}"
        if option in picked:
            return f"“{option}” is picked twice: pick each option once."
        picked.append(option)
    return Picks(tuple(sorted(picked)))


def _kind(raw: JSON) -> str:
    if isinstance(raw, bool):
        return "true or false"
    if isinstance(raw, int | float):
        return "a number"
    if isinstance(raw, list):
        return "a list"
    if isinstance(raw, dict):
        return "an object"
    return "text"


def share(part: ChoicePart, picks: Picks) -> float:
    """The share of the points the picks earn.

    >>> part = ChoicePart(key="k", multiple=True, choices=[{"text": t, "correct": t in "ac"} for t in "abcd"])
    >>> share(part, Picks(("a", "c"))), share(part, Picks(("a", "b"))), share(part, Picks(("a",)))
    (1.0, 0.0, 0.5)
    """
    chosen = set(picks.ids)
    if not part.multiple or part.all_or_nothing:
        return 1.0 if chosen == part.right else 0.0
    right, wrong = len(chosen & part.right), len(chosen - part.right)
    return max(0.0, (right - wrong) / len(part.right))


def graded(key: str, part: ChoicePart, raw: JSON) -> GradedPart:
    """The part graded: ``unanswered``, ``invalid`` with the form expected, or scored with the
    first named mistake among the wrong options picked (the file's order) and their feedback."""
    picks = read_picks(part, raw)
    if picks is None:
        return GradedPart(key, 0.0, part.points, Status.UNANSWERED, NO_ANSWER)
    if isinstance(picks, str):
        return GradedPart(key, 0.0, part.points, Status.INVALID, picks)
    earned = share(part, picks)
    score = round(part.points * earned, 6)
    if earned >= 1:
        return GradedPart(key, score, part.points, Status.CORRECT, RIGHT, None, picks.shown)
    wrong = [part.option(i) for i in picks.ids if i not in part.right]
    code = next((option.misconception for option in wrong if option.misconception), None)
    said = [option.feedback or EXPLANATIONS.get(option.misconception or "", "") for option in wrong]
    notes = [text for text in said if text]
    if part.multiple:
        notes.append(_tally(part, picks))
    feedback = " ".join(notes) or NOT_RIGHT
    status = Status.PARTIAL if earned > 0 else Status.INCORRECT
    return GradedPart(key, score, part.points, status, feedback, code, picks.shown)


def _tally(part: ChoicePart, picks: Picks) -> str:
    """How many right options were picked and how many wrong ones, without saying which."""
    right = len(set(picks.ids) & part.right)
    wrong = len(picks.ids) - right
    scored = " (all or nothing)" if part.all_or_nothing else ""
    return (
        f"{right} of the {len(part.right)} right option{'s' if len(part.right) != 1 else ''} picked, "
        f"{wrong} wrong option{'s' if wrong != 1 else ''} picked{scored}."
    )
