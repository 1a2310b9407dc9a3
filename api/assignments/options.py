"""Choice parts as one student reads them: the options in their own order (drawn from the
assignment's secret, like their numbers, whether or not the set varies its numbers), each with the
letter they name it by.

Two alphabets name the same options. Staff, the engine and the database use the file's letters
(``a``: the file's first option), so statistics, regrades and exports count an option by one letter
whoever picked it. A student uses the letters of the order they are shown (``a``: the first option
they see): shown the file's letters, the ids on their page would spell out the file's order, and an
instructor who lists the right option first would give the answer away. The two alphabets hold the
same letters, paired differently, so whether an answer can be read at all (its form, a letter the
part lacks, a letter twice) is the same in both: an answer is moved into the file's letters where
it arrives (:func:`api.submissions.service.submit`, practice), and what a student reads back of
it (their answers, how each was read, the right options once released) into theirs.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from string import ascii_lowercase
from typing import Any, TypeVar

from api.terms.rows import Terms
from grader.choice import Picks, read_picks
from problems.choices import ChoicePart, shown_order
from problems.sets import ProblemSet
from problems.variants import variant_key

#: A graded part as JSON (a stored part, a reply's :class:`api.submissions.schemas.GradedPartOut`).
Part = TypeVar("Part", bound=Mapping[str, object])
#: How :class:`Picks` joins the letters it read (``"a, c"``).
READ_AS_SEPARATOR = ", "


def order_key(assignment: Terms, student: str | None) -> str | None:
    """What a student's option orders are drawn from (None: the file's order, staff's view)."""
    return variant_key(student=student, secret=assignment.variant_secret)


def choice_statement(
    problem_set: ProblemSet, key: str, part: ChoicePart, drawn_from: str | None, *, own_letters: bool = False
) -> dict[str, Any]:
    """What a part statement adds for a choice part: checkboxes or not, the options in order, each
    with the file's letter (staff) or, ``own_letters``, the letter of its place (the student's)."""
    order = shown_order(problem_set.id, key, part, drawn_from)
    return {
        "kind": "choice",
        "max_length": None,
        "multiple": part.multiple,
        "all_or_nothing": part.all_or_nothing,
        "choices": [
            {"id": ascii_lowercase[place] if own_letters else option, "text": part.option(option).text}
            for place, option in enumerate(order)
        ],
    }


@dataclass(frozen=True)
class StudentLetters:
    """The letters one student names the options of a set's choice parts by: per key, the file's
    letters in the order that student is shown them (their ``a`` is ``shown[key][0]``). Of staff
    (``drawn_from`` None), and of a part without ``shuffle``, the file's letters themselves."""

    parts: Mapping[str, ChoicePart]
    shown: Mapping[str, tuple[str, ...]]

    @classmethod
    def of(cls, problem_set: ProblemSet, drawn_from: str | None) -> StudentLetters:
        """The letters of the student whose orders are drawn from ``drawn_from`` (:func:`order_key`)."""
        parts = problem_set.choice()
        return cls(parts, {key: shown_order(problem_set.id, key, part, drawn_from) for key, part in parts.items()})

    def to_file(self, key: str, raw: Any) -> Any:
        """The student's answer to ``key`` in the file's letters; an answer that picks nothing or
        cannot be read is left as sent (read the same in either alphabet, its reason quotes it)."""
        return self._moved(key, raw, lambda order, letter: order[ascii_lowercase.index(letter)])

    def to_student(self, key: str, raw: Any) -> Any:
        """An answer to ``key`` in the file's letters (as stored) in the student's letters."""
        return self._moved(key, raw, lambda order, letter: ascii_lowercase[order.index(letter)])

    def answers_to_file(self, answers: Mapping[str, Any]) -> dict[str, Any]:
        """Answers as the student sent them, with each choice part's picks in the file's letters."""
        return {key: self.to_file(key, raw) if key in self.parts else raw for key, raw in answers.items()}

    def answers_shown(self, answers: Mapping[str, Any]) -> dict[str, Any]:
        """Stored answers with each choice part's picks in the student's letters, in the order sent."""
        return {key: self.to_student(key, raw) if key in self.parts else raw for key, raw in answers.items()}

    def reference_shown(self, reference: Mapping[str, Any]) -> dict[str, Any]:
        """Reference answers (:func:`api.assignments.service.reference_answers`) with each choice
        part's right options in the student's letters, a list of them in alphabetical order."""
        shown = self.answers_shown(reference)
        return {
            key: sorted(value) if key in self.parts and isinstance(value, list) else value
            for key, value in shown.items()
        }

    def parts_shown(self, parts: Mapping[str, Part]) -> dict[str, Part]:
        """Graded or previewed parts as JSON with a choice part's ``read_as`` in the student's letters."""
        shown: dict[str, Any] = {}
        for key, part in parts.items():
            read_as = part.get("read_as") if key in self.parts else None
            shown[key] = {**part, "read_as": self.read_as_shown(key, read_as)} if isinstance(read_as, str) else part
        return shown

    def read_as_shown(self, key: str, read_as: str | None) -> str | None:
        """How a choice answer was read (``"a, c"``, the file's letters) in the student's letters."""
        if read_as is None or key not in self.parts:
            return read_as
        letters = read_as.split(READ_AS_SEPARATOR)
        order = self.shown[key]
        if not all(letter in order for letter in letters):  # (read against another version of the part)
            return read_as
        return READ_AS_SEPARATOR.join(sorted(ascii_lowercase[order.index(letter)] for letter in letters))

    def _moved(self, key: str, raw: Any, pair: Callable[[tuple[str, ...], str], str]) -> Any:
        part = self.parts.get(key)
        if part is None or not isinstance(read_picks(part, raw), Picks):
            return raw
        moved = [pair(self.shown[key], letter) for letter in picks_of(raw)]
        return moved if isinstance(raw, list) else moved[0]


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
