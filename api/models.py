"""The tables, as typed SQLAlchemy 2 models.

Accounts are global (an account may be a student in one course and a TA in another); what they
may do in a course is their :class:`Membership`'s role. Every row a course owns carries its
``course_id``: assignments are keyed by (course, id), so two courses may both have a ``hw1``.

One submission row is one atomic, auditable submission: the raw answers as sent, the graded
parts, the problem-set version and variant they were graded against, time, attempt number and
late flag. A regrade moves the earlier grade into :class:`EarlierGrade` before replacing it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    Float,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    false,
    text,
    true,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from api.kit.zones import DEFAULT_TIME_ZONE

#: Constraint names fixed by convention, so migrations can name (and drop) them on every backend.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC datetime on every backend (SQLite stores it naive, in UTC)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is UTC:  # (PostgreSQL's, in the service's sessions: api.kit.db)
            return value
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UTCDateTime(), dict[str, Any]: JSON(), list[Any]: JSON()}


class Role(StrEnum):
    """What an account may do outside any course: ``instructor`` accounts create courses, ``admin``
    may do anything in every course."""

    ADMIN = "admin"
    INSTRUCTOR = "instructor"
    STUDENT = "student"


class CourseRole(StrEnum):
    """What a member may do in one course: ``owner`` and ``instructor`` run it, ``ta`` reads
    everything and grants extensions, ``student`` sees their own work."""

    OWNER = "owner"
    INSTRUCTOR = "instructor"
    TA = "ta"
    STUDENT = "student"


class Release(StrEnum):
    """When students may see the reference answers and worked solutions of an assignment
    (:func:`api.terms.rules.answers_released`)."""

    NEVER = "never"
    #: Allowed only where the due date is the close (no late work after it): as ``after_close``.
    AFTER_DUE = "after_due"
    #: Once the assignment is closed for everyone, extensions included (the default).
    AFTER_CLOSE = "after_close"
    #: To each student once they have no attempt left or a full score.
    AFTER_ATTEMPTS = "after_attempts"
    IMMEDIATELY = "immediately"


class Practice(StrEnum):
    """When students may practise an assignment on fresh variants (nothing counts): never, once
    their due date has passed (the default), or always; in either case only once no student can
    still submit numbers practice could show (:func:`api.terms.rules.practice_open`)."""

    NEVER = "never"
    AFTER_DUE = "after_due"
    ALWAYS = "always"


class Feedback(StrEnum):
    """What a student sees of an attempt before the answers are released to them
    (:func:`api.terms.feedback.held_back`); released answers show everything."""

    #: Each part's status, feedback, named mistake and step (the default).
    FULL = "full"
    #: Each part's status and score, its feedback only "Correct."/"Not correct.", no mistake named.
    CORRECTNESS = "correctness"
    #: The total only: the parts listed with no status, score or feedback.
    SCORE = "score"
    #: "Submitted" and the time: nothing graded shown.
    NONE = "none"


class GradePolicy(StrEnum):
    """Which attempt counts in the gradebook."""

    BEST = "best"
    LAST = "last"


def _values(enum: type[StrEnum]) -> str:
    return ", ".join(f"'{member.value}'" for member in enum)


class User(Base):
    __tablename__ = "users"
    __table_args__ = (CheckConstraint(f"role IN ({_values(Role)})", name="role"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(320))
    role: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: The course whose roster import created the account (None: made by an admin, or before this
    #: was recorded); see :func:`api.courses.service.replace_member_token`.
    created_in: Mapped[str | None] = mapped_column(ForeignKey("courses.id", ondelete="SET NULL", use_alter=True))

    tokens: Mapped[list[ApiToken]] = relationship(back_populates="user", cascade="all, delete-orphan")


class ApiToken(Base):
    """An API token, stored only as its SHA-256 (see :mod:`api.auth.tokens`)."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    #: What its holder called it (``/account``); a roster import's token is the account's first.
    name: Mapped[str] = mapped_column(String(100), default="first token")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: When it last opened a request, to the hour (:class:`api.users.tokens.TokenUses`).
    last_used_at: Mapped[datetime | None]

    user: Mapped[User] = relationship(back_populates="tokens")


#: The course gradebook's one category until its staff choose others, and every assignment's until set.
DEFAULT_CATEGORY = "homework"
#: A course's time zone until its staff choose one.


class DatesFrom(StrEnum):
    """Which side owns a course's dates when it is linked to an LMS (:mod:`api.lti.dates`)."""

    #: The dates set here: the LMS's line items are sent them (``startDateTime``, ``endDateTime``).
    GRADER = "grader"
    #: The LMS's: a student's due date at a launch is their extension here.
    LMS = "lms"


