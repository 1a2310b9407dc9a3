from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BeforeValidator, ConfigDict, Field, field_validator, model_validator
from pydantic.json_schema import SkipJsonSchema

from api.exam_room.rules import MAX_NETWORKS, MAX_PASSWORD, parse_network
from api.kit.schemas import Identifier, Name, RequestSchema, Schema, at_most, not_blank, printable, prose_schema
from api.models import DEFAULT_CATEGORY, Feedback, GradePolicy, Practice, Release


def _in_utc(moment: datetime) -> datetime:
    """Stored in UTC; a date without a timezone is taken as UTC."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    if not 1970 <= moment.year <= 9998:
        raise ValueError("the date must be between 1970 and 9998")
    return moment.astimezone(UTC)


def _text_or_datetime(value: object) -> object:
    """A due date is an ISO 8601 string, as the schema says (pydantic would also take a number)."""
    if not isinstance(value, str | datetime):
        raise ValueError("must be an ISO 8601 date and time, e.g. 2026-12-01T23:59:00Z")
    return value


DueAt = Annotated[datetime, BeforeValidator(_text_or_datetime), AfterValidator(_in_utc)]


class PerDayPenalty(RequestSchema):
    """A share of the score off per day late, down to a floor."""

    per_day: float = Field(gt=0, le=100, description="Percent of the score off per started day late.")
    floor: float = Field(default=0, ge=0, le=100, description="Late work keeps at least this percent of its score.")


class PerHourPenalty(RequestSchema):
    """A share of the score off per hour late, down to a floor."""

    per_hour: float = Field(gt=0, le=100, description="Percent of the score off per started hour late.")
    floor: float = Field(default=0, ge=0, le=100, description="Late work keeps at least this percent of its score.")


class FactorPenalty(RequestSchema):
    """One factor for any late work."""

    factor: float = Field(ge=0, le=1, description="Late work earns this share of its score (0.5: half).")


LatePenalty = PerDayPenalty | PerHourPenalty | FactorPenalty
LATE_PENALTY = (
    '`{"per_day": 10, "floor": 50}`: 10% off per started day late, never below 50% of the score; '
    '`{"per_hour": 1, "floor": 50}`: 1% off per started hour late; '
    '`{"factor": 0.5}`: late work earns half; null: late work is only marked late. Lateness counts from the '
    "due date, once past `grace_minutes`."
)
GRACE_MINUTES = (
    "Work submitted within this many minutes after the due date is not late (default 0); past them, lateness "
    "counts from the due date."
)
TIME_LIMIT = (
    "Minutes: a timed assignment. A student's clock starts at their `POST .../start` (the page's Start button) "
    "and ends at the earlier of start + limit (+ their extension's `extra_minutes`) and their close; their "
    "draft (`PUT .../draft`) is submitted for them at the end, and a submission after it is refused (409). "
    "It may not be longer than `opens_at` to `closes_at`. Null: untimed."
)
MAX_TIME_LIMIT = 7 * 24 * 60
EXTRA_MINUTES = "Minutes added to a timed assignment's `time_limit` for this student (null: none)."
CATEGORY = "The course gradebook's category it counts in: one of the course's `categories` (default `homework`)."
MAX_GRACE_MINUTES = 7 * 24 * 60
DUE_AT = (
    "ISO 8601; without a timezone it is UTC. Later submissions are accepted until `closes_at`, marked late "
    "(and lose what `late_penalty` says)."
)
OPENS_AT = "ISO 8601. Before it students neither see nor open the assignment (staff do); null: from now."
CLOSES_AT = (
    "ISO 8601, at or after `due_at`: the last moment a submission is accepted, late ones included; after it a "
    "submission is refused (409). An extension may move one student's. Null: it never closes."
)
PUBLISHED = "False: a draft, seen by staff only."
RELEASE = (
    "When students see the reference answers and worked solutions: never; after_close (the default: once the "
    "assignment is closed for everyone, extensions included); after_attempts (to each student with no attempt "
    "left or a full score); immediately (before the first attempt); after_due only where the due date is the "
    "close (refused while late work is accepted after it)."
)
FEEDBACK = (
    "What a student sees of an attempt before the answers are released to them: full (the default: each part's "
    "status, feedback, named mistake and step); correctness (each part's status and score, its feedback only "
    '"Correct." or "Not correct.": no named mistake, reading hint or worked step, and a code part\'s tests without '
    "expected or actual values); score (the total only: the parts listed with no status, score or feedback); none "
    '("submitted" and the time: no score, the parts listed with nothing graded). Once the answers are released '
    "(`release_answers`, immediately included) students see everything; staff always do. Practice opens only "
    "where the student may see everything."
)
PRACTICE = (
    "When students may practise on fresh variants (graded with feedback and worked solutions, never counted): "
    "never, after_due (once their due date has passed; the default) or always. Either way practice opens only "
    "once no student can still submit numbers it could show: on a randomized set, once nobody can submit any "
    "more (late work and extensions included) or where the answers are released immediately; on a fixed set, "
    "once the answers are released to the student."
)


ACCESS = (
    "The exam room's rules: a `password` the proctor types (a student's start, draft save and submission send it "
    "in the header `X-Exam-Password`; the page asks for it), `networks` (CIDR blocks: the client address, as the "
    "service's trusted proxy gives it, must lie in one), `one_session` (the attempt is bound to the browser "
    "session or API token that started it; another is refused until staff unlock it). Each refusal is 403 with "
    "`reason` `password`, `network` or `session`. They apply to timed and untimed assignments alike (untimed: "
    "the first save or submission starts the attempt). In `PATCH` the fields sent change, the others stay "
    "(`password: null` removes it); `access: null` removes every rule. The password is stored hashed and never "
    "shown: a reply says whether there is one."
)


#: Kept as typed (a password's spaces are its own), with a visible character, no control characters.
ExamPassword = Annotated[
    str,
    at_most(MAX_PASSWORD),
    AfterValidator(not_blank),
    AfterValidator(printable),
    prose_schema(MAX_PASSWORD, required=True, description=f"1 to {MAX_PASSWORD} characters, kept as typed."),
]


class AccessIn(RequestSchema):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"password": "room 101", "networks": ["192.0.2.0/24"], "one_session": True}]},
    )

    password: ExamPassword | None = Field(
        default=None, description="What the proctor types to let a student start or resume (null: none)."
    )
    networks: list[Annotated[str, Field(max_length=64)]] | None = Field(
        default=None,
        max_length=MAX_NETWORKS,
        description="CIDR blocks (`192.0.2.0/24`, `2001:db8::/32`) the client must be in (null or empty: anywhere).",
    )
    one_session: bool | None = Field(
        default=None, description="Bind each attempt to the session that started it (null: false)."
    )

    @field_validator("networks")
    @classmethod
    def _cidr(cls, networks: list[str] | None) -> list[str] | None:
        if networks is None:
            return None
        return [str(parse_network(network)) for network in networks]


class AccessOut(Schema):
    password: bool = Field(description="Whether a password is asked for (it is never shown).")
    networks: list[str] = Field(description="The networks a student must work from (empty: anywhere).")
    one_session: bool = Field(description="Whether an attempt is bound to the session that started it.")


class AssignmentCreate(RequestSchema):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "id": "hw3",
                    "problem_set": "conv-arithmetic",
                    "title": "Homework 3: convolution arithmetic",
                    "due_at": "2026-12-01T23:59:00Z",
                    "max_attempts": 5,
                    "closes_at": "2026-12-04T23:59:00Z",
                    "release_answers": "after_close",
                    "grade_policy": "best",
                    "late_penalty": {"per_day": 10, "floor": 50},
                }
            ]
        },
    )

    id: Identifier
    problem_set: str = Field(max_length=64, description="A set id from the course's `GET .../problem-sets`.")
    version: str | None = Field(
        default=None, max_length=64, description="One of the set's versions; the newest without it."
    )
    title: Name | None = Field(default=None, description="Defaults to the problem set's title.")
    due_at: DueAt | None = Field(default=None, description=DUE_AT)
    opens_at: DueAt | None = Field(default=None, description=OPENS_AT)
    closes_at: DueAt | None = Field(default=None, description=CLOSES_AT)
    published: bool = Field(default=True, description=PUBLISHED)
    max_attempts: int | None = Field(default=None, ge=1, le=1000, description="Null: unlimited.")
    release_answers: Release = Field(default=Release.AFTER_CLOSE, description=RELEASE)
    grade_policy: GradePolicy = Field(default=GradePolicy.BEST, description="Which attempt the gradebook counts.")
    late_penalty: LatePenalty | None = Field(default=None, description=LATE_PENALTY)
    grace_minutes: int = Field(default=0, ge=0, le=MAX_GRACE_MINUTES, description=GRACE_MINUTES)
    time_limit: int | None = Field(default=None, ge=1, le=MAX_TIME_LIMIT, description=TIME_LIMIT)
    practice: Practice = Field(default=Practice.AFTER_DUE, description=PRACTICE)
    category: Identifier = Field(default=DEFAULT_CATEGORY, description=CATEGORY)
    feedback: Feedback = Field(default=Feedback.FULL, description=FEEDBACK)
    access: AccessIn | None = Field(default=None, description=ACCESS)


class AssignmentUpdate(RequestSchema):
    """Only the fields sent change; `null` clears a date, attempt limit or late penalty; `archived`
    archives (as `DELETE` does) or restores."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"due_at": "2026-12-08T23:59:00Z", "max_attempts": 10}], "minProperties": 1},
    )

    # (``SkipJsonSchema[None]``: absent is allowed, null is not, and the schema says so)
    problem_set: Annotated[str, Field(max_length=64)] | SkipJsonSchema[None] = Field(
        default=None, description="Another set (its newest version, or `version`); only while nothing is submitted."
    )
    version: Annotated[str, Field(max_length=64)] | SkipJsonSchema[None] = Field(
        default=None, description="Another version of the set (then `POST .../regrade` regrades with it)."
    )
    title: Name | SkipJsonSchema[None] = None
    due_at: DueAt | None = Field(default=None, description=DUE_AT)
    opens_at: DueAt | None = Field(default=None, description=OPENS_AT)
    closes_at: DueAt | None = Field(default=None, description=CLOSES_AT)
    published: bool | SkipJsonSchema[None] = Field(default=None, description=PUBLISHED)
    archived: bool | SkipJsonSchema[None] = Field(
        default=None, description="True archives (hidden from students, nothing deleted); false restores."
    )
    max_attempts: int | None = Field(default=None, ge=1, le=1000, description="Null: unlimited.")
    release_answers: Release | SkipJsonSchema[None] = Field(default=None, description=RELEASE)
    grade_policy: GradePolicy | SkipJsonSchema[None] = None
    late_penalty: LatePenalty | None = Field(default=None, description=LATE_PENALTY)
    grace_minutes: Annotated[int, Field(ge=0, le=MAX_GRACE_MINUTES)] | SkipJsonSchema[None] = Field(
        default=None, description=GRACE_MINUTES
    )
    time_limit: int | None = Field(default=None, ge=1, le=MAX_TIME_LIMIT, description=TIME_LIMIT)
    practice: Practice | SkipJsonSchema[None] = Field(default=None, description=PRACTICE)
    category: Identifier | SkipJsonSchema[None] = Field(default=None, description=CATEGORY)
    feedback: Feedback | SkipJsonSchema[None] = Field(default=None, description=FEEDBACK)
    access: AccessIn | None = Field(default=None, description=ACCESS)

    @model_validator(mode="after")
    def _something_and_no_null_where_none_fits(self) -> AssignmentUpdate:
        if not self.model_fields_set:
            raise ValueError("send at least one field to change")
        for name in (
            *("problem_set", "version", "title", "release_answers", "grade_policy", "practice"),
            *("published", "archived", "grace_minutes", "category", "feedback"),
        ):
            if name in self.model_fields_set and getattr(self, name) is None:
                raise ValueError(f"{name} cannot be null")
        return self

    def changes(self) -> dict[str, Any]:
        """The fields sent besides the set, as stored (enums by value, penalties as objects)."""
        sent = self.model_dump(include=self.model_fields_set - {"problem_set", "version"}, mode="json")
        for name in ("due_at", "opens_at", "closes_at"):
            if name in sent:
                sent[name] = getattr(self, name)
        if "access" in sent:  # (only the rules sent change)
            sent["access"] = None if self.access is None else self.access.model_dump(exclude_unset=True)
        return sent


