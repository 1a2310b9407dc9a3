"""Who the caller is in a course: the one statement that reads, for a request on a course's path,
the caller by token, their role in the course, and (on an assignment's path) the assignment and
the caller's extension of it; for a submission, the same of its course and assignment, with the
submission and its student's extension (:func:`read_submission_access`).

Every request about a course goes through it (:func:`api.deps.get_member`), so that what a
course owns is reached only through the caller's membership: a course the caller is not in does
not exist for them (404), whatever id they guess.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import FromClause, Integer, Select, String, Table, and_, bindparam, func, literal, select
from sqlalchemy.orm import Session

from api.kit.errors import Forbidden, NotFound
from api.kit.ids import may_exist
from api.kit.statements import Prepared
from api.models import (
    Accommodation,
    ApiToken,
    Assignment,
    Course,
    CourseRole,
    EarlierGrade,
    Extension,
    LtiAccount,
    LtiContext,
    Membership,
    Role,
    StudentAccommodation,
    Submission,
    User,
    WebSession,
)
from api.terms.allowance import Allowance
from api.terms.rows import EXTENSION_COLUMNS, AssignmentRow, ExtensionRow
from api.terms.rules import visible_to_students
from api.users.service import Caller
from api.users.tokens import TokenSeen, hash_token

#: The roles that run a course (an admin who is not a member acts as its owner).
RUNS = frozenset({CourseRole.OWNER.value, CourseRole.INSTRUCTOR.value, Role.ADMIN.value})
#: The roles that read everything of a course.
STAFF = RUNS | {CourseRole.TA.value}


@dataclass(frozen=True, slots=True)
class Member:
    """The caller inside one course. ``role`` is their membership's, or ``admin`` for an admin
    account (member or not)."""

    caller: Caller
    course: str
    role: str
    #: Whether the caller came to this course from an LMS (an LTI account on a platform with an LMS
    #: course linked to it): their score changes go to it. None when not read with the membership.
    from_lms: bool | None = None

    @property
    def id(self) -> str:
        return self.caller.id

    @property
    def runs(self) -> bool:
        """Owner, instructor (or admin): changes assignments, sets and the roster."""
        return self.role in RUNS

    @property
    def is_staff(self) -> bool:
        """Runs the course or is a TA: reads everything, grants extensions."""
        return self.role in STAFF


@dataclass(frozen=True, slots=True)
class Access:
    """What :func:`read_access` found: ``member`` is None when the course does not exist or the
    caller is not in it; ``assignment`` None when the path names none or no such one."""

    caller: Caller
    course: str
    member: Member | None
    assignment: AssignmentRow | None
    extension: ExtensionRow | None
    #: The API token the caller came with (None for a page session).
    token: TokenSeen | None = None
    #: The course's time zone (an IANA name), in which its pages show dates; None without a course.
    time_zone: str | None = None


_USERS, _TOKENS, _COURSES, _MEMBERS, _ASSIGNMENTS, _EXTENSIONS, _SESSIONS, _LTI_ACCOUNTS, _LTI_CONTEXTS = (
    cast(Table, m.__table__)
    for m in (User, ApiToken, Course, Membership, Assignment, Extension, WebSession, LtiAccount, LtiContext)
)
_SUBMISSIONS, _EARLIER = cast(Table, Submission.__table__), cast(Table, EarlierGrade.__table__)
_ASSIGNMENT_COLUMNS = tuple(field.name for field in fields(AssignmentRow) if field.name != "allowance")
#: A submission's columns, as :func:`read_submission_access` reads them.
SUBMISSION_COLUMNS = tuple(column.key for column in _SUBMISSIONS.columns)
_EXTENSION_COLUMNS = EXTENSION_COLUMNS
#: The student's accommodations (the caller's, or a submission's student's), combined as
#: :func:`api.terms.allowance.combine` does (the largest of each field; NULL: they hold none), each
#: a scalar subquery on the holders' primary key.
_ALLOWANCE_COLUMNS = {
    "time_multiplier": func.coalesce(Accommodation.time_multiplier, 1.0),
    "extra_minutes": func.coalesce(Accommodation.extra_minutes, 0),
    "extra_days": func.coalesce(Accommodation.extra_days, 0),
    "extra_attempts": func.coalesce(Accommodation.extra_attempts, 0),
}


def _allowance_column(name: str, course: Any, student: Any) -> Any:
    held = StudentAccommodation.__table__.join(
        Accommodation.__table__,
        and_(
            Accommodation.course_id == StudentAccommodation.course_id, Accommodation.name == StudentAccommodation.name
        ),
    )
    return (
        select(func.max(_ALLOWANCE_COLUMNS[name]))
        .select_from(held)
        .where(StudentAccommodation.course_id == course, StudentAccommodation.student_id == student)
        .scalar_subquery()
        .label(f"l_{name}")
    )


def _statement(*, with_assignment: bool, by_session: bool = False, of_submission: bool = False) -> Select[Any]:
    """Built once per shape (Core columns run on the connection: an ORM query cost more than its
    round trip on the busiest endpoint, ``bench/service.py``). ``by_session``: the caller is found
    by a page session (:class:`api.models.WebSession`) rather than by an API token.
    ``of_submission``: the course, the assignment and the student whose extension and allowance
    apply are a submission's (by its id), read with it."""
    course: Any = bindparam("course_id", type_=String)
    wanted: Any = bindparam("assignment_id", type_=String)
    credential: FromClause = _TOKENS.join(_USERS, _USERS.c.id == _TOKENS.c.user_id)
    found = _TOKENS.c.token_hash == bindparam("token_hash")
    if by_session:  # the session names its account (a session opened by LTI has no token)
        credential = _SESSIONS.join(_USERS, _USERS.c.id == _SESSIONS.c.user_id)
        found = and_(_SESSIONS.c.id_hash == bindparam("session_hash"), _SESSIONS.c.expires_at > bindparam("now"))
    student: Any = _USERS.c.id
    if of_submission:
        credential = credential.outerjoin(_SUBMISSIONS, _SUBMISSIONS.c.id == bindparam("submission_id", type_=Integer))
        course, wanted, student = _SUBMISSIONS.c.course_id, _SUBMISSIONS.c.assignment_id, _SUBMISSIONS.c.student_id
    joined = credential.outerjoin(_COURSES, _COURSES.c.id == course).outerjoin(
        _MEMBERS, and_(_MEMBERS.c.course_id == _COURSES.c.id, _MEMBERS.c.user_id == _USERS.c.id)
    )
    # whether the caller's score changes go to an LMS (api.lti.outbox): two index lookups in this
    # statement spare the submit path a round trip of its own for everyone outside LTI
    from_lms = (
        select(literal(1))
        .select_from(_LTI_ACCOUNTS.join(_LTI_CONTEXTS, _LTI_CONTEXTS.c.platform_id == _LTI_ACCOUNTS.c.platform_id))
        .where(_LTI_ACCOUNTS.c.user_id == _USERS.c.id, _LTI_CONTEXTS.c.course_id == course)
        .exists()
    )
    columns = [
        _USERS.c.id,
        _USERS.c.role,
        _COURSES.c.id.label("course"),
        _COURSES.c.time_zone,
        _MEMBERS.c.role.label("member_role"),
        from_lms.label("from_lms"),
    ]
    if by_session:
        columns += [literal(None).label("token_id"), literal(None).label("last_used_at")]
    else:
        columns += [_TOKENS.c.id.label("token_id"), _TOKENS.c.last_used_at]
    if with_assignment or of_submission:
        joined = joined.outerjoin(
            _ASSIGNMENTS, and_(_ASSIGNMENTS.c.course_id == _COURSES.c.id, _ASSIGNMENTS.c.id == wanted)
        ).outerjoin(
            _EXTENSIONS,
            and_(
                _EXTENSIONS.c.course_id == _ASSIGNMENTS.c.course_id,
                _EXTENSIONS.c.assignment_id == _ASSIGNMENTS.c.id,
                _EXTENSIONS.c.student_id == student,
            ),
        )
        columns += [_ASSIGNMENTS.c[name].label(f"a_{name}") for name in _ASSIGNMENT_COLUMNS]
        columns += [_EXTENSIONS.c[name].label(f"e_{name}") for name in _EXTENSION_COLUMNS]
        columns.append(_EXTENSIONS.c.student_id.label("e_found"))
        columns += [_allowance_column(name, course, student) for name in _ALLOWANCE_COLUMNS]
    else:
        columns.append(literal(None).label("a_id"))
    if of_submission:
        columns += [_SUBMISSIONS.c[name].label(f"s_{name}") for name in SUBMISSION_COLUMNS]
        regraded = select(literal(1)).where(_EARLIER.c.submission_id == _SUBMISSIONS.c.id).exists()
        columns.append(regraded.label("s_regraded"))
    return select(*columns).select_from(joined).where(found)