class Course(Base):
    """A course. Instants are stored in UTC; ``time_zone`` (an IANA name, checked by
    :mod:`api.kit.zones` before it is stored) is the zone its pages show and read dates in."""

    __tablename__ = "courses"
    __table_args__ = (CheckConstraint(f"dates_from IN ({_values(DatesFrom)})", name="dates_from"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    created_by: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    time_zone: Mapped[str] = mapped_column(String(64), default=DEFAULT_TIME_ZONE, server_default=DEFAULT_TIME_ZONE)
    #: The gradebook's categories, ``[{"name", "weight", "drop_lowest"}]`` (weights in percent summing
    #: to 100, checked by :mod:`api.coursebook.categories` before they are stored); null: one
    #: category ``homework`` of weight 100.
    categories: Mapped[list[Any] | None]
    #: Which side owns the dates when the course is linked to an LMS (:class:`DatesFrom`).
    dates_from: Mapped[str] = mapped_column(
        String(8), default=DatesFrom.GRADER.value, server_default=DatesFrom.GRADER.value
    )


class Membership(Base):
    """An account's role in a course. Dropping a member deletes the row; their submissions stay."""

    __tablename__ = "memberships"
    __table_args__ = (CheckConstraint(f"role IN ({_values(CourseRole)})", name="role"),)

    course_id: Mapped[str] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True)
    role: Mapped[str] = mapped_column(String(16))
    joined_at: Mapped[datetime] = mapped_column(default=utcnow)


class Assignment(Base):
    __tablename__ = "assignments"
    __table_args__ = (
        CheckConstraint("max_attempts IS NULL OR max_attempts >= 1", name="max_attempts_positive"),
        CheckConstraint(f"release_answers IN ({_values(Release)})", name="release_answers"),
        CheckConstraint(f"grade_policy IN ({_values(GradePolicy)})", name="grade_policy"),
        CheckConstraint(f"practice IN ({_values(Practice)})", name="practice"),
        CheckConstraint(f"feedback IN ({_values(Feedback)})", name="feedback"),
        CheckConstraint("closes_at IS NULL OR due_at IS NULL OR closes_at >= due_at", name="closes_after_due"),
        CheckConstraint("opens_at IS NULL OR closes_at IS NULL OR opens_at < closes_at", name="opens_before_close"),
        CheckConstraint("grace_minutes >= 0", name="grace_minutes_not_negative"),
        CheckConstraint("time_limit IS NULL OR time_limit >= 1", name="time_limit_positive"),
    )

    course_id: Mapped[str] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"), primary_key=True)
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    problem_set: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(200))
    due_at: Mapped[datetime | None]
    max_attempts: Mapped[int | None] = mapped_column(Integer)
    release_answers: Mapped[str] = mapped_column(String(16), default=Release.AFTER_CLOSE.value)
    grade_policy: Mapped[str] = mapped_column(String(8), default=GradePolicy.BEST.value)
    created_by: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: What students' variants are drawn with (``problems.variants.variant_key``), so that nobody
    #: can recompute them offline from a student id; NULL for assignments made before it existed.
    variant_secret: Mapped[str | None] = mapped_column(String(64))
    #: ``{"per_day": P, "floor": F}`` (P% off per day late, never below F% of the score),
    #: ``{"per_hour": P, "floor": F}`` (the same per started hour) or ``{"factor": X}`` (a late
    #: submission earns X times its score); null: no penalty.
    late_penalty: Mapped[dict[str, Any] | None]
    #: The problem-set version (:class:`SetVersion`) the assignment grades with; it changes only
    #: when asked (``PATCH``), then a regrade.
    set_version: Mapped[str | None] = mapped_column(String(64))
    #: When students may practise on fresh variants (:class:`Practice`).
    practice: Mapped[str] = mapped_column(
        String(16), default=Practice.AFTER_DUE.value, server_default=Practice.AFTER_DUE.value
    )
    #: When the grades of written parts were released to students (null: they see ``pending``).
    grades_released_at: Mapped[datetime | None]
    #: The written parts whose grades were released on their own before every part's were: answer
    #: key → when (ISO 8601); null: none (``grades_released_at`` releases them all).
    grades_released_parts: Mapped[dict[str, Any] | None]
    #: Before it students neither see nor open the assignment (null: from its creation).
    opens_at: Mapped[datetime | None]
    #: The last moment a submission is accepted, late ones included (null: it never closes).
    closes_at: Mapped[datetime | None]
    #: A draft (false) is seen by staff only.
    published: Mapped[bool] = mapped_column(default=True, server_default=true())
    #: When it was archived (``DELETE``): hidden from students, nothing deleted; null: in use.
    archived_at: Mapped[datetime | None]
    #: The course gradebook's category it counts in (one of :attr:`Course.categories`' names).
    category: Mapped[str] = mapped_column(String(64), default=DEFAULT_CATEGORY, server_default=DEFAULT_CATEGORY)
    #: Work this many minutes past the due date is not late; past them, lateness counts from the due date.
    grace_minutes: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    #: What a student sees of an attempt before the answers are released to them (:class:`Feedback`).
    feedback: Mapped[str] = mapped_column(String(16), default=Feedback.FULL.value, server_default=Feedback.FULL.value)
    #: A timed assignment: each student has this many minutes from their start (:class:`Clock`),
    #: never past their close; null: untimed.
    time_limit: Mapped[int | None] = mapped_column(Integer)
    #: The exam room's rules (:mod:`api.exam_room`): ``{"password": HASH | null, "networks":
    #: [CIDR, ...], "one_session": bool}``; the password only as its scrypt hash; null: none.
    access: Mapped[dict[str, Any] | None]
    #: When the scores held back from the LMS (``feedback`` other than ``full``) were sent to it as
    #: the answers were released at the close (:mod:`api.terms.releases`); null: not yet, or the
    #: terms that decide the release changed since.
    scores_released_at: Mapped[datetime | None]


class CheckStatus(StrEnum):
    """How far a set version's check got (:mod:`api.set_checks`)."""

    QUEUED = "queued"
    RUNNING = "running"
    PASSED = "passed"
    FAILED = "failed"


class SetVersion(Base):
    """One version of a problem-set file: immutable, named by a hash of its text, which is kept
    here so that every replica and worker grades with the same set, whatever its disk holds.

    Its check (:mod:`api.set_checks`): the solutions and declared mistakes of its code parts run on
    their tests in the sandbox, by a job, off the students' path; an assignment may use the version
    once it ``passed``. A version without code parts, a built-in one and one stored before checks
    were jobs passed as it was stored."""

    __tablename__ = "set_versions"
    __table_args__ = (CheckConstraint(f"check_status IN ({_values(CheckStatus)})", name="check_status"),)

    version: Mapped[str] = mapped_column(String(64), primary_key=True)
    set_id: Mapped[str] = mapped_column(String(64))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    check_status: Mapped[str] = mapped_column(
        String(16), default=CheckStatus.PASSED.value, server_default=CheckStatus.PASSED.value
    )
    #: A failed check's issues, as an upload's 422 lists them (``line``, ``column``, ``field``, ``message``).
    check_issues: Mapped[list[Any] | None]
    #: The job of its latest check (null: passed as it was stored).
    check_job_id: Mapped[int | None] = mapped_column(ForeignKey("jobs.id", ondelete="SET NULL"))


