"""Result types of grading: frozen dataclasses with derived totals, free of HTTP and HTML."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import NotRequired, TypedDict

from problems.kinds import JSON
from problems.solvers.steps import Step


class Status(StrEnum):
    CORRECT = "correct"
    PARTIAL = "partial"
    INCORRECT = "incorrect"
    UNANSWERED = "unanswered"
    INVALID = "invalid"
    #: A written answer no grader has graded yet (or whose grade is not released to the reader).
    PENDING = "pending"
    #: A code answer waiting for the sandbox, then being run in it: no score yet.
    QUEUED = "queued"
    RUNNING = "running"


#: The statuses whose score is not known yet: null in JSON, 0 in totals.
UNSCORED = frozenset({Status.PENDING, Status.QUEUED, Status.RUNNING})


class TestStatus(StrEnum):
    """One test of a code part: what the student's function did on its inputs."""

    __test__ = False  # a status, not a pytest test class
    CORRECT = "correct"
    INCORRECT = "incorrect"
    ERROR = "error"  # it raised: the exception's last line
    TIMEOUT = "timeout"
    MEMORY = "memory"


class TestResultJSON(TypedDict):
    """One test of a code part as JSON (``TestResult.to_json``)."""

    name: str
    status: str
    score: float
    max_score: float
    feedback: str
    misconception: str | None
    visibility: str


@dataclass(frozen=True, slots=True)
class TestResult:
    """One test of a code part, graded: ``visibility`` (``visible``, ``hidden``, ``after_close``)
    says who may read it; every test is kept here, and the caller filters what a reader sees."""

    __test__ = False  # a result, not a pytest test class

    name: str
    status: TestStatus
    score: float
    max_score: float
    feedback: str
    misconception: str | None = None
    visibility: str = "visible"

    def to_json(self) -> TestResultJSON:
        return {
            "name": self.name,
            "status": self.status.value,
            "score": self.score,
            "max_score": self.max_score,
            "feedback": self.feedback,
            "misconception": self.misconception,
            "visibility": self.visibility,
        }


class AppliedItemJSON(TypedDict):
    """A rubric item a grader applied, as JSON."""

    id: int
    points: float
    text: str


class GradedPartJSON(TypedDict):
    """A graded part as JSON (``GradedPart.to_json``); ``status`` is a ``Status`` value; ``score``
    is null while the part is ``pending``, ``queued`` or ``running``."""

    score: float | None
    max_score: float
    status: str
    feedback: str
    misconception: str | None
    read_as: str | None
    tolerance: str | None
    follow_through: bool
    #: The worked steps of the student's variant, once answers are released to them.
    solution: NotRequired[list[dict[str, JSON]]]
    #: A written part graded by hand: the rubric items applied, and the grader's comment.
    rubric: NotRequired[list[AppliedItemJSON]]
    comment: NotRequired[str]
    #: The grading's version, for ``If-Match`` (staff's view of a graded written part).
    grading: NotRequired[dict[str, JSON]]
    #: A code part run in the sandbox: every test, with its visibility (callers filter them).
    tests: NotRequired[list[TestResultJSON]]


class GradedSubmissionJSON(TypedDict):
    """A graded submission as JSON (``GradedSubmission.to_json``)."""

    set: str
    score: float
    max_score: float
    parts: dict[str, GradedPartJSON]
    unknown_keys: list[str]


class PreviewedPartJSON(TypedDict):
    """A previewed answer as JSON (``PreviewedPart.to_json``)."""

    readable: bool
    read_as: str | None
    reason: str | None
    answered: bool


@dataclass(frozen=True, slots=True)
class GradedPart:
    """One graded answer, as fixed in the contract.

    ``read_as`` is how the answer was read (None when unreadable or unanswered);
    ``tolerance`` names the tolerance that applied to a real answer;
    ``follow_through`` is true when the credit came from the student's own earlier answers;
    ``solution`` holds the worked steps of the student's variant when the caller asked for them
    (answers released), None otherwise; ``rubric`` and ``comment`` are a written part's grading
    by hand (None for a computed part, or one not graded yet); ``tests`` a code part's tests once
    run (None otherwise). A ``pending``, ``queued`` or ``running`` part scores 0 in totals and null
    in its JSON.
    """

    key: str
    score: float
    max_score: float
    status: Status
    feedback: str
    misconception: str | None = None
    read_as: str | None = None
    tolerance: str | None = None
    follow_through: bool = False
    solution: tuple[Step, ...] | None = None
    rubric: tuple[AppliedItemJSON, ...] | None = None
    comment: str | None = None
    tests: tuple[TestResult, ...] | None = None

    def to_json(self) -> GradedPartJSON:
        found: GradedPartJSON = {
            "score": None if self.status in UNSCORED else self.score,
            "max_score": self.max_score,
            "status": self.status.value,
            "feedback": self.feedback,
            "misconception": self.misconception,
            "read_as": self.read_as,
            "tolerance": self.tolerance,
            "follow_through": self.follow_through,
        }
        if self.solution is not None:
            found["solution"] = [step.to_json() for step in self.solution]
        if self.rubric is not None:
            found["rubric"] = list(self.rubric)
            found["comment"] = self.comment or ""
        if self.tests is not None:
            found["tests"] = [test.to_json() for test in self.tests]
        return found


@dataclass(frozen=True, slots=True)
class GradedSubmission:
    """Every part of a set graded; keys the set does not have are reported, not dropped.

    ``failed`` names the parts whose grading raised: a bug of ours (logged with its traceback by the
    engine), not an answer that could not be read. Both are ``invalid`` and score 0, but only
    :attr:`unreadable` parts are the student's to fix."""

    set_id: str
    parts: dict[str, GradedPart]
    unknown_keys: tuple[str, ...] = field(default=())
    failed: tuple[str, ...] = field(default=())

    @property
    def score(self) -> float:
        return round(sum([p.score for p in self.parts.values()]), 6)  # a list: summed faster than a generator

    @property
    def max_score(self) -> float:
        return sum([p.max_score for p in self.parts.values()])

    @property
    def unreadable(self) -> list[str]:
        """The answered parts that could not be read."""
        return [k for k, part in self.parts.items() if part.status is Status.INVALID and k not in self.failed]

    def previewed(self) -> dict[str, PreviewedPart]:
        """How each answer was read, as :func:`grader.engine.preview_submission` would say, from the
        grades themselves: a refused submission is not read a second time to explain itself."""
        unreadable = set(self.unreadable)
        return {
            key: PreviewedPart(key, readable=False, reason=part.feedback, answered=False)
            if part.status is Status.UNANSWERED
            else PreviewedPart(key, readable=False, reason=part.feedback)
            if key in unreadable
            else PreviewedPart(key, readable=True, read_as=part.read_as)
            for key, part in self.parts.items()
        }

    def parts_json(self) -> dict[str, GradedPartJSON]:
        return {key: part.to_json() for key, part in self.parts.items()}

    def to_json(self) -> GradedSubmissionJSON:
        return {
            "set": self.set_id,
            "score": self.score,
            "max_score": self.max_score,
            "parts": self.parts_json(),
            "unknown_keys": list(self.unknown_keys),
        }


@dataclass(frozen=True, slots=True)
class PreviewedPart:
    """How one answer was read, without grading: ``read_as`` or the reason it could not be read."""

    key: str
    readable: bool
    read_as: str | None = None
    reason: str | None = None
    answered: bool = True

    def to_json(self) -> PreviewedPartJSON:
        return {"readable": self.readable, "read_as": self.read_as, "reason": self.reason, "answered": self.answered}