_ACCESS = Prepared(_statement(with_assignment=False))
_ACCESS_TO_ASSIGNMENT = Prepared(_statement(with_assignment=True))
_SESSION_ACCESS = Prepared(_statement(with_assignment=False, by_session=True))
_SESSION_ACCESS_TO_ASSIGNMENT = Prepared(_statement(with_assignment=True, by_session=True))
_ACCESS_TO_SUBMISSION = Prepared(_statement(with_assignment=False, of_submission=True))


def read_access(session: Session, token: str, course_id: str, assignment_id: str | None) -> Access | None:
    """The caller's access to the course (and assignment) in the path; None for an unknown token.
    Ids that no row can have (:func:`api.kit.ids.may_exist`) are looked up as ones that do not exist."""
    statement = _ACCESS if assignment_id is None else _ACCESS_TO_ASSIGNMENT
    return _read(session, statement, {"token_hash": hash_token(token)}, course_id, assignment_id)


def read_session_access(
    session: Session, session_id: str, course_id: str | None, assignment_id: str | None
) -> Access | None:
    """As :func:`read_access`, for a browser signed in to the pages: the caller of an unexpired
    session (by the hash of its id, :mod:`api.pages.kit.sessions`); None for an unknown or expired one.
    Without a course (``None``) the access names the caller only."""
    statement = _SESSION_ACCESS if assignment_id is None else _SESSION_ACCESS_TO_ASSIGNMENT
    found = {"session_hash": hash_token(session_id), "now": datetime.now(UTC)}
    return _read(session, statement, found, course_id or "", assignment_id)


