"""Courses and their members. Services flush; the caller's session commits."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Row, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from api.access import Member, require_account_power
from api.assignments.lms_dates import dates_moved
from api.categories.store import checked
from api.categories.weights import Category
from api.kit.db import is_unique_violation, upsert
from api.kit.errors import Conflict, Forbidden, NotFound, Unprocessable
from api.kit.zones import DEFAULT_TIME_ZONE, check_zone
from api.models import Assignment, Course, CourseRole, DatesFrom, Membership, Role, User
from api.users.service import Caller, create_user, issue_token, revoke_tokens

#: Ids no course may take: ``/courses/new`` is the page that creates courses.
RESERVED_IDS = frozenset({"new"})


def create_course(
    session: Session,
    *,
    course_id: str,
    title: str,
    owner: Caller,
    time_zone: str = DEFAULT_TIME_ZONE,
    dates_from: str = DatesFrom.GRADER.value,
) -> Course:
    """A new course owned by ``owner``, its pages in ``time_zone``, its dates owned by ``dates_from``
    where it is linked to an LMS; an id already taken (or reserved) is a :class:`Conflict` (also when
    a simultaneous request takes it first)."""
    if course_id in RESERVED_IDS:
        raise Conflict(f"{course_id!r} is the address of the page that creates courses: choose another id.")
    if session.get(Course, course_id) is not None:
        raise Conflict(f"There is already a course {course_id!r}.")
    course = Course(
        id=course_id,
        title=title,
        created_by=owner.id,
        time_zone=_zone(time_zone),
        dates_from=DatesFrom(dates_from).value,
    )
    session.add(course)
    try:
        session.flush()
    except IntegrityError as error:
        if is_unique_violation(error):
            raise Conflict(f"There is already a course {course_id!r}.") from None
        raise
    session.add(Membership(course_id=course_id, user_id=owner.id, role=CourseRole.OWNER.value))
    session.flush()
    return course


def update_course(
    session: Session,
    *,
    course_id: str,
    title: str | None = None,
    time_zone: str | None = None,
    categories: Sequence[Category] | None = None,
    dates_from: str | None = None,
) -> Course:
    """Changes the title, the time zone, the gradebook's categories and the side that owns the dates
    given (None: unchanged), all or nothing; dates that become the service's are sent to every line
    item known (:func:`api.assignments.lms_dates.dates_moved`). Only how pages show dates follows
    the zone: every instant is stored in UTC and stays the same moment. Categories whose weights do
    not add up, or that leave out one an assignment counts in, are refused with the reason (the row
    is locked meanwhile, so an assignment put in a category cannot slip past the check)."""
    course = session.get(Course, course_id, with_for_update=categories is not None)
    if course is None:
        raise NotFound(f"No course {course_id!r}.")
    stored = None if categories is None else _categories(session, course_id, categories)
    zone = None if time_zone is None else _zone(time_zone)
    if title is not None:
        course.title = title
    if zone is not None:
        course.time_zone = zone
    if stored is not None:
        course.categories = stored
    moved = dates_from is not None and dates_from != course.dates_from
    if dates_from is not None:
        course.dates_from = DatesFrom(dates_from).value
    session.flush()
    if moved:
        dates_moved(session, course_id=course_id)
    return course


def _categories(session: Session, course_id: str, categories: Sequence[Category]) -> list[dict[str, Any]]:
    """The categories as stored, once checked (:func:`api.categories.store.checked`) and holding
    every category an assignment of the course counts in."""
    stored = checked(categories)
    names = {c.name for c in categories}
    orphans = session.execute(
        select(Assignment.id, Assignment.category)
        .where(Assignment.course_id == course_id, Assignment.category.not_in(names))
        .order_by(Assignment.id)
    ).all()
    if orphans:
        listed = ", ".join(f"{a} ({c})" for a, c in orphans[:10])
        raise Unprocessable(
            f"Assignments count in categories these leave out: {listed}. Move them to another category first."
        )
    return stored


def _zone(name: str) -> str:
    """Every way in stores a zone the pages can load (:func:`api.kit.zones.check_zone`)."""
    try:
        return check_zone(name)
    except ValueError as error:
        reason = str(error)
        raise Unprocessable(reason if reason.endswith("?") else f"{reason}.") from None


def course_owner(session: Session, *, user_id: str) -> Caller:
    """The account ``user_id`` as a course's owner: an instructor or admin account, as
    ``POST /courses`` requires of its caller."""
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(f"No account {user_id!r}.")
    if user.role not in (Role.INSTRUCTOR, Role.ADMIN):
        raise Forbidden(f"{user_id!r} is a {user.role} account; a course is owned by an instructor or admin account.")
    return Caller(user.id, Role(user.role))


def courses_of(session: Session, caller: Caller) -> list[tuple[Course, str]]:
    """The caller's courses with their role in each; an admin sees every course (``admin`` where
    they are not a member)."""
    joined = select(Course, Membership.role).outerjoin(
        Membership, (Membership.course_id == Course.id) & (Membership.user_id == caller.id)
    )
    if caller.role != Role.ADMIN:
        joined = joined.where(Membership.role.is_not(None))
    rows = session.execute(joined.order_by(Course.created_at, Course.id))
    return [(course, role or Role.ADMIN.value) for course, role in rows]


@dataclass(frozen=True)
class Imported:
    """A member as imported: their account, their role, and the token of a new account (the only
    time it is ever seen)."""

    user: User
    role: str
    token: str | None
    created: bool
    #: Not a member of the course before this import.
    joined: bool = False


def import_members(
    session: Session, *, course_id: str, members: list[tuple[str, str, str | None, str]]
) -> list[Imported]:
    """Members by (id, name, email, role). A new account gets a token (an ``instructor`` account if
    imported as an instructor, else a ``student`` one) and records this course as its origin; a
    known account joins as it is, with no new token and its own name and email: an account belongs
    to its holder, and a roster may name any id, so an import never changes one. A member already
    in the course takes the role given, except the owner, whose role does not change. An account
    that a simultaneous import creates is a known one here."""
    ids = [member_id for member_id, _, _, _ in members]
    repeated = sorted({i for i in ids if ids.count(i) > 1})
    if repeated:
        raise Conflict(f"The roster lists these ids more than once: {', '.join(repeated)}.")
    owner = session.scalar(
        select(Membership.user_id).where(Membership.course_id == course_id, Membership.role == CourseRole.OWNER)
    )
    if owner in ids:
        raise Conflict(f"{owner!r} owns the course; the roster cannot change their role.")
    existing = {u.id: u for u in session.scalars(select(User).where(User.id.in_(ids)))}
    members_before = set(
        session.scalars(
            select(Membership.user_id).where(Membership.course_id == course_id, Membership.user_id.in_(ids))
        )
    )
    result = []
    for member_id, name, email, role in members:
        user, token = existing.get(member_id), None
        if user is None:
            account = Role.INSTRUCTOR if role == CourseRole.INSTRUCTOR else Role.STUDENT
            user, token = _create_unless_taken(
                session, name=name, user_id=member_id, email=email, role=account, course_id=course_id
            )
        upsert(
            session,
            Membership,
            {"course_id": course_id, "user_id": member_id, "role": role},
            keys=("course_id", "user_id"),
        )
        result.append(Imported(user, role, token, created=token is not None, joined=member_id not in members_before))
    session.flush()
    return result


def _create_unless_taken(
    session: Session, *, name: str, user_id: str, email: str | None, role: Role, course_id: str
) -> tuple[User, str | None]:
    """A new account and its token; or, if a simultaneous request created ``user_id`` first, that
    account and no token. In a savepoint, so that the import goes on (PostgreSQL aborts a
    transaction at its first error)."""
    try:
        with session.begin_nested():
            issued = create_user(session, name=name, role=role, user_id=user_id, email=email, created_in=course_id)
            return issued.user, issued.token
    except IntegrityError as error:
        if not is_unique_violation(error):
            raise
    except Conflict:  # (seen by the look-up in create_user: committed before it)
        pass
    user = session.get(User, user_id)
    assert user is not None
    return user, None


def roster(session: Session, *, course_id: str) -> list[Row[str, str, str | None, str, datetime]]:
    """The members, staff first, then by id: rows of ``id, name, email, role, joined_at`` (a
    course of 1,000 students, as ORM objects, cost its dashboard a sixth of its time)."""
    order = {CourseRole.OWNER: 0, CourseRole.INSTRUCTOR: 1, CourseRole.TA: 2, CourseRole.STUDENT: 3}
    rows = session.execute(
        select(User.id, User.name, User.email, Membership.role, Membership.joined_at)
        .join(Membership, Membership.user_id == User.id)
        .where(Membership.course_id == course_id)
    ).all()
    return sorted(rows, key=lambda r: (order[CourseRole(r.role)], r.id))


def drop_member(session: Session, *, course_id: str, user_id: str) -> None:
    """Takes a member out of the course: the course no longer exists for them, and a student leaves
    the gradebook; their submissions stay, for the record (regrades and statistics still see them).
    The owner cannot be dropped."""
    membership = session.get(Membership, (course_id, user_id), with_for_update=True)
    if membership is None:
        raise NotFound(f"No member {user_id!r} in course {course_id!r}.")
    if membership.role == CourseRole.OWNER:
        raise Conflict(f"{user_id!r} owns the course and cannot be dropped from it.")
    session.delete(membership)
    session.flush()


def replace_member_token(session: Session, *, by: Member, user_id: str) -> tuple[User, str]:
    """Revokes every token of a student of the course and issues a new one (a lost token cannot
    be shown again, only replaced). See :func:`require_account_power` for who may."""
    user = session.get(User, user_id, with_for_update=True)
    require_account_power(session, by=by, user=user, user_id=user_id)
    assert user is not None  # (refused otherwise)
    revoke_tokens(session, user=user)
    return user, issue_token(session, user=user)
