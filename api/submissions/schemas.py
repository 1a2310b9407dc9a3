from __future__ import annotations

import math
from datetime import datetime
from typing import Annotated, Any, Literal, NotRequired

from pydantic import AfterValidator, ConfigDict, Field, WithJsonSchema, with_config
from typing_extensions import TypedDict

from api.kit.responses import ErrorBody
from api.kit.schemas import PRINTABLE_TEXT, RequestSchema, Schema, printable
from api.models import Feedback
from grader.results import Status, TestStatus

#: Bounds on one submission: generous for homework, small enough that no answer is expensive.
MAX_KEYS = 500
MAX_KEY_LENGTH = 100
#: A string answer's characters: a code part's module may be as large as the sandbox takes (1 MiB);
#: every other answer is held to its own reader's much smaller limit (``grader.reading``).
MAX_TEXT = 1 << 20
MAX_DEPTH = 6
MAX_ITEMS = 100_000


def _check_answer(value: Any, depth: int, budget: list[int]) -> None:
    budget[0] -= 1
    if budget[0] < 0:
        raise ValueError(f"more than {MAX_ITEMS} numbers in the answers")
    if isinstance(value, str):
        if len(value) > MAX_TEXT:
            raise ValueError(f"an answer is longer than {MAX_TEXT} characters")
        printable(value)
    elif value is None or isinstance(value, int):  # bool is an int
        return
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError("numbers must be finite (no NaN or Infinity)")
    elif isinstance(value, list):
        if depth >= MAX_DEPTH:
            raise ValueError(f"lists nest deeper than {MAX_DEPTH} levels")
        for item in value:
            _check_answer(item, depth + 1, budget)
    else:
        raise ValueError("an answer is a number, a string, or a (nested) list of numbers")


def check_answers(answers: dict[str, Any]) -> dict[str, Any]:
    """Bounded in size and depth, finite numbers, storable text (see the module constants)."""
    if len(answers) > MAX_KEYS:
        raise ValueError(f"more than {MAX_KEYS} answers")
    budget = [MAX_ITEMS]
    for key, value in answers.items():
        if not key or len(key) > MAX_KEY_LENGTH:
            raise ValueError(f"answer keys are 1 to {MAX_KEY_LENGTH} characters")
        printable(key)
        _check_answer(value, 0, budget)
    return answers


def answer_schema(depth: int = 0) -> dict[str, Any]:
    """The JSON schema of an answer at ``depth``: what :func:`check_answers` lets through, but for
    the total of numbers (which no JSON schema can count). One schema of several types rather than
    an ``anyOf``: each keyword applies to its type only, and generators handle it far faster."""
    kinds = ["null", "boolean", "number", "string"]
    schema: dict[str, Any] = {"type": kinds, "maxLength": MAX_TEXT, "pattern": PRINTABLE_TEXT}
    if depth < MAX_DEPTH:
        schema["type"] = [*kinds, "array"]
        schema["items"] = answer_schema(depth + 1)
    return schema


Answers = Annotated[
    dict[str, Any],
    AfterValidator(check_answers),
    WithJsonSchema(
        {
            "type": "object",
            "maxProperties": MAX_KEYS,
            "propertyNames": {"minLength": 1, "maxLength": MAX_KEY_LENGTH, "pattern": PRINTABLE_TEXT},
            "additionalProperties": answer_schema(),
            "description": "Answer key (`problem.part`) → answer: a number, a string as typed, or a list "
            f"(nested at most {MAX_DEPTH} deep; at most {MAX_ITEMS} values in all). No control characters "
            "but tab and line breaks.",
        }
    ),
]


class SubmissionIn(RequestSchema):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"answers": {"q1.shape": "126x126x16", "q1.params": "3*3*3*16 + 16"}}]},
    )

    answers: Answers


_PART_EXAMPLE: dict[str, Any] = {
    "score": 0.0,
    "max_score": 1.0,
    "status": "incorrect",
    "feedback": "You left out the bias: each of the 16 filters adds one.",
    "misconception": "bias-omitted",
    "read_as": "432",
    "tolerance": None,
    "follow_through": False,
}


@with_config(ConfigDict(extra="ignore"))
class SolutionStepOut(TypedDict):
    """One step of a worked solution: a sentence, its TeX, and the value it arrives at (the last
    step's is the reference)."""

    text: str
    tex: NotRequired[str]
    value: NotRequired[Any]


@with_config(ConfigDict(extra="ignore"))
class AppliedItemOut(TypedDict):
    """A rubric item a grader applied, as it was when applied."""

    id: int
    points: float
    text: str


@with_config(ConfigDict(extra="ignore"))
class GradingStamp(TypedDict):
    version: int
    graded_by: str | None
    graded_at: datetime