class CourseSet(Base):
    """A version of a set a course uploaded (built-in sets are a library every course uses)."""

    __tablename__ = "course_sets"

    course_id: Mapped[str] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"), primary_key=True)
    set_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    version: Mapped[str] = mapped_column(ForeignKey("set_versions.version"), primary_key=True)
    uploaded_by: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    uploaded_at: Mapped[datetime] = mapped_column(default=utcnow)


class Extension(Base):
    """One student's own due date, attempt limit or close for an assignment (null: the assignment's)."""

    __tablename__ = "extensions"
    __table_args__ = (
        ForeignKeyConstraint(
            ["course_id", "assignment_id"], ["assignments.course_id", "assignments.id"], ondelete="CASCADE"
        ),
        CheckConstraint("max_attempts IS NULL OR max_attempts >= 1", name="max_attempts_positive"),
    )

    course_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    assignment_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    student_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    due_at: Mapped[datetime | None]
    max_attempts: Mapped[int | None] = mapped_column(Integer)
    #: The student's own close (null: the assignment's, moved to their due date if that is later).
    closes_at: Mapped[datetime | None]
    #: Minutes added to a timed assignment's ``time_limit`` for this student (null: none).
    extra_minutes: Mapped[int | None] = mapped_column(Integer)
    granted_by: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    granted_at: Mapped[datetime] = mapped_column(default=utcnow)


class Accommodation(Base):
    """A course's named accommodation (a label such as ``time-1.5``): what it adds to every
    assignment of the course for the students who hold it (:class:`StudentAccommodation`). Null
    fields add nothing; :mod:`api.terms.allowances` combines a student's labels and applies them."""

    __tablename__ = "accommodations"
    __table_args__ = (
        CheckConstraint(
            "time_multiplier IS NULL OR (time_multiplier >= 1 AND time_multiplier <= 4)", name="time_multiplier_range"
        ),
        CheckConstraint("extra_minutes IS NULL OR extra_minutes >= 0", name="extra_minutes_not_negative"),
        CheckConstraint("extra_days IS NULL OR extra_days >= 0", name="extra_days_not_negative"),
        CheckConstraint("extra_attempts IS NULL OR extra_attempts >= 0", name="extra_attempts_not_negative"),
    )

    course_id: Mapped[str] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"), primary_key=True)
    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    #: A timed assignment's limit is multiplied by it (rounded up to the minute).
    time_multiplier: Mapped[float | None] = mapped_column(Float)
    #: Minutes added to a timed assignment's limit (after the multiplier).
    extra_minutes: Mapped[int | None] = mapped_column(Integer)
    #: Days added to every due date and close.
    extra_days: Mapped[int | None] = mapped_column(Integer)
    #: Attempts added to every attempt limit.
    extra_attempts: Mapped[int | None] = mapped_column(Integer)
    updated_by: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class StudentAccommodation(Base):
    """A student holding one of their course's accommodations. Dropping the student from the course
    or deleting the accommodation removes the row."""

    __tablename__ = "student_accommodations"
    __table_args__ = (
        ForeignKeyConstraint(
            ["course_id", "name"], ["accommodations.course_id", "accommodations.name"], ondelete="CASCADE"
        ),
        ForeignKeyConstraint(
            ["course_id", "student_id"], ["memberships.course_id", "memberships.user_id"], ondelete="CASCADE"
        ),
    )

    course_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    student_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(64), primary_key=True)


class Clock(Base):
    """A student's clock on a timed assignment, and their draft: one row per (assignment, student),
    so two tabs or two concurrent starts find one clock (:mod:`api.timed`).

    ``started_at`` is fixed at the first start; the end is computed from it and the student's terms
    as they are (:func:`api.terms.clock.ends_at`), so an extension or a moved close applies at
    once. ``answers`` is the last draft saved (never graded). ``submitted_at`` marks the clock
    handled by the time-up sweep (set once, by a conditional UPDATE): the draft submitted for the
    student (``submission_id``), or why not (``outcome``)."""

    __tablename__ = "clocks"
    __table_args__ = (
        ForeignKeyConstraint(
            ["course_id", "assignment_id"], ["assignments.course_id", "assignments.id"], ondelete="CASCADE"
        ),
    )

    course_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    assignment_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    student_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    started_at: Mapped[datetime]
    answers: Mapped[dict[str, Any] | None]
    saved_at: Mapped[datetime | None]
    #: When the time-up sweep handled the clock (null: running, or ended and not yet handled).
    submitted_at: Mapped[datetime | None] = mapped_column(index=True)
    submission_id: Mapped[int | None] = mapped_column(ForeignKey("submissions.id", ondelete="SET NULL"))
    outcome: Mapped[str | None] = mapped_column(String(500))
    #: Minutes a proctor added to this attempt while it ran (:mod:`api.proctor`), on top of the
    #: student's limit.
    added_minutes: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    #: This attempt's own close, where a proctor's added time took its end past the student's close
    #: (null: the student's close).
    closes_at: Mapped[datetime | None]


class AttemptSession(Base):
    """The session a student's attempt is bound to, on an assignment whose access rules ask for one
    session per attempt (:mod:`api.exam_room`): one row per (assignment, student), bound by the first
    start, draft save or submission, timed or not.

    ``session_key`` is the hash of the browser session's cookie or of the API token (as stored for
    either: :func:`api.users.tokens.hash_token`); null once staff unlocked the attempt, which binds
    it to the next session that resumes it. ``locked_at``: when another session was refused (null:
    never since the binding). ``address``: the client address of the last request admitted."""

    __tablename__ = "attempt_sessions"
    __table_args__ = (
        ForeignKeyConstraint(
            ["course_id", "assignment_id"], ["assignments.course_id", "assignments.id"], ondelete="CASCADE"
        ),
    )

    course_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    assignment_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    student_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    session_key: Mapped[str | None] = mapped_column(String(64))
    bound_at: Mapped[datetime | None]
    address: Mapped[str | None] = mapped_column(String(64))
    locked_at: Mapped[datetime | None]
    unlocked_at: Mapped[datetime | None]
    unlocked_by: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