def _read(
    session: Session, statement: Prepared, found_by: dict[str, Any], course_id: str, assignment_id: str | None
) -> Access | None:
    if not may_exist(course_id):
        course_id = ""
    parameters = {**found_by, "course_id": course_id}
    if assignment_id is not None:
        parameters["assignment_id"] = assignment_id if may_exist(assignment_id) else ""
    rows = statement.rows(session, parameters)
    if not rows:
        return None
    return _access(rows[0], course_id, terms_to_members_only=True)


def _access(values: dict[str, Any], course_id: str, *, terms_to_members_only: bool) -> Access:
    """The access one of the statements' rows says (``terms_to_members_only``: the assignment and
    extension only for a member of the course, as a path names them)."""
    caller = Caller(values["id"], values["role"])
    role = _role(caller, values["member_role"])
    member = None
    if values["course"] is not None and role is not None:
        member = Member(caller, course_id, role, from_lms=bool(values["from_lms"]))
    assignment = extension = None
    if (member is not None or not terms_to_members_only) and values["a_id"] is not None:
        assignment = AssignmentRow(**{name: values[f"a_{name}"] for name in _ASSIGNMENT_COLUMNS})
        allowance = None
        if values["l_time_multiplier"] is not None:
            allowance = Allowance(**{name: values[f"l_{name}"] for name in _ALLOWANCE_COLUMNS})
        if values["e_found"] is not None or allowance is not None:
            own = {name: values[f"e_{name}"] for name in _EXTENSION_COLUMNS}
            extension = ExtensionRow(**own, allowance=allowance)
    token = None if values["token_id"] is None else TokenSeen(values["token_id"], values["last_used_at"])
    return Access(caller, course_id, member, assignment, extension, token, values["time_zone"])


@dataclass(frozen=True, slots=True)
class SubmissionAccess:
    """What :func:`read_submission_access` found: the caller's access to the submission's course
    (``access.member``: their role in it, if any), the submission's assignment and its student's
    extension of it; the submission's columns by name (None: no such submission), and whether it
    has earlier grades (read apart: a regraded submission's are rows of their own)."""

    access: Access
    submission: dict[str, Any] | None
    regraded: bool


