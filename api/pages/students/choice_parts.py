"""Choice parts on a student's assignment page: radio buttons (one pick) or checkboxes (several),
the options in the student's own order, and the picks as the form posts them (a checkbox group
posts its key once per box ticked, so its answer is the list of them)."""

from __future__ import annotations

from typing import Any

from starlette.datastructures import FormData

from api.assignments.options import picks_of
from problems.choices import ChoicePart
from problems.sets import ProblemSet


def choice_answers(form: FormData, problem_set: ProblemSet) -> dict[str, str | list[str]]:
    """Each answered choice part's picks from the posted form: a radio group's one value, a
    checkbox group's list (a part with nothing ticked is left out: unanswered)."""
    answers: dict[str, str | list[str]] = {}
    for key, part in problem_set.choice().items():
        picked = [value for value in form.getlist(key) if isinstance(value, str)]
        if picked:  # (two values for a radio group, a crafted form, go on as a list: refused, not guessed)
            answers[key] = picked if part.multiple or len(picked) > 1 else picked[0]
    return answers


def picked_text(part: ChoicePart, raw: Any) -> str:
    """The picks of an answer in the file's letters as the student read them: the options' texts
    (a page names options by their text; its letters are the inputs' values)."""
    texts = [part.option(option).text for option in picks_of(raw) if option in part.ids]
    return "; ".join(texts)