class AttemptEvent(Base):
    """One event of a student's attempt on an assignment with a clock or access rules, as the proctor
    reads it (:mod:`api.exam_room.events`): ``kind`` is ``start``, ``save``, ``lock``, ``unlock``,
    ``time``, ``submission``, ``auto_submission``, ``end`` or ``signal``; ``by`` the staff member who
    acted (null: the student, or the service); ``detail`` a small JSON object (minutes added, which
    signal). Append-only."""

    __tablename__ = "attempt_events"
    __table_args__ = (
        ForeignKeyConstraint(
            ["course_id", "assignment_id"], ["assignments.course_id", "assignments.id"], ondelete="CASCADE"
        ),
        Index("ix_attempt_events_attempt", "course_id", "assignment_id", "student_id", "at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    course_id: Mapped[str] = mapped_column(String(64))
    assignment_id: Mapped[str] = mapped_column(String(64))
    student_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    at: Mapped[datetime]
    kind: Mapped[str] = mapped_column(String(20))
    by: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    detail: Mapped[dict[str, Any] | None]


class Submission(Base):
    """One graded submission.

    ``attempt`` is unique per (course, assignment, student): concurrent submissions cannot share a
    number, which is what makes the attempt limit exact. ``idempotency_key`` is unique per
    student, with ``request_hash`` (SHA-256 of course, assignment and answers; only with a key) to
    tell a true retry from a reused key.
    """

    __tablename__ = "submissions"
    __table_args__ = (
        ForeignKeyConstraint(
            ["course_id", "assignment_id"], ["assignments.course_id", "assignments.id"], ondelete="CASCADE"
        ),
        UniqueConstraint("course_id", "assignment_id", "student_id", "attempt"),
        UniqueConstraint("student_id", "idempotency_key"),
        CheckConstraint("attempt >= 1", name="attempt_positive"),
        # each student's best score, and the columns that count it after the late penalty, read from
        # the index alone (the gradebooks: api.coursebook.service)
        Index(
            "ix_submissions_counted",
            "course_id",
            "assignment_id",
            "student_id",
            "score",
            "attempt",
            "submitted_at",
            "id",
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    course_id: Mapped[str] = mapped_column(String(64))
    assignment_id: Mapped[str] = mapped_column(String(64))
    student_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    attempt: Mapped[int] = mapped_column(Integer)
    idempotency_key: Mapped[str | None] = mapped_column(String(200))
    request_hash: Mapped[str | None] = mapped_column(String(64))
    #: The answers as sent (JSON object), a choice part's picks in the file's letters
    #: (:mod:`api.assignments.options`).
    answers: Mapped[dict[str, Any]]
    #: Graded parts: key → GradedPart.to_json() (the current grade).
    parts: Mapped[dict[str, Any]]
    score: Mapped[float] = mapped_column(Float)
    max_score: Mapped[float] = mapped_column(Float)
    set_version: Mapped[str] = mapped_column(String(64))
    #: The student id the variant was drawn for; null for a set that is not randomized.
    variant: Mapped[str | None] = mapped_column(String(64))
    submitted_at: Mapped[datetime] = mapped_column(default=utcnow)
    graded_at: Mapped[datetime] = mapped_column(default=utcnow)
    late: Mapped[bool] = mapped_column(Boolean, default=False)

    earlier_grades: Mapped[list[EarlierGrade]] = relationship(
        back_populates="submission", cascade="all, delete-orphan", order_by="EarlierGrade.id"
    )


class CodeRunStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"


class CodeRun(Base):
    """A submission's code parts waiting for the sandbox, or being run in it (:mod:`api.code_runs`).

    The row is written in the transaction that stores the submission (or that regrades it against a
    new version of its set), and deleted in the one that writes the code parts' results, and only
    if it still names the version that was graded: whoever runs it, and however often (a runner
    that died, two at once), the results are written once. ``runs`` counts the runners that
    started it, so a submission that keeps killing its runner is given up on rather than retried
    forever."""

    __tablename__ = "code_runs"
    __table_args__ = (CheckConstraint(f"status IN ({_values(CodeRunStatus)})", name="status"),)

    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id", ondelete="CASCADE"), primary_key=True)
    #: The problem-set version whose tests the run grades against.
    set_version: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default=CodeRunStatus.QUEUED.value)
    runs: Mapped[int] = mapped_column(Integer, default=0)
    queued_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    started_at: Mapped[datetime | None]
    #: The submission's student, copied from it: the queue is shared out per student
    #: (:mod:`api.code_runs.shares`), one run of theirs at a time and a few queued at most.
    student_id: Mapped[str] = mapped_column(String(64), index=True)
    #: How many runs of the student were waiting when this one was queued: the queue is taken by
    #: turn, then age, so another student's first run goes before a student's second.
    turn: Mapped[int] = mapped_column(Integer, default=0)


class CodeTime(Base):
    """The sandbox wall time a student's code used on an assignment in its current window
    (:mod:`api.code_runs.budget`): wall time, not CPU, since code that sleeps holds a sandbox all
    the same. The window starts at the first run it counts; a run past it starts the next one."""

    __tablename__ = "code_time"
    __table_args__ = (
        ForeignKeyConstraint(
            ["course_id", "assignment_id"], ["assignments.course_id", "assignments.id"], ondelete="CASCADE"
        ),
    )

    course_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    assignment_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    student_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    window_started_at: Mapped[datetime]
    seconds: Mapped[float] = mapped_column(Float, default=0.0)


class EarlierGrade(Base):
    """A grade a regrade replaced, kept for the record."""

    __tablename__ = "earlier_grades"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id", ondelete="CASCADE"), index=True)
    parts: Mapped[dict[str, Any]]
    score: Mapped[float] = mapped_column(Float)
    max_score: Mapped[float] = mapped_column(Float)
    set_version: Mapped[str] = mapped_column(String(64))
    graded_at: Mapped[datetime]
    replaced_at: Mapped[datetime] = mapped_column(default=utcnow)
    note: Mapped[str | None] = mapped_column(Text)
    #: The regrade job that replaced it (null for grades replaced before jobs, or by hand).
    job_id: Mapped[int | None] = mapped_column(ForeignKey("jobs.id", ondelete="SET NULL"), index=True)

    submission: Mapped[Submission] = relationship(back_populates="earlier_grades")


class SessionOrigin(StrEnum):
    """How a page session was opened: an API token pasted in the sign-in form, or an LTI launch from
    a learning platform (:mod:`api.lti`)."""

    TOKEN = "token"
    LTI = "lti"
    LINK = "link"


class WebSession(Base):
    """A browser signed in to the pages (:mod:`api.pages.kit.sessions`). Only a hash of the session id
    is stored, as for API tokens. The row names its account, how it was opened (``via``) and, for a
    session opened with an API token, that token: replacing or revoking it ends the session too. In
    the database, not in memory: any replica of the service can read it."""

    __tablename__ = "sessions"
    __table_args__ = (CheckConstraint(f"via IN ({_values(SessionOrigin)})", name="via"),)

    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_id: Mapped[int | None] = mapped_column(ForeignKey("api_tokens.id", ondelete="CASCADE"), index=True)
    via: Mapped[str] = mapped_column(String(16), default=SessionOrigin.TOKEN.value)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(index=True)


class JobStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class JobKind(StrEnum):
    REGRADE = "regrade"
    #: A course's LMS roster read again (NRPS) and every score sent again (:mod:`api.lti.sync`).
    LTI_SYNC = "lti_sync"
    #: An uploaded set version's code solutions and mistakes run on their tests (:mod:`api.set_checks`).
    SET_CHECK = "set_check"
    #: An assignment's similarity report: new submissions fingerprinted, the pairs ranked (:mod:`api.similarity`).
    SIMILARITY = "similarity"


#: The statuses of a job that is not over: at most one such job per (kind, assignment).
ACTIVE_JOB = f"status IN ('{JobStatus.QUEUED.value}', '{JobStatus.RUNNING.value}')"


class Job(Base):
    """A background job as the API shows it (``GET /api/v1/jobs/{id}``), on both backends.

    On PostgreSQL a procrastinate job (``queue_job_id``) carries it to a worker, deferred in the
    transaction that inserts this row; on SQLite the service runs it itself (:mod:`api.jobs.local`).
    ``done`` only grows: it counts the :class:`JobItem` markers, written with each new grade.
    A partial unique index keeps one job that is not over per (kind, assignment).
    """

    __tablename__ = "jobs"
    __table_args__ = (
        ForeignKeyConstraint(
            ["course_id", "assignment_id"], ["assignments.course_id", "assignments.id"], ondelete="CASCADE"
        ),
        CheckConstraint(f"status IN ({_values(JobStatus)})", name="status"),
        CheckConstraint(f"kind IN ({_values(JobKind)})", name="kind"),
        Index(
            "uq_jobs_one_active",
            "kind",
            "course_id",
            "assignment_id",
            unique=True,
            sqlite_where=text(ACTIVE_JOB),
            postgresql_where=text(ACTIVE_JOB),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    course_id: Mapped[str] = mapped_column(String(64))
    #: The assignment of a regrade; null for a job about the whole course (an LTI sync, a set check).
    assignment_id: Mapped[str | None] = mapped_column(String(64))
    created_by: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    status: Mapped[str] = mapped_column(String(16), default=JobStatus.QUEUED.value)
    done: Mapped[int] = mapped_column(Integer, default=0)
    #: Known once the job starts: the submissions it covers (those stored up to ``last_submission``);
    #: a set check: the sandbox runs it makes at most (``done``: those made).
    total: Mapped[int | None] = mapped_column(Integer)
    #: Of those done, how many got a different grade (their earlier grade is kept).
    changed: Mapped[int] = mapped_column(Integer, default=0)
    #: The highest submission id when the job started: later submissions are graded on arrival.
    last_submission: Mapped[int | None] = mapped_column(Integer)
    #: The problem-set version the job grades with, fixed when it starts (a set check: the version it checks).
    set_version: Mapped[str | None] = mapped_column(String(64))
    #: A set check: the sandbox wall seconds it may use, fixed when it starts (its instructor's
    #: budget counts them while it runs), and those it used, once over (counted from then on).
    allowed_seconds: Mapped[float | None] = mapped_column(Float)
    seconds: Mapped[float | None] = mapped_column(Float)
    error: Mapped[str | None] = mapped_column(Text)
    #: The procrastinate job that carries it (PostgreSQL only).
    queue_job_id: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]


class JobItem(Base):
    """A submission a job has done: written in the transaction of the submission's new grade, so a
    job resumed after a crash (or run twice at once) never regrades a submission twice."""

    __tablename__ = "job_items"

    job_id: Mapped[int] = mapped_column(ForeignKey("jobs.id", ondelete="CASCADE"), primary_key=True)
    submission_id: Mapped[int] = mapped_column(
        ForeignKey("submissions.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class LtiPlatform(Base):
    """A learning platform (Canvas, Moodle, ...) registered by an admin (``grader lti register``):
    what identifies it (``issuer``, the ``client_id`` it gave the tool) and its three URLs."""

    __tablename__ = "lti_platforms"
    __table_args__ = (UniqueConstraint("issuer", "client_id"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    issuer: Mapped[str] = mapped_column(String(255))
    client_id: Mapped[str] = mapped_column(String(255))
    auth_url: Mapped[str] = mapped_column(String(2000))
    token_url: Mapped[str] = mapped_column(String(2000))
    jwks_url: Mapped[str] = mapped_column(String(2000))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class LtiRegistration(Base):
    """A one-time URL for LTI Dynamic Registration (:mod:`api.lti.registration`), made by an admin:
    only the hash of its token is stored. ``claimed_at`` marks its one use (two at once cannot both
    use it), which succeeded if ``registered_at`` and ``platform_id`` are set; either way the URL
    opens nothing more. Unusable after ``expires_at``."""

    __tablename__ = "lti_registrations"

    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    created_by: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    claimed_at: Mapped[datetime | None]
    registered_at: Mapped[datetime | None]
    platform_id: Mapped[str | None] = mapped_column(ForeignKey("lti_platforms.id", ondelete="SET NULL"))


class LtiDeployment(Base):
    """A deployment of the tool on a platform: a launch naming any other is refused."""

    __tablename__ = "lti_deployments"

    platform_id: Mapped[str] = mapped_column(ForeignKey("lti_platforms.id", ondelete="CASCADE"), primary_key=True)
    deployment_id: Mapped[str] = mapped_column(String(255), primary_key=True)


class LtiKey(Base):
    """One of the tool's RSA keys: the newest signs, the others stay published at ``jwks_url``
    until they are ``retired_at`` + a grace period. The private key is encrypted (Fernet) with the
    key-encryption key of the settings (``GRADER_LTI_KEY``)."""

    __tablename__ = "lti_keys"

    kid: Mapped[str] = mapped_column(String(64), primary_key=True)
    public_pem: Mapped[str] = mapped_column(Text)
    private_encrypted: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    retired_at: Mapped[datetime | None]


class LtiLogin(Base):
    """An OIDC login whose launch was accepted: its ``state`` (by hash, until the state expires),
    so that a state is used once. A login under way stores nothing: its state is signed by the tool
    and carries what the launch needs (:mod:`api.lti.logins`)."""

    __tablename__ = "lti_logins"

    state_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    platform_id: Mapped[str] = mapped_column(ForeignKey("lti_platforms.id", ondelete="CASCADE"), index=True)
    expires_at: Mapped[datetime] = mapped_column(index=True)


class LtiAccount(Base):
    """The account of a platform's user: keyed by (platform, ``sub``)."""

    __tablename__ = "lti_accounts"

    platform_id: Mapped[str] = mapped_column(ForeignKey("lti_platforms.id", ondelete="CASCADE"), primary_key=True)
    sub: Mapped[str] = mapped_column(String(255), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)


class LtiContext(Base):
    """An LMS course (a platform's context) linked to a course of the service by its instructor."""

    __tablename__ = "lti_contexts"

    platform_id: Mapped[str] = mapped_column(ForeignKey("lti_platforms.id", ondelete="CASCADE"), primary_key=True)
    context_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    course_id: Mapped[str] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"), index=True)
    title: Mapped[str | None] = mapped_column(String(200))
    linked_by: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    linked_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: The LMS course's grade and roster services, as its latest launch named them (AGS, NRPS).
    lineitems_url: Mapped[str | None] = mapped_column(String(2000))
    memberships_url: Mapped[str | None] = mapped_column(String(2000))


class LtiLaunch(Base):
    """A launch that was accepted, for what follows it: the forms it shows (linking the course,
    choosing assignments to deep-link) carry its id as their credential, and a resource-link
    launch's browser continues with it (:mod:`api.pages.lms.launch`). Stored by a hash of its id, and only
    until ``expires_at``; ``details`` holds the few claims the next steps need."""

    __tablename__ = "lti_launches"

    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    platform_id: Mapped[str] = mapped_column(ForeignKey("lti_platforms.id", ondelete="CASCADE"))
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    message_type: Mapped[str] = mapped_column(String(32))
    context_id: Mapped[str | None] = mapped_column(String(255))
    details: Mapped[dict[str, Any]]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(index=True)


class LtiLineItem(Base):
    """The LMS's line item (gradebook column) of an assignment in a linked LMS course: from a
    launch's AGS claim, else found by ``resourceId``, else created; stored once known."""

    __tablename__ = "lti_line_items"
    __table_args__ = (
        ForeignKeyConstraint(
            ["platform_id", "context_id"], ["lti_contexts.platform_id", "lti_contexts.context_id"], ondelete="CASCADE"
        ),
    )

    platform_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    context_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    assignment_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    url: Mapped[str] = mapped_column(String(2000))
    #: When the assignment's dates are next to be sent to the line item (``PUT``, by
    #: :func:`api.lti.item_dates.send_dates`); null: the LMS has them, or the course's dates are the LMS's.
    dates_due_at: Mapped[datetime | None] = mapped_column(index=True)
    #: Tries of the dates' current sending, and the last refusal (a 4xx stops the tries).
    dates_attempts: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    dates_error: Mapped[str | None] = mapped_column(Text)


class LmsDate(Base):
    """The due date an LMS gave at the latest launch of an assignment by one of its users
    (``$Canvas.assignment.dueAt.iso8601``: a student's own, an instructor's the latest of all), kept
    whichever side owns the dates, for the staff's line where the LMS's and the service's differ."""

    __tablename__ = "lms_dates"
    __table_args__ = (
        ForeignKeyConstraint(
            ["course_id", "assignment_id"], ["assignments.course_id", "assignments.id"], ondelete="CASCADE"
        ),
    )

    course_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    assignment_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    due_at: Mapped[datetime]
    seen_at: Mapped[datetime] = mapped_column(default=utcnow)


class ScoreStatus(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"


class LtiScore(Base):
    """The outbox of grade passback: one row per change of a student's counted score, written in
    the transaction of the change, sent to the LMS by :func:`api.lti.ags.send_due` (retried until
    ``next_try_at``). ``timestamp`` is when the score was computed: the same on every retry."""

    __tablename__ = "lti_scores"
    __table_args__ = (
        ForeignKeyConstraint(
            ["platform_id", "context_id"], ["lti_contexts.platform_id", "lti_contexts.context_id"], ondelete="CASCADE"
        ),
        CheckConstraint(f"status IN ({_values(ScoreStatus)})", name="status"),
        Index("ix_lti_scores_due", "status", "next_try_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    platform_id: Mapped[str] = mapped_column(String(64))
    context_id: Mapped[str] = mapped_column(String(255))
    course_id: Mapped[str] = mapped_column(String(64))
    assignment_id: Mapped[str] = mapped_column(String(64))
    student_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    sub: Mapped[str] = mapped_column(String(255))
    #: Null while the student may not see their attempt graded (``feedback: none`` before the
    #: answers are released to them): the LMS is told only that it was submitted.
    score_given: Mapped[float | None] = mapped_column(Float)
    score_maximum: Mapped[float] = mapped_column(Float)
    grading_progress: Mapped[str] = mapped_column(String(16))
    timestamp: Mapped[datetime]
    #: When the counted submission was made (AGS's ``submission.submittedAt``); null in rows
    #: written before it was kept.
    submitted_at: Mapped[datetime | None]
    #: The score comes from a new submission (not a regrade, an extension, a policy): Canvas
    #: shows it as one, and marks nothing else as resubmitted.
    new_submission: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    status: Mapped[str] = mapped_column(String(16), default=ScoreStatus.PENDING.value)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_try_at: Mapped[datetime]
    error: Mapped[str | None] = mapped_column(Text)
    sent_at: Mapped[datetime | None]


class LinkDownload(Base):
    """Newly issued sign-in links as a CSV file, to be downloaded once, shortly after, by whoever
    issued them (:mod:`api.pages.accounts.link_downloads`). Only ciphertext is kept: the key travels in the
    issuing page's form, never stored, so the links stay readable by their issuer alone. The row
    is deleted by the download that takes it."""

    __tablename__ = "link_downloads"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    course_id: Mapped[str] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"))
    created_by: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    filename: Mapped[str] = mapped_column(String(200))
    ciphertext: Mapped[str] = mapped_column(Text)
    expires_at: Mapped[datetime] = mapped_column(index=True)


class SignInLink(Base):
    """A one-time sign-in link (:mod:`api.signin.links`): only the hash of its token is stored, as
    for API tokens. Used once (``used_at``), and only before ``expires_at``. ``course_id``: where
    the link leads (None for a link the account's holder asked for on ``/``)."""

    __tablename__ = "sign_in_links"

    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    course_id: Mapped[str | None] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"))
    created_by: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]


class MailStatus(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"


class Mail(Base):
    """A mail to send (:mod:`api.kit.mail`): written in the transaction that decides it, sent by a
    background runner with retries, so a mail is never lost with a request, and one that cannot be
    sent stays visible (``failed``, ``error``) to the staff of its course. A mail that carries a
    sign-in link stores no link: the sender makes the link as it sends (only hashes are stored)."""

    __tablename__ = "mails"
    __table_args__ = (CheckConstraint(f"status IN ({_values(MailStatus)})", name="status"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    #: ``sign-in`` (a link for ``user_id``), ``invitation`` (the same, on joining ``course_id``).
    kind: Mapped[str] = mapped_column(String(32))
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    course_id: Mapped[str | None] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"), index=True)
    to_address: Mapped[str] = mapped_column(String(320))
    #: The service's address for the link (``GRADER_PUBLIC_URL``, else the one the request came to).
    link_base: Mapped[str] = mapped_column(String(300))
    created_by: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    status: Mapped[str] = mapped_column(String(16), default=MailStatus.PENDING.value)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    #: When the next attempt is due; a sender holding it pushes this ahead first (a lease).
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]


class SignInRequest(Base):
    """A request for a sign-in link on ``/``, kept an hour for its rate limits: by the address
    asked for and by the client asking (both as hashes: the table is no list of addresses)."""

    __tablename__ = "sign_in_requests"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    address_hash: Mapped[str] = mapped_column(String(64), index=True)
    client_hash: Mapped[str] = mapped_column(String(64), index=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class Rubric(Base):
    """That an assignment's written part has its rubric: made once, from the set file's template,
    when a grader first needs it (the row is what two first readers race for: one copies)."""

    __tablename__ = "rubrics"
    __table_args__ = (
        ForeignKeyConstraint(
            ["course_id", "assignment_id"], ["assignments.course_id", "assignments.id"], ondelete="CASCADE"
        ),
    )

    course_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    assignment_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class RubricItem(Base):
    """One item of an assignment part's rubric. An item taken out of the rubric that a grading
    applied is retired (``retired_at``), not deleted: that grading still says what it applied."""

    __tablename__ = "rubric_items"
    __table_args__ = (
        ForeignKeyConstraint(
            ["course_id", "assignment_id", "key"],
            ["rubrics.course_id", "rubrics.assignment_id", "rubrics.key"],
            ondelete="CASCADE",
        ),
        Index("ix_rubric_items_part", "course_id", "assignment_id", "key"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    course_id: Mapped[str] = mapped_column(String(64))
    assignment_id: Mapped[str] = mapped_column(String(64))
    key: Mapped[str] = mapped_column(String(100))
    position: Mapped[int] = mapped_column(Integer)
    points: Mapped[float] = mapped_column(Float)
    text: Mapped[str] = mapped_column(String(500))
    note: Mapped[str] = mapped_column(Text, default="")
    #: The key that toggles it on the grading page (null: the next free digit).
    shortcut: Mapped[str | None] = mapped_column(String(1))
    retired_at: Mapped[datetime | None]


class Grading(Base):
    """The current grade by hand of one written part of one submission. ``version`` grows with
    every change (a grader's or a rubric's), and a grader's write names the version it read: two
    graders never overwrite each other unseen. Every version is kept in :class:`GradingEvent`."""

    __tablename__ = "gradings"

    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id", ondelete="CASCADE"), primary_key=True)
    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    version: Mapped[int] = mapped_column(Integer)
    #: The ids of the rubric items applied.
    items: Mapped[list[Any]]
    adjustment: Mapped[float] = mapped_column(Float, default=0.0)
    comment: Mapped[str] = mapped_column(Text, default="")
    score: Mapped[float] = mapped_column(Float)
    graded_by: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    graded_at: Mapped[datetime] = mapped_column(default=utcnow)


class GradingEvent(Base):
    """One version of a grading, kept for the record: who (null: a rubric change re-scored it),
    when, the items as they were then (id, points, text), the adjustment, comment and score."""

    __tablename__ = "grading_events"
    __table_args__ = (Index("ix_grading_events_part", "submission_id", "key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(100))
    version: Mapped[int] = mapped_column(Integer)
    items: Mapped[list[Any]]
    adjustment: Mapped[float] = mapped_column(Float)
    comment: Mapped[str] = mapped_column(Text)
    score: Mapped[float] = mapped_column(Float)
    graded_by: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    reason: Mapped[str] = mapped_column(String(32))
    at: Mapped[datetime] = mapped_column(default=utcnow)


class AnswerGroup(Base):
    """Which group of similar answers staff put a submission's written answer in (confirmed or
    changed from the suggestion); an answer without a row is in its suggested group."""

    __tablename__ = "answer_groups"

    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id", ondelete="CASCADE"), primary_key=True)
    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    #: The group's number within the part, as staff named it (any integer; groups are just labels).
    label: Mapped[int] = mapped_column(Integer)
    set_by: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    set_at: Mapped[datetime] = mapped_column(default=utcnow)


class RegradeRequest(Base):
    """A student's request that a released written part be looked at again, and staff's reply."""

    __tablename__ = "regrade_requests"
    __table_args__ = (Index("ix_regrade_requests_part", "submission_id", "key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(100))
    student_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    message: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    reply: Mapped[str | None] = mapped_column(Text)
    replied_by: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    replied_at: Mapped[datetime | None]


class SimilarityDocument(Base):
    """A submission's code part fingerprinted (:mod:`api.similarity`): written once, by the first
    report that read it, so a late submission is lexed once and the class never again. ``words``
    are its names and long comments (the rare ones are evidence), ``tokens`` its code's length,
    ``fingerprints`` every fingerprint with its place (hash, k-gram's start, first and last line:
    :func:`api.similarity.run.packed`), so that a report reads the class's fingerprints one row per
    text, not one row per fingerprint, and describes a pair without lexing it again. A module sent
    once answers each of its problem's parts: it is stored once, under its first part, and the
    others name that part in ``same_as`` (with no words nor fingerprints of their own)."""

    __tablename__ = "similarity_documents"
    __table_args__ = (Index("ix_similarity_documents_assignment", "course_id", "assignment_id"),)

    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id", ondelete="CASCADE"), primary_key=True)
    part: Mapped[str] = mapped_column(String(100), primary_key=True)
    course_id: Mapped[str] = mapped_column(String(64))
    assignment_id: Mapped[str] = mapped_column(String(64))
    tokens: Mapped[int] = mapped_column(Integer)
    words: Mapped[list[str]] = mapped_column(JSON)
    fingerprints: Mapped[bytes | None] = mapped_column(LargeBinary)
    same_as: Mapped[str | None] = mapped_column(String(100))


class SimilarityPrint(Base):
    """The similarity index: a fingerprint (a winnowed k-gram's 64-bit hash) → the submissions
    (and parts) that hold it, per assignment; a text answering several parts under its first part
    only (:class:`SimilarityDocument`). Read by fingerprint, a late submission's pairs are found
    through its own fingerprints' rows only."""

    __tablename__ = "similarity_prints"
    __table_args__ = (
        ForeignKeyConstraint(
            ["submission_id", "part"],
            ["similarity_documents.submission_id", "similarity_documents.part"],
            ondelete="CASCADE",
        ),
        Index("ix_similarity_prints_hash", "course_id", "assignment_id", "hash", "submission_id"),
    )

    submission_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    part: Mapped[str] = mapped_column(String(100), primary_key=True)
    hash: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    course_id: Mapped[str] = mapped_column(String(64))
    assignment_id: Mapped[str] = mapped_column(String(64))


class SimilarityReport(Base):
    """An assignment's latest similarity report (staff only): what was asked (the parts compared,
    the starter code, the earlier assignments compared against), the job that computes it, and once
    done the ranked pairs and clusters."""

    __tablename__ = "similarity_reports"
    __table_args__ = (
        ForeignKeyConstraint(
            ["course_id", "assignment_id"], ["assignments.course_id", "assignments.id"], ondelete="CASCADE"
        ),
    )

    course_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    assignment_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    job_id: Mapped[int | None] = mapped_column(ForeignKey("jobs.id", ondelete="SET NULL"))
    #: The code parts compared (null: every one).
    parts: Mapped[list[str] | None] = mapped_column(JSON)
    starter: Mapped[str | None] = mapped_column(Text)
    #: Earlier assignments compared against (``[{"course", "assignment"}]``; null: none).
    reference_assignments: Mapped[list[dict[str, str]] | None] = mapped_column(JSON)
    #: The report as ``GET .../similarity`` shows it (null until the first job is done).
    report: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    #: The submissions the report read (each student's latest) and the newest of them.
    submissions: Mapped[int] = mapped_column(Integer, default=0)
    last_submission: Mapped[int] = mapped_column(Integer, default=0)
    requested_by: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    computed_at: Mapped[datetime | None]