@with_config(ConfigDict(extra="ignore"))
class CodeTestOut(TypedDict):
    """One test of a code part as the reader may see it; for a student, the tests withheld from them
    (`hidden`, or `after_close` before the close) are one summary line per group, with `count` and
    `passed` and no name nor detail."""

    name: str
    status: TestStatus
    score: float
    max_score: float
    feedback: Annotated[str, Field(description="What went wrong: the first wrong position, the error's last line.")]
    misconception: Annotated[str | None, Field(description="The mistake code the wrong output matches.")]
    visibility: Literal["visible", "hidden", "after_close"]
    count: NotRequired[Annotated[int, Field(description="A summary line: how many tests it stands for.")]]
    passed: NotRequired[Annotated[int, Field(description="A summary line: how many of them passed.")]]


# The parts are TypedDicts rather than models: validating a submission's parts into objects cost
# several times more, on the busiest endpoint. Their config is their own: a TypedDict without one
# takes that of the first model it appears in.
@with_config(ConfigDict(extra="ignore", json_schema_extra={"examples": [_PART_EXAMPLE]}))
class GradedPartOut(TypedDict):
    """One graded answer, as the engine makes it (`GradedPart.to_json()`) and the database stores it."""

    score: Annotated[
        float | None,
        Field(
            description="Null while a written part is `pending`, while a code part is `queued` or `running`, and "
            "where the assignment's `feedback` (`score`, `none`) holds the part's grade back."
        ),
    ]
    max_score: float
    status: Annotated[
        Status | None,
        Field(description="Null where the assignment's `feedback` (`score`, `none`) holds the part's grade back."),
    ]
    feedback: Annotated[
        str,
        Field(
            description='Under the assignment\'s `feedback` `correctness` only "Correct." or "Not correct."; '
            "empty under `score` and `none` (until the answers are released)."
        ),
    ]
    misconception: Annotated[str | None, Field(description="The mistake code a wrong answer comes from.")]
    read_as: Annotated[str | None, Field(description="How the answer was read (null: unreadable or blank).")]
    tolerance: Annotated[str | None, Field(description="The tolerance that applied to a real answer.")]
    follow_through: Annotated[bool, Field(description="The credit came from the student's own earlier answers.")]
    solution: NotRequired[
        Annotated[
            list[SolutionStepOut],
            Field(description="The worked steps of the student's variant: once answers are released to them."),
        ]
    ]
    rubric: NotRequired[
        Annotated[list[AppliedItemOut], Field(description="A written part graded by hand: the rubric items applied.")]
    ]
    comment: NotRequired[Annotated[str, Field(description="A written part graded by hand: the grader's comment.")]]
    grading: NotRequired[
        Annotated[GradingStamp, Field(description="Staff only: the grading's version (for `If-Match`), who, when.")]
    ]
    tests: NotRequired[
        Annotated[
            list[CodeTestOut],
            Field(description="A code part once run: its tests, as the reader may see them (staff: every one)."),
        ]
    ]


GradedParts = Annotated[dict[str, GradedPartOut], Field(description="Key → graded part.")]


class EarlierGradeOut(Schema):
    score: float | None = Field(description="Null where the assignment's `feedback` `none` holds it back.")
    max_score: float
    set_version: str
    graded_at: datetime
    replaced_at: datetime
    parts: GradedParts


