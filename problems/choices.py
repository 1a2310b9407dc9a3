"""Choice parts: a question answered by picking options (a radio group, or checkboxes with
``multiple``), each option known here by its letter in the file's order, whatever order a student
sees (a student names it by the letter of its place in their order: :mod:`api.assignments.options`).

The options are the instructor's text, so nothing here is computed: a part says which options are
right, and what a wrong one tells about the student (``misconception``, ``feedback``).
"""

from __future__ import annotations

from string import ascii_lowercase

from pydantic import BaseModel, ConfigDict, Field, model_validator

from problems.kinds import JSON
from problems.variants import seeded

#: Options a part may list: one letter each.
MAX_OPTIONS = len(ascii_lowercase)
#: A misconception code: lower-case words joined by dashes, like the built-in ones (``bias-omitted``).
CODE_PATTERN = r"^[a-z0-9]+(-[a-z0-9]+)*$"


class ChoiceOption(BaseModel):
    """One option of a choice part, as the file lists it."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    text: str = Field(
        min_length=1,
        max_length=2000,
        description="What the option says, as students read it (a matrix `[[1, 0], [0, 1]]` is typeset).",
    )
    correct: bool = Field(default=False, description="`true` for a right option.")
    misconception: str | None = Field(
        default=None,
        pattern=CODE_PATTERN,
        max_length=64,
        description="A wrong option's mistake code (`bias-omitted`, or one of the course's own), named to a "
        "student who picks it.",
    )
    feedback: str = Field(
        default="",
        max_length=2000,
        description="What a student who picks this wrong option reads (name other options by their text: each "
        "student letters them in an order of their own).",
    )


class ChoicePart(BaseModel):
    """A part answered by picking options: an option's letter (``"b"``), or with ``multiple`` a
    list of letters (``["a", "c"]``); a student's letters are those of the order they are shown."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    key: str = Field(pattern=r"^[A-Za-z0-9_]+$", description="The second half of the answer key (`most` in `q3.most`).")
    prompt: str = Field(default="", description="The question, as students read it after the statement.")
    points: float = Field(default=1.0, gt=0, le=1000, description="Points for a full answer.")
    choices: list[ChoiceOption] = Field(
        min_length=2,
        max_length=MAX_OPTIONS,
        description="The options. Staff know each by its letter in this order (`a`, `b`, ...); a student by the "
        "letter of its place in the order they are shown (`a`: the first they see), so with `shuffle` no student's "
        "letters tell this order and the right option may come first. At least one `correct: true`, no two with the "
        "same text.",
    )
    multiple: bool = Field(
        default=False,
        description="Checkboxes: any number of options may be right, and the answer is a list of letters. "
        "Without it, exactly one option is right and the answer is its letter.",
    )
    shuffle: bool = Field(
        default=True,
        description="Show the options in an order of each student's own (stable, drawn from the assignment's "
        "secret), lettered in it; `false` keeps the file's order and letters for everyone.",
    )
    all_or_nothing: bool = Field(
        default=False,
        description="With `multiple`: full points for exactly the right options, else 0. Without it, "
        "(right picks − wrong picks) / right options, never below 0.",
    )

    @model_validator(mode="after")
    def _answerable(self) -> ChoicePart:
        """One right option at least (exactly one without ``multiple``), no option twice, no
        mistake named on a right option: each would make the part grade otherwise than meant."""
        seen: dict[str, int] = {}
        for index, option in enumerate(self.choices):
            same = " ".join(option.text.split()).casefold()
            if same in seen:
                letter = ascii_lowercase[seen[same]]
                raise ValueError(f"choices.{index}.text: the same text as option {letter}: each option once")
            seen[same] = index
            if option.correct and option.misconception is not None:
                raise ValueError(f"choices.{index}.misconception: a right option names no mistake")
        right = [index for index, option in enumerate(self.choices) if option.correct]
        if not right:
            raise ValueError("choices: no option is `correct: true`: mark the right one")
        if not self.multiple and len(right) > 1:
            letters = ", ".join(ascii_lowercase[index] for index in right)
            raise ValueError(
                f"choices.{right[1]}.correct: options {letters} are all right, but the part takes one: "
                "give `multiple: true` for checkboxes"
            )
        if self.all_or_nothing and not self.multiple:
            raise ValueError("all_or_nothing: only a `multiple` part has picks to count; remove it")
        return self

    @property
    def ids(self) -> tuple[str, ...]:
        """Each option's id, its letter in the file's order."""
        return tuple(ascii_lowercase[: len(self.choices)])

    def option(self, option_id: str) -> ChoiceOption:
        return self.choices[ascii_lowercase.index(option_id)]

    @property
    def right(self) -> frozenset[str]:
        """The ids of the right options."""
        return frozenset(i for i, option in zip(self.ids, self.choices, strict=True) if option.correct)

    @property
    def right_answer(self) -> JSON:
        """The answer that scores full points, as a student sends it: a letter, or the list of them."""
        right: list[JSON] = [*sorted(self.right)]
        return right if self.multiple else right[0]


def shown_order(set_id: str, key: str, part: ChoicePart, drawn_from: str | None) -> tuple[str, ...]:
    """The option ids in the order one student sees them: the file's without ``shuffle`` or without
    a student (``drawn_from`` None: staff's view of the set), else a permutation drawn from what the
    student's other draws come from (:func:`problems.variants.variant_key`), the same every time.

    >>> part = ChoicePart(key="k", choices=[{"text": t, "correct": t == "x"} for t in "xyz"], shuffle=False)
    >>> shown_order("s", "q.k", part, "v:1")
    ('a', 'b', 'c')
    """
    if not part.shuffle or drawn_from is None:
        return part.ids
    rng = seeded(set_id, key, "choices", drawn_from)
    return tuple(part.ids[int(i)] for i in rng.permutation(len(part.ids)))