class ExtensionIn(RequestSchema):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"due_at": "2026-12-05T23:59:00Z", "max_attempts": 8}],
            # at least one of the two, not null
            "anyOf": [
                {"required": ["due_at"], "properties": {"due_at": {"type": "string"}}},
                {"required": ["max_attempts"], "properties": {"max_attempts": {"type": "integer"}}},
                {"required": ["closes_at"], "properties": {"closes_at": {"type": "string"}}},
                {"required": ["extra_minutes"], "properties": {"extra_minutes": {"type": "integer"}}},
            ],
        },
    )

    due_at: DueAt | None = Field(default=None, description="The student's own due date (null: the assignment's).")
    max_attempts: int | None = Field(
        default=None, ge=1, le=1000, description="The student's own attempt limit (null: the assignment's)."
    )
    closes_at: DueAt | None = Field(
        default=None,
        description="The student's own close (null: the assignment's, moved to their due date if that is later).",
    )
    extra_minutes: int | None = Field(default=None, ge=1, le=MAX_TIME_LIMIT, description=EXTRA_MINUTES)

    @model_validator(mode="after")
    def _something(self) -> ExtensionIn:
        if self.due_at is None and self.max_attempts is None and self.closes_at is None and self.extra_minutes is None:
            raise ValueError(
                "give a due_at, a max_attempts or a closes_at, or extra_minutes on a timed assignment "
                "(DELETE removes an extension)"
            )
        return self