class SubmissionOut(Schema):
    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={
            "examples": [
                {
                    "id": 17,
                    "course": "cs231",
                    "assignment": "hw3",
                    "student": "s123",
                    "attempt": 2,
                    "score": 1.0,
                    "max_score": 2.0,
                    "parts": {
                        "q1.shape": {
                            **_PART_EXAMPLE,
                            "score": 1.0,
                            "status": "correct",
                            "feedback": "Correct.",
                            "misconception": None,
                            "read_as": "126 × 126 × 16",
                        },
                        "q1.params": _PART_EXAMPLE,
                    },
                    "submitted_at": "2026-11-20T14:03:11Z",
                    "late": False,
                    "days_late": 0,
                    "minutes_late": 0,
                    "lateness": None,
                    "penalty": 1.0,
                    "final_score": 1.0,
                    "graded_max_score": 2.0,
                    "awaiting_points": 0.0,
                    "awaiting_parts": [],
                    "answers": {"q1.shape": "126x126x16", "q1.params": "3*3*3*16"},
                    "set_version": "9ecb3e22ecf7",
                    "variant": "s123",
                    "graded_at": "2026-11-20T14:03:11Z",
                    "earlier_grades": [],
                    "reference": None,
                }
            ]
        },
    )

    id: int
    # read from a Submission row (or its SubmissionValues) by attribute
    course: str = Field(validation_alias="course_id")
    assignment: str = Field(validation_alias="assignment_id")
    student: str = Field(validation_alias="student_id")
    attempt: int
    score: float | None = Field(
        description="Null where the assignment's `feedback` is `none` and the answers are not released to the caller."
    )
    max_score: float
    parts: GradedParts
    feedback: Feedback = Field(
        default=Feedback.FULL,
        description="What the caller is shown of this attempt: the assignment's `feedback` for a student before the "
        "answers are released to them, else `full`.",
    )
    submitted_at: datetime
    late: bool = Field(
        description="Submitted after the student's due date (the assignment's, or their extension's), as they are now."
    )
    days_late: int = Field(default=0, description="Started days past the student's due date (0: on time).")
    minutes_late: int = Field(default=0, description="Whole minutes past the student's due date (0: on time).")
    lateness: str | None = Field(
        default=None,
        description='How late, in the unit of the late penalty, as the pages say it ("2 h 30 min late: 3 started '
        'hours × 10 %"); null on time.',
    )
    penalty: float = Field(
        default=1.0, description="The share of the score the late penalty leaves (1: none, 0.8: 20% off)."
    )
    final_score: float | None = Field(
        default=0.0, description="`score` × `penalty`: what the gradebook counts (null where `score` is)."
    )
    graded_max_score: float = Field(
        default=0.0,
        description="The points of the parts with a score: `score` is out of these while parts await "
        "(a written part awaiting a grader, or not released to the student; code not run yet).",
    )
    awaiting_points: float = Field(
        default=0.0, description="The points of the parts without a score yet (`max_score` − `graded_max_score`)."
    )
    awaiting_parts: list[str] = Field(
        default_factory=list, description="The keys of the parts without a score yet (their `score` is null)."
    )
    answers: dict[str, Any] = Field(
        description="The answers as sent; a choice part's picks by the reader's ids: a student's own letters, "
        "staff's the set file's."
    )
    set_version: str = Field(description="Version of the problem set the current grade was computed against.")
    variant: str | None = Field(description="Whose variant was graded (null: the set is not randomized).")
    graded_at: datetime
    earlier_grades: list[EarlierGradeOut] = Field(description="Grades replaced by regrades, oldest first.")
    reference: dict[str, Any] | None = Field(
        default=None, description="Reference answers: for instructors, and for students once released."
    )


@with_config(ConfigDict(extra="ignore"))
class PreviewPartOut(TypedDict):
    """How one answer was read, as the engine tells it (`PreviewedPart.to_json()`)."""

    readable: bool
    read_as: Annotated[str | None, Field(description="The answer as it was read.")]
    reason: Annotated[str | None, Field(description="Why it could not be read, and the form expected.")]
    answered: bool


class PreviewOut(Schema):
    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={
            "examples": [
                {
                    "parts": {
                        "q1.shape": {"readable": True, "read_as": "126 × 126 × 16", "reason": None, "answered": True},
                        "q1.params": {
                            "readable": False,
                            "read_as": None,
                            "reason": "“3*3*3*16 +” ends in an operator; write the whole expression.",
                            "answered": True,
                        },
                    },
                    "unreadable": ["q1.params"],
                    "unknown_keys": [],
                    "attempts_left": 2,
                    "obstacle": None,
                    "ready": False,
                }
            ]
        },
    )

    parts: dict[str, PreviewPartOut]
    unreadable: list[str] = Field(description="Keys whose answers could not be read; submitting now would be refused.")
    unknown_keys: list[str] = Field(description="Keys the assignment does not have.")
    attempts_left: int | None = Field(description="Attempts the caller has left (null: no limit).")
    obstacle: str | None = Field(
        description="Why submitting now would be refused although every answer reads: no attempt left, "
        "or nothing answered (null: nothing in the way)."
    )
    ready: bool = Field(description="True when a submission with these answers would be graded.")


_UNREADABLE_REASON = "“3*3*3*16 +” ends in an operator; write the whole expression."


class SubmitRefusal(ErrorBody):
    message: str
    unreadable: dict[str, str] = Field(description="Key → why its answer could not be read.")
    unknown_keys: list[str] = Field(
        description="Keys sent that the assignment does not have, or (of a set with pools) that are of problems "
        "not drawn for the student."
    )
    not_drawn_keys: list[str] = Field(
        default_factory=list,
        description="Of those, the keys of problems of a pool not drawn for the student (an answer only to "
        "their own problems is taken).",
    )
    known_keys: list[str] = Field(
        description="The student's keys when some sent were unknown or not theirs (else empty)."
    )
    parts: dict[str, PreviewPartOut] = Field(description="How each answer was read, as `/preview` shows it.")


class SubmitRefusalOut(ErrorBody):
    """The 422 of a submission with unreadable answers or unknown keys: no attempt is used."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "detail": {
                        "message": "Not submitted (no attempt used): 1 answer(s) could not be read: q1.params.",
                        "unreadable": {"q1.params": _UNREADABLE_REASON},
                        "unknown_keys": [],
                        "not_drawn_keys": [],
                        "known_keys": [],
                        "parts": {
                            "q1.params": {
                                "readable": False,
                                "read_as": None,
                                "answered": True,
                                "reason": _UNREADABLE_REASON,
                            }
                        },
                    }
                }
            ]
        },
    )

    detail: SubmitRefusal