def read_submission_access(session: Session, token: str, submission_id: int) -> SubmissionAccess | None:
    """The caller, the submission and what its reply needs (its assignment, its student's extension
    and allowance), in one statement: a reader of a deadline's burst reads theirs at least twice,
    and each trip to the database waits its turn on a busy machine. None for an unknown token."""
    wanted = submission_id if may_exist(submission_id) else 0  # (no row has 0)
    rows = _ACCESS_TO_SUBMISSION.rows(session, {"token_hash": hash_token(token), "submission_id": wanted})
    if not rows:
        return None
    values = rows[0]
    access = _access(values, values["s_course_id"] or "", terms_to_members_only=False)
    if values["s_id"] is None:
        return SubmissionAccess(access, None, regraded=False)
    submission = {name: values[f"s_{name}"] for name in SUBMISSION_COLUMNS}
    return SubmissionAccess(access, submission, regraded=bool(values["s_regraded"]))


def require_member(access: Access, course_id: str) -> Member:
    """The caller as a member of the course: :class:`NotFound`, as if the course did not exist, for
    anyone who is not a member (an admin is one of every course)."""
    if access.member is None:
        raise NotFound(f"No course {course_id!r}.")
    return access.member


def require_assignment(access: Access, assignment_id: str) -> AssignmentRow:
    """The assignment read with the caller, of their course; :class:`NotFound` if there is none, and
    for a student if it is not published, not open yet or archived (as if it did not exist:
    :func:`api.terms.rules.visible_to_students`)."""
    assignment = access.assignment
    hidden = assignment is not None and not visible_to_students(assignment)
    if assignment is None or (hidden and (access.member is None or not access.member.is_staff)):
        raise NotFound(f"No assignment {assignment_id!r} in course {access.course!r}.")
    return assignment


def member_of(session: Session, caller: Caller, course_id: str) -> Member | None:
    """The caller as a member of ``course_id`` (an admin is one of every course), or None."""
    role = session.scalar(
        select(Membership.role).where(Membership.course_id == course_id, Membership.user_id == caller.id)
    )
    role = _role(caller, role)
    return None if role is None else Member(caller, course_id, role)


def _role(caller: Caller, membership: str | None) -> str | None:
    """An admin acts as one in every course, whatever a roster made them there (a roster may name
    any account: being imported as a student must not take an admin's powers away)."""
    return Role.ADMIN.value if caller.role == Role.ADMIN else membership


def require_account_power(session: Session, *, by: Member, user: User | None, user_id: str) -> None:
    """Whoever holds a new token (or anything that opens a session as an account) acts as that
    account everywhere, so that power is not the course's but the account's origin's. An admin
    has it; otherwise only a runner of the course whose roster import created the account, and
    only while everything the account has (its memberships, and its submissions, which outlive a
    dropped membership) lies in courses that runner runs. An account in no course, made by an
    admin, or made before origins were recorded is an admin's alone. :class:`NotFound` for an
    account that is not a student of ``by``'s course; :class:`Forbidden` otherwise."""
    rows = session.execute(select(Membership.course_id, Membership.role).where(Membership.user_id == user_id))
    courses = {course_id: role for course_id, role in rows}
    if user is None or courses.get(by.course) != CourseRole.STUDENT:
        raise NotFound(f"No student {user_id!r} in course {by.course!r}.")
    if by.caller.role == Role.ADMIN:
        return
    if user.role != Role.STUDENT or any(role != CourseRole.STUDENT for role in courses.values()):
        raise Forbidden(f"{user_id!r} is staff somewhere; an admin replaces their token.")
    worked_in = set(session.scalars(select(Submission.course_id).where(Submission.student_id == user_id).distinct()))
    involved = {*courses, *worked_in, user.created_in}
    runs = set(
        session.scalars(
            select(Membership.course_id).where(
                Membership.user_id == by.id,
                Membership.role.in_((CourseRole.OWNER, CourseRole.INSTRUCTOR)),
                Membership.course_id.in_([c for c in involved if c is not None]),
            )
        )
    )
    if user.created_in is None or user.created_in not in runs:
        raise Forbidden(f"{user_id!r} was not created by a course you run; an admin can replace their token.")
    if involved - runs:
        raise Forbidden(f"{user_id!r} also has work in courses you do not run; an admin can replace their token.")