class ExtensionOut(Schema):
    student: str | None = None
    due_at: datetime | None
    max_attempts: int | None
    closes_at: datetime | None = None
    extra_minutes: int | None = Field(default=None, description=EXTRA_MINUTES)


class AssignmentOut(Schema):
    course: str
    id: str
    title: str
    problem_set: str
    set_version: str | None = Field(description="The version (content hash) of the set the assignment grades with.")
    due_at: datetime | None
    opens_at: datetime | None = Field(default=None, description=OPENS_AT)
    closes_at: datetime | None = Field(default=None, description=CLOSES_AT)
    published: bool = Field(default=True, description=PUBLISHED)
    archived_at: datetime | None = Field(default=None, description="When it was archived (null: it is in use).")
    max_attempts: int | None
    release_answers: Release = Field(description=RELEASE)
    grade_policy: GradePolicy
    late_penalty: dict[str, Any] | None = Field(description=LATE_PENALTY)
    grace_minutes: int = Field(default=0, description=GRACE_MINUTES)
    time_limit: int | None = Field(default=None, description=TIME_LIMIT)
    practice: Practice = Field(description=PRACTICE)
    category: str = Field(default=DEFAULT_CATEGORY, description=CATEGORY)
    feedback: Feedback = Field(default=Feedback.FULL, description=FEEDBACK)
    access: AccessOut | None = Field(default=None, description=ACCESS)
    answers_released: bool = Field(
        description="Whether the reference answers are released now: to the calling student; for staff, to every "
        "student (with after_attempts, each student's own: false here)."
    )
    grades_released_at: datetime | None = Field(
        default=None, description="When the grades of written parts were released to students (null: not yet)."
    )
    grades_released_parts: dict[str, datetime] = Field(
        default_factory=dict,
        description="The written parts whose grades were released on their own, before every part's: key → when.",
    )
    created_at: datetime
    attempts_used: int | None = Field(default=None, description="For a student: attempts stored so far.")
    extension: ExtensionOut | None = Field(
        default=None, description="For a student: their own due date or attempt limit, if they were granted one."
    )
    variant_secret: str | None = Field(
        default=None,
        description="For instructors: what students' variants are drawn with; `grader problems show SET "
        "--secret S --student ID` reproduces a student's numbers offline. Null for students, and for "
        "assignments made before variants had secrets (drawn from the student id).",
    )


class ChoiceStatement(Schema):
    id: str = Field(description="The option's letter in the set file's order: what an answer names (`\"b\"`).")
    text: str


class PartStatement(Schema):
    key: str
    prompt: str
    points: float
    kind: str | None = Field(
        description="The answer's kind (`integer`, `shape`, ...); `text` for a written part; `code` for a module "
        "run on tests; `choice` for options to pick from."
    )
    max_length: int | None = Field(default=None, description="A written part: the longest answer taken, in characters.")
    multiple: bool | None = Field(
        default=None,
        description="A choice part: true when several options may be picked (the answer is a list of ids), "
        "false when one is (the answer is its id).",
    )
    all_or_nothing: bool | None = Field(
        default=None,
        description="A choice part of several picks: true when only exactly the right options score (else right "
        "picks − wrong picks over the right options, never below 0).",
    )
    choices: list[ChoiceStatement] | None = Field(
        default=None, description="A choice part: its options, in the order this student is shown them."
    )


class ProblemStatement(Schema):
    id: str
    title: str
    statement: str
    parts: list[PartStatement]


class AssignmentDetail(AssignmentOut):
    variant: str | None = Field(description="Whose variant the statements are (null: the declared numbers).")
    drawn: list[str] | None = Field(
        default=None,
        description="For a set with pools or `shuffle`: the ids of the problems drawn for this student, in "
        "their order (the `problems` listed); null: every student has every problem.",
    )
    max_score: float = Field(description="The points of the problems listed (of a student's own draw).")
    problems: list[ProblemStatement] = Field(
        description="The statements; empty for a student on a timed assignment until they start it (`POST .../start`), "
        "and where the assignment's `access` rules do not let the caller in (send `X-Exam-Password`; a locked "
        "session reads none)."
    )
    reference: dict[str, Any] | None = Field(
        default=None, description="Reference answers by key: for instructors, and for students once released."
    )


class SetIssueOut(Schema):
    line: int | None
    column: int | None
    field: str | None
    message: str


class SetCheckOut(Schema):
    """A version's check: its code parts' solutions and declared mistakes run on their tests, by a job."""

    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={
            "examples": [
                {
                    "status": "failed",
                    "issues": [
                        {
                            "line": 41,
                            "column": 13,
                            "field": "conv.forward.tests.1",
                            "message": "the solution fails the test 'padded': incorrect: ...",
                        }
                    ],
                    "job": 18,
                    "done": 9,
                    "total": 9,
                    "seconds": 1.4,
                    "started_at": "2026-11-27T16:00:01Z",
                    "finished_at": "2026-11-27T16:00:03Z",
                }
            ]
        },
    )

    status: Literal["queued", "running", "passed", "failed"] = Field(
        description="`queued` or `running` until the job is over; an assignment may use the version once `passed`. "
        "A version without code parts (and a built-in one) passes as it is stored."
    )
    issues: list[SetIssueOut] = Field(description="A failed check's issues, each at its line of the file, as a 422.")
    job: int | None = Field(description="Its job (`GET /api/v1/jobs/{id}`); null for a version passed as stored.")
    done: int = Field(description="Sandbox runs made so far.")
    total: int | None = Field(description="Sandbox runs the check makes at most (known once it starts).")
    seconds: float | None = Field(description="Sandbox wall seconds it used, counted against its instructor's budget.")
    started_at: datetime | None = None
    finished_at: datetime | None = None


class ProblemSetOut(Schema):
    id: str
    title: str
    version: str = Field(description="This version (the newest the course may use, in the list).")
    built_in: bool = Field(description="A set of the built-in library (else one the course uploaded).")
    versions: list[str] = Field(description="Every version the course may use, oldest first.")
    randomized: bool
    source: str
    keys: list[str]
    max_score: float
    check: SetCheckOut = Field(description="This version's check: an assignment may use it once `passed`.")


class SetRefusalOut(Schema):
    detail: list[SetIssueOut] = Field(description="Each problem of the file, at its line and column.")


class SetPreview(Schema):
    id: str
    version: str
    variant: str | None = Field(description="What the variant is drawn from (null: the declared numbers).")
    max_score: float
    problems: list[ProblemStatement]
    reference: dict[str, Any]
